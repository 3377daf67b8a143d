"""The `tensorgrade` command line: one subcommand per job, each in tensorgrade.commands."""

from __future__ import annotations

import argparse
import atexit
import os
import sys

from tensorgrade import __version__
from tensorgrade.commands import build, check, export, grade, handout, new, report, similarity, validate
from tensorgrade.commands.common import UsageError
from tensorgrade.spec.errors import SpecError

# in the order `--help` lists them: the student's, the instructor's term, the course author's
COMMANDS = (check, grade, report, similarity, export, validate, build, handout, new)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tensorgrade",
        description="Auto-graded homework for PyTorch autograd: check your work, validate graders, "
                    "grade a class.",
    )
    parser.add_argument("--version", action="version", version=f"tensorgrade {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"tensorgrade: {exc}", file=sys.stderr)
        return 2
    except SpecError as exc:
        print(f"tensorgrade: course error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tensorgrade: interrupted", file=sys.stderr)
        return 130


_exit_code = 1  # until main() returns: an uncaught exception has printed its traceback and exits 1


def _exit_without_teardown() -> None:
    """The last atexit handler: flush, then leave without freeing every module (torch's take ~1 s).

    Registered first, so it runs after every other handler (LIFO): temporary folders, Dask and
    logging have been closed by then; only the interpreter's own teardown is skipped.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(_exit_code)


def entry() -> None:
    """The `tensorgrade` console script (and `python -m tensorgrade.cli`)."""
    global _exit_code
    atexit.register(_exit_without_teardown)
    try:
        _exit_code = main()
    except SystemExit as exc:  # argparse's --help (0) and usage errors (2)
        _exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise
    sys.exit(_exit_code)


if __name__ == "__main__":
    entry()
