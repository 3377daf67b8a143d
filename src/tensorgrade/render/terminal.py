"""Terminal output with rich: per-check verdicts and feedback for students, tables for instructors."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from tensorgrade.results.text import printable
from rich.panel import Panel
from rich.text import Text

from tensorgrade.results import status as statuses
from tensorgrade.results.model import ExerciseResult, StudentResult


def _points(x: float) -> str:
    return f"{x:g}"


def status_line(status: str, detail: str) -> str:
    """Why an exercise did not run normally, in the vocabulary's words (the detail names file and line)."""
    label = statuses.label(status)
    return f"{label}: {detail}" if detail and detail != label else label


def exercise_panel(ex: ExerciseResult) -> Panel:
    """One exercise: a line per check (✓/✗, points, what it verifies) and the feedback of failures."""
    body = Text()
    for check in ex.checks:
        mark, style = ("✓", "green") if check.passed else ("✗", "red")
        body.append(f"{mark} ", style=f"bold {style}")
        body.append(f"{check.id}", style="bold")
        body.append(f"  {_points(check.score)}/{_points(check.points)}  ", style=style)
        body.append(check.verifies + "\n", style="dim")
        if not check.passed and check.feedback:
            for line in check.feedback.splitlines():
                body.append(f"    {line}\n", style="yellow" if line.lstrip().startswith("hint:") else "")
    if ex.status != "ok":
        body.append(f"{printable(status_line(ex.status, ex.detail))}\n", style="bold red")
        todo = statuses.advice(ex.status)
        if todo:
            body.append(f"  what to do: {todo}\n", style="yellow")
    title = f"{ex.id} — {escape(ex.title)}   {_points(ex.score)}/{_points(ex.possible)}"
    color = "green" if ex.score == ex.possible else ("red" if ex.score == 0 else "yellow")
    return Panel(body, title=title, title_align="left", border_style=color)


def show_check(console: Console, result: StudentResult, *, label: str = "public checks") -> None:
    for ex in result.exercises:
        console.print(exercise_panel(ex))
    flags = statuses.learner_flags(result.flags)
    if flags:
        console.print(f"[dim]note: {escape(printable('; '.join(flags)))}[/]")
    if result.output.strip():
        console.print(Panel(escape(printable(result.output[-2000:])), title="your code printed", border_style="dim"))
    ok = result.total == result.possible
    style = "bold green" if ok else "bold yellow"
    console.print(f"[{style}]Score on {label}: {_points(result.total)}/{_points(result.possible)}[/]"
                  + ("  — all passing. Hidden checks run when you submit." if ok else ""))
