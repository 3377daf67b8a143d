"""Cluster grading on a dask.distributed LocalCluster: parity with the local engine, faults, clean-up.

One LocalCluster (2 single-threaded worker processes) serves the module; it is
created with `allowed-failures: 1` so a submission that always kills its worker
fails after two deaths instead of four (each death costs a worker restart).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

from gradekit import (ROOT, after_imports, mistake, read_gradebook, record, sandbox_processes, solution,  # noqa: E402
                      wait_gone, write_folder)
from tensorgrade.batch import GRADEBOOK, LocalPool, run_batch  # noqa: E402
from tensorgrade.cluster import DaskPool, WorkerKilled, course_bundle, local_cluster, parse_local  # noqa: E402
from tensorgrade.cluster.worker import CourseBundle  # noqa: E402
from tensorgrade.grading import Plan  # noqa: E402
from tensorgrade.spec.course import load_course  # noqa: E402


COURSE = load_course(ROOT)
CULPRIT = "zz_kills_its_worker"
CRASH = "\nimport ctypes\ndef jacobian(f, x):\n    ctypes.string_at(0)\n"


def build_class(folder: Path) -> Path:
    """examples/class (every submission layout and failure kind) plus generated correct/wrong/crashing ones."""
    shutil.copytree(ROOT / "examples" / "class", folder)
    wrong = [("ex1_requires_grad", "non_leaf"), ("ex2_zero_grad", "zero_by_new_tensor"),
             ("ex3_stop_gradients", "detach_by_clone"), ("ex4_higher_order", "grad_without_create_graph"),
             ("ex5_autograd_grad", "grads_reversed")]
    for i, (ex, name) in enumerate(wrong):
        write_folder(folder / f"gen_wrong_{i}", {ex: mistake(ex, name).read_text()})
    for i in range(3):
        write_folder(folder / f"gen_correct_{i}")
    write_folder(folder / "gen_crashing", {"ex6_jacobian_hessian": solution("ex6_jacobian_hessian") + CRASH})
    write_folder(folder / "gen_import_error",
                 {"ex2_zero_grad": after_imports(solution("ex2_zero_grad"), "raise ValueError('at import')")})
    write_folder(folder / "gen_missing", skip=("ex4_higher_order",))
    return folder


def grades(out: Path) -> dict[str, dict]:
    """Per student: status, per-exercise (score, status), per-check scores; from the stored records."""
    _, rows = read_gradebook(out / GRADEBOOK)
    found = {}
    for student in rows:
        rec = record(out, student)
        found[student] = {
            "status": rec["status"],
            "exercises": {e["id"]: (sum(c["score"] for c in e["checks"]), e["status"]) for e in e_list(rec)},
            "checks": {c["id"]: c["score"] for e in e_list(rec) for c in e["checks"]},
        }
    return found


def e_list(rec: dict) -> list[dict]:
    return rec["exercises"]


def gradebook_students(out: Path) -> list[str]:
    with open(out / GRADEBOOK, encoding="utf-8") as fh:
        return [line.split(",", 1)[0] for line in fh.read().splitlines()[1:]]


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    return build_class(tmp_path_factory.mktemp("cluster") / "class")


@pytest.fixture(scope="module")
def local_grades(klass, tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("local") / "out"
    run_batch(COURSE, klass, out, workers=2, pdf=False)
    return grades(out)


@pytest.fixture(scope="module")
def cluster():
    before = {p.pid for p in sandbox_processes()}
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = local_cluster(2)
    yield cluster
    with distributed.Client(cluster) as client:
        workers = set(client.run(os.getpid).values())
    workers |= {p.pid for p in psutil.Process().children(recursive=True)
                if "spawn_main" in " ".join(p.cmdline())}  # a worker still starting after a kill
    cluster.close()
    assert not wait_gone(workers), "dask worker processes left behind"
    assert not wait_gone({p.pid for p in sandbox_processes(exclude=before)}), "sandbox zygotes left behind"


def cluster_run(cluster, klass: Path, out: Path, **pool_options):
    seen: list[str] = []
    pools = []

    def factory():
        pools.append(DaskPool(COURSE, Plan(), scheduler=cluster.scheduler_address, hide=[klass, out], **pool_options))
        return pools[0]

    report = run_batch(COURSE, klass, out, pdf=False, pool_factory=factory,
                       on_result=lambda r: seen.append(r.student))
    return report, seen


def test_parse_local():
    assert parse_local("local", 3) == 3
    assert parse_local("local:2", 3) == 2
    for bad in ("local:0", "local:x", "remote:2", "loc"):
        with pytest.raises(ValueError):
            parse_local(bad, 1)


def test_course_bundle_holds_the_grading_files_and_nothing_else(tmp_path):
    bundle = course_bundle(COURSE)
    assert set(bundle.files) == {"course.yml", *(f"{d}/{e.id}.{x}" for e in COURSE.exercises
                                                 for d, x in (("exercises", "yml"), ("exercises", "py"),
                                                              ("solutions", "py"), ("graders", "py")))}
    bundle.write(tmp_path)
    assert load_course(tmp_path).version() == COURSE.version()  # a worker grades the very same course
    assert course_bundle(COURSE).digest == bundle.digest
    with pytest.raises(ValueError):
        CourseBundle.from_files({"../escape.py": ""}).write(tmp_path)


def test_same_grades_as_the_local_engine(cluster, klass, local_grades, tmp_path):
    out = tmp_path / "out"
    report, seen = cluster_run(cluster, klass, out, batch_size=2)
    assert report.infrastructure_failures == 0
    assert sorted(seen) == sorted(local_grades)  # every result streamed through the progress callback once
    assert grades(out) == local_grades
    # resume works unchanged: nothing to grade, no pool started
    again = run_batch(COURSE, klass, out, pdf=False, pool_factory=lambda: pytest.fail("no pool needed"))
    assert (again.graded, again.reused) == (0, len(local_grades))


def test_workers_sandbox_as_local_zygotes(cluster, klass, tmp_path):
    pool = DaskPool(COURSE, Plan(), scheduler=cluster.scheduler_address, hide=[klass])
    try:
        from tensorgrade.intake.layouts import discover

        subs = discover(klass, [e.id for e in COURSE.exercises]).submissions[:2]
        assert len(list(pool.grade(subs))) == 2
        reports = pool.isolation()
    finally:
        pool.close()
    local = LocalPool(COURSE, Plan(), 1, hide=[klass])
    try:
        expected = local.isolation
    finally:
        local.close()
    assert reports, "no worker reported its zygote"
    assert all(r == expected for r in reports.values()), (reports, expected)


def test_killed_worker_loses_and_duplicates_no_student(cluster, klass, local_grades, tmp_path):
    client = distributed.Client(cluster)
    pids = list(client.run(os.getpid).values())
    client.close()
    out = tmp_path / "out"
    killed: list[int] = []

    def factory():
        return DaskPool(COURSE, Plan(), scheduler=cluster.scheduler_address, hide=[klass, out], batch_size=3)

    def on_result(result):
        if not killed:  # the first result is in: kill a worker in the middle of its next batch
            killed.append(pids[0])
            psutil.Process(pids[0]).kill()

    report = run_batch(COURSE, klass, out, pdf=False, pool_factory=factory, on_result=on_result)
    assert killed
    assert report.infrastructure_failures == 0
    students = gradebook_students(out)
    assert sorted(students) == sorted(set(students)) == sorted(local_grades)
    assert grades(out) == local_grades
    assert len(distributed.Client(cluster).run(os.getpid)) >= 1


def test_submission_that_always_kills_its_worker_fails_alone(cluster, klass, local_grades, tmp_path):
    klass2 = tmp_path / "class"
    shutil.copytree(klass, klass2)
    write_folder(klass2 / CULPRIT)
    out = tmp_path / "out"

    def factory():
        return DaskPool(COURSE, Plan(), scheduler=cluster.scheduler_address, hide=[klass2, out], batch_size=3,
                        crash_on={CULPRIT})

    start = time.monotonic()
    report = run_batch(COURSE, klass2, out, pdf=False, pool_factory=factory)
    assert report.infrastructure_failures == 0  # the culprit is a per-student failure, not a failed batch
    found = grades(out)
    culprit = found.pop(CULPRIT)
    assert culprit["status"] == "error" and all(s == "error" for _, s in culprit["exercises"].values())
    rec = record(out, CULPRIT)
    assert WorkerKilled.__name__ in rec["detail"] and "KilledWorker" in rec["detail"]
    assert any("killed its grading worker" in f for f in rec["flags"])
    assert found == local_grades  # the culprit's batch-mates were graded normally
    assert sorted(gradebook_students(out)) == sorted([*local_grades, CULPRIT])
    assert time.monotonic() - start < 150


def test_cli_cluster_local(tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    for name in ("alan_turing", "barbara_liskov.py", "ken_thompson"):
        src = ROOT / "examples" / "class" / name
        shutil.copytree(src, klass / name) if src.is_dir() else shutil.copy(src, klass / name)
    out = tmp_path / "out"
    before = {p.pid for p in sandbox_processes()}
    cmd = [sys.executable, "-m", "tensorgrade.cli", "grade", str(klass), "-o", str(out), "--no-pdf",
           "--cluster", "local:1", "--course", str(ROOT)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(gradebook_students(out)) == ["alan_turing", "barbara_liskov", "ken_thompson"]
    assert record(out, "alan_turing")["status"] == "ok"
    assert not wait_gone({p.pid for p in sandbox_processes(exclude=before)}), "sandbox zygotes left behind"


def test_cli_scheduler_and_cluster_are_exclusive(tmp_path):
    base = [sys.executable, "-m", "tensorgrade.cli", "grade", str(tmp_path), "-o", str(tmp_path / "o"),
            "--course", str(ROOT)]
    proc = subprocess.run(base + ["--cluster", "local:1", "--scheduler", "tcp://127.0.0.1:1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not allowed with" in proc.stderr
    bad = subprocess.run(base + ["--cluster", "local:zero"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "local:N" in bad.stdout


def test_a_cluster_without_workers_fails_the_running_tasks_instead_of_hanging(monkeypatch):
    import threading

    import tensorgrade.cluster as cluster_module

    class NoWorkerClient:
        def nthreads(self):
            return {}

    class Task:
        cancelled = False

        def cancel(self):
            self.cancelled = True

    monkeypatch.setattr(cluster_module, "NO_WORKER_SECONDS", 0.5)
    pool = DaskPool.__new__(DaskPool)
    pool.client = NoWorkerClient()
    task, starved = Task(), threading.Event()
    started = time.monotonic()
    pool._watch_workers(starved, {"key": (task, [])})
    assert starved.is_set() and task.cancelled
    assert time.monotonic() - started < 5
