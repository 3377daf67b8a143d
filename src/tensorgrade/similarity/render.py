"""OUT/similarity.html: each pair's code side by side, the shared parts highlighted."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup, escape

from tensorgrade.render import templates
from tensorgrade.render.context import course_view
from tensorgrade.results.store import write_atomic
from tensorgrade.similarity.detect import Pair
from tensorgrade.spec.course import Course

TEMPLATE = "similarity.html.j2"


def highlight(text: str, ranges: tuple[tuple[int, int], ...]) -> Markup:
    """`text` escaped, with each (start, end) range wrapped in <mark>."""
    parts, at = [], 0
    for start, end in sorted(ranges):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        parts += [str(escape(text[at:start])), "<mark>", str(escape(text[start:end])), "</mark>"]
        at = end
    parts.append(str(escape(text[at:])))
    return Markup("".join(parts))


def similarity_view(course: Course, pairs: list[Pair], compared: dict[str, dict[str, str]],
                    kept: list[dict] = (), unlisted: dict[str, dict[str, int]] | None = None, most: int = 0) -> dict:
    return {
        "most": most,
        "unlisted": {ex: {"students": len(more), "partners": sum(more.values())}
                     for ex, more in (unlisted or {}).items()},
        "earlier": [{"exercise": p["exercise"], "a": p["a"], "b": p["b"],
                     "percent": f"{100 * float(p['similarity']):.0f}"} for p in kept],
        "course": course_view(course),
        "threshold": f"{100 * course.spec.similarity.threshold:.0f}",
        "compared": {ex: len(students) for ex, students in compared.items()},
        "pairs": [{"exercise": p.exercise, "a": p.a, "b": p.b, "percent": f"{100 * p.similarity:.0f}",
                   "share_a": f"{100 * p.share_a:.0f}", "share_b": f"{100 * p.share_b:.0f}",
                   "code_a": highlight(compared[p.exercise][p.a], p.slices_a),
                   "code_b": highlight(compared[p.exercise][p.b], p.slices_b)} for p in pairs],
    }


def write_similarity_html(out: Path, course: Course, pairs: list[Pair], compared: dict[str, dict[str, str]],
                          kept: list[dict] = (), unlisted: dict[str, dict[str, int]] | None = None,
                          most: int = 0) -> None:
    html = templates.render(course.root, TEMPLATE, v=similarity_view(course, pairs, compared, kept, unlisted, most))
    write_atomic(Path(out) / "similarity.html", html)
