"""The student's `check` and the instructor's `validate`, run as a user would (a subprocess)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tensorgrade.spec.course import load_course

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)


def tensorgrade(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tensorgrade.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def public_points(*exercises: str) -> float:
    chosen = exercises or [e.id for e in COURSE.exercises]
    return sum(c.points for e in COURSE.exercises if e.id in chosen for c in e.spec.checks if c.visibility == "public")


def score(output: str) -> tuple[float, float]:
    m = re.search(r"Score on public checks: ([\d.]+)/([\d.]+)", output)
    assert m, output
    return float(m.group(1)), float(m.group(2))


def copy_course(tmp_path: Path) -> Path:
    for name in ("course.yml", "extensions.csv", "exercises", "solutions", "graders"):  # course.yml: frozen, six exercises
        src = (ROOT / "tests" / "fixtures" / "engine_course" if name.endswith((".yml", ".csv")) else ROOT) / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


@pytest.mark.bundled
def test_check_on_untouched_stubs_says_not_implemented_without_tracebacks():
    out = tensorgrade("check")
    assert out.returncode == 1
    assert "Traceback" not in out.stdout + out.stderr
    for ex in COURSE.exercises:
        for fn in ex.spec.functions:
            if fn.kind == "function":  # a class is reached through the function that uses it (a stub too)
                assert f"{fn.name}() is not implemented yet" in out.stdout
    assert score(out.stdout) == (0, public_points())


def test_check_on_solutions_passes_every_public_check():
    out = tensorgrade("check", "--path", "solutions")
    assert out.returncode == 0, out.stdout + out.stderr
    assert score(out.stdout) == (public_points(), public_points())
    assert "✗" not in out.stdout


def test_check_gives_a_torch_func_solution_its_points(tmp_path):
    """torch.func is an allowed means for jacobian and hessian. Its first use imports torch._dynamo, and
    a sandboxed child may not load code from a student's call (the policy refuses marshal.loads there):
    the sandbox must hold it already, for `check` as for `grade`. Found when `check` skipped that
    warm-up and told this student 2 of 6 while `grade` gave full marks."""
    work = tmp_path / "mine"
    shutil.copytree(ROOT / "solutions", work, ignore=shutil.ignore_patterns("__pycache__"))
    source = (work / "ex6_jacobian_hessian.py").read_text()
    source = re.sub(r"(def jacobian\(.*?\n).*?(?=\n\ndef hessian)", r"\1    return torch.func.jacrev(f)(x)\n", source,
                    flags=re.S)
    source = re.sub(r"(def hessian\(.*?\n).*?(?=\n\ndef jacobian_by_rows)", r"\1    return torch.func.hessian(f)(x)\n",
                    source, flags=re.S)
    assert source.count("torch.func.") == 2
    (work / "ex6_jacobian_hessian.py").write_text(source)
    out = tensorgrade("check", "ex6_jacobian_hessian", "--path", str(work))
    assert score(out.stdout) == (public_points("ex6_jacobian_hessian"),) * 2, out.stdout
    assert "not allowed" not in out.stdout and out.returncode == 0


def test_check_on_half_finished_copy_gives_per_check_verdicts(tmp_path):
    work = tmp_path / "mine"
    shutil.copytree(ROOT / "exercises", work)
    shutil.copy(ROOT / "solutions" / "ex1_requires_grad.py", work / "ex1_requires_grad.py")
    shutil.copy(ROOT / "graders/mistakes/ex2_zero_grad/zero_by_setting_none.py", work / "ex2_zero_grad.py")
    out = tensorgrade("check", "ex1_requires_grad", "ex2_zero_grad", "ex3_stop_gradients", "--path", str(work))
    assert out.returncode == 1
    text = out.stdout
    assert re.search(r"✓ make_leaf_is_leaf", text) and re.search(r"✓ gradient_in_x_grad", text)
    assert re.search(r"✗ zero_grad_in_place", text)
    assert "x.grad is still the same tensor object" in text and "expected: yes" in text and "observed: no" in text
    assert "x.grad.zero_()" in text  # the hint teaches the in-place idiom
    assert "scale_untracked() is not implemented yet" in text
    expected = public_points("ex1_requires_grad") + public_points("ex2_zero_grad") - COURSE.exercise(
        "ex2_zero_grad").spec.check("zero_grad_in_place").points
    assert score(text) == (expected, public_points("ex1_requires_grad", "ex2_zero_grad", "ex3_stop_gradients"))


def test_check_rejects_an_unknown_exercise_with_a_clear_message():
    out = tensorgrade("check", "ex9_nothing")
    assert out.returncode == 2
    assert "unknown exercise 'ex9_nothing'" in out.stderr
    assert "Traceback" not in out.stderr


def test_validate_passes_on_the_bundled_course():
    out = tensorgrade("validate")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "validate: all" in out.stdout
    for ex in COURSE.exercises:
        for mistake in (ex.mistakes).glob("*.py"):
            assert f"mistake {mistake.stem}: loses" in out.stdout


def test_validate_fails_when_a_mistake_is_no_longer_caught(tmp_path):
    course = copy_course(tmp_path)
    # The "solution" now zeroes by setting None: the classic mistake becomes the reference.
    shutil.copy(course / "graders/mistakes/ex2_zero_grad/zero_by_setting_none.py", course / "solutions/ex2_zero_grad.py")
    src = (course / "solutions/ex2_zero_grad.py").read_text()
    (course / "solutions/ex2_zero_grad.py").write_text(src.replace('LOSES = ("zero_grad_in_place",)\n', ""))
    out = tensorgrade("validate", "ex2_zero_grad", "--course", str(course))
    assert out.returncode == 1
    assert "mistake zero_by_setting_none" in out.stdout and "no longer caught" in out.stdout
    assert "zero_grad_in_place" in out.stdout


def test_validate_fails_when_a_correct_idiom_loses_points(tmp_path):
    course = copy_course(tmp_path)
    idioms = course / "graders" / "idioms" / "ex2_zero_grad"
    idioms.mkdir(parents=True, exist_ok=True)
    shutil.copy(course / "graders/mistakes/ex2_zero_grad/zero_by_setting_none.py", idioms / "not_really_correct.py")
    out = tensorgrade("validate", "ex2_zero_grad", "--course", str(course))
    assert out.returncode == 1
    assert "idiom not_really_correct" in out.stdout and "a correct answer loses" in out.stdout
    assert "zero_grad_in_place" in out.stdout


def test_validate_fails_when_the_solution_is_broken(tmp_path):
    course = copy_course(tmp_path)
    path = course / "solutions/ex3_stop_gradients.py"
    path.write_text(path.read_text().replace("return x.detach()", "raise RuntimeError('broken solution')"))
    out = tensorgrade("validate", "ex3_stop_gradients", "--course", str(course))
    assert out.returncode == 1
    assert "reference solution fails check" in out.stdout
    assert "broken solution" in out.stdout


@pytest.mark.parametrize("content", ['LOSES = ("no_such_check",)\n', "# no LOSES at all\n"])
def test_validate_rejects_mistakes_without_valid_targets(tmp_path, content):
    course = copy_course(tmp_path)
    src = (course / "solutions/ex1_requires_grad.py").read_text()
    (course / "graders/mistakes/ex1_requires_grad/bogus.py").write_text(content + src)
    out = tensorgrade("validate", "ex1_requires_grad", "--course", str(course))
    assert out.returncode == 1
    assert "mistake bogus" in out.stdout and "LOSES must name checks" in out.stdout


# -- command lines that cannot work: one line on stderr, exit code 2, nothing written ---------
@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "existing.txt"
    path.write_text("keep me")
    return path


@pytest.mark.parametrize("argv, words", [
    (lambda f: ["grade", "examples/class", "-o", str(f)], "is a file; give a folder for the outputs"),
    (lambda f: ["grade", str(f), "-o", str(f.parent / "out")], "expected a folder or a .zip of submissions"),
    (lambda f: ["grade", "examples/class", "-o", "examples/class"], "is the submissions folder itself"),
    (lambda f: ["handout", "-o", str(f.parent)], "is a folder; give the PDF's file name"),
    (lambda f: ["build", "-o", str(f)], "is a file; give a folder for the distributions"),
    (lambda f: ["check", "ex1_requires_grad", "ex1_requires_grad"], "ex1_requires_grad given more than once"),
])
def test_a_bad_command_line_is_one_line_and_exit_2(a_file, argv, words):
    out = tensorgrade(*argv(a_file))
    assert out.returncode == 2, out.stdout + out.stderr
    assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert a_file.read_text() == "keep me" and sorted(p.name for p in a_file.parent.iterdir()) == ["existing.txt"]


def test_an_empty_class_is_a_warning_and_no_summary(tmp_path):
    (tmp_path / "class").mkdir()
    out = tensorgrade("grade", str(tmp_path / "class"), "-o", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    assert "warning: no submissions found" in out.stdout
    assert not (tmp_path / "out" / "summary.html").exists() and not (tmp_path / "out" / "grades.csv").exists()


def test_grade_help_shows_the_three_layouts():
    out = tensorgrade("grade", "--help")
    assert out.returncode == 0
    for words in ("gradescope", "submission_metadata.yml", "canvas", "name_[LATE_]userid_fileid_file",
                  "submissions.csv", "intake.csv"):
        assert words in out.stdout, words
