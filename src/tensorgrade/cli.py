"""The `tensorgrade` command line: one subcommand per job, each in tensorgrade.commands."""

from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    sys.exit(main())
