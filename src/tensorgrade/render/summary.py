"""The class at a glance: OUT/summary.html, the page an instructor opens every week.

Pass rates, failure counts and the score histogram count graded students only (a submission that
could not be graded at all says nothing about a check); the ungraded are listed apart. Every student
is in the roster (final score, status, late days, flags, link to the report), sortable by a few lines
of inline JavaScript; the page needs no network. Charts are inline SVG (render.charts).
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from tensorgrade.render import charts, templates
from tensorgrade.render.context import course_view, fmt
from tensorgrade.results import status
from tensorgrade.results.model import ExerciseResult, StudentResult
from tensorgrade.results.store import student_dir, write_atomic
from tensorgrade.spec.course import Course
from tensorgrade.term import Term, load_term, standing

TEMPLATE = "summary.html.j2"


def graded(r: StudentResult) -> bool:
    """Graded normally as a submission (single exercises may still have timed out or been missing)."""
    return status.graded_normally(r.status, "submission")


def failure_text(e: ExerciseResult, feedback: str) -> str:
    """The first line of a failed check's feedback, or why the exercise did not run, never empty."""
    if feedback.strip():
        return feedback.strip().splitlines()[0]
    if e.status != "ok":
        return status.label(e.status) + (f": {e.detail}" if e.detail else "")
    return "failed (no message)"


def check_rows(results: list[StudentResult], course: Course) -> list[dict]:
    checks: dict[tuple[str, str], dict] = {}
    for ex in course.exercises:
        for c in ex.spec.checks:
            checks[(ex.id, c.id)] = {"exercise": ex.id, "check": c.id, "visibility": c.visibility,
                                     "points": fmt(c.points), "n": 0, "passed": 0, "messages": Counter()}
    for r in filter(graded, results):
        for e in r.exercises:
            for c in e.checks:
                row = checks.get((e.id, c.id))
                if row is None:
                    continue
                row["n"] += 1
                if c.passed:
                    row["passed"] += 1
                else:
                    row["messages"][failure_text(e, c.feedback)] += 1
    rows = []
    for row in checks.values():
        rate = 100.0 * row["passed"] / row["n"] if row["n"] else 0.0
        common = row["messages"].most_common(1)
        rows.append({**{k: v for k, v in row.items() if k != "messages"}, "rate": rate,
                     "rate_text": f"{rate:.0f}", "failed": row["n"] - row["passed"],
                     "message": common[0][0] if common else "", "message_count": common[0][1] if common else 0,
                     "label": f"{row['exercise']} › {row['check']}"})
    return rows


def roster_row(r: StudentResult, term: Term, out: Path | None, partners: dict[str, list[str]]) -> dict:
    st = standing(r, term)
    troubles = [f"{e.id}: {status.label(e.status)}" + (f" ({e.detail})" if e.detail else "")
                for e in r.exercises if status.needs_a_look(e.status)]
    folder = student_dir(out, r.student).name if out is not None else None
    return {"student": r.student, "name": r.name, "status": r.status,
            "status_text": status.label(r.status, "submission"), "detail": r.detail,
            "flags": [*r.flags, *partners.get(r.student, [])], "troubles": troubles,
            "score": fmt(st.total), "raw": fmt(st.raw_total), "possible": fmt(r.possible),
            "percent": st.percent, "percent_text": f"{st.percent:.0f}",
            "late_days": st.late_days, "adjusted": bool(st.applied), "beyond_max": st.beyond_max,
            "report": f"{folder}/report.html" if folder else "", "infrastructure": status.whose(r.status, "submission") == "ours"}


def exercise_rows(results: list[StudentResult], course: Course) -> list[dict]:
    rows = []
    for ex in course.exercises:
        scores = [e.score for r in filter(graded, results) for e in r.exercises if e.id == ex.id]
        possible = ex.spec.points
        mean = statistics.fmean(scores) if scores else 0.0
        rows.append({"id": ex.id, "title": ex.spec.title, "mean": fmt(mean), "possible": fmt(possible),
                     "full": sum(1 for s in scores if s >= possible), "zero": sum(1 for s in scores if s == 0),
                     "n": len(scores),
                     "chart": charts.histogram(scores, lo=0.0, hi=possible, bins=min(10, max(1, int(possible))),
                                               width=300, height=150, xlabel="points")})
    return rows


def summary_view(results: list[StudentResult], course: Course, out: Path | None = None,
                 term: Term | None = None, similarity: dict | None = None) -> dict:
    term = term if term is not None else load_term(course)
    results = sorted(results, key=lambda r: r.student)
    if similarity is None and out is not None:
        from tensorgrade.similarity.store import load_pairs

        similarity = load_pairs(out)
    pairs = (similarity or {}).get("pairs", [])
    partners: dict[str, list[str]] = {}
    for p in pairs:
        partners.setdefault(p["a"], []).append(f"similar to {p['b']} in {p['exercise']}")
        partners.setdefault(p["b"], []).append(f"similar to {p['a']} in {p['exercise']}")
    roster = [roster_row(r, term, out, partners) for r in results]
    ok = [row for row in roster if row["status"] == "ok"]
    percents = [row["percent"] for row in ok]
    rows = check_rows(results, course)
    attention = [row for row in roster if row["status"] == "ok" and (row["flags"] or row["troubles"])]
    return {
        "course": course_view(course),
        "n": len(results), "n_graded": len(ok),
        "mean": f"{statistics.fmean(percents):.1f}" if percents else "–",
        "median": f"{statistics.median(percents):.1f}" if percents else "–",
        "min": f"{min(percents):.1f}" if percents else "–",
        "max": f"{max(percents):.1f}" if percents else "–",
        "full_marks": sum(1 for row in ok if row["percent"] >= 100 - 1e-9),
        "late": sum(1 for row in roster if row["late_days"]),
        "histogram": charts.histogram(percents, title="Score distribution (graded students, final scores)"),
        "pass_chart": charts.bar_chart([(row["label"], row["rate"]) for row in rows],
                                       title="Pass rate per check (graded students)"),
        "checks": rows,
        "exercises": exercise_rows(results, course),
        "roster": roster,
        "ungraded": [row for row in roster if row["status"] != "ok"],
        "attention": attention,
        "infrastructure": sum(1 for row in roster if row["infrastructure"]),
        "similar": pairs, "similarity_threshold": (similarity or {}).get("threshold"),
        "warnings": term.unknown_students({r.student for r in results}),
    }


def render_summary_html(results: list[StudentResult], course: Course, out: Path | None = None, *,
                        term: Term | None = None, similarity: dict | None = None) -> str:
    return templates.render(course.root, TEMPLATE, s=summary_view(results, course, out, term, similarity))


def write_summary(out: Path, results: list[StudentResult], course: Course, *, term: Term | None = None) -> None:
    """Write OUT/summary.html (atomically)."""
    out = Path(out)
    write_atomic(out / "summary.html", render_summary_html(results, course, out, term=term))
