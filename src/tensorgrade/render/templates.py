"""The instructor's templates: a jinja2 environment over the course's `templates/` folder.

Templates are looked up in `<course>/templates/` first, then in the templates
that ship with tensorgrade (the bundled course's folder), so a course may
override any one file. HTML templates (`*.html.j2`) are autoescaped; Typst
templates (`*.typ.j2`) get a `typst_str` filter that turns any text into a
Typst string literal, although the bundled ones pass all data as JSON instead.
Any template error becomes a `TemplateError` naming the file and the line.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import jinja2

from tensorgrade.spec.errors import SpecError

BUNDLED = Path(__file__).resolve().parents[3] / "templates"

_lock = threading.Lock()
_envs: dict[tuple[str, ...], jinja2.Environment] = {}


class TemplateError(SpecError):
    """A template that does not parse or fails while rendering; the message names file and line."""


def typst_str(value) -> str:
    """`value` as a Typst string literal: only backslash, quote and control characters need escaping."""
    out = []
    for ch in str(value):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def template_dirs(course_root: Path | None) -> list[Path]:
    dirs = []
    if course_root is not None and (Path(course_root) / "templates").is_dir():
        dirs.append((Path(course_root) / "templates").resolve())
    if BUNDLED.is_dir() and BUNDLED not in dirs:
        dirs.append(BUNDLED)
    return dirs


def environment(course_root: Path | None) -> jinja2.Environment:
    dirs = template_dirs(course_root)
    key = tuple(map(str, dirs))
    with _lock:
        env = _envs.get(key)
        if env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(dirs),
                autoescape=lambda name: bool(name) and name.endswith((".html.j2", ".html")),
                undefined=jinja2.StrictUndefined,
                auto_reload=True,  # an edited template is picked up without restarting
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
            env.filters["typst_str"] = typst_str
            env.filters["tojson_compact"] = lambda v: json.dumps(v, ensure_ascii=False)
            _envs[key] = env
        return env


def _where(env: jinja2.Environment, name: str, exc: BaseException) -> str:
    """'templates/x.j2, line N' for the innermost template frame of a rendering error."""
    file, line = None, None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        file, line = exc.filename or exc.name, exc.lineno
    else:
        tb = exc.__traceback__
        while tb is not None:
            fname = tb.tb_frame.f_code.co_filename
            if fname.endswith(".j2") or "/templates/" in fname:
                file, line = fname, tb.tb_lineno
            tb = tb.tb_next
    if file is None:
        try:
            file = env.get_template(name).filename
        except Exception:
            file = name
    return f"{file}, line {line}" if line else str(file)


def render(course_root: Path | None, name: str, **context) -> str:
    """Render template `name` with `context`; any failure is a TemplateError naming file and line."""
    env = environment(course_root)
    try:
        template = env.get_template(name)
        return template.render(**context)
    except jinja2.TemplateNotFound as exc:
        where = ", ".join(map(str, template_dirs(course_root))) or "(no templates folder)"
        raise TemplateError(f"template {exc.name} not found in {where}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{_where(env, name, exc)}: template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_where(env, name, exc)}: undefined value in template: {exc.message}") from None
    except Exception as exc:  # a filter or expression failing inside the template
        raise TemplateError(f"{_where(env, name, exc)}: template error: {type(exc).__name__}: {exc}") from None


def source_of(course_root: Path | None, name: str) -> tuple[str, str]:
    """(file path, raw text) of a template, for error messages of the Typst stage."""
    env = environment(course_root)
    try:
        src, filename, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        return name, ""
    return filename or name, src


__all__ = ["TemplateError", "environment", "render", "typst_str", "source_of"]
