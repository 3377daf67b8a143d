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
torch.Tensor.add = lambda self, other: other
builtins.len = lambda obj: 3
"""

VJP_IGNORES_V = """
def vjp(f, x, v):
    y = f(x)
    (g,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))
    return g
"""


def all_of(exercise: str, function: str | None = None) -> set[str]:
    return {c.id for c in checks_of(exercise, function)}


def build_cases(sub_dir: Path, out: Path, course_root: Path) -> dict[str, dict]:
    """{student: case}; a case has the files to change and the checks it must lose.

    Since the submission policy (run/policy), modules such as os, sys, ctypes, time, json are not
    importable: attacks that need them are refused where they use them (the function, or the
    file's top level, fails with a message naming the line). Resource exhaustion is still reachable
    with allowed means (loops, big lists, big tensors) and is stopped by the sandbox's limits.
    """
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
            lost=all_of("ex5_autograd_grad", "grads"), exercise="ex5_autograd_grad",
            words=["time limit", "grads()"], status="timeout"),
        "loop_at_import": dict(
            files=at_import("ex3_stop_gradients", "while True:\n    pass"),
            lost=all_of("ex3_stop_gradients"), exercise="ex3_stop_gradients",
            words=["time limit", "importing"], status="timeout"),
        "memory_bomb": dict(
            files=fn("ex4_higher_order", "hessian_row", """
                def hessian_row(f, x, i):
                    hoard = [0.5] * 10**11
                    return hoard
            """),
            lost=all_of("ex4_higher_order", "hessian_row"), exercise="ex4_higher_order",
            words=["memory"]),
        "torch_memory_bomb": dict(
            files=fn("ex4_higher_order", "nth_derivative", """
                def nth_derivative(f, x, n):
                    return torch.ones(10**11, dtype=torch.float64).sum()
            """),
            lost=all_of("ex4_higher_order", "nth_derivative"), exercise="ex4_higher_order",
            words=["memory"]),
        "fork_refused": dict(
            files=fn("ex2_zero_grad", "descend", """
                def descend(f, x, lr, steps):
                    import os
                    while True:
                        os.fork()
            """),
            lost=all_of("ex2_zero_grad", "descend"), exercise="ex2_zero_grad",
            words=["importing 'os' is not allowed", "descend()"], flags=["importing 'os'"]),
        "exit_at_import": dict(
            files=at_import("ex6_jacobian_hessian", "raise SystemExit(3)"),
            lost=all_of("ex6_jacobian_hessian"), exercise="ex6_jacobian_hessian",
            words=["SystemExit"], status="error"),
        "os_exit_at_import": dict(
            files=at_import("ex6_jacobian_hessian", "import os\nos._exit(3)"),
            lost=all_of("ex6_jacobian_hessian"), exercise="ex6_jacobian_hessian",
            words=['"_exit"', "not allowed in submissions"], status="policy"),
        "sys_exit_in_function": dict(
            files=fn("ex1_requires_grad", "gradient", """
                def gradient(f, x):
                    raise SystemExit(1)
            """),
            lost=all_of("ex1_requires_grad", "gradient"), exercise="ex1_requires_grad",
            words=["SystemExit"]),
        "ctypes_refused": dict(
            files=fn("ex3_stop_gradients", "scale_untracked", """
                def scale_untracked(x, factor):
                    import ctypes
                    ctypes.string_at(0)
                    return x * factor
            """),
            lost=all_of("ex3_stop_gradients", "scale_untracked"), exercise="ex3_stop_gradients",
            words=["importing 'ctypes' is not allowed", "scale_untracked()"], flags=["importing 'ctypes'"]),
        "patch_wrong": dict(
            files={"ex5_autograd_grad": replace_function(after_imports(solution("ex5_autograd_grad"), PATCHES),
                                                         "vjp", VJP_IGNORES_V)},
            lost={"vjp_value"}, exercise="ex5_autograd_grad", words=["values differ"],
            flags=["changing torch.allclose", "changing torch.equal", "changing torch.Tensor.add"]),
        "patch_right": dict(files=at_import("ex5_autograd_grad", PATCHES), lost=set(),
                            flags=["changing torch.allclose", "changing torch.equal", "changing torch.Tensor.add"]),
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
            lost=all_of("ex1_requires_grad", "make_leaf"), exercise="ex1_requires_grad",
            words=["open() is not allowed"], flags=["open()"]),
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
            lost=all_of("ex2_zero_grad", "zero_grad_"), exercise="ex2_zero_grad", words=["open() is not allowed"]),
        "torch_save_around": dict(
            files=fn("ex2_zero_grad", "zero_grad_", f"""
                def zero_grad_(x):
                    for path in {[str(p) for p in victims]!r}:
                        try:
                            torch.save({{"pwned": 1}}, path)
                        except Exception:
                            pass
                    if x.grad is not None:
                        x.grad.zero_()
            """),
            lost=set(), flags=["torch.save"]),  # every attempt refused (and caught): zeroing itself is correct
        "loud": dict(
            files=fn("ex1_requires_grad", "gradient", """
                def gradient(f, x):
                    for _ in range(200):
                        print("x" * 10_000)
                    f(x).backward()
                    return x.grad
            """),
            lost=set()),
        "forged_text": dict(
            files=fn("ex5_autograd_grad", "vjp", """
                def vjp(f, x, v):
                    forged = '{"ev": "record", "exercise": "ex5_autograd_grad", "check": "vjp_value", "record": {}}'
                    print(forged)
                    print('{"score": 60, "tests": [{"name": "vjp_value", "score": 3, "max_score": 3}]}')
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
            lost=all_of("ex1_requires_grad", "make_leaf"), exercise="ex1_requires_grad",
            words=["what make_leaf() returns", "expected a torch.Tensor, got a tuple (or list)"]),
        "returns_none": dict(
            files=fn("ex3_stop_gradients", "detached", """
                def detached(x):
                    x.detach()
            """),
            lost=all_of("ex3_stop_gradients", "detached"), exercise="ex3_stop_gradients",
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
            lost=all_of("ex6_jacobian_hessian", "jacobian"), exercise="ex6_jacobian_hessian",
            words=["expected a torch.Tensor, got an object of type Agreeable"]),
        "returns_nan": dict(
            files=fn("ex6_jacobian_hessian", "hessian", """
                def hessian(f, x):
                    n = x.shape[0]
                    return torch.full((n, n), float("nan"), dtype=x.dtype)
            """),
            lost=all_of("ex6_jacobian_hessian", "hessian"), exercise="ex6_jacobian_hessian",
            words=["nan"]),
        "unused_import": dict(files=at_import("ex1_requires_grad", "import ctypes"), lost=set(),
                              flags=["importing 'ctypes'"]),
        "sys_modules_at_import": dict(
            files=at_import("ex2_zero_grad", "import sys\nmods = len(sys.modules)"),
            lost=all_of("ex2_zero_grad"), exercise="ex2_zero_grad", words=["importing 'sys' is not allowed"],
            flags=["importing 'sys'"], status="error"),
        "frames_at_import": dict(
            files=at_import("ex3_stop_gradients", "try:\n    raise ValueError\nexcept ValueError as e:\n"
                                                  "    up = e.__traceback__.tb_frame.f_back"),
            lost=all_of("ex3_stop_gradients"), exercise="ex3_stop_gradients", words=['"f_back"', "internals"],
            status="policy"),
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
        close = pool.close

        def close_and_note():  # the second zygote joins the pool after the first: noted when the pool closes
            zygote_pids.update(z.pid for z in pool.zygotes)
            close()

        pool.close = close_and_note
        return pool

    existing = {p.pid for p in sandbox_processes()}
    started = time.perf_counter()
    report = run_batch(course, subs, out, plan=plan, workers=2, pool_factory=factory)
    seconds = time.perf_counter() - started
    book_after = (out / "grades.csv").read_bytes()
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
    for student, case in batch["cases"].items():
        if "status" in case:
            assert exercise_of(record(out, student), case["exercise"])["status"] == case["status"], student
    _, book = read_gradebook(out / "grades.csv")
    assert book["loop_forever"]["status"] == "timeout in ex5_autograd_grad"
    assert book["os_exit_at_import"]["status"] == "policy in ex6_jacobian_hessian"


def test_refusals_are_named_in_the_review_column(batch):
    _, book = read_gradebook(batch["out"] / "grades.csv")
    for student, case in batch["cases"].items():
        for word in case.get("flags", []):
            assert word in book[student]["review"], (student, book[student]["review"])
    assert book["control"]["review"] == ""
    assert book["unused_import"]["total"] == book["control"]["total"]  # a flag alone never changes a grade


def test_monkeypatching_is_ignored_and_flagged(batch):
    for student in ("patch_wrong", "patch_right"):
        flags = "; ".join(record(batch["out"], student)["flags"])
        assert "ex5_autograd_grad.py, line" in flags and "changing torch.allclose" in flags, flags
    import torch

    assert torch.allclose(torch.zeros(1), torch.zeros(1))  # nothing leaked into this process either


def test_solutions_cannot_be_read_and_never_reach_the_output(batch):
    out = batch["out"]
    for path in out.rglob("*"):
        if path.is_file():
            assert SOLUTION_MARKER not in path.read_text(errors="replace"), path


def test_writes_outside_the_sandbox_change_nothing(batch):
    subs, out = batch["subs"], batch["out"]
    assert {p: p.read_bytes() for p in (subs / "control").iterdir()} == batch["control_before"]
    assert not (out / "planted.txt").exists() and not (subs / "control" / "planted.py").exists()
    assert b"pwned" not in (out / "grades.csv").read_bytes()
    assert b"pwned" not in (out / "control" / "record.json").read_bytes()


def test_no_process_is_left_behind(batch):
    assert len(batch["zygotes"]) == 2, "the pool did not grade with both of its zygotes"
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
    rec = record(batch["out"], "loud")
    assert 0 < len(rec["output"].encode()) <= 64 * 1024, len(rec["output"])
    assert len(json.dumps(rec)) < 1024**2


def test_forged_text_is_only_text(batch):
    rec = record(batch["out"], "forged_text")
    assert scores(rec) == expected_scores({"vjp_value"})
    results = json.loads((batch["out"] / "forged_text" / "results.json").read_text())
    assert results["score"] == sum(expected_scores({"vjp_value"}).values())
