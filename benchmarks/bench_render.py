"""Rendering speed: median ms per student report PDF, per report HTML, per class summary (200 students)
and per handout, over N runs (each report run uses a different student, so no cached result is reused);
then a class's PDF phase as `grade` runs it after grading (render/pdfs.write_pdfs: 200 reports written to
disk), in this process and split over two worker processes, alternating, median of --class-runs.

    python benchmarks/bench_render.py [--runs N] [--class-runs K] [--course DIR]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from tensorgrade.render import pdfs
from tensorgrade.render.handout import render_handout
from tensorgrade.render.report import render_report_html, render_report_pdf
from tensorgrade.render.summary import render_summary_html
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.spec.course import load_course
from tensorgrade.term import load_term

ROOT = Path(__file__).resolve().parents[1]


def fake_result(course, i: int, rng: random.Random) -> StudentResult:
    exercises = []
    for ex in course.exercises:
        checks = []
        for c in ex.spec.checks:
            ok = rng.random() < 0.7
            fb = "" if ok else (f"grad of x: not as expected\n  expected: tensor([{rng.random():.4f}, 3.0000])\n"
                                f"  observed: tensor([2.0000, {rng.random():.4f}])\n  hint: {c.hint}\n"
                                f"  inputs: x = tensor([2., 3.])")
            checks.append(CheckResult(id=c.id, function=c.function, points=c.points, score=c.points if ok else 0.0,
                                      visibility=c.visibility, verifies=c.verifies, feedback=fb))
        exercises.append(ExerciseResult(id=ex.id, title=ex.spec.title, checks=checks))
    flags = ["patched torch.autograd.grad"] if i % 17 == 0 else []
    return StudentResult(student=f"student{i:04d}", exercises=exercises, flags=flags,
                         output=f"step {i}: loss {rng.random():.4f}\n" * (i % 5))


def timed(fn, runs: int) -> float:
    times = []
    for k in range(runs):
        t = time.perf_counter()
        fn(k)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--class-runs", type=int, default=3, help="runs of the class's PDF phase per variant")
    ap.add_argument("--course", type=Path, default=ROOT)
    args = ap.parse_args()
    course = load_course(args.course)
    rng = random.Random(0)
    students = [fake_result(course, i, rng) for i in range(max(200, args.runs + 1))]

    t = time.perf_counter()
    render_report_pdf(students[-1], course)  # first compile: fonts, template
    first = (time.perf_counter() - t) * 1000
    pdf = timed(lambda k: render_report_pdf(students[k], course), args.runs)
    html = timed(lambda k: render_report_html(students[k], course), args.runs)
    summary = timed(lambda k: render_summary_html(students[:200], course), max(3, args.runs // 5))
    t = time.perf_counter()
    render_handout(course)
    handout_first = (time.perf_counter() - t) * 1000
    handout = timed(lambda k: render_handout(course), max(3, args.runs // 5))
    print(f"report PDF   first {first:7.1f} ms   median {pdf:6.1f} ms per student  ({args.runs} runs)")
    print(f"report HTML  median {html:6.1f} ms per student")
    print(f"summary HTML median {summary:6.1f} ms for 200 students")
    print(f"handout PDF  first {handout_first:7.1f} ms   median {handout:6.1f} ms (same input: Typst caches)")
    class_pdfs(course, students[:200], args.class_runs)


def _cpu() -> float:
    return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


def class_pdfs(course, students, runs: int) -> None:
    """The PDF phase of `grade` for a class: wall and CPU (workers included), one process against two."""
    term = load_term(course)
    seen = {1: [], 2: []}
    for _ in range(runs):
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as out:
                wall, cpu = time.perf_counter(), _cpu()
                failed = pdfs.write_pdfs(Path(out), students, course, term, workers)
                seen[workers].append((time.perf_counter() - wall, _cpu() - cpu))
                if failed:
                    raise SystemExit(f"{len(failed)} PDFs failed")
    (w1, c1), (w2, c2) = ((statistics.median(t for t, _ in seen[w]), statistics.median(c for _, c in seen[w]))
                          for w in (1, 2))
    print(f"class of {len(students)} report PDFs (median of {runs}): one process {w1:.2f} s wall / {c1:.2f} s CPU; "
          f"two workers {w2:.2f} s / {c2:.2f} s; {w1 / w2:.2f}x sooner")


if __name__ == "__main__":
    main()
