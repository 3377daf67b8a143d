"""Read a class folder into submissions: plain source text per student, nothing executed.

Accepted layouts, in any mix (the student id is the folder or file name
without extension):
- a folder holding the exercise files `<exercise id>.py` (possibly one level down);
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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SINGLE_MODULE = "submission"
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_ZIP_BYTES = 20 * 1024 * 1024
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

    def digest(self) -> str:
        h = hashlib.sha256(f"{self.status}\0{self.detail}".encode())
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return h.hexdigest()[:16]


class Unreadable(Exception):
    """A file that cannot be turned into Python source; the message says why."""


def decode_source(data: bytes, name: str) -> str:
    """Python source bytes to text, honouring a PEP 263 coding line; UTF-8 otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"{name} is larger than {MAX_FILE_BYTES // 1024**2} MiB")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).lstrip("\ufeff")
    except (SyntaxError, LookupError, UnicodeDecodeError):
        raise Unreadable(f"{name} is not UTF-8 text (save it as UTF-8)") from None


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
    return "".join(parts)


def _to_source(name: str, data: bytes) -> str:
    return notebook_to_source(data, name) if name.endswith(".ipynb") else decode_source(data, name)


def from_files(student: str, origin: str, files: dict[str, bytes], exercises: list[str]) -> Submission:
    """Build a submission from a {relative path: bytes} listing (a folder or a zip's members)."""
    sub = Submission(student=student, source=origin)
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
        if extra:
            sub.notes.append("ignored files: " + ", ".join(extra[:10]) + (" ..." if len(extra) > 10 else ""))
        return sub
    candidates = sorted(p for p in files if p.endswith((".py", ".ipynb")))
    if not candidates:
        sub.status, sub.detail = "empty", "no .py or .ipynb file found"
        return sub
    if len(candidates) > 1:
        sub.status = "unreadable"
        sub.detail = ("several files and none named after an exercise: " + ", ".join(candidates[:6])
                      + f" (name them {exercises[0]}.py, ... or hand in one file)")
        return sub
    try:
        sub.files[f"{SINGLE_MODULE}.py"] = _to_source(candidates[0], files[candidates[0]])
        if candidates[0].endswith(".ipynb"):
            sub.notebooks.add(f"{SINGLE_MODULE}.py")
    except Unreadable as exc:
        sub.status, sub.detail = "unreadable", str(exc)
        return sub
    sub.modules = {ex: SINGLE_MODULE for ex in exercises}
    return sub


def _read_folder(folder: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.suffix in (".py", ".ipynb"):
            rel = path.relative_to(folder).as_posix()
            out[rel] = path.read_bytes()[: MAX_FILE_BYTES + 1]
        elif path.is_file():
            out[path.relative_to(folder).as_posix()] = b""  # listed so it can be reported as ignored
    return out


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_ZIP_MEMBERS:
                raise Unreadable(f"{path.name} holds more than {MAX_ZIP_MEMBERS} files")
            if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
                raise Unreadable(f"{path.name} unpacks to more than {MAX_ZIP_BYTES // 1024**2} MiB")
            return {i.filename: zf.read(i) if i.filename.endswith((".py", ".ipynb")) else b"" for i in infos}
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise Unreadable(f"{path.name} is not a readable zip file ({exc})") from None


def read_submission(path: Path, exercises: list[str]) -> Submission:
    """One entry of the class folder (a folder, .py, .ipynb or .zip) as a Submission."""
    student = path.name if path.is_dir() else path.stem
    try:
        if path.is_dir():
            files = _read_folder(path)
        elif path.suffix == ".zip":
            files = _read_zip(path)
        else:
            files = {path.name: path.read_bytes()[: MAX_FILE_BYTES + 1]}
    except Unreadable as exc:
        return Submission(student=student, source=path.name, status="unreadable", detail=str(exc))
    except OSError as exc:
        return Submission(student=student, source=path.name, status="unreadable", detail=f"cannot read: {exc}")
    return from_files(student, path.name, files, exercises)


def discover(folder: Path, exercises: list[str]) -> list[Submission]:
    """Every submission in a class folder, sorted by student id; clashing ids become 'duplicate'."""
    entries = [
        p for p in sorted(Path(folder).iterdir())
        if not p.name.startswith(".") and (p.is_dir() or p.suffix in (".py", ".ipynb", ".zip"))
    ]
    subs = [read_submission(p, exercises) for p in entries]
    by_student: dict[str, list[Submission]] = {}
    for sub in subs:
        by_student.setdefault(sub.student, []).append(sub)
    out = []
    for student, group in sorted(by_student.items()):
        if len(group) == 1:
            out.append(group[0])
        else:
            names = " and ".join(s.source for s in group)
            out.append(Submission(student=student, source=names, status="duplicate",
                                  detail=f"{names} all map to student '{student}'; keep one and grade again"))
    return out


def unexpected_entries(folder: Path) -> list[str]:
    """Files in the class folder that are not submissions (reported, not graded)."""
    return sorted(
        p.name for p in Path(folder).iterdir()
        if not p.name.startswith(".") and p.is_file() and p.suffix not in (".py", ".ipynb", ".zip")
    )
