"""OUT/intake.csv: everything in the class folder that was not graded, and why (nothing is dropped silently)."""

from __future__ import annotations

import csv
import io

from tensorgrade.intake.tree import Ignored
from tensorgrade.results.text import csv_cell

INTAKE = "intake.csv"


def render_intake_csv(ignored: list[Ignored]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "student", "reason"])
    for item in sorted(ignored, key=lambda i: (i.path, i.student)):
        writer.writerow([csv_cell(item.path), csv_cell(item.student), csv_cell(item.reason)])
    return buf.getvalue()
