"""Throughput of the local engine vs a dask.distributed LocalCluster, and the best batch size.

Grades the same N synthetic submissions (benchmarks/bench_grade.py: make_class)
  1. locally: `run_batch` with LocalPool (--workers zygote threads, reference in-process);
  2. on a LocalCluster of --workers single-threaded worker processes, once per batch size
     tried (the cluster is warmed first, so start-up is reported separately).
Reports are not rendered (--pdf to include them: the coordinator writes them either way).

    python benchmarks/bench_cluster.py [--n 120] [--workers 2] [--batches 1,2,4,8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_grade import ROOT, make_class

from tensorgrade.batch import run_batch
from tensorgrade.cluster import DaskPool, local_cluster
from tensorgrade.grading import Plan
from tensorgrade.spec.course import load_course


def fresh_class(root: Path, tag: str, n: int) -> Path:
    """The same N submissions under new student ids: no reference record is reused from an earlier run."""
    subs = root / f"class-{tag}"
    subs.mkdir()
    make_class(subs, n)
    for entry in subs.iterdir():
        entry.rename(subs / f"{tag}_{entry.name}")
    return subs


def timed(course, subs: Path, out: Path, pdf: bool, factory=None, workers: int = 2) -> dict:
    stamps: list[float] = []
    start = time.perf_counter()
    report = run_batch(course, subs, out, plan=Plan(), workers=workers, pdf=pdf, regrade=True,
                       pool_factory=factory, on_result=lambda r: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - start
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return {"wall": wall, "first": stamps[0] - start, "steady": steady, "overall": report.graded / wall,
            "failures": report.infrastructure_failures}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batches", default="1,2,4,8")
    ap.add_argument("--pdf", action="store_true")
    args = ap.parse_args()
    course = load_course(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        subs = fresh_class(Path(tmp), "local", args.n)
        kinds = make_class(Path(tempfile.mkdtemp(dir=tmp)), args.n)
        print(f"submissions: {args.n} {kinds}; workers: {args.workers}; pdf reports: {args.pdf}")

        local = timed(course, subs, Path(tmp) / "local", args.pdf, workers=args.workers)
        print(f"local      : {local['steady']:.2f} submissions/s steady, {local['overall']:.2f}/s overall "
              f"(wall {local['wall']:.1f} s, first result after {local['first']:.1f} s)")

        t = time.perf_counter()
        cluster = local_cluster(args.workers)
        started = time.perf_counter() - t
        try:
            warm = timed(course, subs, Path(tmp) / "warm", False,
                         lambda: DaskPool(course, Plan(), scheduler=cluster.scheduler_address, hide=[tmp]))
            print(f"LocalCluster start {started:.1f} s; first run (workers load torch, reference, zygote): "
                  f"first result after {warm['first']:.1f} s, wall {warm['wall']:.1f} s")
            results = {}
            for size in [int(b) for b in args.batches.split(",")]:
                out = Path(tmp) / f"dask{size}"
                subs = fresh_class(Path(tmp), f"b{size}", args.n)
                r = timed(course, subs, out, args.pdf, lambda: DaskPool(
                    course, Plan(), scheduler=cluster.scheduler_address, batch_size=size, hide=[tmp]))
                results[size] = r
                print(f"dask b={size:<3}: {r['steady']:.2f} submissions/s steady, {r['overall']:.2f}/s overall "
                      f"(wall {r['wall']:.1f} s, first result after {r['first']:.2f} s, failures {r['failures']})")
        finally:
            cluster.close()
        best = max(results, key=lambda b: results[b]["overall"])
        print(f"best batch size: {best}; LocalCluster / local throughput: steady "
              f"{results[best]['steady'] / local['steady']:.2f}, overall {results[best]['overall'] / local['overall']:.2f} "
              "(the cluster's overall excludes its start-up and first warm-up run, the local one includes its own)")


if __name__ == "__main__":
    main()
