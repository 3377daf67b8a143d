"""Where people wait, measured in one run: the student's `check` loop and a class's throughput.

Prints medians over --runs runs (wall seconds, measured with time.perf_counter around whole
commands, as a user waits for them):

  student loop   `python -c "import torch"` (the floor of any command that grades),
                 `tensorgrade --help`, `--version`, a course error, `check` of one exercise
                 and of all six on the reference solutions (every public check runs).
  class          `tensorgrade grade --no-pdf` on a realistic class (3 in 4 correct, 1 in 4
                 nearly correct: one classic mistake) and on the old synthetic mix (a quarter
                 each correct, wrong, crashing, untouched stubs): submissions/s after start-up,
                 including start-up, CPU seconds per student (this process's children, zygotes
                 and sandboxed children included).
  floor          the same realistic class graded in one process with no sandbox (the child's
                 payload called directly: policy-compiled student code, trials, judge,
                 reference), submissions/s, and the sandboxed rate as a share of it.

    python benchmarks/bench_speed.py [--n 200] [--workers 2] [--runs 5] [--skip-class]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "tensorgrade.cli"]


def timed(cmd: list[str], runs: int, cwd: Path = ROOT) -> float:
    """Median wall seconds of a command (its exit code is not checked: a course error exits 2 by design)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def realistic_class(folder: Path, n: int) -> None:
    """3 in 4 students hand in the solutions, 1 in 4 the solutions with one classic mistake."""
    mistakes = sorted((ROOT / "graders" / "mistakes").glob("*/*.py"))
    for i in range(n):
        sub = folder / f"student_{i:05d}"
        shutil.copytree(ROOT / "solutions", sub, ignore=shutil.ignore_patterns("__pycache__"))
        if i % 4 == 3:
            m = mistakes[i % len(mistakes)]
            shutil.copy(m, sub / f"{m.parent.name}.py")


def synthetic_class(folder: Path, n: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_grade import make_class

    make_class(folder, n)


GRADE = r"""
import time
start = time.perf_counter()  # the command's start: its imports count, a user waits for them too
import json, resource, sys
import tensorgrade.results.store as store
stamps, save = [], store.save_record
def stamped(out, result):  # a result is in when its record.json is written (the last of its outputs)
    save(out, result)
    stamps.append(time.perf_counter())
store.save_record = stamped  # before the command imports the batch module, which binds it
from tensorgrade.cli import main
code = main(["grade", sys.argv[2], "-o", sys.argv[3], "--no-pdf", "--workers", sys.argv[4], "--course", sys.argv[1]])
end = time.perf_counter()
if code:
    sys.exit(f"tensorgrade grade exited {code}")
cpu = sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
          for f in ("ru_utime", "ru_stime"))
print(json.dumps({"wall": end - start, "first": stamps[0] - start, "last": stamps[-1] - start,
                  "steady": (len(stamps) - 1) / (stamps[-1] - stamps[0]), "n": len(stamps), "cpu": cpu}))
"""


def grade_class(subs: Path, out: Path, workers: int) -> dict:
    """`tensorgrade grade` (the command's own code, in a process of its own): steady rate (first to last
    result), first result and wall time from the command's start (imports included), CPU.

    CPU counts this process and its children (zygotes and their sandboxed children are reaped, so theirs
    is included); `after` = the time from the last result to the end (gradebook, similarity, summary)."""
    proc = subprocess.run([sys.executable, "-c", GRADE, str(ROOT), str(subs), str(out), str(workers)], cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"grading failed:\n{proc.stderr[-3000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**r, "after": r["wall"] - r["last"], "cpu_per_student": r["cpu"] / r["n"]}


FLOOR = r"""
import collections, json, sys, time
from pathlib import Path
from tensorgrade.grading import Grader, Plan, grader_init
from tensorgrade.intake.layouts import discover
from tensorgrade.run import child
from tensorgrade.run.reference import Reference
from tensorgrade.run.sandbox import Outcome
from tensorgrade.spec.course import load_course

class NoProgress:
    def step(self, *a, **k): pass

from tensorgrade.run.policy import audit
audit.install = lambda *a, **k: None  # the floor has no isolation (and the hook, once installed, stays)

spent = collections.Counter()

class InProcess:
    def run(self, job, limits):
        messages = []
        start = time.process_time()
        # exactly what the channel does to every message: JSON out, JSON in
        child.run(job, lambda m: messages.append(json.loads(json.dumps(m))), NoProgress())
        spent["student's trials (child payload)"] += time.process_time() - start
        return Outcome(messages=messages)

class Timed(Reference):
    def _record(self, *args):
        start = time.process_time()
        try:
            return super()._record(*args)
        finally:
            spent["reference trials"] += time.process_time() - start

course = load_course(Path(sys.argv[1]))
child.prepare(grader_init(course))
subs = discover(Path(sys.argv[2]), [e.id for e in course.exercises]).submissions
grader = Grader(course, InProcess(), Timed(course), Plan())
grader.grade(subs[0])  # warm the reference's lazy imports
import gc; gc.collect(); gc.freeze()  # as the zygote does before it forks
spent.clear()
statuses, totals = collections.Counter(), {}
start, cpu = time.perf_counter(), time.process_time()
for sub in subs:
    result = grader.grade(sub)
    statuses.update(ex.status for ex in result.exercises)
    totals[sub.student] = result.total
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
spent["judging and the rest"] = cpu - sum(spent.values())
print(json.dumps({"rate": len(subs) / wall, "statuses": statuses, "totals": totals,
                  "ms": {k: 1000 * v / len(subs) for k, v in spent.items()}}))
"""


def floor_run(subs: Path) -> dict:
    """The class with no sandbox, in a process of its own (the payload installs an audit hook for good)."""
    proc = subprocess.run([sys.executable, "-c", FLOOR, str(ROOT), str(subs)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"floor run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gradebook_totals(out: Path) -> dict:
    import csv

    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return {row["student"]: float(row["raw_total"]) for row in csv.DictReader(f)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="students per class (default 200)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5, help="runs per latency median (default 5)")
    ap.add_argument("--skip-class", action="store_true", help="only the student loop")
    args = ap.parse_args()
    runs = args.runs
    print(f"machine: {os.cpu_count()} cores; medians of {runs} runs\n")
    print("student loop (wall seconds)")
    torch_import = timed([sys.executable, "-c", "import torch"], runs)
    rows = [("python -c 'import torch'", torch_import)]
    rows.append(("tensorgrade --help", timed([*CLI, "--help"], runs)))
    rows.append(("tensorgrade --version", timed([*CLI, "--version"], runs)))
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("a course error (no course.yml)", timed([*CLI, "check"], runs, cwd=Path(tmp))))
    solutions = str(ROOT / "solutions")
    one = timed([*CLI, "check", "ex1_requires_grad", "--path", solutions], runs)
    rows.append(("check ex1_requires_grad (solutions)", one))
    every = timed([*CLI, "check", "--path", solutions], runs)
    rows.append(("check, all six exercises (solutions)", every))
    for name, seconds in rows:
        print(f"  {name:<40} {seconds:6.2f} s")
    print(f"  check one exercise = import torch + {one - torch_import:.2f} s; all six = import torch + "
          f"{every - torch_import:.2f} s")
    if args.skip_class:
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        realistic, synthetic = tmp / "realistic", tmp / "synthetic"
        realistic.mkdir()
        synthetic.mkdir()
        realistic_class(realistic, args.n)
        synthetic_class(synthetic, args.n)
        print(f"\nclass of {args.n}, {args.workers} workers, no PDFs")
        real = grade_class(realistic, tmp / "out_r", args.workers)
        synth = grade_class(synthetic, tmp / "out_s", args.workers)
        for name, r in (("realistic (correct + nearly correct)", real), ("synthetic mix (old benchmark)", synth)):
            print(f"  {name:<40} {r['steady']:5.1f}/s steady, {r['n'] / r['wall']:.1f}/s over the wall "
                  f"{r['wall']:.1f} s (first result {r['first']:.1f} s, after the last {r['after']:.1f} s), "
                  f"{1000 * r['cpu_per_student']:.0f} ms CPU per student")
        floor = floor_run(realistic)
        if set(floor["statuses"]) - {"ok"}:  # a floor that grades nothing measures nothing
            raise SystemExit(f"the in-process run did not grade normally: {floor['statuses']}")
        if floor["totals"] != gradebook_totals(tmp / "out_r"):
            raise SystemExit("the in-process run's totals differ from the sandboxed run's grades.csv")
        rate = floor["rate"]
        print(f"\nin process (no sandbox, one core; same totals as the sandboxed run): {rate:.1f}/s = "
              f"{1000 / rate:.0f} ms per student")
        for part, ms in floor["ms"].items():
            print(f"  {part:<40} {ms:5.1f} ms")
        print(f"  sandboxed steady rate / ({args.workers} × in-process rate) = "
              f"{real['steady'] / (args.workers * rate):.2f}")


if __name__ == "__main__":
    main()
