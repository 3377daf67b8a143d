"""The fast engine against the otter engine, on the same submissions, in one run.

Builds ~6 submissions (correct, classic mistakes, crashing, stubs), grades each with
both engines one at a time (1 worker, so per-submission latencies are comparable),
checks that per-exercise scores agree, and prints per-submission medians and the
ratio fast/otter (time per submission).

    python benchmarks/bench_engines.py [--n 6] [--workers 1]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tensorgrade.batch import LocalPool
from tensorgrade.grading import Plan
from tensorgrade.otter.engine import OtterPool
from tensorgrade.intake.layouts import read_submission
from tensorgrade.spec.course import load_course

ROOT = Path(__file__).resolve().parents[1]


def make_class(folder: Path, n: int, course) -> list[Path]:
    mistakes = sorted(p for ex in course.exercises for p in ex.mistakes.glob("*.py"))
    kinds = ("correct", "wrong", "crashing", "stub")
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        sub = folder / f"{kind}_{i:02d}"
        sub.mkdir(parents=True)
        for ex in course.exercises:
            shutil.copy(ex.stub if kind == "stub" else ex.solution, sub / f"{ex.id}.py")
        if kind == "wrong":
            for m in mistakes[i % len(mistakes)::len(mistakes) // 3][:3]:
                shutil.copy(m, sub / f"{m.parent.name}.py")
        if kind == "crashing":
            p = sub / "ex4_higher_order.py"
            p.write_text(re.sub(r"(def hessian_row\(.*?\) -> torch.Tensor:\n)", r"\1    return 1 / 0\n",
                                p.read_text(), count=1, flags=re.S))
            (sub / "ex5_autograd_grad.py").write_text("import torch\nraise RuntimeError('boom')\n")
        out.append(sub)
    return out


def timed(pool, subs) -> tuple[dict, list[float], float]:
    start = time.perf_counter()
    scores, secs = {}, []
    for sub, res in pool.grade(subs):
        if isinstance(res, BaseException):
            raise res
        scores[sub.student] = {e.id: e.score for e in res.exercises}
        secs.append(res.seconds)
    return scores, secs, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    course = load_course(ROOT)
    ids = [e.id for e in course.exercises]
    plan = Plan(seed_by="student")
    with tempfile.TemporaryDirectory() as tmp:
        folders = make_class(Path(tmp) / "class", args.n, course)
        subs = []
        for f in folders:
            s = read_submission(f, ids)
            s.student = f.name
            subs.append(s)

        t = time.perf_counter()
        fast = LocalPool(course, plan, args.workers, hide=[Path(tmp)])
        fast_start = time.perf_counter() - t
        try:
            fast_scores, fast_secs, fast_wall = timed(fast, subs)
        finally:
            fast.close()

        t = time.perf_counter()
        otter = OtterPool(course, plan, args.workers)  # builds autograder.zip into a temp dir
        otter_start = time.perf_counter() - t
        try:
            otter_scores, otter_secs, otter_wall = timed(otter, subs)
        finally:
            otter.close()

    agree = fast_scores == otter_scores
    fm, om = statistics.median(fast_secs), statistics.median(otter_secs)
    print(f"{len(subs)} submissions, {args.workers} worker(s), per-student seeds")
    print(f"fast engine : start {fast_start:5.2f} s, median {fm:6.3f} s/submission, wall {fast_wall:6.2f} s")
    print(f"otter engine: start {otter_start:5.2f} s, median {om:6.3f} s/submission, wall {otter_wall:6.2f} s")
    print(f"ratio fast/otter (median per submission): {fm / om:.3f}  (otter is {om / fm:.1f}x slower)")
    print(f"ratio fast/otter (wall, grading only):    {fast_wall / otter_wall:.3f}")
    print(f"per-exercise scores identical: {agree}")
    if not agree:
        for s in fast_scores:
            if fast_scores[s] != otter_scores.get(s):
                print(f"  {s}: fast {fast_scores[s]} otter {otter_scores.get(s)}")


if __name__ == "__main__":
    main()
