"""Reading the instructor's small CSV files (extensions, adjustments, rosters) with errors that name file and line."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tensorgrade.spec.errors import SpecError


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line of the file where the row starts (the header is line 1)
    cells: dict[str, str]


def read_rows(path: Path, shown: str, required: tuple[str, ...], optional: tuple[str, ...] = (),
              one_of: tuple[str, ...] = ()) -> list[Row]:
    """Rows of a CSV with a header; columns outside `required`/`optional`/`one_of` are mistakes."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(f"{shown}: file not found") from None
    except UnicodeDecodeError:
        raise SpecError(f"{shown}: not valid UTF-8 text") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise SpecError(f"{shown}: empty file (needs a header line: {','.join(required + one_of)})") from None
    except csv.Error as exc:
        raise SpecError(f"{shown}: line 1: not CSV: {exc}") from None
    known = (*required, *one_of, *optional)
    for name in header:
        if name not in known:
            raise SpecError(f"{shown}: line 1: unknown column '{name}' (columns: {', '.join(known)})")
    if len(set(header)) != len(header):
        raise SpecError(f"{shown}: line 1: a column is named twice")
    for name in required:
        if name not in header:
            raise SpecError(f"{shown}: line 1: column '{name}' is missing")
    if one_of and not any(n in header for n in one_of):
        raise SpecError(f"{shown}: line 1: needs a column {' or '.join(repr(n) for n in one_of)}")
    rows = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines are allowed
            if len(cells) > len(header):
                raise SpecError(f"{shown}: line {line}: {len(cells)} cells but the header has {len(header)} columns")
            rows.append(Row(line, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}))
    except csv.Error as exc:
        raise SpecError(f"{shown}: line {reader.line_num}: not CSV: {exc}") from None
    return rows


def course_file(root: Path, name: str) -> tuple[Path, str]:
    """A file named in course.yml, relative to the course folder (absolute paths as given)."""
    path = Path(name)
    full = path if path.is_absolute() else Path(root) / path
    return full, name
