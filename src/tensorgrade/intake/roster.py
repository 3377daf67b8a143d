"""`submissions.csv` in a class folder: submission times (and names) the layout itself does not give.

Columns `student,submitted_at[,name,email]`; `submitted_at` is ISO 8601 with a time zone
(`2026-12-15T23:10:00+01:00`). It is the instructor's file, so a bad row is a LayoutError
naming the line, not a student's status. A roster row wins over the export's own time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from tensorgrade.intake.submission import Submission
from tensorgrade.intake.tree import Ignored, LayoutError, Tree

ROSTER = "submissions.csv"


@dataclass(frozen=True)
class Row:
    student: str
    submitted_at: str  # ISO 8601 with zone, or ""
    name: str
    email: str


def read(tree: Tree) -> dict[str, Row]:
    f = tree.files.get(ROSTER)
    if f is None:
        return {}
    try:
        text = f.read(16 * 1024 * 1024).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{ROSTER}: not readable UTF-8 text ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "student" not in reader.fieldnames:
        raise LayoutError(f"{ROSTER}: expected a header row with columns student,submitted_at[,name,email]")
    rows: dict[str, Row] = {}
    for line, raw in enumerate(reader, start=2):
        student = (raw.get("student") or "").strip()
        if not student:
            raise LayoutError(f"{ROSTER}:{line}: empty student")
        if student in rows:
            raise LayoutError(f"{ROSTER}:{line}: student {student} is listed twice")
        rows[student] = Row(student, _time(raw.get("submitted_at") or "", line),
                            (raw.get("name") or "").strip(), (raw.get("email") or "").strip())
    return rows


def _time(text: str, line: int) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise LayoutError(f"{ROSTER}:{line}: submitted_at {text!r} is not an ISO 8601 date-time "
                          "(e.g. 2026-12-15T23:10:00+01:00)") from None
    if when.tzinfo is None:
        raise LayoutError(f"{ROSTER}:{line}: submitted_at {text!r} has no time zone (add +00:00, +01:00, ...)")
    return when.isoformat(timespec="seconds")


def apply(rows: dict[str, Row], subs: list[Submission], ignored: list[Ignored]) -> list[Submission]:
    """Fill times and names from the roster; roster rows naming nobody who handed in are listed."""
    by_student = {s.student: s for s in subs}
    for student, row in rows.items():
        sub = by_student.get(student)
        if sub is None:
            ignored.append(Ignored(f"{ROSTER}: {student}", "listed in the roster, but no submission found", student))
            continue
        sub.submitted_at = row.submitted_at or sub.submitted_at
        sub.name = row.name or sub.name
        sub.email = row.email or sub.email
    return subs
