"""Plain-data views of a course and of a student's record, shared by the HTML and PDF templates.

Every value is a str, number, bool, list or dict, so the same context goes
into jinja2 (HTML, autoescaped) and, as JSON, into Typst. Decisions such as
"are this hidden check's details shown?" are made here, once.
"""

from __future__ import annotations

import datetime as dt

from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.results.visibility import hidden_visibility
from tensorgrade.spec.course import Course
from tensorgrade.results import status
from tensorgrade.term import Standing, Term, standing_for

OUTPUT_EXCERPT = 3000  # characters of captured output shown in a report


def fmt(x: float) -> str:
    """Points without noise: 2, 1.5, 0.33."""
    return f"{round(x, 2):g}"


def due_text(course: Course) -> str:
    due = course.spec.assignment.due
    return due.strftime("%A %d %B %Y, %H:%M") + (f" {due.tzname()}" if due.tzname() else "")


def course_view(course: Course) -> dict:
    spec = course.spec
    return {
        "name": spec.course.name,
        "term": spec.course.term,
        "instructor": spec.course.instructor or "",
        "assignment": {"id": spec.assignment.id, "title": spec.assignment.title, "due": due_text(course),
                       "due_iso": spec.assignment.due.isoformat(), "submission": spec.assignment.submission},
        "points": fmt(course.points),
        "hidden_feedback": spec.grading.hidden_feedback,
    }


def withheld_note(course: Course) -> str:
    if course.spec.grading.hidden_feedback == "never":
        return "hidden check: details are not shown"
    return f"hidden check: details after the due date ({due_text(course)})"


def check_view(c: CheckResult, show_hidden: bool, note: str) -> dict:
    hidden = c.visibility == "hidden"
    withheld = hidden and not show_hidden
    feedback = "" if withheld or c.passed else c.feedback
    lines = feedback.splitlines()
    return {
        "id": c.id, "function": c.function, "points": fmt(c.points), "score": fmt(c.score),
        "passed": c.passed, "partial": 0 < c.score < c.points, "verdict": "passed" if c.passed else "failed",
        "hidden": hidden, "withheld": withheld, "note": note if withheld else "",
        "verifies": "" if withheld else c.verifies,
        "message": lines[0] if lines else "",
        "details": "\n".join(line[2:] if line.startswith("  ") else line for line in lines[1:]),
        "feedback": feedback,
    }


def exercise_view(e: ExerciseResult, show_hidden: bool, note: str) -> dict:
    return {
        "id": e.id, "title": e.title, "score": fmt(e.score), "possible": fmt(e.possible),
        "full": e.possible > 0 and e.score >= e.possible, "status": e.status,
        "status_text": status.label(e.status), "detail": e.detail,
        "checks": [check_view(c, show_hidden, note) for c in e.checks],
    }


def excerpt(text: str, limit: int = OUTPUT_EXCERPT) -> tuple[str, bool]:
    text = text or ""
    if len(text) <= limit:
        return text, False
    return text[:limit].rsplit("\n", 1)[0] if "\n" in text[:limit] else text[:limit], True


def standing_view(st: Standing) -> dict:
    """The final numbers and what led to them, for the report's score box and its 'Your score' section."""
    return {
        "raw_total": fmt(st.raw_total), "total": fmt(st.total), "possible": fmt(st.possible),
        "percent": f"{st.percent:.0f}", "changed": st.changed, "late_days": st.late_days,
        "penalty": fmt(st.penalty), "penalty_percent": f"{st.penalty_percent:g}", "beyond_max": st.beyond_max,
        "extended": st.extended, "submitted_at": st.submitted_at,
        "adjustments": [{"target": a.target, "points": fmt(a.points), "comment": a.comment, "text": a.text}
                        for a in st.applied],
        "notes": list(st.notes),
    }


def report_view(result: StudentResult, course: Course, now: dt.datetime | None = None,
                term: Term | None = None) -> dict:
    st = standing_for(result, course, term)
    show_hidden = hidden_visibility(course, now) == "visible"
    note = withheld_note(course)
    printed = result.output or ""
    hidden_printed = getattr(result, "hidden_output", "") or ""
    if show_hidden and hidden_printed:  # printed during hidden checks: shown under their rule (their inputs show)
        printed = f"{printed}\n{hidden_printed}" if printed else hidden_printed
    output, cut = excerpt(printed)
    return {
        "course": course_view(course),
        "student": result.student,
        "status": result.status,
        "status_text": status.label(result.status, "submission"),
        "detail": result.detail,
        "flags": status.learner_flags(result.flags),  # grader-bug notes are for the instructor only
        "total": fmt(st.total), "possible": fmt(result.possible), "percent": f"{st.percent:.0f}",
        "raw_total": fmt(result.total), "standing": standing_view(st),
        "show_hidden": show_hidden, "hidden_note": note,
        "exercises": [exercise_view(e, show_hidden, note) for e in result.exercises],
        "output": output, "output_cut": cut, "output_chars": len(printed),
        "output_withheld": bool(hidden_printed) and not show_hidden,
    }
