"""Small class folders in the layouts LMSs really export (built from their documented formats).

Gradescope "Export Submissions": assignment_<id>_export/submission_metadata.yml (Ruby-symbol keys)
plus submission_<id>/ folders. Canvas "Download Submissions": flat files named
<lastnamefirstname>_[LATE_]<user id>_<file id>_<original name>, re-uploads as name-1.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

GRADESCOPE_METADATA = """\
submission_5001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@example.edu
  :created_at: 2026-12-13 09:30:00.000000000 +00:00
  :score: 0.0
submission_5002:
  :submitters:
  - :name: Grace Hopper
    :sid: '1003'
    :email: grace@example.edu
  - :name: Edsger Dijkstra
    :sid: '1004'
    :email: edsger@example.edu
  :created_at: 2026-12-14 18:05:12.123456789 +01:00
  :score: 0.0
submission_5003:
  :submitters:
  - :name: Alan Turing
    :sid: '1002'
    :email: alan@example.edu
  :created_at: 2026-12-15 23:00:00.000000000 +00:00
  :score: 0.0
"""


def gradescope_export(root: Path, files: dict[str, dict[str, str]]) -> Path:
    """An unpacked export at root/assignment_77_export; `files`: submission key -> {path: text}.

    submission_5003 (Alan) is listed in the metadata but left without a folder unless given;
    a stray submission_9999/ folder is not listed in the metadata.
    """
    export = root / "assignment_77_export"
    export.mkdir(parents=True)
    (export / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    for key, members in files.items():
        for rel, text in members.items():
            path = export / key / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return export


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder.parent).as_posix())
    return target


def canvas_download(root: Path, files: dict[str, str]) -> Path:
    """A Canvas download folder; `files`: Canvas file name -> text."""
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root
