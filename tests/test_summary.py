"""summary.html, the page an instructor opens every week: rates over graded students only, the ungraded
apart, integer axes, every student in a sortable roster, a named failure for every failing check; and a
screenshot in headless Chromium to see that it renders as a page a person can read."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tensorgrade.render.charts import histogram
from tensorgrade.render.summary import render_summary_html, summary_view
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.spec.course import load_course

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT, check_graders=False)
FIRST = COURSE.exercises[0].spec.checks[0]  # ex1_requires_grad.make_leaf_is_leaf, 3 points


def result(student: str, *, fail: set[str] = frozenset(), status: str = "ok", missing: str = "",
           submitted_at: str = "") -> StudentResult:
    exercises = []
    for ex in COURSE.exercises:
        gone = ex.id == missing or status != "ok"
        checks = [CheckResult(c.id, c.function, c.points, 0.0 if gone or c.id in fail else c.points, c.visibility,
                              c.verifies, "" if gone else ("x.grad is None: not as expected" if c.id in fail else ""))
                  for c in ex.spec.checks]
        exercises.append(ExerciseResult(ex.id, ex.spec.title, checks, status="missing" if ex.id == missing else "ok"))
    return StudentResult(student, exercises, status=status, detail="not a valid notebook" if status != "ok" else "",
                         submitted_at=submitted_at)


def klass() -> list[StudentResult]:
    return [result("ada"), result("alan", fail={FIRST.id}), result("grace"),
            result("katherine_johnson_with_a_long_name", missing="ex6_jacobian_hessian"),
            result("john", status="unreadable"), result("niklaus", status="unreadable")]


def test_pass_rates_count_graded_students_only():
    view = summary_view(klass(), COURSE)
    row = next(c for c in view["checks"] if c["check"] == FIRST.id)
    assert (row["passed"], row["n"], row["failed"]) == (3, 4, 1)  # two unreadable students not counted
    assert view["n"] == 6 and view["n_graded"] == 4
    assert [u["student"] for u in view["ungraded"]] == ["john", "niklaus"]


def test_every_failing_check_names_its_most_common_failure():
    view = summary_view(klass(), COURSE)
    ex6 = [c for c in view["checks"] if c["exercise"] == "ex6_jacobian_hessian"]
    assert ex6 and all(c["failed"] == 1 and c["message"] == "file missing from the submission" for c in ex6)
    assert all(c["message"] for c in view["checks"] if c["failed"])


def test_missing_exercise_needs_a_look_and_roster_has_everyone():
    view = summary_view(klass(), COURSE)
    assert [a["student"] for a in view["attention"]] == ["katherine_johnson_with_a_long_name"]
    assert [r["student"] for r in view["roster"]] == ["ada", "alan", "grace", "john",
                                                       "katherine_johnson_with_a_long_name", "niklaus"]
    html = render_summary_html(klass(), COURSE)
    assert html.count('<td class="name" data-v=') == 6
    assert 'th data-sort="num"' in html and "addEventListener" in html


def test_histogram_axis_counts_whole_students():
    svg = str(histogram([10.0, 20.0, 30.0, 95.0, 96.0, 97.0, 98.0]))  # 4 in the top bin
    ticks = re.findall(r'text-anchor="end">([^<]+)<', svg)
    assert ticks == ["0", "1", "2", "3", "4"]
    svg = str(histogram([50.0] * 7))  # 7 students in one bin: steps of 2 up to 8
    assert re.findall(r'text-anchor="end">([^<]+)<', svg) == ["0", "2", "4", "6", "8"]


CHROMIUM = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium (apt-get install -y chromium)")
def test_summary_screenshot_in_headless_chromium(tmp_path):
    from PIL import Image

    page = tmp_path / "summary.html"
    page.write_text(render_summary_html(klass(), COURSE, tmp_path))
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "chromium wrote no screenshot"
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 1600)
    small = img.resize((120, 160))
    pixels = list(small.getdata())
    dark = sum(1 for p in pixels if sum(p) < 300)  # text, bars
    blue = sum(1 for p in pixels if p[2] > 120 and p[0] < 60)  # the histogram's bars (#0b5394)
    assert dark > 50, "the page looks blank"
    assert blue > 5, "no histogram bars visible"
    assert len(set(pixels)) > 20  # more than a flat colour or two
