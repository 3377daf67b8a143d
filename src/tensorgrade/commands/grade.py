"""`tensorgrade grade`: grade a whole class into a gradebook, per-student results and a summary."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from typing import TYPE_CHECKING

from tensorgrade.commands.common import UsageError, add_course_option, load
from tensorgrade.intake.layouts import LAYOUT_HELP
from tensorgrade.intake.tree import LayoutError
from tensorgrade.results.text import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from tensorgrade.spec.course import Course


def add_parser(sub) -> None:
    p = sub.add_parser(
        "grade",
        help="grade a folder of submissions: grades.csv, per-student results.json (instructors)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""Grade every submission in SUBMISSIONS; student code runs in a sandbox.

SUBMISSIONS is a folder or a zip, in one of three layouts (recognised by their files):
  folders     one entry per student, named by the student id: a folder holding
              ex1_requires_grad.py ... (or one .py/.ipynb), a single .py/.ipynb, or a .zip
  gradescope  Gradescope "Export Submissions": submission_metadata.yml and submission_<id>/
              folders; one row per submitter (their SID), with name, email and submission time
  canvas      Canvas "Download Submissions": files named name_[LATE_]userid_fileid_file;
              grouped per Canvas user id, original file names restored, re-uploads (-1) win
A submissions.csv beside them (student,submitted_at[,name,email]) gives times the layout lacks.

Writes OUT/grades.csv, OUT/summary.html, OUT/intake.csv (everything not graded, and why) and,
per student, OUT/<student>/results.json (Gradescope format), report.html and report.pdf.
Re-running skips students whose submission and course are unchanged. The exit code is non-zero
only when grading itself failed (1) or the command line is wrong (2), never because students
lost points.""",
    )
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                   help="folder or zip holding the class's submissions (see the layouts above)")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT", help="output folder (created if needed)")
    p.add_argument("--workers", type=int, default=max(1, min(os.cpu_count() or 1, 8)),
                   help="parallel sandboxes (default: the number of cores, at most 8)")
    p.add_argument("--regrade", action="store_true", help="grade everyone again, even unchanged submissions")
    p.add_argument("--only", nargs="+", metavar="ID",
                   help="grade again just these students; every other row of grades.csv stays as stored")
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
    p.add_argument("--time-from", choices=("lms", "mtime"), default="lms",
                   help="where submission times come from: 'lms' (the export's metadata and submissions.csv; "
                        "default) or 'mtime' (also file modification times, for folders you trust to keep them)")
    p.add_argument("--no-pdf", dest="pdf", action="store_false",
                   help="write report.html but skip report.pdf for each student (faster)")
    add_course_option(p)
    p.set_defaults(run=run)


def summary_table(course: Course, results) -> Table:
    from rich.table import Table

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


def _print_ignored(console: Console, intake, out: Path) -> None:
    from rich.markup import escape

    if intake.ignored:
        shown = ", ".join(printable(i.path) for i in intake.ignored[:5]) + (" ..." if len(intake.ignored) > 5 else "")
        console.print(f"Not graded ({len(intake.ignored)}): {escape(shown)} - reasons in {escape(str(out))}/intake.csv")


def usage_problem(args) -> str:
    """One line saying what is wrong with the command line, or ''."""
    subs, out = args.submissions, args.out
    if not subs.exists():
        return f"{subs}: no such folder or zip"
    if not (subs.is_dir() or (subs.is_file() and subs.suffix == ".zip")):
        return f"{subs}: expected a folder or a .zip of submissions"
    if out.exists() and not out.is_dir():
        return f"-o {out}: is a file; give a folder for the outputs (it is created if needed)"
    if out.resolve() == subs.resolve():
        return f"-o {out}: is the submissions folder itself; give another folder"
    return ""


def sandbox_ahead(args) -> bool:
    """Start the first sandbox before the class is read and the grading engine imported (both take
    seconds; so does the sandbox), when this run will grade: a fresh output folder, --regrade or --only.
    Not when it may only reuse stored records: re-running on a graded class stays instant. One, not one
    per worker: a second would compete with this process's imports for the cores (measured in
    docs/performance.md); the others start once the class is read."""
    from tensorgrade.results.store import RECORD

    if not args.submissions.exists():
        return False
    if args.submissions.is_dir() and next((e for e in os.scandir(args.submissions) if not e.name.startswith(".")),
                                          None) is None:
        return False  # an empty folder: nothing to grade
    return bool(args.regrade or args.only or next(args.out.glob(f"*/{RECORD}"), None) is None)


def run(args) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from tensorgrade.results.gradebook import status_of
    from tensorgrade.run.init import Plan

    console = Console(highlight=False, stderr=False)
    problem = usage_problem(args)
    if problem:
        raise UsageError(problem)
    if args.workers < 1:
        console.print("[red]--workers must be at least 1[/]")
        return 2
    course = load(args, claim_output=True)  # several assignments: OUT is this assignment's
    from tensorgrade.render.typst import available

    if args.pdf and not available():  # PDFs come after grading: without typst they would fail every student
        console.print("[yellow]warning: the typst package is not installed; writing HTML reports only "
                      "(pip install typst, or pass --no-pdf)[/]")
        args.pdf = False
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
    sandboxes = None
    if pool_factory is None and sandbox_ahead(args):  # it imports torch while this process does (below)
        from tensorgrade.run.start import Starting

        args.out.mkdir(parents=True, exist_ok=True)  # hidden from student code: it must exist first
        sandboxes = Starting(course, 1, hide=[args.submissions, args.out])
    from tensorgrade.batch import UnknownStudents, run_batch  # the grading engine: imports torch

    try:
        with progress:
            report = run_batch(course, args.submissions, args.out, plan=plan, workers=args.workers,
                               regrade=args.regrade, pdf=args.pdf, pool_factory=pool_factory,
                               time_from=args.time_from, only=args.only, on_start=on_start, on_result=on_result,
                               sandboxes=sandboxes)
    except (LayoutError, UnknownStudents) as exc:
        raise UsageError(str(exc)) from None
    from tensorgrade.commands.report import term_warnings

    for line in term_warnings(course, args.out):
        console.print(f"[yellow]warning: {escape(line)}[/]")
    intake = report.intake
    if not intake.submissions:
        console.print(f"[yellow]warning: no submissions found in {escape(str(args.submissions))} "
                      f"({LAYOUT_HELP}); nothing was graded[/]")
        _print_ignored(console, intake, args.out)
        return 0
    console.print(f"Read {len(intake.submissions)} student(s) from a {intake.layout} layout.")
    _print_ignored(console, intake, args.out)
    console.print(summary_table(course, report.results))
    faults = _fault_counts(report.results)
    if faults:
        console.print("Not graded normally: " + escape(", ".join(f"{k}: {v}" for k, v in sorted(faults.items()))))
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
