"""OUT/similarity.json: the pairs found by the last comparison, read by the gradebook and the summary."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from tensorgrade.results.store import write_json

FILE = "similarity.json"


def save_pairs(out: Path, pairs, threshold: float, kept: list[dict] = (),
               unlisted: dict[str, dict[str, int]] | None = None) -> None:
    """`kept`: rows of an earlier comparison between students this one did not see; `unlisted`: exercise ->
    student -> partners at or above the threshold beyond the ones listed."""
    rows = [{k: v for k, v in asdict(p).items() if not k.startswith("slices")} for p in pairs]
    rows += [{**row, "earlier": True} for row in kept]
    rows.sort(key=lambda r: (-float(r["similarity"]), r["exercise"], r["a"], r["b"]))
    write_json(Path(out) / FILE, {"threshold": threshold, "pairs": rows, "unlisted": unlisted or {}})


def load_pairs(out: Path) -> dict | None:
    """{'threshold': t, 'pairs': [...]} or None when no comparison was made (or the file is unreadable)."""
    try:
        data = json.loads((Path(out) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        return None
    data["pairs"] = [p for p in data["pairs"] if isinstance(p, dict) and {"a", "b", "exercise", "similarity"} <= set(p)]
    return data


def review_notes(out: Path) -> dict[str, list[str]]:
    """Student -> 'similar to X in ex (87 %)' lines for the gradebook's review column."""
    notes: dict[str, list[str]] = {}
    stored = load_pairs(out) or {}
    for p in stored.get("pairs", []):
        pct = f"{100 * float(p['similarity']):.0f} %"
        notes.setdefault(p["a"], []).append(f"similar to {p['b']} in {p['exercise']} ({pct})")
        notes.setdefault(p["b"], []).append(f"similar to {p['a']} in {p['exercise']} ({pct})")
    unlisted = stored.get("unlisted")
    for exercise, more in (unlisted.items() if isinstance(unlisted, dict) else ()):
        for student, n in (more.items() if isinstance(more, dict) else ()):
            if type(n) is int and n > 0:
                notes.setdefault(student, []).append(f"and {n} more similar in {exercise} (see similarity.html)")
    return notes
