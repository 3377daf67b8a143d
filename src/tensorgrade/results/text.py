"""Text that came from a submission (ids, statuses, messages, output), made safe to show.

Names are data: a student id or an exception message must never act as a spreadsheet formula,
move the instructor's terminal cursor or clear the screen. One place decides what is kept.
"""

from __future__ import annotations

import re

# ANSI/VT escape sequences (CSI ... final byte, OSC ... BEL/ST, two-byte ESC x), then any other
# C0/C1 control character except newline and tab.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay); lone surrogates replaced."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def csv_cell(text: str) -> str:
    """A text cell for grades.csv: printable, and never read as a formula by a spreadsheet (OWASP CSV injection)."""
    text = printable(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True
