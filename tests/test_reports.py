"""Reports and PDFs: student reports (HTML + PDF), class summary, handout, templates, escaping."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.results.store import save_record, student_dir
from tensorgrade.spec.course import load_course
from tensorgrade.spec.errors import SpecError

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst")

from tensorgrade.render import math as tmath  # noqa: E402
from tensorgrade.render.handout import render_handout  # noqa: E402
from tensorgrade.render.report import render_report_html, render_report_pdf, write_student_report  # noqa: E402
from tensorgrade.render.summary import render_summary_html, write_summary  # noqa: E402
from tensorgrade.render.templates import TemplateError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
HOSTILE = 'Al#ce $x$ *b* _u_ @ref <b> [x] \\ "q" \'s\' `c` // 🙂 = ; ) ('
FEEDBACK_HINT = "hint: call backward() on the scalar"


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return unicodedata.normalize("NFKC", text)


def flat(text: str) -> str:
    """Whitespace removed: PDF text extraction breaks lines where the layout does."""
    return re.sub(r"\s+", "", text)


def with_grading(course, **update):
    spec = course.spec.model_copy(update={"grading": course.spec.grading.model_copy(update=update)})
    return dataclasses.replace(course, spec=spec)


def with_course_name(course, name: str, title: str | None = None):
    info = course.spec.course.model_copy(update={"name": name})
    assignment = course.spec.assignment.model_copy(update={"title": title or course.spec.assignment.title})
    return dataclasses.replace(course, spec=course.spec.model_copy(update={"course": info, "assignment": assignment}))


def make_result(student: str = "alice", *, fail_every: int = 3, feedback: str | None = None, status: str = "ok",
                flags=(), output: str = "epoch 1: loss 0.25\n") -> StudentResult:
    exercises = []
    for ex in COURSE.exercises:
        checks = []
        for i, c in enumerate(ex.spec.checks):
            bad = i % fail_every == 1
            fb = feedback if feedback is not None else (
                f"x.grad: not as expected\n  expected: tensor([4., 3.])\n  observed: tensor([2., 3.])\n"
                f"  {FEEDBACK_HINT} ({c.id})")
            checks.append(CheckResult(id=c.id, function=c.function, points=c.points,
                                      score=0.0 if bad else c.points, visibility=c.visibility,
                                      verifies=c.verifies, feedback=fb if bad else ""))
        exercises.append(ExerciseResult(id=ex.id, title=ex.spec.title, checks=checks))
    return StudentResult(student=student, exercises=exercises, status=status, flags=list(flags), output=output)


def failing_hidden(result: StudentResult) -> CheckResult:
    return next(c for e in result.exercises for c in e.checks if c.visibility == "hidden" and not c.passed)


def failing_public(result: StudentResult) -> CheckResult:
    return next(c for e in result.exercises for c in e.checks if c.visibility == "public" and not c.passed)


# --- student reports ---------------------------------------------------------------------------------

def test_report_pdf_holds_title_points_and_feedback():
    course = with_grading(COURSE, hidden_feedback="always")
    result = make_result(flags=["patched torch.autograd.grad"])
    text = pdf_text(render_report_pdf(result, course))
    assert COURSE.spec.assignment.title in text
    assert "alice" in text
    assert flat(f"{result.total:g}/{result.possible:g}") in flat(text)
    for ex in COURSE.exercises:
        assert ex.spec.title in text
    pub = failing_public(result)
    assert flat(pub.id) in flat(text)
    assert flat(f"{FEEDBACK_HINT} ({pub.id})") in flat(text)
    assert "tensor([2., 3.])" in text
    assert "patched torch.autograd.grad" in text
    assert "epoch 1: loss 0.25" in text


def test_report_html_holds_the_same():
    result = make_result()
    html = render_report_html(result, with_grading(COURSE, hidden_feedback="always"))
    assert COURSE.spec.assignment.title in html
    assert f"{result.total:g} / {result.possible:g}" in html
    assert f"{FEEDBACK_HINT} ({failing_public(result).id})" in html


@pytest.mark.parametrize("mode", ["always", "never", "after_due"])
def test_hidden_details_follow_hidden_feedback(mode):
    course = with_grading(COURSE, hidden_feedback=mode)
    result = make_result()
    hidden, public = failing_hidden(result), failing_public(result)
    before_due = COURSE.spec.assignment.due - dt.timedelta(days=1)
    html = render_report_html(result, course, now=before_due)
    text = flat(pdf_text(render_report_pdf(result, course, now=before_due)))
    for out in (html, text):
        assert flat(hidden.id) in flat(out)  # the name is always there
        assert flat(f"{FEEDBACK_HINT} ({public.id})") in flat(out)  # public details always shown
    shown = flat(f"{FEEDBACK_HINT} ({hidden.id})")
    if mode == "always":
        assert shown in text and shown in flat(html)
    else:
        assert shown not in text and shown not in flat(html)
        assert hidden.verifies not in html
        note = "details after the due date" if mode == "after_due" else "details are not shown"
        assert note in html and flat(note) in text
    if mode == "after_due":  # after the due date the details open
        after = COURSE.spec.assignment.due + dt.timedelta(minutes=1)
        assert shown in flat(render_report_html(result, course, now=after))


def test_submission_status_is_reported():
    result = make_result(status="error")
    result.detail = "grading infrastructure failed: OSError: disk"
    result.exercises[0].status, result.exercises[0].detail = "timeout", "stopped after 5 s"
    text = pdf_text(render_report_pdf(result, COURSE))
    html = render_report_html(result, COURSE)
    for out in (text, html):
        assert "infrastructure" in out and "OSError: disk" in out
        assert "timeout" in out and "stopped after 5 s" in out


def test_write_student_report_writes_both_files(tmp_path):
    result = make_result(student="weird/name 1")
    write_student_report(tmp_path, result, COURSE)
    folder = student_dir(tmp_path, result.student)
    assert (folder / "report.html").read_text().startswith("<!doctype html>")
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert not list(folder.glob(".*tmp"))
    write_student_report(tmp_path / "b", result, COURSE, pdf=False)
    assert not (student_dir(tmp_path / "b", result.student) / "report.pdf").exists()


# --- escaping ------------------------------------------------------------------------------------------

def test_hostile_strings_render_literally_in_pdf_and_html():
    long_name = "n" * 500
    course = with_course_name(COURSE, HOSTILE, title="HW <script>alert('x')</script> #set page(width: 1cm)")
    for student in (HOSTILE, long_name, "<script>alert(1)</script>"):
        feedback = f"problem: {HOSTILE}\n  details: #{{}} ]] \\\" $$ <img src=x onerror=alert(1)>"
        result = make_result(student=student, feedback=feedback, output=f"printed {HOSTILE}\n")
        result.flags = [f"flag {HOSTILE}"]
        pdf = render_report_pdf(result, with_grading(course, hidden_feedback="always"))
        text = flat(pdf_text(pdf))
        visible = flat(HOSTILE.replace("🙂", ""))  # no emoji font is bundled: the glyph may not extract
        assert visible.split("//")[0] in text and visible.split("//")[1] in text
        assert flat(student.replace("🙂", "")).split("//")[0] in text
        assert flat("#{} ]] \\\" $$ <img src=x onerror=alert(1)>") in text
        assert "#setpage(width:1cm)" in text  # shown, not executed
        html = render_report_html(result, with_grading(course, hidden_feedback="always"))
        assert "<script>" not in html and "<img" not in html
        assert "&lt;script&gt;" in html
        assert "onerror=alert(1)&gt;" in html
    assert long_name in render_report_html(make_result(student=long_name), COURSE)


def test_summary_escapes_and_shows_charts(tmp_path):
    results = [make_result(student=f"s{i}", fail_every=2 + i % 3) for i in range(12)]
    results.append(make_result(student="<script>x</script>", status="error", flags=["patched <torch>"]))
    results[0].exercises[1].status = "timeout"
    write_summary(tmp_path, results, COURSE)
    html = (tmp_path / "summary.html").read_text()
    assert html.count("<svg") >= 2
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "patched &lt;torch&gt;" in html
    assert "x.grad: not as expected" in html  # the most common failure message
    assert "s0" in html and "time limit exceeded" in html  # the timed-out student needs a look


def test_summary_most_common_failure_message():
    results = [make_result(student=f"a{i}", feedback="wrong shape\n  detail") for i in range(3)]
    results.append(make_result(student="b", feedback="rare message"))
    html = render_summary_html(results, COURSE)
    assert "wrong shape" in html and "rare message" not in html
    assert "(3 of 4 failures)" in html


# --- templates belong to the instructor ------------------------------------------------------------------

@pytest.fixture
def course_copy(tmp_path):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    shutil.copy(ROOT / "extensions.csv", tmp_path / "extensions.csv")  # named by course.yml's policy
    return dataclasses.replace(COURSE, root=tmp_path), tmp_path / "templates"


def test_template_syntax_error_names_file_and_line(course_copy):
    course, tdir = course_copy
    path = tdir / "report.html.j2"
    lines = path.read_text().splitlines()
    lines.insert(11, "{% if r.student %}broken")  # unclosed block
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TemplateError) as err:
        render_report_html(make_result(), course)
    assert "report.html.j2" in str(err.value) and "line" in str(err.value)


def test_template_undefined_names_file_and_line(course_copy):
    course, tdir = course_copy
    path = tdir / "summary.html.j2"
    lines = path.read_text().splitlines()
    lines.insert(15, "{{ s.no_such_field.deeper }}")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TemplateError) as err:
        render_summary_html([make_result()], course)
    assert "summary.html.j2, line 16" in str(err.value)


def test_typst_template_error_names_the_template(course_copy):
    course, tdir = course_copy
    path = tdir / "report.typ.j2"
    path.write_text(path.read_text() + "\n#let broken = (\n")
    with pytest.raises(SpecError) as err:
        render_report_pdf(make_result(), course)
    assert "report.typ.j2" in str(err.value) and "line" in str(err.value)


def test_changing_a_template_changes_the_output(course_copy):
    course, tdir = course_copy
    result = make_result()
    html = tdir / "report.html.j2"
    html.write_text(html.read_text().replace("<body>", "<body><p>Office hours: Tuesdays</p>"))
    assert "Office hours: Tuesdays" in render_report_html(result, course)
    typ = tdir / "report.typ.j2"
    typ.write_text(typ.read_text() + "\nRegrade requests within one week.\n")
    assert "Regrade requests within one week." in pdf_text(render_report_pdf(result, course))
    hand = tdir / "handout.typ.j2"
    hand.write_text(hand.read_text() + "\nLate work loses 10% per day.\n")
    assert "Late work loses 10% per day." in pdf_text(render_handout(course))


# --- handout ---------------------------------------------------------------------------------------------

def test_handout_command_writes_a_pdf_with_every_exercise(tmp_path):
    out = tmp_path / "x.pdf"
    proc = subprocess.run([sys.executable, "-m", "tensorgrade.cli", "handout", "-o", str(out), "--course", str(ROOT)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = pdf_text(out.read_bytes())
    assert COURSE.spec.assignment.title in text and COURSE.spec.course.name in text
    for ex in COURSE.exercises:
        assert ex.spec.title in text
        for f in ex.spec.functions:
            assert f.name in text
    assert re.search(rf"Total\s+\S+\s+\S+\s+{COURSE.points:g}", text), "the total points row"
    assert "raise NotImplementedError" in text  # stub code


def test_handout_survives_hostile_and_unconvertible_prompts():
    ex = COURSE.exercises[0]
    prompt = (f"Weird {HOSTILE} and $\\weird{{x}} # @$ and $a_{{1$ and $x \\in \\mathbb{{R}}^n$.\n\n"
              "$$\\begin{cases} 1 \\end{cases}$$\n\n- `code #x` item *em* **bold**\n")
    spec = ex.spec.model_copy(update={"prompt": prompt, "title": f"T {HOSTILE}"})
    course = dataclasses.replace(with_course_name(COURSE, HOSTILE),
                                 exercises=(dataclasses.replace(ex, spec=spec), *COURSE.exercises[1:]))
    text = flat(pdf_text(render_handout(course)))
    assert flat("\\weird{x} # @") in text  # unconvertible math shown as code
    assert flat("\\begin{cases} 1 \\end{cases}") in text
    assert flat(HOSTILE.replace("🙂", "")).split("//")[0] in text
    assert "code#x" in text


@pytest.mark.parametrize("latex,expected", [
    (r"\frac{\partial f}{\partial x_i}", "(partial f)/(partial x_(i))"),
    (r"x \leftarrow x - \eta \nabla f(x)", "x arrow.l x - eta nabla f ( x )"),
    (r"v^\top J = \sum_{i=1}^{m} v_i", "v^(top) J = sum_(i = 1)^(m) v_(i)"),
    (r"\mathbb{R}^n \to \mathbb{R}", "RR^(n) arrow.r RR"),
    (r"x.\text{grad}", 'x . "grad"'),
    (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", "mat(a, b; c, d)"),
])
def test_math_conversion(latex, expected):
    assert tmath.latex_to_typst(latex) == expected


@pytest.mark.parametrize("latex", [r"\unknown x", "#x", r"\frac{a", "a}", r"\begin{cases}x\end{cases}", "x & y", "@"])
def test_unconvertible_math_falls_back_to_raw(latex):
    assert tmath.convert(latex) == (False, latex)


# --- report command ---------------------------------------------------------------------------------------

def test_report_command_rerenders_from_records(tmp_path):
    from tensorgrade.cli import main

    for name in ("alice", "bob <b>"):
        save_record(tmp_path, make_result(student=name))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "record.json").write_text("{not json")
    assert main(["report", str(tmp_path), "--course", str(ROOT)]) == 0
    for name in ("alice", "bob <b>"):
        folder = student_dir(tmp_path, name)
        assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")
        assert name.replace("<", "&lt;").replace(">", "&gt;") in (folder / "report.html").read_text()
    summary = (tmp_path / "summary.html").read_text()
    assert "<svg" in summary and json.loads((student_dir(tmp_path, "alice") / "record.json").read_text())


def test_a_class_of_pdfs_is_split_over_worker_processes_and_a_failed_one_is_graded_again(tmp_path, monkeypatch):
    """From render/pdfs.PARALLEL reports on, `grade` writes the PDFs in spawned worker processes (typst holds a
    core per report); a PDF that cannot be written unstores its record, so the next run grades it again."""
    import tensorgrade.render.pdfs as pdfs
    import tensorgrade.render.report as report
    from tensorgrade.batch import write_pdfs
    from tensorgrade.results.store import RECORD
    from tensorgrade.term import load_term

    results = [make_result(f"s{i:03d}", fail_every=2 + i % 3) for i in range(pdfs.PARALLEL)]
    for result in results:
        save_record(tmp_path, result)
    (student_dir(tmp_path, "s007") / report.PDF).mkdir()  # its PDF cannot replace a folder
    monkeypatch.setattr(pdfs, "write_student_pdf", lambda *a, **k: 1 / 0)  # not in the workers: fresh imports
    assert write_pdfs(tmp_path, results, [], COURSE, load_term(COURSE), workers=2) == 1
    for result in results:
        folder = student_dir(tmp_path, result.student)
        if result.student == "s007":
            assert not (folder / RECORD).exists()
        else:
            assert (folder / RECORD).exists()
            assert str(result.total).rstrip("0").rstrip(".") in pdf_text((folder / report.PDF).read_bytes())
