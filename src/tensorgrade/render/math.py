"""The specs' simple LaTeX math as Typst math.

The YAML prompts hold math the way people type it in Markdown: `$...$` inline
and `$$...$$` on its own. This converts the small LaTeX vocabulary those
prompts use (fractions, partials, nabla, sums, sub/superscripts, pmatrix,
\\mathbb, \\text, Greek letters, arrows...) to Typst math source. The output is
built only from known tokens: a command it does not know, or anything odd,
raises `Unconvertible`, and callers show the original as raw code instead,
never a crash and never Typst markup typed by a course author.
"""

from __future__ import annotations

import re


class Unconvertible(ValueError):
    """The LaTeX uses something this converter does not know."""


GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
SYMBOLS = {
    "partial": "partial", "nabla": "nabla", "top": "top", "sum": "sum", "prod": "product", "int": "integral",
    "cdot": "dot.op", "times": "times", "leftarrow": "arrow.l", "gets": "arrow.l", "rightarrow": "arrow.r",
    "to": "arrow.r", "mapsto": "arrow.r.bar", "Rightarrow": "arrow.r.double", "Leftarrow": "arrow.l.double",
    "in": "in", "notin": "in.not", "le": "<=", "leq": "<=", "ge": ">=", "geq": ">=", "neq": "!=", "ne": "!=",
    "approx": "approx", "infty": "infinity", "ldots": "dots.h", "dots": "dots.h", "cdots": "dots.c",
    "vdots": "dots.v", "odot": "dot.circle", "otimes": "times.circle", "pm": "plus.minus", "circ": "compose",
    "quad": "quad", "qquad": "wide", "forall": "forall", "exists": "exists", "ell": "ell", "varepsilon": "epsilon",
    "epsilon": "epsilon.alt", "varphi": "phi", "phi": "phi.alt", "lVert": "||", "rVert": "||", "|": "||",
    "langle": "angle.l", "rangle": "angle.r", "mid": "|", "prime": "prime", "sim": "tilde.op",
    "log": "log", "exp": "exp", "sin": "sin", "cos": "cos", "tan": "tan", "max": "max", "min": "min",
    "tanh": "tanh", "det": "det", "lim": "lim", "sqrt": None,
}
SPACES = {",": "thin", ";": "med", ":": "med", "!": "", " ": " "}
STYLES = {"mathbf": "bold", "boldsymbol": "bold", "mathrm": "upright", "mathit": "italic",
          "mathcal": "cal", "operatorname": "op"}
DROP = {"left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "displaystyle", "limits"}
MATRICES = {"pmatrix": "(", "bmatrix": "[", "vmatrix": "|", "matrix": None, "Bmatrix": "{"}
PLAIN = set("0123456789+-=<>()[],.;:!'|")

TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z]|\d+(?:\.\d+)?|\s+|.", re.S)


def latex_to_typst(latex: str) -> str:
    """Typst math source for `latex`, or `Unconvertible`."""
    tokens = [t for t in TOKEN.findall(latex)]
    out, pos = _convert(tokens, 0, stop=None)
    if pos != len(tokens):
        raise Unconvertible(f"unbalanced braces in {latex!r}")
    text = re.sub(r"\s+", " ", out).strip()
    if not text:
        raise Unconvertible("empty math")
    return text


def _group(tokens: list[str], pos: int) -> tuple[str, int]:
    """One argument: a {braced group} or a single token (after skipping spaces)."""
    while pos < len(tokens) and tokens[pos].isspace():
        pos += 1
    if pos >= len(tokens):
        raise Unconvertible("missing argument")
    if tokens[pos] == "{":
        inner, pos = _convert(tokens, pos + 1, stop="}")
        return inner, pos + 1
    inner, end = _convert(tokens[pos:pos + 1], 0, stop=None)
    return inner, pos + 1


def _raw_group(tokens: list[str], pos: int) -> tuple[str, int]:
    """The literal text of a {braced group} (for \\text and environment names)."""
    while pos < len(tokens) and tokens[pos].isspace():
        pos += 1
    if pos >= len(tokens) or tokens[pos] != "{":
        raise Unconvertible("expected {")
    depth, start = 0, pos
    for i in range(pos, len(tokens)):
        if tokens[i] == "{":
            depth += 1
        elif tokens[i] == "}":
            depth -= 1
            if depth == 0:
                return "".join(tokens[start + 1:i]), i + 1
    raise Unconvertible("unclosed {")


def _string(text: str) -> str:
    """A Typst math string literal (upright text)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _convert(tokens: list[str], pos: int, stop: str | None) -> tuple[str, int]:
    parts: list[str] = []
    while pos < len(tokens):
        t = tokens[pos]
        if stop and t == stop:
            return " ".join(parts), pos
        if t == "}" or t == "{":
            if t == "}":
                raise Unconvertible("unbalanced }")
            inner, pos = _convert(tokens, pos + 1, stop="}")
            if inner.strip():
                parts.append(inner)
            pos += 1
            continue
        pos += 1
        if t.isspace():
            continue
        if t in ("^", "_"):
            arg, pos = _group(tokens, pos)
            if not parts:
                parts.append('""')
            parts[-1] = f"{parts[-1]}{t}({arg})"
            continue
        if t == "&" or t == "\\\\":
            raise Unconvertible(f"{t} outside a matrix")
        if t.startswith("\\"):
            name = t[1:]
            if name in GREEK:
                parts.append(name)
            elif name in SPACES:
                parts.append(SPACES[name] if name != " " else "space")
            elif name in DROP:
                continue
            elif name == "frac" or name == "dfrac" or name == "tfrac":
                num, pos = _group(tokens, pos)
                den, pos = _group(tokens, pos)
                parts.append(f"({num})/({den})")
            elif name == "sqrt":
                arg, pos = _group(tokens, pos)
                parts.append(f"sqrt({arg})")
            elif name == "mathbb":
                text, pos = _raw_group(tokens, pos)
                if not re.fullmatch(r"[A-Z]", text.strip()):
                    raise Unconvertible(f"\\mathbb{{{text}}}")
                parts.append(text.strip() * 2)
            elif name in ("text", "textrm", "mathrm") and name != "mathrm":
                text, pos = _raw_group(tokens, pos)
                parts.append(_string(text))
            elif name in STYLES:
                arg, pos = _group(tokens, pos)
                parts.append(f"{STYLES[name]}({arg})")
            elif name == "begin":
                env, pos = _raw_group(tokens, pos)
                if env not in MATRICES:
                    raise Unconvertible(f"environment {env}")
                cell, rows, row = [], [], []
                while True:
                    if pos >= len(tokens):
                        raise Unconvertible(f"unclosed {env}")
                    tok = tokens[pos]
                    if tok == "\\end":
                        end, pos = _raw_group(tokens, pos + 1)
                        if end != env:
                            raise Unconvertible(f"\\end{{{end}}} closes {env}")
                        break
                    if tok in ("&", "\\\\"):
                        row.append(_cell(cell))
                        cell = []
                        if tok == "\\\\":
                            rows.append(row)
                            row = []
                        pos += 1
                        continue
                    if tok == "{":
                        depth, j = 0, pos
                        while j < len(tokens):
                            depth += tokens[j] == "{"
                            depth -= tokens[j] == "}"
                            j += 1
                            if depth == 0:
                                break
                        cell += tokens[pos:j]
                        pos = j
                        continue
                    cell.append(tok)
                    pos += 1
                if cell and any(not c.isspace() for c in cell) or row:
                    row.append(_cell(cell))
                if row:
                    rows.append(row)
                delim = MATRICES[env]
                prefix = "" if delim == "(" else (f'delim: "{delim}", ' if delim else "delim: #none, ")
                body = "; ".join(", ".join(r) for r in rows)
                parts.append(f"mat({prefix}{body})")
            elif name in SYMBOLS and SYMBOLS[name]:
                parts.append(SYMBOLS[name])
            elif name in ("{", "}"):
                parts.append("\\" + name)
            elif name in ("%", "&", "_", "#", "$"):
                parts.append("\\" + name)
            else:
                raise Unconvertible(f"unknown command {t}")
            continue
        if t.isalpha() and len(t) == 1 and t.isascii():
            parts.append(t)
        elif t[0].isdigit():
            parts.append(t)
        elif t == "/":
            parts.append("\\/")
        elif t == "*":
            parts.append("ast")
        elif t in PLAIN:
            parts.append("\\" + t if t in "[],;" else t)
        else:
            raise Unconvertible(f"character {t!r}")
    if stop:
        raise Unconvertible(f"missing {stop}")
    return " ".join(parts), pos


def _cell(tokens: list[str]) -> str:
    text, _ = _convert(tokens, 0, stop=None)
    text = text.strip()
    if not text:
        return '""'
    return text


def convert(latex: str) -> tuple[bool, str]:
    """(True, Typst math) when it converts, else (False, the original LaTeX) to show as raw code."""
    try:
        return True, latex_to_typst(latex)
    except (Unconvertible, RecursionError):
        return False, latex
