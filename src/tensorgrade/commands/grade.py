"""`tensorgrade grade`: grade a whole class into a gradebook, per-student results and a summary."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from tensorgrade.batch import run_batch
from tensorgrade.commands.common import add_course_option, load
from tensorgrade.grading import Plan
from tensorgrade.results.gradebook import status_of
from tensorgrade.results.text import printable
from tensorgrade.spec.course import Course


def add_parser(sub) -> None:
    p = sub.add_parser(
        "grade",
        help="grade a folder of submissions: grades.csv, per-student results.json (instructors)",
        description="Grade every submission in SUBMISSIONS (a folder per student, one .py or .ipynb per student, "
                    "or a .zip of either; the student id is the file or folder name). Student code runs in a "
                    "sandbox. Writes OUT/grades.csv, OUT/summary.html and, per student, OUT/<student>/results.json "
                    "(Gradescope format), report.html and report.pdf. "
                    "Re-running skips students whose submission and course are unchanged. Exit code is "
                    "non-zero only when grading itself failed, never because students lost points.",
    )
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS", help="folder holding the class's submissions")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT", help="output folder (created if needed)")
    p.add_argument("--workers", type=int, default=max(1, min(os.cpu_count() or 1, 8)),
                   help="parallel sandboxes (default: the number of cores, at most 8)")
    p.add_argument("--regrade", action="store_true", help="grade everyone again, even unchanged submissions")
    p.add_argument("--seed-by", choices=("student", "fixed"), default="student",
                   help="'student': every student gets their own inputs (default); 'fixed': everyone the same")
    p.add_argument("--engine", choices=("fast", "otter"), default="fast",
                   help="'fast': the sandboxed zygote engine (default); 'otter': otter-grader's own runner on the "
                        "generated autograder.zip, one Jupyter kernel per submission (slow; the reference path)")
    where = p.add_mutually_exclusive_group()  # cluster grading (docs/cluster.md), needs tensorgrade[dask]
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="grade on an existing Dask cluster (its scheduler's address)")
    where.add_argument("--cluster", metavar="local[:N]",
                       help="start a local Dask cluster of N worker processes (default: --workers) for this run")
    p.add_argument("--no-pdf", dest="pdf", action="store_false",
                   help="write report.html but skip report.pdf for each student (faster)")
    add_course_option(p)
    p.set_defaults(run=run)


def summary_table(course: Course, results) -> Table:
    table = Table(title="Class summary", title_justify="left")
    for col in ("exercise", "mean", "full marks", "zero", "possible"):
        table.add_column(col, justify="left" if col == "exercise" else "right")
    n = max(len(results), 1)
    for ex in course.exercises:
        scores = [next((e.score for e in r.exercises if e.id == ex.id), 0.0) for r in results]
        possible = ex.spec.points
        table.add_row(ex.id, f"{sum(scores) / n:.2f}", str(sum(s == possible for s in scores)),
                      str(sum(s == 0 for s in scores)), f"{possible:g}")
    totals = [r.total for r in results]
    table.add_row("[bold]total[/]", f"[bold]{sum(totals) / n:.2f}[/]",
                  str(sum(r.total == r.possible and r.possible > 0 for r in results)),
                  str(sum(t == 0 for t in totals)), f"{course.points:g}")
    return table


def _fault_counts(results) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        if r.status != "ok":
            counts[r.status] = counts.get(r.status, 0) + 1
        for e in r.exercises:
            if e.status not in ("ok",) and r.status == "ok":
                counts[e.status] = counts.get(e.status, 0) + 1
    return counts


def run(args) -> int:
    console = Console(highlight=False, stderr=False)
    if not args.submissions.is_dir():
        console.print(f"[red]{args.submissions}: not a folder of submissions[/]")
        return 2
    if args.workers < 1:
        console.print("[red]--workers must be at least 1[/]")
        return 2
    course = load(args)
    plan = Plan(seed_by=args.seed_by, engine=args.engine)
    started = time.perf_counter()
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("•"),
                        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.description}"),
                        console=console, transient=False)
    state = {"task": None, "first": None}

    def on_start(total: int, reused: int) -> None:
        if reused:
            console.print(f"{reused} of {total} submission(s) unchanged since the last run: reused (--regrade to redo)")
        state["task"] = progress.add_task("", total=total, completed=reused)

    def on_result(result) -> None:
        if state["first"] is None:
            state["first"] = time.perf_counter() - started
        status = status_of(result)
        progress.update(state["task"], advance=1,
                        description=f"{escape(printable(result.student))}: {result.total:g}/{result.possible:g}"
                                    + ("" if status == "ok" else f" [yellow]({escape(printable(status)[:40])})[/]"))

    pool_factory = None
    if args.engine == "otter":
        from tensorgrade.otter.engine import OtterPool

        pool_factory = lambda: OtterPool(course, plan, args.workers)  # noqa: E731
    if args.scheduler or args.cluster:  # cluster grading: a Dask pool instead of local zygotes
        if args.engine != "fast":
            console.print("[red]--scheduler/--cluster grade with the fast engine only[/]")
            return 2
        from tensorgrade.cluster import parse_local
        from tensorgrade.cluster import pool_factory as dask_pool_factory

        try:
            local = parse_local(args.cluster, args.workers) if args.cluster else None
            pool_factory = dask_pool_factory(course, plan, scheduler=args.scheduler, local_workers=local,
                                             hide=[args.submissions, args.out])
        except (ValueError, RuntimeError) as exc:  # a bad --cluster value, dask not installed
            console.print(f"[red]{escape(str(exc))}[/]")
            return 2
    with progress:
        report = run_batch(course, args.submissions, args.out, plan=plan, workers=args.workers,
                           regrade=args.regrade, pdf=args.pdf, pool_factory=pool_factory,
                           on_start=on_start, on_result=on_result)
    console.print(summary_table(course, report.results))
    faults = _fault_counts(report.results)
    if faults:
        console.print("Not graded normally: " + ", ".join(f"{k}: {v}" for k, v in sorted(faults.items())))
    flagged = [r.student for r in report.results if r.flags]
    if flagged:
        console.print(f"Flagged for review ({len(flagged)}): " + escape(printable(", ".join(flagged[:20])))
                      + (" ..." if len(flagged) > 20 else ""))
    rate = report.graded / report.seconds if report.seconds else 0
    console.print(f"Graded {report.graded}, reused {report.reused} in {report.seconds:.1f} s ({rate:.1f}/s). "
                  f"Gradebook: [bold]{report.gradebook}[/]; class summary: {args.out}/summary.html; "
                  f"per student: {args.out}/<student>/results.json, report.html"
                  + (", report.pdf" if args.pdf else ""))
    if report.infrastructure_failures:
        console.print(f"[red]{report.infrastructure_failures} submission(s) could not be graded because of an "
                      "infrastructure failure; run the command again to retry them[/]")
        return 1
    return 0
