"""Canvas gradebook import: the roster Canvas exported, with one assignment column of final scores.

Canvas matches rows by `ID`, `SIS User ID` or `SIS Login ID`; the second row of the file is
`Points Possible`. A tensorgrade student id (or the email the intake read) is matched against those
three columns; whoever cannot be matched is listed, both ways. Canvas leaves a blank cell unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from tensorgrade.spec.errors import SpecError

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MATCH_BY = ("SIS User ID", "SIS Login ID", "ID")
POINTS_ROW = "Points Possible"


class RosterError(SpecError):
    """The roster file is not a Canvas gradebook export; the message names the file and line."""


@dataclass
class Roster:
    columns: list[str]
    rows: list[dict[str, str]]  # students only (no Points Possible row)


@dataclass
class Score:
    student: str
    email: str
    points: float


@dataclass
class Export:
    column: str
    rows: list[list[str]]
    matched: dict[str, str] = field(default_factory=dict)  # tensorgrade id -> Canvas Student name
    unmatched_scores: list[str] = field(default_factory=list)  # tensorgrade ids with no roster row
    unmatched_roster: list[str] = field(default_factory=list)  # roster students without a score

    def text(self) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(self.rows)
        return buf.getvalue()


def read_roster(path: Path, shown: str | None = None) -> Roster:
    shown = shown or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{shown}: file not found") from None
    except UnicodeDecodeError:
        raise RosterError(f"{shown}: not UTF-8 text") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise RosterError(f"{shown}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in IDENTITY if c not in header]
    if missing:
        raise RosterError(f"{shown}: line 1: not a Canvas gradebook export: no column {', '.join(missing)}")
    students = []
    for line, cells in enumerate(rows[1:], start=2):
        record = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        if record["Student"] == POINTS_ROW or not any(record.values()):
            continue
        if not any(record[k] for k in MATCH_BY):
            raise RosterError(f"{shown}: line {line}: '{record['Student']}' has no ID, SIS User ID or SIS Login ID")
        students.append(record)
    return Roster(header, students)


def default_column(roster: Roster, title: str, assignment_id: str) -> str:
    """The roster's own column for this assignment ('Homework 3 (123)'), else the course's title."""
    for col in roster.columns[len(IDENTITY):]:
        name = col.rsplit(" (", 1)[0].strip()
        if name.casefold() in (title.casefold(), assignment_id.casefold()):
            return col
    return title


def _keys(value: str) -> set[str]:
    return {value.strip().casefold()} if value.strip() else set()


def build_export(roster: Roster, scores: list[Score], column: str, possible: float) -> Export:
    index: dict[str, int] = {}
    for i, row in enumerate(roster.rows):
        for key in MATCH_BY:
            for k in _keys(row[key]):
                index.setdefault(k, i)
    export = Export(column=column, rows=[[*IDENTITY, column], [POINTS_ROW, "", "", "", "", f"{possible:g}"]])
    given: dict[int, Score] = {}
    for s in sorted(scores, key=lambda s: s.student):
        hit = next((index[k] for k in [*_keys(s.student), *_keys(s.email)] if k in index), None)
        if hit is None or hit in given:
            export.unmatched_scores.append(s.student)
            continue
        given[hit] = s
        export.matched[s.student] = roster.rows[hit]["Student"]
    for i, row in enumerate(roster.rows):
        s = given.get(i)
        if s is None:
            export.unmatched_roster.append(row["Student"] or row["ID"])
        export.rows.append([row[c] for c in IDENTITY] + ["" if s is None else f"{round(s.points, 2):g}"])
    return export
