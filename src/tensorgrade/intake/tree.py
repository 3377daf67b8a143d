"""A class folder or a class zip as one listing of regular files, read lazily and within bounds.

Layouts (intake/layouts.py) only see paths; this module decides what a path may be:
symbolic links and special files are listed as refused, never followed (a link to a
classmate's folder must not grade that work twice); names that are not UTF-8 become
readable text (`\\xe9`), so every later stage holds plain strings; a zip is never
unpacked to disk and no member is read beyond MAX_FILE_BYTES.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

MAX_FILE_BYTES = 2 * 1024 * 1024  # one source file or notebook
MAX_CLASS_FILES = 200_000
SOURCE_SUFFIXES = (".py", ".ipynb")


class LayoutError(Exception):
    """The class folder as a whole cannot be read; the message is one line saying what was expected."""


@dataclass(frozen=True)
class Ignored:
    """Something in the class folder that was not graded, and why (OUT/intake.csv)."""

    path: str
    reason: str
    student: str = ""


@dataclass(frozen=True)
class File:
    path: str  # posix, relative to the class root
    size: int
    mtime: datetime | None
    read: Callable[[int], bytes]  # read(limit) -> at most `limit` bytes
    disk: Path | None = None  # where it is, for a file on disk (a class zip is opened in place, not read whole)


@dataclass
class Tree:
    """The class's regular files by path, plus what was refused while listing."""

    files: dict[str, File]
    refused: list[Ignored]
    origin: str  # the folder or zip, for messages

    def under(self, prefix: str) -> dict[str, File]:
        """Files below folder `prefix`, keyed by their path relative to it."""
        head = prefix.rstrip("/") + "/"
        return {p[len(head):]: f for p, f in self.files.items() if p.startswith(head)}


def readable_name(name: str) -> str:
    """A file name as valid, one-line text: bytes that are not UTF-8 (os.fsdecode gives surrogates) and
    control characters (a newline in a folder name) are shown as \\xNN, so a student id is one line."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def from_folder(folder: Path, *, skip: tuple[Path, ...] = ()) -> Tree:
    """Every regular file under `folder`, not following links; `skip` folders (e.g. OUT) are listed as ignored."""
    files: dict[str, File] = {}
    refused: list[Ignored] = []
    skip_ids = {_inode(p) for p in skip if p.exists()}
    stack = [(folder, "")]
    while stack:
        here, rel = stack.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as exc:
            refused.append(Ignored(rel or ".", f"cannot list this folder: {exc.strerror}"))
            continue
        for entry in entries:
            path = f"{rel}{readable_name(entry.name)}"
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                refused.append(Ignored(path, f"cannot read: {exc.strerror}"))
                continue
            if stat.S_ISLNK(info.st_mode):
                refused.append(Ignored(path, "a symbolic link: not followed"))
            elif stat.S_ISDIR(info.st_mode):
                if (info.st_dev, info.st_ino) in skip_ids:
                    refused.append(Ignored(path + "/", "the output folder (-o) inside the class folder: skipped"))
                else:
                    stack.append((Path(entry.path), path + "/"))
            elif stat.S_ISREG(info.st_mode):
                files[path] = File(path, info.st_size, datetime.fromtimestamp(info.st_mtime, timezone.utc),
                                   _disk_reader(Path(entry.path)), Path(entry.path))
            else:
                refused.append(Ignored(path, "not a regular file"))
            if len(files) > MAX_CLASS_FILES:
                raise LayoutError(f"{folder}: more than {MAX_CLASS_FILES} files; is this the right folder?")
    return Tree(dict(sorted(files.items())), refused, str(folder))


def from_zip(data_or_path: Path | bytes, name: str, *, max_members: int = MAX_CLASS_FILES) -> Tree:
    """A zip's members as a tree (directories dropped); raises LayoutError when it is not a readable zip."""
    import io

    try:
        zf = zipfile.ZipFile(data_or_path if isinstance(data_or_path, Path) else io.BytesIO(data_or_path))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise LayoutError(f"{name} is not a readable zip file ({exc})") from None
    if len(infos) > max_members:
        raise LayoutError(f"{name} holds more than {max_members} files")
    files, refused = {}, []
    for info in infos:
        path = readable_name(info.filename.replace("\\", "/").lstrip("/"))
        if any(part in ("..", "") for part in path.split("/")):
            refused.append(Ignored(path, "an unsafe path inside the zip"))
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            refused.append(Ignored(path, "a symbolic link: not followed"))
            continue
        try:
            when = datetime(*info.date_time).astimezone(timezone.utc)
        except ValueError:
            when = None
        files[path] = File(path, info.file_size, when, _zip_reader(zf, info, name))
    return Tree(dict(sorted(files.items())), refused, name)


def _inode(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def _disk_reader(path: Path) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        with open(path, "rb") as fh:
            return fh.read(limit)
    return read


def _zip_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        try:
            with zf.open(info) as fh:  # bounded read: the declared size of a member is not trusted
                return fh.read(limit)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            raise OSError(f"{info.filename} in {name} cannot be unpacked ({exc})") from None
    return read
