"""Reading submissions: notebooks run cell by cell like Jupyter, nothing is executed while reading."""

from __future__ import annotations

import io
import json
import traceback
import zipfile

import pytest

from tensorgrade.run.policy.guards import Policy, PrintSink
from tensorgrade.run.policy.loader import StudentCode
from tensorgrade.intake.submission import Unreadable, decode_source, from_files, notebook_to_source

EXERCISES = ["ex1_requires_grad", "ex2_zero_grad"]


def notebook(*cells: str, markdown: str = "# Homework") -> bytes:
    cells_json = [{"cell_type": "markdown", "source": markdown, "metadata": {}}]
    cells_json += [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
                   for c in cells]
    return json.dumps({"cells": cells_json, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def run(source: str) -> tuple[dict, str]:
    """Load converted notebook source the way the sandboxed child does (the policy's loader), in-process."""
    out: list[str] = []
    code = StudentCode(Policy(), {"submission.py": source}, {"submission.py"}, PrintSink(out.append))
    return code.load("submission"), "".join(out)


def test_a_failing_cell_does_not_cost_the_cells_after_it():
    src = notebook("def make_leaf(values):\n    raise NotImplementedError",
                   "make_leaf([1.0])  # scratch cell calling an unfinished function",
                   "def gradient(f, x):\n    return 42")
    ns, printed = run(notebook_to_source(src, "nb.ipynb"))
    assert ns["gradient"](None, None) == 42
    assert "cell 3 raised NotImplementedError" in printed  # cells are numbered by position, markdown included


def test_a_syntax_error_in_one_cell_is_reported_and_the_rest_runs():
    ns, printed = run(notebook_to_source(notebook("def broken(:\n    pass", "x = 3"), "nb.ipynb"))
    assert ns["x"] == 3
    assert "cell 2 raised SyntaxError" in printed


def test_ipython_lines_and_shell_cells_are_skipped_not_run():
    src = notebook("%matplotlib inline\n!pip install torch\nfiles = !ls\ny = 1",
                   "%%bash\nrm -rf /", "%%time\nz = 2")
    text = notebook_to_source(src, "nb.ipynb")
    assert "rm -rf" not in text
    ns, printed = run(text)
    assert ns["y"] == 1 and ns["z"] == 2
    assert printed == ""


def test_errors_inside_cells_name_the_cell_and_line():
    ns, _ = run(notebook_to_source(notebook("x = 1", "def f():\n    return 1 / 0"), "nb.ipynb"))
    with pytest.raises(ZeroDivisionError) as info:
        ns["f"]()
    last = traceback.extract_tb(info.tb)[-1]
    assert (last.filename, last.lineno) == ("<cell 3>", 2)


@pytest.mark.parametrize("data, why", [(b"{not json", "not JSON"), (b'{"cells": 3}', "no list of cells")])
def test_broken_notebooks_are_unreadable_with_a_reason(data, why):
    with pytest.raises(Unreadable, match=why):
        notebook_to_source(data, "nb.ipynb")


def test_source_honours_a_coding_line_and_rejects_bad_bytes():
    assert decode_source("# -*- coding: latin-1 -*-\nname = 'Jos\xe9'\n".encode("latin-1"), "a.py").endswith("'José'\n")
    with pytest.raises(Unreadable, match="not UTF-8"):
        decode_source("name = 'Jos\xe9'\n".encode("latin-1"), "a.py")


def test_exercise_files_win_and_others_are_listed_as_ignored():
    sub = from_files("s", "s/", {"hw/ex1_requires_grad.py": b"x = 1\n", "hw/notes.txt": b"", "hw/scratch.ipynb": b"{}"},
                     EXERCISES)
    assert sub.status == "ok" and sub.modules == {"ex1_requires_grad": "ex1_requires_grad"}
    assert any("notes.txt" in n and "scratch.ipynb" in n for n in sub.notes)


def test_one_notebook_provides_every_exercise():
    sub = from_files("s", "s.ipynb", {"s.ipynb": notebook("x = 1")}, EXERCISES)
    assert sub.status == "ok"
    assert sub.modules == {e: "submission" for e in EXERCISES}


def test_several_unnamed_files_are_unreadable_with_advice():
    sub = from_files("s", "s/", {"a.py": b"x=1", "b.py": b"y=2"}, EXERCISES)
    assert sub.status == "unreadable" and "ex1_requires_grad.py" in sub.detail


def test_junk_from_macos_zips_is_ignored():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hw/ex2_zero_grad.py", "x = 1\n")
        zf.writestr("__MACOSX/hw/._ex2_zero_grad.py", "junk")
        zf.writestr("hw/.DS_Store", "junk")
    with zipfile.ZipFile(buf) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    sub = from_files("s", "s.zip", files, EXERCISES)
    assert sub.modules == {"ex2_zero_grad": "ex2_zero_grad"} and not sub.notes
