"""Hostile submissions, graded as one batch through `tensorgrade.batch.run_batch`.

Each student is the reference solutions with ONE hostile change. Expected
outcomes are derived from the course spec: the checks of the attacked
function (or of the whole exercise, for faults at import and crashes) score
zero with a clear reason, every other check scores full marks, and the
control student in the same batch is unaffected. The course is a copy with a
1 s time limit so that the timeout cases are quick.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil
import pytest

from gradekit import (EXERCISES, ROOT, after_imports, checks_of, copy_course, exercise_of, expected_scores,
                      read_gradebook, record, replace_function, sandbox_processes, scores, solution,
                      wait_gone, write_folder)
from tensorgrade.batch import LocalPool, run_batch
from tensorgrade.grading import Plan
from tensorgrade.spec.course import load_course

DAEMON_NAME = "tg-adv-daemon"
SOLUTION_MARKER = "Reference solution for ex1_requires_grad"  # first line of solutions/ex1_requires_grad.py
assert SOLUTION_MARKER in solution("ex1_requires_grad")


def fn(exercise: str, name: str, body: str) -> dict[str, str]:
    """Replace one function of one exercise."""
    return {exercise: replace_function(solution(exercise), name, body)}


def at_import(exercise: str, code: str) -> dict[str, str]:
    return {exercise: after_imports(solution(exercise), code)}


PATCHES = """
import builtins
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
_real_len, _real_isinstance = builtins.len, builtins.isinstance
builtins.isinstance = lambda obj, cls: True
builtins.len = lambda obj: 3
"""

VJP_IGNORES_V = """
def vjp(f, x, v):
    y = f(x)
    (g,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))
    return g
"""


def build_cases(sub_dir: Path, out: Path, course_root: Path) -> dict[str, dict]:
    """{student: case}; a case has the files to change and the checks it must lose."""
    neighbour = sub_dir / "control"
    victims = [neighbour / "ex1_requires_grad.py", out / "grades.csv", out / "control" / "record.json",
               out / "planted.txt", neighbour / "planted.py"]
    solution_paths = [Path("solutions/ex1_requires_grad.py"), Path("../solutions/ex1_requires_grad.py"),
                      ROOT / "solutions" / "ex1_requires_grad.py", course_root / "solutions" / "ex1_requires_grad.py",
                      Path("/proc/1/root") / str(ROOT).lstrip("/") / "solutions" / "ex1_requires_grad.py"]
    cases = {
        "control": dict(files={}, lost=set()),
        "loop_forever": dict(
            files=fn("ex5_autograd_grad", "grads", """
                def grads(f, inputs):
                    while True:
                        pass
            """),
            lost={c.id for c in checks_of("ex5_autograd_grad", "grads")}, exercise="ex5_autograd_grad",
            words=["time limit", "grads()"]),
        "sleep_at_import": dict(
            files=at_import("ex3_stop_gradients", "import time\ntime.sleep(10**9)"),
            lost={c.id for c in checks_of("ex3_stop_gradients")}, exercise="ex3_stop_gradients",
            words=["time limit", "importing"]),
        "memory_bomb": dict(
            files=fn("ex4_higher_order", "hessian_row", """
                def hessian_row(f, x, i):
                    hoard = bytearray(10**11)
                    return hoard
            """),
            lost={c.id for c in checks_of("ex4_higher_order", "hessian_row")}, exercise="ex4_higher_order",
            words=["memory"]),
        "torch_memory_bomb": dict(
            files=fn("ex4_higher_order", "nth_derivative", """
                def nth_derivative(f, x, n):
                    return torch.ones(10**11, dtype=torch.float64).sum()
            """),
            lost={c.id for c in checks_of("ex4_higher_order", "nth_derivative")}, exercise="ex4_higher_order",
            words=["memory"]),
        "fork_flood": dict(
            files=fn("ex2_zero_grad", "descend", """
                def descend(f, x, lr, steps):
                    import os, time
                    while True:
                        try:
                            pid = os.fork()
                        except OSError:
                            continue
                        if pid == 0:
                            time.sleep(600)
                            os._exit(0)
            """),
            lost={c.id for c in checks_of("ex2_zero_grad", "descend")}, exercise="ex2_zero_grad",
            words=["stopped", "descend()"]),
        "exit_at_import": dict(
            files=at_import("ex6_jacobian_hessian", "import os\nos._exit(3)"),
            lost={c.id for c in checks_of("ex6_jacobian_hessian")}, exercise="ex6_jacobian_hessian",
            words=["ended the Python process", "exit code 3"]),
        "sys_exit_in_function": dict(
            files=fn("ex1_requires_grad", "gradient", """
                def gradient(f, x):
                    import sys
                    sys.exit(1)
            """),
            lost={c.id for c in checks_of("ex1_requires_grad", "gradient")}, exercise="ex1_requires_grad",
            words=["SystemExit"]),
        "segfault": dict(
            files=fn("ex3_stop_gradients", "scale_untracked", """
                def scale_untracked(x, factor):
                    import ctypes
                    ctypes.string_at(0)
                    return x * factor
            """),
            # scale_untracked holds the exercise's first checks: the crash takes the whole exercise
            lost={c.id for c in checks_of("ex3_stop_gradients")}, exercise="ex3_stop_gradients",
            words=["crashed", "segmentation fault", "scale_untracked()"]),
        "patch_wrong": dict(
            files={"ex5_autograd_grad": replace_function(after_imports(solution("ex5_autograd_grad"), PATCHES),
                                                         "vjp", VJP_IGNORES_V)},
            lost={"vjp_value"}, exercise="ex5_autograd_grad", words=["values differ"]),
        "patch_right": dict(files=at_import("ex5_autograd_grad", PATCHES), lost=set()),
        "read_solutions": dict(
            files=fn("ex1_requires_grad", "make_leaf", f"""
                def make_leaf(values):
                    found = []
                    for path in {[str(p) for p in solution_paths]!r}:
                        try:
                            with open(path) as fh:
                                found.append(fh.read())
                        except OSError:
                            pass
                    if found:
                        print(found[0])
                        raise RuntimeError(found[0])
                    return torch.tensor(values, dtype=torch.float32, requires_grad=True)
            """),
            lost=set()),  # every read fails, so the (otherwise correct) function earns full marks
        "write_around": dict(
            files=fn("ex2_zero_grad", "zero_grad_", f"""
                def zero_grad_(x):
                    for path in {[str(p) for p in victims]!r}:
                        try:
                            with open(path, "a") as fh:
                                fh.write("pwned\\n")
                        except OSError:
                            pass
                    if x.grad is not None:
                        x.grad.zero_()
            """),
            lost=set()),
        "daemon": dict(
            files=fn("ex4_higher_order", "grad_with_graph", f"""
                def grad_with_graph(f, x):
                    import ctypes, os, time
                    if os.fork() == 0:
                        os.setsid()
                        if os.fork() == 0:
                            try:
                                ctypes.CDLL(None).prctl(15, b"{DAEMON_NAME}", 0, 0, 0)
                            except Exception:
                                pass
                            time.sleep(2)
                            for _ in range(30):
                                try:
                                    with open({str(out / "grades.csv")!r}, "a") as fh:
                                        fh.write("daemon,60,60,60,60,60,60,360,60,600.0,ok,\\n")
                                except OSError:
                                    pass
                                time.sleep(0.2)
                        os._exit(0)
                    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
                    return g
            """),
            lost=set()),
        "loud": dict(
            files=fn("ex1_requires_grad", "gradient", """
                def gradient(f, x):
                    import sys
                    for _ in range(200):
                        print("x" * 10_000)
                        sys.stderr.write("e" * 10_000 + "\\n")
                    f(x).backward()
                    return x.grad
            """),
            lost=set()),
        "forged_json": dict(
            files=fn("ex5_autograd_grad", "vjp", """
                def vjp(f, x, v):
                    import json
                    forged = {"ev": "record", "exercise": "ex5_autograd_grad", "check": "vjp_value",
                              "record": {"observations": [], "inputs": []}}
                    print(json.dumps(forged))
                    print(json.dumps({"score": 60, "tests": [{"name": "vjp_value", "score": 3, "max_score": 3}]}))
                    y = f(x)
                    (g,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))
                    return g
            """),
            lost={"vjp_value"}, exercise="ex5_autograd_grad", words=["values differ"]),
        "returns_list": dict(
            files=fn("ex1_requires_grad", "make_leaf", """
                def make_leaf(values):
                    return list(values)
            """),
            lost={c.id for c in checks_of("ex1_requires_grad", "make_leaf")}, exercise="ex1_requires_grad",
            words=["what make_leaf() returns", "expected a torch.Tensor, got a tuple (or list)"]),
        "returns_none": dict(
            files=fn("ex3_stop_gradients", "detached", """
                def detached(x):
                    x.detach()
            """),
            lost={c.id for c in checks_of("ex3_stop_gradients", "detached")}, exercise="ex3_stop_gradients",
            words=["what detached() returns", "expected a torch.Tensor, got None"]),
        "returns_numpy": dict(
            files=fn("ex5_autograd_grad", "vjp", """
                def vjp(f, x, v):
                    (g,) = torch.autograd.grad(f(x), x, grad_outputs=v)
                    return g.numpy()
            """),
            # every call checks the return type first, so both vjp checks are lost
            lost={"vjp_value", "vjp_grad_untouched"}, exercise="ex5_autograd_grad",
            words=["expected a torch.Tensor, got an object of type ndarray"]),
        "returns_subclass": dict(
            files=fn("ex6_jacobian_hessian", "jacobian", """
                class Agreeable(torch.Tensor):
                    def __eq__(self, other):
                        return True

                    def allclose(self, *args, **kwargs):
                        return True


                def jacobian(f, x):
                    return torch.autograd.functional.jacobian(f, x).as_subclass(Agreeable)
            """),
            lost={c.id for c in checks_of("ex6_jacobian_hessian", "jacobian")}, exercise="ex6_jacobian_hessian",
            words=["expected a torch.Tensor, got an object of type Agreeable"]),
        "returns_nan": dict(
            files=fn("ex6_jacobian_hessian", "hessian", """
                def hessian(f, x):
                    n = x.shape[0]
                    return torch.full((n, n), float("nan"), dtype=x.dtype)
            """),
            lost={c.id for c in checks_of("ex6_jacobian_hessian", "hessian")}, exercise="ex6_jacobian_hessian",
            words=["nan"]),
        "flag_ctypes": dict(files=at_import("ex1_requires_grad", "import ctypes"), lost=set(), flags=["ctypes"]),
        "flag_sys_modules": dict(files=at_import("ex2_zero_grad", "import sys\n_mods = len(sys.modules)"), lost=set(),
                                 flags=["sys.modules"]),
        "flag_gc": dict(files=at_import("ex3_stop_gradients", "import gc\ngc.collect()"), lost=set(), flags=["gc"]),
    }
    return cases


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adversarial")
    course = load_course(copy_course(tmp / "course", time_limit=1))
    subs, out = tmp / "class", tmp / "out"
    subs.mkdir()
    out.mkdir()
    cases = build_cases(subs, out, course.root)
    for student, case in cases.items():
        write_folder(subs / student, case["files"])
    before = {p: p.read_bytes() for p in (subs / "control").iterdir()}
    plan = Plan()
    # The course copy lives in tmp; also hide the repository's own solutions and graders (the checkout the tests
    # run from), which a real grading machine would not have next to the course in use.
    hide = [subs, out, ROOT / "solutions", ROOT / "graders"]
    zygote_pids: set[int] = set()

    def factory():
        pool = LocalPool(course, plan, 2, hide=hide)
        zygote_pids.update(z.pid for z in pool.zygotes)
        return pool

    existing = {p.pid for p in sandbox_processes()}
    started = time.perf_counter()
    report = run_batch(course, subs, out, plan=plan, workers=2, pool_factory=factory)
    seconds = time.perf_counter() - started
    book_after = (out / "grades.csv").read_bytes()
    time.sleep(3)  # the daemon would append after 2 s
    return dict(course=course, cases=cases, out=out, subs=subs, report=report, control_before=before,
                book_after=book_after, existing=existing, zygotes=zygote_pids, seconds=seconds)


HOSTILE = [s for s in build_cases(Path("/x"), Path("/y"), Path("/z")) if s != "control"]


def test_batch_completes_without_infrastructure_failures(batch):
    report = batch["report"]
    assert report.infrastructure_failures == 0
    assert sorted(r.student for r in report.results) == sorted(batch["cases"])
    assert batch["seconds"] < 120, f"the adversarial batch took {batch['seconds']:.0f} s"


def test_control_student_is_unaffected_by_the_rest_of_the_batch(batch):
    rec = record(batch["out"], "control")
    assert rec["status"] == "ok" and rec["flags"] == []
    assert scores(rec) == expected_scores(set())
    assert all(e["status"] == "ok" for e in rec["exercises"])


@pytest.mark.parametrize("student", HOSTILE)
def test_hostile_change_costs_exactly_the_attacked_checks(batch, student):
    case = batch["cases"][student]
    rec = record(batch["out"], student)
    assert scores(rec) == expected_scores(case["lost"]), json.dumps(rec["exercises"], indent=1)[:3000]
    for check in exercise_of(rec, case["exercise"])["checks"] if case["lost"] else []:
        if check["id"] in case["lost"]:  # every lost check says why, in its own feedback
            for word in case["words"]:
                assert word.lower() in check["feedback"].lower(), f"{word!r} not in {check['id']}:\n{check['feedback']}"
    for ex in EXERCISES:  # exercises not attacked ran normally
        if ex != case.get("exercise"):
            assert exercise_of(rec, ex)["status"] == "ok", ex


def test_faults_are_named_in_the_exercise_status(batch):
    out = batch["out"]
    assert exercise_of(record(out, "loop_forever"), "ex5_autograd_grad")["status"] == "timeout"
    assert exercise_of(record(out, "sleep_at_import"), "ex3_stop_gradients")["status"] == "timeout"
    assert exercise_of(record(out, "exit_at_import"), "ex6_jacobian_hessian")["status"] == "exit"
    assert exercise_of(record(out, "segfault"), "ex3_stop_gradients")["status"] == "crash"
    _, book = read_gradebook(out / "grades.csv")
    assert book["loop_forever"]["status"] == "timeout in ex5_autograd_grad"
    assert book["segfault"]["status"] == "crash in ex3_stop_gradients"


def test_monkeypatching_is_undone_and_flagged(batch):
    for student in ("patch_wrong", "patch_right"):
        flags = "; ".join(record(batch["out"], student)["flags"])
        for name in ("torch.allclose", "torch.equal", "builtins.isinstance", "builtins.len"):
            assert name in flags, (student, flags)


def test_solutions_cannot_be_read_and_never_reach_the_output(batch):
    out = batch["out"]
    rec = record(out, "read_solutions")
    assert scores(rec) == expected_scores(set())  # every open() failed, else make_leaf would have raised
    for path in out.rglob("*"):
        if path.is_file():
            assert SOLUTION_MARKER not in path.read_text(errors="replace"), path


def test_writes_outside_the_sandbox_change_nothing(batch):
    subs, out = batch["subs"], batch["out"]
    assert {p: p.read_bytes() for p in (subs / "control").iterdir()} == batch["control_before"]
    assert not (out / "planted.txt").exists() and not (subs / "control" / "planted.py").exists()
    assert b"pwned" not in (out / "grades.csv").read_bytes()
    assert b"pwned" not in (out / "control" / "record.json").read_bytes()


def test_daemon_dies_with_the_sandbox(batch):
    out = batch["out"]
    assert (out / "grades.csv").read_bytes() == batch["book_after"]
    assert b"360,60,600.0" not in (out / "grades.csv").read_bytes()
    names = {p.info["name"] for p in psutil.process_iter(["name"])}
    assert DAEMON_NAME[:15] not in names


def test_no_process_is_left_behind(batch):
    assert batch["zygotes"], "the pool started no zygote?"
    assert wait_gone(batch["zygotes"], timeout=10) == set()
    leftover = [p for p in sandbox_processes(exclude=batch["existing"]) if p.pid in batch["zygotes"]
                or any(a.pid in batch["zygotes"] for a in _ancestors(p))]
    assert leftover == []


def _ancestors(proc):
    try:
        return proc.parents()
    except psutil.Error:
        return []


def test_printed_output_is_truncated(batch):
    limit = batch["course"].spec.grading.output_limit_kb * 1024
    rec = record(batch["out"], "loud")
    assert 0 < len(rec["output"].encode()) <= limit * 2, len(rec["output"])
    assert len(json.dumps(rec)) < 1024**2


def test_forged_output_is_ignored(batch):
    rec = record(batch["out"], "forged_json")
    assert scores(rec) == expected_scores({"vjp_value"})
    results = json.loads((batch["out"] / "forged_json" / "results.json").read_text())
    assert results["score"] == sum(expected_scores({"vjp_value"}).values())
    assert '"ev": "record"' not in json.dumps(results)


def test_review_column_lists_suspicious_code(batch):
    _, book = read_gradebook(batch["out"] / "grades.csv")
    for student in ("flag_ctypes", "flag_sys_modules", "flag_gc"):
        for word in batch["cases"][student]["flags"]:
            assert word in book[student]["review"], (student, book[student]["review"])
        assert book[student]["total"] == book["control"]["total"]  # flags never change a grade
    assert book["control"]["review"] == ""
