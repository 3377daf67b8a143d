"""The prompts' small Markdown (paragraphs, `- ` lists, `code`, *emphasis*, **bold**, $math$, $$math$$) as plain data.

Each block is a dict: {"kind": "par", "spans": [...]}, {"kind": "list",
"items": [[spans], ...]} or {"kind": "math", "ok": bool, "v": str}; each span
is {"t": "text"|"code"|"em"|"strong"|"math"|"rawmath", "v": str}. Text stays
text: the Typst template shows it as a string, never as markup. Math is
converted by `render.math`; what it cannot convert becomes "rawmath".
"""

from __future__ import annotations

import re

from tensorgrade.render.math import convert

INLINE = re.compile(r"`([^`]+)`|\$([^$]+)\$|\*\*([^*]+)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")


def spans(text: str) -> list[dict]:
    out: list[dict] = []
    pos = 0
    text = re.sub(r"\s*\n\s*", " ", text)
    for m in INLINE.finditer(text):
        if m.start() > pos:
            out.append({"t": "text", "v": text[pos:m.start()]})
        code, math, strong, em = m.groups()
        if code is not None:
            out.append({"t": "code", "v": code})
        elif math is not None:
            ok, v = convert(math)
            out.append({"t": "math" if ok else "rawmath", "v": v})
        elif strong is not None:
            out.append({"t": "strong", "v": strong})
        else:
            out.append({"t": "em", "v": em})
        pos = m.end()
    if pos < len(text):
        out.append({"t": "text", "v": text[pos:]})
    return out


def blocks(markdown: str) -> list[dict]:
    out: list[dict] = []
    pieces = DISPLAY.split(markdown or "")
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            ok, v = convert(piece.strip())
            out.append({"kind": "math", "ok": ok, "v": v})
            continue
        for para in re.split(r"\n\s*\n", piece):
            if not para.strip():
                continue
            lines = para.strip("\n").splitlines()
            if any(ITEM.match(line) for line in lines):
                items, lead = [], []
                for line in lines:
                    if ITEM.match(line):
                        items.append(ITEM.sub("", line, count=1))
                    elif items:
                        items[-1] += " " + line.strip()
                    else:
                        lead.append(line)
                if lead:
                    out.append({"kind": "par", "spans": spans("\n".join(lead))})
                out.append({"kind": "list", "items": [spans(it) for it in items]})
            else:
                out.append({"kind": "par", "spans": spans(para.strip())})
    return out


def math_snippets(bs: list[dict]) -> list[str]:
    """Every converted math string, for checking them one by one when a compile fails."""
    found = []
    for b in bs:
        if b["kind"] == "math" and b["ok"]:
            found.append(b["v"])
        for sp in b.get("spans", []) + [s for it in b.get("items", []) for s in it]:
            if sp["t"] == "math":
                found.append(sp["v"])
    return found


def demote(bs: list[dict], bad: set[str], originals: dict[str, str]) -> None:
    """Show the math in `bad` (Typst rejected it) as raw LaTeX instead."""
    for b in bs:
        if b["kind"] == "math" and b["ok"] and b["v"] in bad:
            b["ok"], b["v"] = False, originals.get(b["v"], b["v"])
        for sp in b.get("spans", []) + [s for it in b.get("items", []) for s in it]:
            if sp["t"] == "math" and sp["v"] in bad:
                sp["t"], sp["v"] = "rawmath", originals.get(sp["v"], sp["v"])
