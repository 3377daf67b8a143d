"""extensions.csv: a new due date-time (with zone) or extra days, per student."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from tensorgrade.spec.errors import SpecError
from tensorgrade.term.csvfile import read_rows
from tensorgrade.term.timefmt import parse_instant


@dataclass(frozen=True)
class Extension:
    student: str
    due: dt.datetime | None  # a new due instant, or
    days: float | None  # days added to the course's due
    line: int

    def new_due(self, due: dt.datetime) -> dt.datetime:
        return self.due if self.due is not None else due + dt.timedelta(days=self.days or 0)


def read_extensions(path: Path, shown: str) -> dict[str, Extension]:
    """Student id -> extension; each row gives exactly one of `due` and `days`."""
    out: dict[str, Extension] = {}
    for row in read_rows(path, shown, required=("student",), one_of=("due", "days"), optional=("comment",)):
        student, due_text, days_text = row.cells["student"], row.cells.get("due", ""), row.cells.get("days", "")
        where = f"{shown}: line {row.line}"
        if not student:
            raise SpecError(f"{where}: student: is empty")
        if bool(due_text) == bool(days_text):
            raise SpecError(f"{where}: give exactly one of due and days for '{student}'")
        due = days = None
        if due_text:
            due = parse_instant(due_text)
            if due is None:
                zone = "" if _naive(due_text) is None else " has no time zone;"
                raise SpecError(f"{where}: due:{zone} must be a date and time with a zone like "
                                f"2026-12-18T23:59:00+00:00, found '{due_text}'")
        else:
            try:
                days = float(days_text)
            except ValueError:
                days = math.nan
            if not math.isfinite(days) or days <= 0:
                raise SpecError(f"{where}: days: must be a positive number, found '{days_text}'")
        if student in out:
            raise SpecError(f"{where}: '{student}' already has an extension on line {out[student].line}")
        out[student] = Extension(student, due, days, row.line)
    return out


def _naive(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None
