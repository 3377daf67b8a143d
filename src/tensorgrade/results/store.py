"""The output folder: atomic writes, one folder per student, stored records for resuming.

Every file is written to a temporary name in the same folder and renamed into
place, so a crash or a kill never leaves half a file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from tensorgrade.results.model import StudentResult

RECORD = "record.json"
RESULTS = "results.json"
SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,100}$")


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sweep_partial(out: Path) -> int:
    """Delete temporary files a killed run left behind (`.<name>.<random>.tmp`, never a final name)."""
    count = 0
    for pattern in (".*.tmp", "*/.*.tmp"):
        for path in out.glob(pattern):
            path.unlink(missing_ok=True)
            count += 1
    return count


def write_json(path: Path, data) -> None:
    """Readable UTF-8 JSON; text holding lone surrogates (from an exception message, say) is written escaped."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raw = (json.dumps(data, indent=2, ensure_ascii=True, default=str) + "\n").encode("ascii")
    write_atomic(path, raw)


OUT_FILES = frozenset({"grades.csv", "summary.html", "intake.csv", "similarity.html"})  # OUT's own names


def student_dir(out: Path, student: str) -> Path:
    """A folder name for any student id: the id itself when it is safe, else a slug, "~" and a hash.

    "~" cannot occur in a safe id, so no id maps onto another id's hashed folder, and ids that
    are OUT's own file names are hashed too (a student called grades.csv cannot take its place).
    """
    if SAFE.match(student) and student.lower() not in OUT_FILES:
        return out / student
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._")[:60] or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return out / f"{slug}~{digest}"


def load_record(out: Path, student: str) -> StudentResult | None:
    """The stored record of a student, or None when there is none or it is unreadable."""
    path = student_dir(out, student) / RECORD
    try:
        return StudentResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_record(out: Path, result: StudentResult) -> None:
    write_json(student_dir(out, result.student) / RECORD, result.to_dict())


def load_records(out: Path) -> tuple[list[StudentResult], list[str]]:
    """Every stored record in OUT (sorted by folder), and one line per record that could not be read."""
    results, problems = [], []
    for path in sorted(Path(out).glob(f"*/{RECORD}")):
        try:
            results.append(StudentResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path}: unreadable record ({type(exc).__name__}: {exc})")
    return results, problems
