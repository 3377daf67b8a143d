"""The assignment handout PDF: course, due date, how to submit, every exercise with typeset math and stub code.

`handout_view` gathers the data (prompts parsed by `render.prose`, math
converted by `render.math`, the stub files read from exercises/<id>.py);
templates/handout.typ.j2 lays it out. Should Typst reject a converted
formula, that formula alone is shown as raw LaTeX and the handout is
compiled again: a course author's typo never stops the handout.
"""

from __future__ import annotations

from tensorgrade.render import prose, templates
from tensorgrade.render.context import course_view, fmt
from tensorgrade.render.math import convert
from tensorgrade.render.typst import TypstCompileError, compile_pdf
from tensorgrade.spec.course import Course

TEMPLATE = "handout.typ.j2"


def _points(checks, visibility: str) -> float:
    return sum(c.points for c in checks if c.visibility == visibility)


def handout_view(course: Course) -> dict:
    exercises = []
    for n, ex in enumerate(course.exercises, 1):
        spec = ex.spec
        try:
            stub = ex.stub.read_text(encoding="utf-8")
        except OSError:
            stub = ""
        exercises.append({
            "number": n, "id": spec.id, "title": spec.title, "file": f"{spec.id}.py",
            "prompt": prose.blocks(spec.prompt),
            "functions": [{"name": f.name, "signature": f.signature, "summary": f.summary,
                           "banned": list(f.banned)} for f in spec.functions],
            "checks": [{"id": c.id, "function": c.function, "points": fmt(c.points), "visibility": c.visibility,
                        "verifies": c.verifies} for c in spec.checks],
            "public": fmt(_points(spec.checks, "public")), "hidden": fmt(_points(spec.checks, "hidden")),
            "points": fmt(spec.points), "stub": stub.rstrip() + "\n",
        })
    all_checks = [c for ex in course.exercises for c in ex.spec.checks]
    return {
        "course": course_view(course),
        "exercises": exercises,
        "submission": prose.spans(course.spec.assignment.submission),
        "public": fmt(_points(all_checks, "public")), "hidden": fmt(_points(all_checks, "hidden")),
        "total": fmt(course.points),
    }


def _originals(course: Course) -> dict[str, str]:
    """Converted math -> the LaTeX it came from (to show when Typst rejects the conversion)."""
    import re

    found = {}
    for ex in course.exercises:
        for m in re.finditer(r"\$\$(.+?)\$\$|\$([^$]+)\$", ex.spec.prompt, re.S):
            latex = (m.group(1) or m.group(2)).strip()
            ok, v = convert(latex)
            if ok:
                found[v] = latex
    return found


def render_handout(course: Course) -> bytes:
    """The handout as PDF bytes."""
    source = templates.render(course.root, TEMPLATE, course=course_view(course))
    data = handout_view(course)
    root = (templates.template_dirs(course.root) or [None])[0]
    shown = templates.source_of(course.root, TEMPLATE)[0]
    try:
        return compile_pdf(source, data, root=root, template=shown)
    except TypstCompileError:
        bad = set()
        probe = '#let d = json(bytes(sys.inputs.data))\n#math.equation(eval(d, mode: "math"))\n'
        for snippet in set(sum((prose.math_snippets(e["prompt"]) for e in data["exercises"]), [])):
            try:
                compile_pdf(probe, snippet)
            except TypstCompileError:
                bad.add(snippet)
        if not bad:
            raise
        originals = _originals(course)
        for e in data["exercises"]:
            prose.demote(e["prompt"], bad, originals)
        return compile_pdf(source, data, root=root, template=shown)
