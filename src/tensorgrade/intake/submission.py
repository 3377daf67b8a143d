"""One student's files as a Submission: plain source text per module, nothing executed.

A student hands in (intake/layouts.py finds these in a class folder):
- the exercise files `<exercise id>.py` (possibly one level down in a folder);
- one `.py` holding all functions, or a folder holding just one such file;
- one `.ipynb` (code cells only; IPython magics and `!` lines are skipped);
- a `.zip` of any of these.
Anything wrong with one submission becomes its status, never an exception.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tensorgrade.intake.tree import MAX_FILE_BYTES

SINGLE_MODULE = "submission"
IGNORED = re.compile(r"(^|/)(__MACOSX|\.ipynb_checkpoints|__pycache__|\.[^/]*)(/|$)")
SAFE_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")


@dataclass
class Submission:
    student: str
    source: str  # where it came from, relative to the class folder
    files: dict[str, str] = field(default_factory=dict)  # file name in the sandbox -> source text
    modules: dict[str, str] = field(default_factory=dict)  # exercise id -> module to import
    status: str = "ok"  # ok | unreadable | empty | duplicate
    detail: str = ""
    notes: list[str] = field(default_factory=list)  # per-exercise problems, ignored files
    unreadable: dict[str, str] = field(default_factory=dict)  # exercise id -> why its file could not be read
    notebooks: set[str] = field(default_factory=set)  # file names whose source is a notebook's cells
    ignored: list[str] = field(default_factory=list)  # paths in the submission that were not read
    # What the LMS export or the roster says (carried into the record and the gradebook).
    name: str = ""
    email: str = ""
    submitted_at: str = ""  # ISO 8601 with time zone, or "" when unknown
    intake_notes: list[str] = field(default_factory=list)

    def digest(self) -> str:
        """Changes with what is graded (files, status), not with who or when (those do not change verdicts)."""
        h = hashlib.sha256(_utf8(f"{self.status}\0{self.detail}"))
        for name in sorted(self.files):
            h.update(_utf8(name) + b"\0" + _utf8(self.files[name]) + b"\0")
        return h.hexdigest()[:16]


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # any str hashes; intake keeps surrogates out of sources anyway


class Unreadable(Exception):
    """A file that cannot be turned into Python source; the message says why."""


def decode_source(data: bytes, name: str) -> str:
    """Python source bytes to text, honouring a PEP 263 coding line; UTF-8 otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"{name} is larger than {MAX_FILE_BYTES // 1024**2} MiB")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding).lstrip("\ufeff")
    except (SyntaxError, LookupError, UnicodeDecodeError):
        raise Unreadable(f"{name} is not UTF-8 text (save it as UTF-8)") from None
    return _valid_text(text, name)


def _valid_text(text: str, name: str) -> str:
    """Refuse text holding lone surrogates (a `raw_unicode_escape` coding line or a JSON `\\udc80` makes them):
    no later stage (compiler, JSON, digest, reports) could write it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Unreadable(f"{name} holds characters that are not valid Unicode (position {exc.start}); "
                         "save it as plain UTF-8") from None
    return text


def _ipython_line(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("%", "!")) or bool(re.match(r"^[\w, ]+=\s*[!%]", stripped))


CELL_MARK = "# [tensorgrade] cell {number}\n"  # run/policy/loader.py splits a notebook's source here


def notebook_to_source(data: bytes, name: str) -> str:
    """The code cells of a notebook as one text, each cell after a CELL_MARK line.

    The sandbox compiles and runs each cell on its own, as in Jupyter: an error in
    one cell is reported and the next cells still run (a scratch cell calling an
    unfinished function must not cost the whole notebook). IPython-only lines are
    commented out.
    """
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"{name} is not a valid notebook (not JSON: {exc})") from None
    except RecursionError:
        raise Unreadable(f"{name} is not a valid notebook (its JSON nests too deeply)") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise Unreadable(f"{name} is not a valid notebook (no list of cells)")
    parts = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = src.splitlines()
        if lines and lines[0].lstrip().startswith("%%"):
            if not lines[0].lstrip().startswith(SAFE_CELL_MAGICS):
                parts.append(f"# [tensorgrade] cell {i + 1} skipped: cell magic {lines[0].strip()[:40]}\n")
                continue
            lines = lines[1:]
        kept = [f"# [tensorgrade] skipped IPython line: {ln.strip()[:60]}" if _ipython_line(ln) else ln for ln in lines]
        parts.append(CELL_MARK.format(number=i + 1) + "\n".join(kept) + "\n")
    return _valid_text("".join(parts), name)


def _to_source(name: str, data: bytes) -> str:
    return notebook_to_source(data, name) if name.endswith(".ipynb") else decode_source(data, name)


def from_files(student: str, origin: str, files: dict[str, bytes], exercises: list[str]) -> Submission:
    """Build a submission from a {relative path: bytes} listing (a folder or a zip's members)."""
    sub = Submission(student=student, source=origin)
    dropped = sorted(p for p in files if IGNORED.search(p))
    files = {p: d for p, d in files.items() if not IGNORED.search(p)}
    by_name: dict[str, list[str]] = {}
    for path in files:
        by_name.setdefault(PurePosixPath(path).name, []).append(path)
    wanted = {f"{ex}.py": ex for ex in exercises}
    found = {name: sorted(paths, key=lambda p: (p.count("/"), p))[0] for name, paths in by_name.items() if name in wanted}
    if found:
        for name, path in sorted(found.items()):
            ex = wanted[name]
            try:
                sub.files[name] = decode_source(files[path], path)
                sub.modules[ex] = ex
            except Unreadable as exc:
                sub.unreadable[ex] = str(exc)
        extra = sorted(set(files) - set(found.values()))
        sub.ignored = extra + dropped
        if extra:
            sub.notes.append("ignored files: " + ", ".join(extra[:10]) + (" ..." if len(extra) > 10 else ""))
        return sub
    candidates = sorted(p for p in files if p.endswith((".py", ".ipynb")))
    if not candidates:
        sub.status, sub.detail = "empty", "no .py or .ipynb file found"
        sub.ignored = sorted(files) + dropped
        return sub
    if len(candidates) > 1:
        sub.status = "unreadable"
        sub.detail = ("several files and none named after an exercise: " + ", ".join(candidates[:6])
                      + f" (name them {exercises[0]}.py, ... or hand in one file)")
        return sub
    sub.ignored = sorted(set(files) - {candidates[0]}) + dropped
    try:
        sub.files[f"{SINGLE_MODULE}.py"] = _to_source(candidates[0], files[candidates[0]])
        if candidates[0].endswith(".ipynb"):
            sub.notebooks.add(f"{SINGLE_MODULE}.py")
    except Unreadable as exc:
        sub.status, sub.detail = "unreadable", str(exc)
        return sub
    sub.modules = {ex: SINGLE_MODULE for ex in exercises}
    return sub
