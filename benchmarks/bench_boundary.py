"""The cost of the trust boundary: the same class graded by a baseline engine and by this one, in one run.

The class is what instructors grade: correct six-exercise submissions, and nearly correct ones
(one classic mistake from graders/mistakes/ each, one in four students). The baseline is another
source tree of tensorgrade (e.g. the commit before the boundary moved):

    git worktree add /tmp/tg-before e26572a
    python benchmarks/bench_boundary.py --baseline /tmp/tg-before [--n 200] [--repeat 3]

Each engine grades the same folder with its own tree's course, in its own process (`PYTHONPATH=<tree>/src`), alternating
A, B, A, B, ... so that machine noise hits both alike; PDFs are off (they do not depend on the
boundary). Printed: per run, steady-state submissions/s (from the first to the last result) and
wall time; then the medians and the ratio after/before.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DRIVER = r"""
import json, sys, time
from pathlib import Path
from tensorgrade.batch import run_batch
from tensorgrade.grading import Plan
from tensorgrade.spec.course import load_course
course = load_course(Path(sys.argv[1]))
stamps = []
start = time.perf_counter()
report = run_batch(course, Path(sys.argv[2]), Path(sys.argv[3]), plan=Plan(), workers=2, pdf=False,
                   on_result=lambda r: stamps.append(time.perf_counter()))
wall = time.perf_counter() - start
steady = (len(stamps) - 1) / (stamps[-1] - stamps[0])
totals = sorted(r.total for r in report.results)
print(json.dumps({"wall": wall, "steady": steady, "first": stamps[0] - start, "n": len(stamps),
                  "mean_total": sum(totals) / len(totals)}))
"""


def make_class(folder: Path, n: int) -> dict[str, int]:
    """n folder submissions: three in four the solutions, one in four the solutions with one classic mistake."""
    mistakes = sorted((ROOT / "graders" / "mistakes").glob("*/*.py"))
    kinds = {"correct": 0, "nearly correct": 0}
    for i in range(n):
        sub = folder / f"student_{i:05d}"
        shutil.copytree(ROOT / "solutions", sub, ignore=shutil.ignore_patterns("__pycache__"))
        if i % 4 == 3:
            m = mistakes[(i // 4) % len(mistakes)]
            shutil.copy(m, sub / f"{m.parent.name}.py")
            kinds["nearly correct"] += 1
        else:
            kinds["correct"] += 1
    return kinds


def run(tree: Path, subs: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(tree), str(subs), str(out)], env=env, cwd=tree,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: grading failed\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, required=True, help="source tree of the engine to compare against")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    engines = {"before": args.baseline.resolve(), "after": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "class"
        subs.mkdir()
        kinds = make_class(subs, args.n)
        print(f"class: {args.n} six-exercise submissions {kinds}; 2 workers; no PDFs")
        results: dict[str, list[dict]] = {name: [] for name in engines}
        for i in range(args.repeat):
            for name, tree in engines.items():
                r = run(tree, subs, Path(tmp) / f"out-{name}")
                results[name].append(r)
                print(f"  run {i + 1} {name:6s}: {r['steady']:5.1f} submissions/s steady, wall {r['wall']:5.1f} s, "
                      f"first result {r['first']:.1f} s, mean score {r['mean_total']:.2f}")
        med = {name: statistics.median(r["steady"] for r in rs) for name, rs in results.items()}
        wall = {name: statistics.median(r["wall"] for r in rs) for name, rs in results.items()}
        print(f"median steady throughput: before {med['before']:.1f}/s, after {med['after']:.1f}/s, "
              f"ratio after/before {med['after'] / med['before']:.2f}")
        print(f"median wall: before {wall['before']:.1f} s, after {wall['after']:.1f} s")


if __name__ == "__main__":
    main()
