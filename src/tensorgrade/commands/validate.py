"""`tensorgrade validate`: the graders' own test, for instructors and CI.

For every exercise: the reference solution scores full marks on several seeds,
the stub scores zero without crashing the grader, and every classic mistake in
graders/mistakes/<exercise>/ loses exactly the checks it names in LOSES (so the
declared targets stay true as graders change).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from tensorgrade.commands.common import add_course_option, grader, load
from tensorgrade.intake.submission import Submission
from tensorgrade.results.model import ExerciseResult
from tensorgrade.run.init import Plan

if TYPE_CHECKING:  # the rest is imported where it is used: `tensorgrade --help` stays light
    from tensorgrade.spec.course import Course, Exercise

SEEDS = ("validate-1", "validate-2", "validate-3")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="test the graders: solutions score full marks, stubs zero, mistakes lose points (instructors)",
        description="Grade the reference solutions on several seeds (must score full marks), the stubs "
                    "(must score zero without crashing), every file in graders/mistakes/<exercise>/ "
                    "(must lose exactly the checks listed in its LOSES) and every file in "
                    "graders/idioms/<exercise>/ (other correct answers: must score full marks). "
                    "Exits 1 on any violation.",
    )
    p.add_argument("exercises", nargs="*", metavar="EXERCISE", help="exercise ids (default: all)")
    add_course_option(p)
    p.set_defaults(run=run)


@dataclass
class Finding:
    exercise: str
    what: str
    ok: bool
    reason: str = ""


def declared_losses(path: Path) -> tuple[str, ...] | None:
    """The LOSES tuple of a mistake file, read from its syntax tree (the file is not executed here)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "LOSES" for t in node.targets):
            value = ast.literal_eval(node.value)
            return tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return None


def _one_file(student: str, ex: Exercise, path: Path) -> Submission:
    return Submission(student=student, source=str(path), files={f"{ex.id}.py": path.read_text(encoding="utf-8")},
                      modules={ex.id: ex.id})


def _exercise(result, ex_id: str) -> ExerciseResult:
    return next(e for e in result.exercises if e.id == ex_id)


def _failing(ex: ExerciseResult) -> str:
    return "; ".join(f"{c.id}: {c.feedback.splitlines()[0] if c.feedback else 'failed'}" for c in ex.checks if not c.passed)


def grader_bug_findings(g, ex: Exercise) -> list[Finding]:
    """One finding per check whose reference run failed: the instructor's line and the whole traceback."""
    bugs = [bug for (ex_id, _), bug in sorted(g.grader_bugs.items()) if ex_id == ex.id]
    return [Finding(ex.id, f"grader, check {bug.check}", False,
                    bug.text() + (f"\n{bug.traceback.rstrip()}" if bug.traceback else "")) for bug in bugs]


def validate_exercise(g, ex: Exercise) -> list[Finding]:
    findings = []
    for seed in SEEDS:
        res = _exercise(g.grade(_one_file(seed, ex, ex.solution)), ex.id)
        ok = res.score == res.possible
        findings.append(Finding(ex.id, f"solution, seed {seed}: {res.score:g}/{res.possible:g}", ok,
                                "" if ok else f"the reference solution loses points: {_failing(res)}"))
    res = _exercise(g.grade(_one_file(SEEDS[0], ex, ex.stub)), ex.id)
    ok = res.score == 0 and res.status == "ok"
    findings.append(Finding(ex.id, f"stub: {res.score:g}/{res.possible:g}", ok,
                            "" if ok else f"the stub should score 0 with status ok, got {res.score:g} ({res.status})"))
    mistakes = sorted(ex.mistakes.glob("*.py")) if ex.mistakes.is_dir() else []
    if len(mistakes) < 3:
        findings.append(Finding(ex.id, f"mistakes: {len(mistakes)} found", False,
                                f"ship at least three classic mistakes in {ex.mistakes}"))
    for path in mistakes:
        findings.append(_validate_mistake(g, ex, path))
    idioms = ex.mistakes.parent.parent / "idioms" / ex.id  # graders/idioms/<id>/: other right answers
    for path in sorted(idioms.glob("*.py")) if idioms.is_dir() else []:
        findings.append(_validate_idiom(g, ex, path))
    return grader_bug_findings(g, ex) + findings


def _validate_idiom(g, ex: Exercise, path: Path) -> Finding:
    """A correct answer written differently from the solution must score full marks on every seed."""
    lost = set()
    for seed in SEEDS:
        res = _exercise(g.grade(_one_file(seed, ex, path)), ex.id)
        lost |= {c.id for c in res.checks if not c.passed}
    if lost:
        return Finding(ex.id, f"idiom {path.stem}", False,
                       f"a correct answer loses {sorted(lost)}: a check demands more than the exercise asks")
    return Finding(ex.id, f"idiom {path.stem}: full marks", True)


def _validate_mistake(g, ex: Exercise, path: Path) -> Finding:
    name = f"mistake {path.stem}"
    try:
        loses = declared_losses(path)
    except (SyntaxError, ValueError) as exc:
        return Finding(ex.id, name, False, f"{path}: cannot read LOSES: {exc}")
    known = {c.id for c in ex.spec.checks}
    if not loses or not set(loses) <= known:
        return Finding(ex.id, name, False, f"{path}: LOSES must name checks of {ex.id} (known: {sorted(known)})")
    kept, extra = set(), set()
    for seed in SEEDS[:2]:
        res = _exercise(g.grade(_one_file(seed, ex, path)), ex.id)
        kept |= {c.id for c in res.checks if c.id in loses and c.passed}
        extra |= {c.id for c in res.checks if c.id not in loses and not c.passed}
    if kept:
        return Finding(ex.id, name, False, f"no longer caught: it still passes {sorted(kept)}")
    if extra:
        return Finding(ex.id, name, False, f"also loses {sorted(extra)}, which LOSES does not name: "
                                           "add them to LOSES or make the mistake narrower")
    return Finding(ex.id, f"{name}: loses {', '.join(loses)}", True)


def validate(course: Course, exercises: list[Exercise]) -> list[Finding]:
    from tensorgrade.judge.verdict import ReferenceFailed

    with grader(course, Plan(seed_by="student")) as g:
        findings = []
        for ex in exercises:
            try:
                findings += validate_exercise(g, ex)
            except ReferenceFailed as exc:
                findings.append(Finding(ex.id, "reference", False, str(exc)))
        return findings


def run(args) -> int:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    course = load(args)
    exercises = [course.exercise(e) for e in args.exercises] if args.exercises else list(course.exercises)
    findings = validate(course, exercises)
    for f in findings:
        mark = "[green]✓[/]" if f.ok else "[red]✗[/]"
        reason = "\n    ".join(escape(f.reason).splitlines())  # a grader bug's traceback: every line indented
        console.print(f"{mark} {f.exercise}: {escape(f.what)}" + (f"\n    [red]{reason}[/]" if f.reason else ""))
    bad = [f for f in findings if not f.ok]
    if bad:
        console.print(f"[bold red]validate: {len(bad)} problem(s) in {len({f.exercise for f in bad})} exercise(s)[/]")
        return 1
    console.print(f"[bold green]validate: all {len(findings)} checks of the graders passed[/]")
    return 0
