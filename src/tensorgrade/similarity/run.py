"""Compare a class's submissions exercise by exercise and write the similarity outputs."""

from __future__ import annotations

import logging
from pathlib import Path

from tensorgrade.intake.submission import Submission
from tensorgrade.similarity.detect import MAX_PARTNERS, Pair, compare_class
from tensorgrade.similarity.extract import boilerplate_of, exercise_sources
from tensorgrade.similarity.store import load_pairs, save_pairs
from tensorgrade.spec.course import Course


def find_pairs(course: Course, subs: list[Submission]) -> tuple[list[Pair], dict[str, dict[str, str]],
                                                                dict[str, dict[str, int]]]:
    """Pairs above the threshold for every exercise (each student's MAX_PARTNERS most similar), the sources
    compared (exercise -> student -> text), and the partners not listed (exercise -> student -> count)."""
    spec = course.spec.similarity
    pairs: list[Pair] = []
    compared: dict[str, dict[str, str]] = {}
    unlisted: dict[str, dict[str, int]] = {}
    for ex in course.exercises:
        sources = {s.student: text for s in subs if s.status == "ok"
                   for text in [exercise_sources(s, ex)] if text.strip()}
        compared[ex.id] = sources
        try:
            found = compare_class(ex.id, sources, boilerplate_of(ex), spec)
        except Exception as exc:  # a detector bug must not cost the batch its gradebook
            logging.getLogger(__name__).warning("similarity of %s not compared: %s: %s", ex.id,
                                                type(exc).__name__, exc)
            continue
        pairs += found.pairs
        more = found.unlisted()
        if more:
            unlisted[ex.id] = more
    return pairs, compared, unlisted


def update_similarity(out: Path, course: Course, subs: list[Submission]) -> list[Pair]:
    """Compare the class, write OUT/similarity.json and OUT/similarity.html; return the pairs."""
    from tensorgrade.similarity.render import write_similarity_html

    pairs, compared, unlisted = find_pairs(course, subs)
    here = {s.student for s in subs}
    # a folder holding some of the class: pairs between students not in it stay as last compared
    kept = [p for p in (load_pairs(out) or {}).get("pairs", []) if p["a"] not in here and p["b"] not in here]
    save_pairs(out, pairs, course.spec.similarity.threshold, kept=kept, unlisted=unlisted)
    write_similarity_html(out, course, pairs, compared, kept=kept, unlisted=unlisted, most=MAX_PARTNERS)
    return pairs
