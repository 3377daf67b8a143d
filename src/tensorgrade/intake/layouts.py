"""A class folder as the LMS gave it, into one Submission per real student, and a list of all that was not read.

Three layouts, recognised in this order (`discover` says which one it read):

- **gradescope**: "Export Submissions" (zip or unpacked): `submission_metadata.yml` and one
  `submission_<id>/` folder per submission. One row per submitter (`:sid:`), group members
  sharing the files; `:name:`, `:email:` and `:created_at:` are carried into the record.
- **canvas**: "Download Submissions" (zip or folder of files): `<name>_[LATE_]<user id>_<file id>_<file>`.
  Files grouped per Canvas user id, original names restored, re-uploads (`hw-1.py`) replace the
  older file, `LATE` noted.
- **folders**: one entry per student, named by the student id: a folder, a `.py`, an `.ipynb` or a `.zip`.

A class folder may also hold `submissions.csv` (`student,submitted_at[,name,email]`) giving
submission times where the layout has none. Whatever is not graded (stray files, links, extra
folders, older uploads) becomes an `Ignored` row; nothing is dropped silently. A failure while
reading one student becomes that student's status; only a class folder that cannot be read at
all is a `LayoutError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from tensorgrade.intake import roster
from tensorgrade.intake.submission import Submission, Unreadable, from_files
from tensorgrade.intake.tree import (MAX_FILE_BYTES, SOURCE_SUFFIXES, File, Ignored, LayoutError, Tree,
                                     from_folder, from_zip)

MAX_ZIP_MEMBERS = 500  # one student's zip
MAX_ZIP_BYTES = 20 * 1024 * 1024
METADATA = "submission_metadata.yml"
CANVAS_NAME = re.compile(r"^(?P<name>[^_/]+)_(?:(?P<late>LATE)_)?(?P<user>\d+)_(?P<file_id>\d+)_(?P<file>[^/]+)$")
REUPLOAD = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<suffix>\.[^.]+)$")
LAYOUT_HELP = ("expected a folder per student (or one .py/.ipynb/.zip per student), a Gradescope export "
               f"({METADATA} and submission_<id>/ folders) or a Canvas download (name_userid_fileid_file)")


@dataclass
class Intake:
    """What a class folder held: who handed in what, and what was not graded."""

    layout: str  # "folders" | "gradescope" | "canvas"
    submissions: list[Submission]
    ignored: list[Ignored] = field(default_factory=list)


def discover(path: Path, exercises: list[str], *, skip: tuple[Path, ...] = (), time_from: str = "lms") -> Intake:
    """Every submission in a class folder or class zip, one per student id, sorted by id.

    `skip`: folders never read (the output folder); `time_from`: "lms" (the export's times and
    submissions.csv) or "mtime" (file times too, when the instructor says they are meaningful).
    """
    path = Path(path)
    tree = from_zip(path, path.name) if path.is_file() else from_folder(path, skip=skip)
    tree = _inner_export(tree)
    roster_rows = roster.read(tree)
    layout, prefix = _recognise(tree)
    reader = {"gradescope": _gradescope, "canvas": _canvas, "folders": _folders}[layout]
    subs, ignored = reader(tree, prefix, exercises, time_from == "mtime")
    subs = _one_per_student(subs, ignored)
    subs = roster.apply(roster_rows, subs, ignored)
    for sub in subs:
        ignored += [Ignored(f"{sub.source.rstrip('/')}/{p}" if sub.source.endswith("/") else f"{sub.source}:{p}",
                            "not an exercise file", sub.student) for p in sub.ignored]
    return Intake(layout, sorted(subs, key=lambda s: s.student), tree.refused + ignored)


def read_submission(path: Path, exercises: list[str]) -> Submission:
    """One student's work (a folder, .py, .ipynb or .zip), as `tensorgrade check` reads it."""
    path = Path(path)
    student = path.name if path.is_dir() else path.stem
    try:
        if path.is_dir():
            tree = from_folder(path)
            return _build(student, path.name + "/", tree.files, exercises)
        if path.suffix == ".zip":
            return _zip_submission(student, path.name, path, exercises)
        return from_files(student, path.name, {path.name: _file(path)}, exercises)
    except (Unreadable, LayoutError, OSError) as exc:
        return Submission(student=student, source=path.name, status="unreadable", detail=str(exc))


# -- recognising a layout ---------------------------------------------------------

def _inner_export(tree: Tree) -> Tree:
    """A class folder holding only an LMS export zip (as downloaded) is read as that zip."""
    tops = {p for p in tree.files if "/" not in p and not _noise(p)} - {roster.ROSTER}
    only = next(iter(tops)) if len(tops) == 1 else ""
    if only.endswith(".zip") and tree.files[only].disk and not any("/" in p for p in tree.files):
        try:
            inner = from_zip(tree.files[only].disk, only)
        except LayoutError:  # one student's broken zip: read as a folder layout, reported per student
            return tree
        inner.refused[:0] = tree.refused
        if _recognise(inner)[0] != "folders":
            return inner
    return tree


def _recognise(tree: Tree) -> tuple[str, str]:
    """(layout, prefix of the export's root inside the tree)."""
    for path in tree.files:
        parts = path.split("/")
        if parts[-1] == METADATA and len(parts) <= 2:
            return "gradescope", "/".join(parts[:-1])
    tops = [p for p in tree.files if "/" not in p and not _noise(p) and p != roster.ROSTER]
    if tops and sum(bool(CANVAS_NAME.match(p)) for p in tops) * 2 >= len(tops):
        return "canvas", ""
    return "folders", ""


def _is_output_folder(files: dict[str, File]) -> bool:
    return "grades.csv" in files and any(p.endswith("/record.json") for p in files)


def _noise(path: str) -> bool:
    return PurePosixPath(path).name.startswith(".")


# -- the three layouts ----------------------------------------------------------------

def _folders(tree: Tree, prefix: str, exercises: list[str], mtime: bool):
    subs: list[Submission] = []
    ignored: list[Ignored] = []
    entries: dict[str, dict[str, File]] = {}
    for path, f in tree.files.items():
        top, _, rest = path.partition("/")
        if rest:
            entries.setdefault(top + "/", {})[rest] = f
        elif path != roster.ROSTER:
            entries[top] = {top: f}
    for entry, files in sorted(entries.items()):
        name = entry.rstrip("/")
        if name.startswith("."):
            ignored.append(Ignored(entry, "a hidden file or folder"))
        elif entry.endswith("/") and _is_output_folder(files):
            ignored.append(Ignored(entry, "an output folder of an earlier tensorgrade run (grades.csv, record.json)"))
        elif entry.endswith("/"):
            subs.append(_guarded(name, entry, lambda: _build(name, entry, files, exercises)))
        elif name.endswith(".zip"):
            subs.append(_guarded(name[:-4], entry, lambda: _zip_submission(name[:-4], entry, files[name], exercises)))
        elif name.endswith(SOURCE_SUFFIXES):
            stem = PurePosixPath(name).stem
            subs.append(_guarded(stem, entry, lambda: _build(stem, entry, files, exercises)))
        else:
            ignored.append(Ignored(entry, "not a submission (expected a folder, .py, .ipynb or .zip per student)"))
            continue
        newest = max((f.mtime for f in files.values() if f.mtime), default=None) if mtime else None
        if newest is not None:
            subs[-1].submitted_at = newest.isoformat(timespec="seconds")
    return subs, ignored


def _gradescope(tree: Tree, prefix: str, exercises: list[str], mtime: bool):
    import yaml

    head = f"{prefix}/" if prefix else ""
    meta_path = f"{head}{METADATA}"
    try:
        meta = yaml.safe_load(tree.files[meta_path].read(64 * 1024 * 1024))
    except (yaml.YAMLError, RecursionError, OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{meta_path}: not readable YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values()):
        raise LayoutError(f"{meta_path}: expected submission_<id>: {{:submitters: [...], :created_at: ...}} entries")
    subs, ignored = [], []
    for key, entry in sorted(meta.items(), key=lambda kv: str(kv[0])):
        key = str(key)
        folder = f"{head}{key}/"
        files = tree.under(folder)
        created = _iso(entry.get(":created_at"))  # YAML reads `:created_at: x` as key ":created_at"
        submitters = [s for s in entry.get(":submitters") or [] if isinstance(s, dict)]
        if not submitters:
            ignored.append(Ignored(folder, f"{METADATA} names no submitter for {key}"))
            continue
        for person in submitters:
            student = str(person.get(":sid") or "").strip() or str(person.get(":email") or "").strip() or key
            if files:
                sub = _guarded(student, folder, lambda: _build(student, folder, files, exercises))
            else:
                sub = Submission(student=student, source=folder, status="empty",
                                 detail=f"Gradescope lists {key} but the export holds no folder {folder}")
            sub.name, sub.email = str(person.get(":name") or ""), str(person.get(":email") or "")
            sub.submitted_at = created
            if len(submitters) > 1:
                others = [str(p.get(":name") or p.get(":sid")) for p in submitters if p is not person]
                sub.intake_notes.append(f"group submission {key} with {', '.join(others)}")
            subs.append(sub)
    listed = set(map(str, meta))
    for path in tree.files:
        rest = path[len(head):] if path.startswith(head) else None
        if path == roster.ROSTER or rest == METADATA:
            continue
        if rest is None or rest.split("/")[0] not in listed:
            ignored.append(Ignored(path, f"not part of a submission listed in {METADATA}"))
    return subs, ignored


def _canvas(tree: Tree, prefix: str, exercises: list[str], mtime: bool):
    by_user: dict[str, dict[str, tuple[int, str, File]]] = {}
    names: dict[str, str] = {}
    late: set[str] = set()
    ignored: list[Ignored] = []
    for path, f in tree.files.items():
        match = CANVAS_NAME.match(path)
        if path == roster.ROSTER:
            continue
        if not match:
            ignored.append(Ignored(path, "not named like a Canvas download (name_userid_fileid_file)"))
            continue
        user, original = match["user"], match["file"]
        names[user] = match["name"]
        if match["late"]:
            late.add(user)
        version, original = _reupload(original, exercises)
        kept = by_user.setdefault(user, {})
        if original in kept:
            old_version, old_path, _ = kept[original]
            if old_version >= version:
                ignored.append(Ignored(path, f"an older upload of {original} (kept {old_path})", user))
                continue
            ignored.append(Ignored(old_path, f"an older upload of {original} (kept {path})", user))
        kept[original] = (version, path, f)
    subs = []
    for user, kept in sorted(by_user.items()):
        files = {original: f for original, (_, _, f) in kept.items()}
        origin = ", ".join(sorted(path for _, path, _ in kept.values()))
        sub = _guarded(user, origin, lambda: _build(user, origin, files, exercises))
        sub.name = names[user]
        if user in late:
            sub.intake_notes.append("Canvas marked this submission LATE")
        subs.append(sub)
    return subs, ignored


def _reupload(original: str, exercises: list[str]) -> tuple[int, str]:
    """Canvas names a re-uploaded file `hw-1.py`, `hw-2.py`: (version, original name)."""
    match = REUPLOAD.match(original)
    if match and (f"{match['stem']}{match['suffix']}" in {f"{e}.py" for e in exercises} or match["suffix"] in
                  SOURCE_SUFFIXES):
        return int(match["n"]), f"{match['stem']}{match['suffix']}"
    return 0, original


# -- building one student's Submission ------------------------------------------------

def _build(student: str, origin: str, files: dict[str, File], exercises: list[str]) -> Submission:
    data = {path: _file(f) if path.endswith(SOURCE_SUFFIXES) else b"" for path, f in files.items()}
    return from_files(student, origin, data, exercises)


def _zip_submission(student: str, origin: str, source: File | Path, exercises: list[str]) -> Submission:
    data = source if isinstance(source, Path) else _bounded(source.read(MAX_ZIP_BYTES + 1), origin)
    tree = from_zip(data, PurePosixPath(origin).name, max_members=MAX_ZIP_MEMBERS)
    if sum(f.size for f in tree.files.values()) > MAX_ZIP_BYTES:
        raise Unreadable(f"{origin} unpacks to more than {MAX_ZIP_BYTES // 1024**2} MiB")
    sub = _build(student, origin, tree.files, exercises)
    sub.ignored += [f"{r.path} ({r.reason})" for r in tree.refused]
    return sub


def _bounded(data: bytes, origin: str) -> bytes:
    if len(data) > MAX_ZIP_BYTES:
        raise Unreadable(f"{origin} is larger than {MAX_ZIP_BYTES // 1024**2} MiB")
    return data


def _file(f: File | Path) -> bytes:
    if isinstance(f, Path):
        with open(f, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    return f.read(MAX_FILE_BYTES + 1)


def _guarded(student: str, origin: str, build) -> Submission:
    """Reading one student never stops the class: whatever goes wrong becomes this student's status."""
    try:
        return build()
    except (Unreadable, LayoutError) as exc:
        return Submission(student=student, source=origin, status="unreadable", detail=str(exc))
    except OSError as exc:
        return Submission(student=student, source=origin, status="unreadable", detail=f"cannot read: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug of the intake on this input; the class goes on
        return Submission(student=student, source=origin, status="unreadable",
                          detail=f"tensorgrade could not read this submission ({type(exc).__name__}: {exc})")


def _one_per_student(subs: list[Submission], ignored: list[Ignored]) -> list[Submission]:
    """Two entries of one student id: the newer by submission time when both have one, else 'duplicate'."""
    by_student: dict[str, list[Submission]] = {}
    for sub in subs:
        by_student.setdefault(sub.student, []).append(sub)
    out = []
    for student, group in sorted(by_student.items()):
        if len(group) == 1:
            out.append(group[0])
        elif all(s.submitted_at for s in group):
            group.sort(key=lambda s: s.submitted_at)
            out.append(group[-1])
            ignored += [Ignored(s.source, f"an older submission of {student} (kept {group[-1].source})", student)
                        for s in group[:-1]]
        else:
            names = " and ".join(s.source for s in group)
            out.append(Submission(student=student, source=names, status="duplicate",
                                  detail=f"{names} all map to student '{student}'; keep one and grade again"))
    return out


def _iso(value) -> str:
    """A time from LMS metadata as ISO 8601 with zone ("" when absent or without a zone)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat(timespec="seconds")
    return ""
