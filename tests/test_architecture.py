"""The import rules of docs/architecture.md, enforced."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tensorgrade"


def imported_modules(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in (tree.body if top_level_only else ast.walk(tree)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_rubric_imports_only_stdlib_torch_itself_and_the_wire_records():
    for path in (SRC / "rubric").glob("*.py"):
        for name in imported_modules(path):
            if name.startswith("tensorgrade"):
                assert name.startswith("tensorgrade.rubric") or name == "tensorgrade.wire", f"{path.name} imports {name}"


CHILD_SIDE = ("tensorgrade.rubric", "tensorgrade.run.policy", "tensorgrade.run.sandbox", "tensorgrade.wire")


def test_child_never_imports_reference_spec_judge_or_results():
    for path in [SRC / "run" / "child.py", *(SRC / "run" / "policy").glob("*.py")]:
        for name in imported_modules(path):
            if name.startswith("tensorgrade"):
                assert name.startswith(CHILD_SIDE), f"{path.name} imports {name}"


def test_importing_the_child_payload_loads_no_solution_or_reference_code():
    code = ("import sys, tensorgrade.run.child; "
            "bad = [m for m in sys.modules if 'solution' in m or m.startswith(('tensorgrade.run.reference', "
            "'tensorgrade.judge', 'tensorgrade.spec', 'tensorgrade.results', 'otter'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sandbox_is_standard_library_only():
    """The zygote imports the sandbox package before it enters namespaces, which needs a single thread (torch starts threads)."""
    for path in (SRC / "run" / "sandbox").glob("*.py"):
        for name in imported_modules(path, top_level_only=True):  # torch is imported later, in the payload's layer
            assert not name.startswith("torch"), f"{path.name} imports {name}"
            if name.startswith("tensorgrade"):
                assert name.startswith("tensorgrade.run.sandbox"), f"{path.name} imports {name}"
    code = ("import sys; sys.argv = ['x']; import tensorgrade.run.sandbox.server; "
            "print(sorted(m for m in sys.modules if m.startswith(('torch', 'numpy'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_wire_is_standard_library_only():
    for name in imported_modules(SRC / "wire.py"):
        assert name.split(".")[0] in sys.stdlib_module_names or name == "__future__", name


def test_intake_reads_and_never_runs():
    """intake/ turns bytes into text: no torch, no sandbox, no policy, nothing that executes student code."""
    for path in (SRC / "intake").glob("*.py"):
        for name in imported_modules(path):
            assert not name.startswith(("torch", "numpy", "tensorgrade.run", "tensorgrade.rubric", "runpy",
                                        "importlib", "subprocess")), f"{path.name} imports {name}"
            if name.startswith("tensorgrade"):
                assert name.startswith("tensorgrade.intake"), f"{path.name} imports {name}"
    assert not list((SRC / "run").glob("submission.py")) and not list((SRC / "run").glob("suspicious.py"))


def test_the_command_line_starts_without_torch_pydantic_otter_or_rich():
    """`tensorgrade --help` builds every command's parser: their modules import heavy things only where used."""
    code = ("import sys, tensorgrade.cli; tensorgrade.cli.build_parser(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'pydantic', 'otter', 'rich', 'numpy', "
            "'jinja2', 'copydetect', 'distributed'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_loading_a_course_imports_no_torch():
    """`check` starts its sandbox before this process imports torch: loading the course must not import it
    (the graders' check ids are read from their syntax trees)."""
    course = Path(__file__).parent / "fixtures" / "engine_course"
    code = ("import sys; from tensorgrade.spec.course import load_course; "
            f"load_course({str(course)!r}); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_console_script_skips_teardown_but_keeps_exit_codes_and_output(tmp_path):
    """cli.entry leaves through os._exit after every atexit handler: output still flushed, codes kept."""
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tensorgrade.cli", *args], capture_output=True, text=True)

    version = cli("--version")  # argparse prints into a pipe (buffered) and raises SystemExit(0)
    assert (version.returncode, version.stdout.startswith("tensorgrade ")) == (0, True)
    bogus = cli("--bogus")
    assert bogus.returncode == 2 and "unrecognized arguments" in bogus.stderr
    missing = cli("check", "--course", str(tmp_path))
    assert missing.returncode == 2 and "course error" in missing.stderr and "course.yml" in missing.stderr
