"""otter-grader and Jupyter integration, proved with otter's and Jupyter's own machinery.

Slow by nature (each otter run starts a Jupyter kernel and imports torch: 6-12 s), so
the module builds the distribution once and keeps the number of otter runs small.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from tensorgrade.grading import Plan
from tensorgrade.otter.build import build, otter_config, student_notebook
from tensorgrade.otter.expected import BUNDLE, public_grader_source, read_bundle
from tensorgrade.run.submission import read_submission
from tensorgrade.spec.course import load_course

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
IDS = [e.id for e in COURSE.exercises]
HIDDEN = {c.id for e in COURSE.exercises for c in e.spec.checks if c.visibility == "hidden"}
PUBLIC_POINTS = sum(c.points for e in COURSE.exercises for c in e.spec.checks if c.visibility == "public")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build(COURSE, out)
    return out


def one_py(files: list[Path]) -> str:
    """Several exercise files as one module (`from __future__` lines dropped: only legal at the top)."""
    return "\n\n".join("\n".join(ln for ln in f.read_text().splitlines() if not ln.startswith("from __future__"))
                       for f in files) + "\n"


def otter_run(zip_path: Path, submission: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out), str(submission)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def filled_notebook(code: dict[str, Path]):
    return student_notebook(COURSE, code)


# -- the autograder zip, graded by `otter run` --------------------------------------------------
def test_autograder_zip_layout_and_config(dist):
    with zipfile.ZipFile(dist / "autograder" / "autograder.zip") as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("otter_config.json"))
        env = zf.read("environment.yml").decode()
        tests = {n: zf.read(n).decode() for n in names if n.startswith("tests/")}
    assert {"run_autograder", "setup.sh", "otter_config.json", f"files/{BUNDLE}"} <= names
    wheel = [n for n in names if re.fullmatch(r"files/tensorgrade-[^/]+\.whl", n)]
    assert wheel and Path(wheel[0]).name in env  # installed by the requirements
    assert config["assignment_name"] == COURSE.spec.assignment.id
    assert config["points_possible"] == COURSE.points
    assert config["show_hidden"] is (COURSE.spec.grading.hidden_feedback != "never")
    assert sorted(tests) == sorted(f"tests/{i}.py" for i in IDS)
    for ex in COURSE.exercises:  # one test case per check, points and hidden from the YAML
        src = tests[f"tests/{ex.id}.py"]
        for c in ex.spec.checks:
            assert f"@test_case(name={c.id!r}, points={float(c.points)!r}, hidden={c.visibility == 'hidden'})" in src
    assert not any(n.startswith("files/solutions") or "solution" in n for n in names)


def test_otter_config_follows_hidden_feedback():
    for mode, shown in (("after_due", True), ("always", True), ("never", False)):
        spec = COURSE.spec.model_copy(update={"grading": COURSE.spec.grading.model_copy(update={"hidden_feedback": mode})})
        assert otter_config(type(COURSE)(root=COURSE.root, spec=spec, exercises=COURSE.exercises))["show_hidden"] is shown


def test_otter_run_full_marks_for_solutions_zero_for_stubs(dist, tmp_path):
    zip_path = dist / "autograder" / "autograder.zip"
    sol, stub = tmp_path / "solutions.py", tmp_path / "stubs.py"
    sol.write_text(one_py([e.solution for e in COURSE.exercises]))
    stub.write_text(one_py([e.stub for e in COURSE.exercises]))
    good = otter_run(zip_path, sol, tmp_path / "out-sol")
    bad = otter_run(zip_path, stub, tmp_path / "out-stub")
    assert good["score"] == pytest.approx(COURSE.points)
    assert bad["score"] == 0
    # Gradescope format: top-level score, tests[] with name/score/max_score/visibility/output
    scored = [t for t in good["tests"] if "score" in t]
    assert [t["name"] for t in scored] == IDS
    hidden_vis = "after_published" if COURSE.spec.grading.hidden_feedback != "never" else "hidden"
    for t in scored:
        assert set(t) >= {"name", "score", "max_score", "visibility", "output"}
        assert t["score"] == t["max_score"] == COURSE.exercise(t["name"]).spec.points
        assert t["visibility"] == hidden_vis  # every exercise holds hidden checks
    summary = next(t for t in good["tests"] if t["name"] == "Public Tests")
    assert summary["visibility"] == "visible"
    assert "not implemented yet" in " ".join(t["output"] for t in bad["tests"])


def test_otter_run_full_marks_for_the_notebook_with_solutions(dist, tmp_path):
    nb = tmp_path / f"{COURSE.spec.assignment.id}.ipynb"
    nbformat.write(filled_notebook({e.id: e.solution for e in COURSE.exercises}), str(nb))
    res = otter_run(dist / "autograder" / "autograder.zip", nb, tmp_path / "out")
    assert res["score"] == pytest.approx(COURSE.points)


# -- the otter engine against the fast engine ---------------------------------------------------
def _samples(tmp: Path) -> Path:
    """correct; partly wrong (classic mistakes); crashing (import-time raise, a raising function, a missing file)."""
    cls = tmp / "class"
    for name in ("correct", "partly", "crashing"):
        (cls / name).mkdir(parents=True)
        for ex in COURSE.exercises:
            shutil.copy(ex.solution, cls / name / f"{ex.id}.py")
    mistakes = ROOT / "graders" / "mistakes"
    shutil.copy(mistakes / "ex1_requires_grad" / "non_leaf.py", cls / "partly" / "ex1_requires_grad.py")
    shutil.copy(mistakes / "ex3_stop_gradients" / "detach_by_clone.py", cls / "partly" / "ex3_stop_gradients.py")
    shutil.copy(mistakes / "ex6_jacobian_hessian" / "jacobian_transposed.py", cls / "partly" / "ex6_jacobian_hessian.py")
    crash = cls / "crashing"
    src = (crash / "ex2_zero_grad.py").read_text()
    (crash / "ex2_zero_grad.py").write_text(src.replace("\nimport torch\n", "\nimport torch\n\nraise RuntimeError('boom')\n", 1))
    src = (crash / "ex4_higher_order.py").read_text()
    body = re.compile(r"(def hessian_row\(.*?\) -> torch.Tensor:\n)", re.S)
    (crash / "ex4_higher_order.py").write_text(body.sub(r"\1    return 1 / 0\n", src, count=1))
    (crash / "ex5_autograd_grad.py").unlink()
    return cls


def test_otter_engine_and_fast_engine_give_identical_scores(tmp_path):
    """Both engines grade with the same plan (per-student seeds): OtterPool hands each kernel a bundle
    with the fast engine's seeds for that student and the reference's records for them."""
    from tensorgrade.batch import LocalPool
    from tensorgrade.otter.engine import OtterPool

    cls = _samples(tmp_path)
    subs = [read_submission(p, IDS) for p in sorted(cls.iterdir())]
    for s, p in zip(subs, sorted(cls.iterdir())):
        s.student = p.name
    plan = Plan(seed_by="student")
    fast = LocalPool(COURSE, plan, 1, hide=[cls])
    try:
        fast_scores = {s.student: {e.id: e.score for e in r.exercises} for s, r in fast.grade(subs)}
    finally:
        fast.close()
    pool = OtterPool(COURSE, plan, workers=2)
    try:
        graded = list(pool.grade(subs))
    finally:
        pool.close()
    otter_scores = {}
    for s, r in graded:
        assert not isinstance(r, BaseException), r
        otter_scores[s.student] = {e.id: e.score for e in r.exercises}
    assert otter_scores == fast_scores
    assert sum(fast_scores["correct"].values()) == COURSE.points
    partly, crashing = fast_scores["partly"], fast_scores["crashing"]
    assert 0 < partly["ex1_requires_grad"] < 10 and 0 < partly["ex3_stop_gradients"] < 10
    assert crashing["ex2_zero_grad"] == 0 and crashing["ex5_autograd_grad"] == 0
    assert 0 < crashing["ex4_higher_order"] < 10


# -- the student notebook in a real kernel ------------------------------------------------------
def _execute(nb, cwd: Path):
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check(")]
    assert len(checks) == len(IDS)
    return [("".join(o.get("data", {}).get("text/plain", "") for o in c.outputs), c.outputs) for c in checks]


def test_student_notebook_with_solutions_passes_every_check_cell(dist, tmp_path):
    work = tmp_path / "student"
    shutil.copytree(dist / "student", work)
    nb = filled_notebook({e.id: e.solution for e in COURSE.exercises})
    for text, outputs in _execute(nb, work):
        assert not any(o.output_type == "error" for o in outputs)
        assert "passed" in text and "failed" not in text, text


def test_student_notebook_with_stubs_reports_failures_without_breaking(dist, tmp_path):
    work = tmp_path / "student"  # a copy: otter writes .OTTER_LOG next to the notebook
    shutil.copytree(dist / "student", work)
    nb = nbformat.read(str(work / f"{COURSE.spec.assignment.id}.ipynb"), as_version=4)
    for text, outputs in _execute(nb, work):
        assert not any(o.output_type == "error" for o in outputs)
        assert "Test case failed" in text and "not implemented yet" in text


# -- the student distribution ---------------------------------------------------------------------
def test_student_distribution_has_no_solutions_hidden_checks_or_mistakes(dist):
    student = dist / "student"
    files = [p for p in student.rglob("*") if p.is_file()]
    names = {str(p.relative_to(student)) for p in files}
    assert {"course.yml", f"{COURSE.spec.assignment.id}.ipynb", BUNDLE} <= names
    assert {f"exercises/{i}.py" for i in IDS} <= names and {f"tests/{i}.py" for i in IDS} <= names
    assert not (student / "solutions").exists() and not (student / "graders").exists()
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    leaked = sorted(h for h in HIDDEN if h in text)
    assert not leaked, leaked
    assert "LOSES" not in text and "mistake" not in text.lower()
    for ex in COURSE.exercises:  # no solution function body (stubs share signatures, not bodies)
        for body in _solution_bodies(ex.solution):
            assert body not in text, (ex.id, body)
    bundle = read_bundle(student / BUNDLE)
    assert bundle["public_only"] and all(
        c["spec"]["visibility"] == "public" for e in bundle["exercises"].values() for c in e["checks"].values())
    # the hidden checks' expected values are not there: only public seeds are stored
    for e in COURSE.exercises:
        assert set(bundle["exercises"][e.id]["checks"]) == {c.id for c in e.spec.checks if c.visibility == "public"}


def _solution_bodies(path: Path) -> list[str]:
    import ast

    src = path.read_text()
    bodies = []
    for node in ast.parse(src).body:
        if isinstance(node, ast.FunctionDef):
            stmts = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            bodies.append("\n".join(ast.get_source_segment(src, s, padded=True) for s in stmts))
    assert bodies
    return bodies


def _check(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tensorgrade.cli", "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_tensorgrade_check_inside_the_student_distribution(dist, tmp_path):
    work = tmp_path / "student"
    shutil.copytree(dist / "student", work)
    load_course(work, layout="student")  # loads without solutions/ and graders/
    stubs = _check(work)
    assert stubs.returncode == 1 and "Traceback" not in stubs.stdout + stubs.stderr
    assert "not implemented yet" in stubs.stdout
    assert f"Score on public checks: 0/{PUBLIC_POINTS:g}" in stubs.stdout
    for ex in COURSE.exercises:
        shutil.copy(ex.solution, work / "exercises" / f"{ex.id}.py")
    good = _check(work)
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"Score on public checks: {PUBLIC_POINTS:g}/{PUBLIC_POINTS:g}" in good.stdout


def test_public_grader_source_cuts_hidden_check_functions():
    ex = COURSE.exercise("ex1_requires_grad")
    hidden = {c.id for c in ex.spec.checks if c.visibility == "hidden"}
    out = public_grader_source(ex.grader.read_text(), hidden)
    assert all(h not in out for h in hidden)
    assert '@rubric.check("make_leaf_is_leaf")' in out and "def _leaf_observations" in out
    compile(out, "x", "exec")
