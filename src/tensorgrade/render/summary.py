"""The class at a glance: OUT/summary.html with a score histogram, per-check pass rates,
the most common failure message per check, and the students who need a look.

Charts are inline SVG (render.charts): the page needs no JavaScript and no network.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from tensorgrade.render import charts, templates
from tensorgrade.render.context import STATUS_TEXT, course_view, fmt
from tensorgrade.results.model import StudentResult
from tensorgrade.results.store import student_dir, write_atomic
from tensorgrade.spec.course import Course

TEMPLATE = "summary.html.j2"
TROUBLE = {"timeout", "crash", "memory", "exit", "error", "unreadable"}


def summary_view(results: list[StudentResult], course: Course, out: Path | None = None) -> dict:
    results = sorted(results, key=lambda r: r.student)
    percents = [r.percent for r in results]
    checks: dict[tuple[str, str], dict] = {}
    for ex in course.exercises:
        for c in ex.spec.checks:
            checks[(ex.id, c.id)] = {"exercise": ex.id, "check": c.id, "visibility": c.visibility,
                                     "points": fmt(c.points), "n": 0, "passed": 0, "messages": Counter()}
    exercises = {ex.id: {"id": ex.id, "title": ex.spec.title, "possible": ex.spec.points, "scores": []}
                 for ex in course.exercises}
    for r in results:
        for e in r.exercises:
            if e.id in exercises:
                exercises[e.id]["scores"].append(e.score)
            for c in e.checks:
                row = checks.setdefault((e.id, c.id), {"exercise": e.id, "check": c.id, "visibility": c.visibility,
                                                       "points": fmt(c.points), "n": 0, "passed": 0,
                                                       "messages": Counter()})
                row["n"] += 1
                if c.passed:
                    row["passed"] += 1
                elif c.feedback.strip() and r.status == "ok":
                    # a submission that could not be graded at all (unreadable, duplicate, ...) says
                    # nothing about this check; it is listed among the students who need a look
                    row["messages"][c.feedback.strip().splitlines()[0]] += 1
    check_rows = []
    for row in checks.values():
        rate = 100.0 * row["passed"] / row["n"] if row["n"] else 0.0
        common = row["messages"].most_common(1)
        check_rows.append({**{k: v for k, v in row.items() if k != "messages"}, "rate": rate,
                           "rate_text": f"{rate:.0f}", "failed": row["n"] - row["passed"],
                           "message": common[0][0] if common else "", "message_count": common[0][1] if common else 0,
                           "label": f"{row['exercise']} › {row['check']}"})
    attention = []
    for r in results:
        troubles = [f"{e.id}: {e.status}" + (f" ({e.detail})" if e.detail else "")
                    for e in r.exercises if e.status in TROUBLE]
        if r.status != "ok" or r.flags or troubles:
            folder = student_dir(out, r.student).name if out is not None else None
            attention.append({"student": r.student, "status": r.status,
                              "status_text": STATUS_TEXT.get(r.status, r.status), "detail": r.detail,
                              "flags": list(r.flags), "troubles": troubles,
                              "score": fmt(r.total), "possible": fmt(r.possible),
                              "report": f"{folder}/report.html" if folder else "",
                              "infrastructure": r.status == "error"})
    ex_rows = []
    for e in exercises.values():
        mean = statistics.fmean(e["scores"]) if e["scores"] else 0.0
        ex_rows.append({"id": e["id"], "title": e["title"], "mean": fmt(mean), "possible": fmt(e["possible"]),
                        "full": sum(1 for s in e["scores"] if s >= e["possible"])})
    return {
        "course": course_view(course),
        "n": len(results),
        "mean": f"{statistics.fmean(percents):.1f}" if percents else "–",
        "median": f"{statistics.median(percents):.1f}" if percents else "–",
        "min": f"{min(percents):.1f}" if percents else "–",
        "max": f"{max(percents):.1f}" if percents else "–",
        "full_marks": sum(1 for r in results if r.possible and r.total >= r.possible),
        "histogram": charts.histogram(percents, title="Score distribution"),
        "pass_chart": charts.bar_chart([(row["label"], row["rate"]) for row in check_rows],
                                       title="Pass rate per check"),
        "checks": check_rows,
        "exercises": ex_rows,
        "attention": attention,
        "infrastructure": sum(1 for a in attention if a["infrastructure"]),
    }


def render_summary_html(results: list[StudentResult], course: Course, out: Path | None = None) -> str:
    return templates.render(course.root, TEMPLATE, s=summary_view(results, course, out))


def write_summary(out: Path, results: list[StudentResult], course: Course) -> None:
    """Write OUT/summary.html (atomically)."""
    out = Path(out)
    write_atomic(out / "summary.html", render_summary_html(results, course, out))
