"""Batch-grading throughput, memory and time to first result, on synthetic submissions.

Builds N submissions (a mix of correct, wrong, crashing and unimplemented), grades
them with `tensorgrade.batch.run_batch` (full isolation: one sandboxed child per
student, per-exercise containment) and prints:
  submissions/s, median and p95 per-student latency, time to the first result,
  and peak memory (RSS of this process + zygotes + children, sampled every 50 ms).

    python benchmarks/bench_grade.py [--n 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil

from tensorgrade.batch import run_batch
from tensorgrade.grading import Plan
from tensorgrade.spec.course import load_course

ROOT = Path(__file__).resolve().parents[1]
CRASH = "\nimport ctypes\ndef jacobian(f, x):\n    ctypes.string_at(0)\n"


def make_class(folder: Path, n: int) -> dict[str, int]:
    """n submissions cycling through four kinds; returns how many of each."""
    course = load_course(ROOT)
    mistakes = sorted(p for ex in course.exercises for p in ex.mistakes.glob("*.py"))
    kinds = {"correct": 0, "wrong": 0, "crashing": 0, "stub": 0}
    for i in range(n):
        kind = list(kinds)[i % 4]
        kinds[kind] += 1
        sub = folder / f"student_{i:05d}"
        if kind == "stub":
            shutil.copytree(ROOT / "exercises", sub, ignore=shutil.ignore_patterns("*.yml"))
            continue
        shutil.copytree(ROOT / "solutions", sub)
        if kind == "wrong":
            m = mistakes[i % len(mistakes)]
            shutil.copy(m, sub / f"{m.parent.name}.py")
        elif kind == "crashing":
            with open(sub / "ex6_jacobian_hessian.py", "a") as fh:
                fh.write(CRASH)
    return kinds


class PeakMemory(threading.Thread):
    """Samples the memory of this process and all its descendants.

    PSS (proportional set size) counts a page shared by k processes as 1/k in each,
    so the sum is the real memory in use; summed RSS counts forked, shared pages
    many times over and is printed for comparison. `own` tracks this process's
    RSS over time, to show whether memory grows with the number of submissions.
    """

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_pss = self.peak_rss = 0
        self.own: list[int] = []
        self.stop = threading.Event()

    def run(self):
        me = psutil.Process()
        while not self.stop.is_set():
            pss = rss = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    info = p.memory_full_info()
                    pss, rss = pss + info.pss, rss + info.rss
                except psutil.Error:
                    pass
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.own.append(me.memory_info().rss)
            time.sleep(self.interval)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-pdf", dest="pdf", action="store_false", help="skip per-student report PDFs")
    ap.add_argument("--seed-by", choices=("student", "fixed"), default="student")
    args = ap.parse_args()
    course = load_course(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        subs, out = Path(tmp) / "class", Path(tmp) / "out"
        subs.mkdir()
        kinds = make_class(subs, args.n)
        mem = PeakMemory()
        mem.start()
        start = time.perf_counter()
        stamps: list[float] = []
        report = run_batch(course, subs, out, plan=Plan(seed_by=args.seed_by), workers=args.workers, pdf=args.pdf,
                           on_result=lambda r: stamps.append(time.perf_counter()))
        wall = time.perf_counter() - start
        mem.stop.set()
        mem.join()
        grading = stamps[-1] - stamps[0] if len(stamps) > 1 else wall
        lat = sorted(r.seconds for r in report.results)
        print(f"submissions: {args.n} {kinds}, workers: {args.workers}, pdf reports: {args.pdf}, "
              f"seed-by: {args.seed_by}")
        print(f"time to first result: {stamps[0] - start:.2f} s (includes torch import, zygote start, warm-up)")
        print(f"wall: {wall:.2f} s; steady-state throughput: {(len(stamps) - 1) / grading:.1f} submissions/s; "
              f"overall: {args.n / wall:.1f} submissions/s")
        print(f"per-student latency: median {statistics.median(lat) * 1000:.1f} ms, "
              f"p95 {lat[int(0.95 * (len(lat) - 1))] * 1000:.1f} ms")
        tenth = mem.own[max(1, len(mem.own) // 10)] if mem.own else 0
        print(f"peak memory, all processes: {mem.peak_pss / 2**20:.0f} MiB PSS ({mem.peak_rss / 2**20:.0f} MiB summed RSS)")
        print(f"grading process RSS: {tenth / 2**20:.0f} MiB at 10% of the run, "
              f"{(mem.own[-1] if mem.own else 0) / 2**20:.0f} MiB at the end")


if __name__ == "__main__":
    main()
