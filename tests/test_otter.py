"""otter-grader and Jupyter integration, proved with otter's and Jupyter's own machinery.

Slow by nature (each otter run starts a Jupyter kernel, and the plugin a sandbox zygote that
imports torch: 10-20 s), so the module builds the distribution once and keeps the number of
otter runs small.

The attacks below are submissions that go after the judge or the expected records. Before
the plugin (checks judged in otter's kernel, next to the student's code) the first two
scored 60/60 with stubs, the bundle reader put the expected records into its feedback, and
the `.OTTER_LOG` one forged otter's score in otter's runner process.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
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
from tensorgrade.otter.plugin import DATA_DIR, PLUGIN, PluginFailed, TensorgradePlugin
from tensorgrade.intake.layouts import read_submission
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


def otter_run_logged(zip_path: Path, submission: Path, out: Path) -> tuple[dict, str]:
    """`otter run`'s results.json and everything it printed."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out), str(submission)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text()), proc.stdout + proc.stderr


def otter_run(zip_path: Path, submission: Path, out: Path) -> dict:
    return otter_run_logged(zip_path, submission, out)[0]


def filled_notebook(code: dict[str, Path]):
    return student_notebook(COURSE, code)


# -- the autograder zip, graded by `otter run` --------------------------------------------------
def test_autograder_zip_layout_and_config(dist):
    with zipfile.ZipFile(dist / "autograder" / "autograder.zip") as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("otter_config.json"))
        env = zf.read("environment.yml").decode()
        tests = {n: zf.read(n).decode() for n in names if n.startswith("tests/")}
        data = {n[len(DATA_DIR) + 1:]: zf.read(n) for n in names if n.startswith(DATA_DIR + "/")}
    assert {"run_autograder", "setup.sh", "otter_config.json"} <= names
    wheel = [n for n in names if re.fullmatch(r"files/tensorgrade-[^/]+\.whl", n)]
    assert wheel and Path(wheel[0]).name in env  # installed by the requirements
    assert [n for n in names if n.startswith("files/")] == wheel  # nothing else is copied next to the submission
    assert config["assignment_name"] == COURSE.spec.assignment.id
    assert config["points_possible"] == COURSE.points
    assert config["show_hidden"] is (COURSE.spec.grading.hidden_feedback != "never")
    assert config["plugins"] == [{PLUGIN: {"data": DATA_DIR}}]
    assert sorted(tests) == sorted(f"tests/{i}.py" for i in IDS)
    for ex in COURSE.exercises:  # one placeholder case per check, points and hidden from the YAML
        src = tests[f"tests/{ex.id}.py"]
        assert "run_check" not in src and "import tensorgrade" not in src  # nothing is judged in otter's kernel
        for c in ex.spec.checks:
            assert f"@test_case(name={c.id!r}, points={float(c.points)!r}, hidden={c.visibility == 'hidden'})" in src
        assert src.count("raise AssertionError(NOT_GRADED)") == len(ex.spec.checks)
    # the plugin's data: course files (stubs, not solutions), the full check code, the fixed-seed bundle
    assert set(data) == {"course.yml", BUNDLE, *(f"exercises/{i}.{x}" for i in IDS for x in ("py", "yml")),
                         *(f"checks/{i}.py" for i in IDS)}
    for ex in COURSE.exercises:
        assert data[f"exercises/{ex.id}.py"] == ex.stub.read_bytes()
        assert data[f"checks/{ex.id}.py"] == ex.grader.read_bytes()
    bundle = json.loads(data[BUNDLE])
    assert bundle["seed_key"] == "fixed" and not bundle["public_only"]
    assert not any("solution" in n for n in names)
    text = "\n".join(v.decode("utf-8") for k, v in data.items() if k != BUNDLE)
    for ex in COURSE.exercises:
        for body in _solution_bodies(ex.solution):
            assert body not in text, (ex.id, body)


def test_otter_config_follows_hidden_feedback():
    for mode, shown in (("after_due", True), ("always", True), ("never", False)):
        spec = COURSE.spec.model_copy(update={"grading": COURSE.spec.grading.model_copy(update={"hidden_feedback": mode})})
        assert otter_config(type(COURSE)(root=COURSE.root, spec=spec, exercises=COURSE.exercises))["show_hidden"] is shown


def test_otter_run_full_marks_for_solutions_zero_for_stubs(dist, tmp_path):
    zip_path = dist / "autograder" / "autograder.zip"
    sol, stub = tmp_path / "solutions.py", tmp_path / "stubs.py"
    sol.write_text(one_py([e.solution for e in COURSE.exercises]))
    stub.write_text(one_py([e.stub for e in COURSE.exercises]))
    good, log = otter_run_logged(zip_path, sol, tmp_path / "out-sol")
    bad = otter_run(zip_path, stub, tmp_path / "out-stub")
    assert good["score"] == pytest.approx(COURSE.points)
    assert bad["score"] == 0
    assert f"tensorgrade (sandboxed): {COURSE.points:g}/{COURSE.points:g}" in log  # the plugin's report
    assert "Graded by tensorgrade in a sandbox" in good["output"]
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


# -- attacks: student code that goes after the judge or the expected records ---------------------
ATTACK_HEADS = {
    # judge every check as passed, in whatever process runs this code
    "judge_patch": """
try:
    import tensorgrade.judge.verdict as _v
    _v.judge = lambda *a, **k: _v.Verdict(passed=True)
except Exception:  # not importable where this runs: the functions below still load
    pass
""",
    # make every generated otter test case pass
    "run_check_patch": """
try:
    import tensorgrade.otter.runtime as _r
    _r.run_check = lambda *a, **k: None
except Exception:
    pass
""",
    # find the expected records, print them, and raise them from every function (-> the feedback)
    "bundle_reader": """
import glob as _g, os as _os
_LEAK = ""
_here = _os.getcwd()
_paths = [_os.environ.get("TENSORGRADE_OTTER_BUNDLE", "")]
for _up in {_here, _os.path.dirname(_here), _os.path.dirname(_os.path.dirname(_here)), "/autograder"} - {"/"}:
    _paths += _g.glob(_os.path.join(_up, "**", "tensorgrade_otter.json"), recursive=True)
for _p in _paths:
    try:
        with open(_p) as _f:
            _LEAK = _f.read()
        break
    except Exception:
        pass
print("LEAK[" + _LEAK + "]" if _LEAK else "LEAK-NOTHING-FOUND")
""",
}
ATTACKS = tuple(ATTACK_HEADS)
BUNDLE_MARKERS = ('"seed_key"', '"public_only"')  # in every bundle, in nothing else


def attack_source(name: str) -> str:
    body = one_py([e.stub for e in COURSE.exercises])
    if name == "bundle_reader":
        body = body.replace("raise NotImplementedError(", 'raise RuntimeError("LEAK[" + _LEAK[:400] + "]" + ')
        assert "LEAK[" in body
    return ATTACK_HEADS[name] + "\n" + body


# otter unpickles (dill) a `.OTTER_LOG` found next to the submission in its runner process
OTTER_LOG_CODE = """
import otter.test_files as t
t.GradingResults._tg_original = t.GradingResults.to_gradescope_dict
def forged(self, config):
    d = type(self)._tg_original(self, config)
    d["score"] = 60.0
    return d
t.GradingResults.to_gradescope_dict = forged
"""


class _OtterLogPayload:
    def __reduce__(self):
        return (exec, (OTTER_LOG_CODE, {}))


def otter_log_submission(path: Path) -> Path:
    """The stub notebook plus a `.OTTER_LOG` that forges otter's score when unpickled."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{COURSE.spec.assignment.id}.ipynb", nbformat.writes(student_notebook(COURSE)))
        zf.writestr(".OTTER_LOG", pickle.dumps(_OtterLogPayload()))
    return path


def _assert_no_bundle(text: str) -> None:
    leaked = [m for m in BUNDLE_MARKERS if m in text]
    assert not leaked, leaked


@pytest.mark.parametrize("attack", [*ATTACKS, "otter_log"])
def test_attacks_score_zero_under_otter_run(dist, tmp_path, attack):
    if attack == "otter_log":
        sub = otter_log_submission(tmp_path / "otter_log.zip")
    else:
        sub = tmp_path / f"{attack}.py"
        sub.write_text(attack_source(attack))
    res, log = otter_run_logged(dist / "autograder" / "autograder.zip", sub, tmp_path / "out")
    assert res["score"] == 0
    assert f"tensorgrade (sandboxed): 0/{COURSE.points:g}, status ok" in log  # graded, not a plugin failure
    text = json.dumps(res) + log
    _assert_no_bundle(text)
    if attack == "bundle_reader":  # its code ran in the sandbox and found nothing, or the sandbox refused it
        assert "LEAK[]" in text or "\nreview: " in log
    if attack == "otter_log":
        assert "removed before grading (never loaded)" in log and ".OTTER_LOG" in log


def test_attacks_score_zero_under_grade_engine_otter(tmp_path):
    cls = tmp_path / "class"
    cls.mkdir()
    for name in ATTACKS:
        (cls / f"{name}.py").write_text(attack_source(name))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "tensorgrade.cli", "grade", str(cls), "-o", str(out), "--engine", "otter",
                           "--workers", "2", "--no-pdf", "--course", str(ROOT)],
                          capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    for name in ATTACKS:
        assert float(rows[name]["total"]) == 0, rows[name]
        assert rows[name]["status"] == "ok", rows[name]
    everything = proc.stdout + proc.stderr + "".join(
        p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file())
    _assert_no_bundle(everything)
    record = json.loads((out / "bundle_reader" / "record.json").read_text())
    ran = "LEAK-NOTHING-FOUND" in json.dumps(record) and "LEAK[]" in json.dumps(record)
    assert ran or record["flags"]  # it ran in the sandbox and found nothing to read, or the sandbox refused it


# -- the plugin failing closed ------------------------------------------------------------------
class _Config:
    def __init__(self, autograder_dir: Path):
        self.autograder_dir = str(autograder_dir)


def test_plugin_keeps_the_submission_as_data_and_gives_otter_an_empty_notebook(tmp_path):
    nb = filled_notebook({e.id: e.solution for e in COURSE.exercises})
    plugin = TensorgradePlugin(str(tmp_path / "submission" / "autograd.ipynb"), {}, {})
    out = plugin.before_execution(nb)
    assert not [c for c in out.cells if c.cell_type == "code"]
    assert list(plugin.kept) == ["submission.ipynb"]
    kept = nbformat.reads(plugin.kept["submission.ipynb"].decode(), as_version=4)
    assert [c.source for c in kept.cells] == [c.source for c in nb.cells]
    script = TensorgradePlugin(str(tmp_path / "submission" / "work.py"), {}, {})
    out = script.before_execution(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\n")]))
    assert not [c for c in out.cells if c.cell_type == "code"] and script.kept == {"submission.py": b"x = 1\n"}
    assert TensorgradePlugin(None, {}, {}).before_execution("y = 2\n").cells[0].cell_type == "markdown"


def test_plugin_failure_awards_nothing_even_over_full_marks(tmp_path):
    """Results that say full marks (as a compromised kernel would write them) end at zero if grading fails."""
    from tensorgrade.grading import zero_result
    from tensorgrade.results.otter import to_grading_results

    record = zero_result(COURSE, "x", "ok", "")
    for ex in record.exercises:
        for c in ex.checks:
            c.score, c.feedback = c.points, ""
    gr = to_grading_results(record)
    assert gr.total == COURSE.points
    ag = tmp_path / "autograder"
    (ag / "submission").mkdir(parents=True)  # no source/tensorgrade-data: the zip is not tensorgrade's
    plugin = TensorgradePlugin(str(ag / "submission" / "x.py"), {}, {})
    plugin.before_grading(_Config(ag))
    plugin.before_execution("x = 1\n")
    plugin.after_grading(gr)
    assert gr.total == 0
    messages = {tcr.message for name in gr.test_files for tcr in gr.get_result(name).test_case_results}
    assert len(messages) == 1 and next(iter(messages)).startswith("Not graded: tensorgrade could not grade")
    assert DATA_DIR in plugin.error and "Not graded" in gr.output


def test_plugin_refuses_a_bundle_in_the_submission_folder(tmp_path, monkeypatch):
    ag = tmp_path / "autograder"
    (ag / "submission").mkdir(parents=True)
    plugin = TensorgradePlugin(str(ag / "submission" / "x.py"), {}, {})
    for bad in (BUNDLE, str(ag / "submission" / BUNDLE)):  # where a student's upload could put a forged one
        monkeypatch.setenv("TENSORGRADE_OTTER_BUNDLE", bad)
        with pytest.raises(PluginFailed):
            plugin.bundle_path()
    monkeypatch.setenv("TENSORGRADE_OTTER_BUNDLE", str(tmp_path / "private" / BUNDLE))
    assert plugin.bundle_path() == (tmp_path / "private" / BUNDLE).resolve()


def test_zip_without_the_plugin_awards_nothing(dist, tmp_path):
    zip_path = tmp_path / "no-plugin.zip"
    with zipfile.ZipFile(dist / "autograder" / "autograder.zip") as src, zipfile.ZipFile(zip_path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "otter_config.json":
                config = json.loads(data)
                config.pop("plugins")
                data = json.dumps(config).encode()
            dst.writestr(info, data)
    sol = tmp_path / "solutions.py"
    sol.write_text(one_py([e.solution for e in COURSE.exercises]))
    res = otter_run(zip_path, sol, tmp_path / "out")
    assert res["score"] == 0
    assert "judged by tensorgrade's otter plugin" in json.dumps(res)


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
                          text=True, timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(cwd),
                                                       **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})


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
