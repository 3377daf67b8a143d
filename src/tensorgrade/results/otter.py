"""The student's record as otter-grader's `GradingResults`, and the Gradescope results.json made from it.

One otter TestFile per exercise, one TestCase per check (points, hidden),
one TestCaseResult per verdict (the feedback is its message). Otter's own
`to_gradescope_dict` builds the skeleton (public summary, output, stdout
visibility); the per-exercise entries are then split into per-check entries
so each check shows its own score, visibility and feedback.
"""

from __future__ import annotations

from otter.run.run_autograder.autograder_config import AutograderConfig
from otter.test_files import GradingResults
from otter.test_files.abstract_test import TestCase, TestCaseResult
from otter.test_files.exception_test import ExceptionTestFile

from tensorgrade.results import status
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.results.visibility import hidden_visibility
from tensorgrade.spec.course import Course
from tensorgrade.term import Standing, Term, standing_for


def to_grading_results(result: StudentResult) -> GradingResults:
    files = []
    for ex in result.exercises:
        cases = [TestCase(name=c.id, body=c.verifies, hidden=c.visibility == "hidden", points=c.points,
                          success_message=None, failure_message=None) for c in ex.checks]
        tf = ExceptionTestFile(name=ex.id, path=f"{ex.id}.py", test_cases=cases, all_or_nothing=False)
        tf.test_case_results = [TestCaseResult(test_case=tc, message=c.feedback or "passed", passed=c.passed)
                                for tc, c in zip(cases, ex.checks)]
        files.append(tf)
    gr = GradingResults(files)
    gr.set_output(submission_summary(result))
    return gr


def grading_results_to_json(gr: GradingResults) -> dict:
    """The parts of a GradingResults the record needs, as plain JSON (safe to read back, unlike a pickle)."""
    return {
        "catastrophic": None if gr._catastrophic_error is None else repr(gr._catastrophic_error)[:2000],
        "files": {
            name: [{"name": str(tcr.test_case.name), "passed": bool(tcr.passed), "message": str(tcr.message or "")}
                   for tcr in gr.get_result(name).test_case_results]
            for name in gr.test_files
        },
    }


def grading_results_from_json(data: dict, course: Course) -> tuple[GradingResults, str | None]:
    """Rebuild a GradingResults (points and visibility from the course, verdicts from `data`)."""
    files = []
    for ex in course.exercises:
        cases = {c.id: TestCase(name=c.id, body=c.verifies, hidden=c.visibility == "hidden", points=c.points,
                                success_message=None, failure_message=None) for c in ex.spec.checks}
        tf = ExceptionTestFile(name=ex.id, path=f"{ex.id}.py", test_cases=list(cases.values()), all_or_nothing=False)
        for row in (data.get("files") or {}).get(ex.id, []):
            if isinstance(row, dict) and row.get("name") in cases:
                tf.test_case_results.append(TestCaseResult(test_case=cases[row["name"]],
                                                           message=str(row.get("message", ""))[:5000],
                                                           passed=row.get("passed") is True))
        files.append(tf)
    catastrophic = data.get("catastrophic")
    return GradingResults(files), (str(catastrophic) if catastrophic else None)


def from_grading_results(gr: GradingResults, course: Course, student: str, **extra) -> StudentResult:
    """The inverse, for results that otter itself produced (the otter engine)."""
    exercises = []
    for ex in course.exercises:
        tf = gr.results.get(ex.id)
        by_name = {tcr.test_case.name: tcr for tcr in (tf.test_case_results if tf else [])}
        checks = []
        for c in ex.spec.checks:
            tcr = by_name.get(c.id)
            passed = bool(tcr and tcr.passed)
            checks.append(CheckResult(id=c.id, function=c.function, points=c.points,
                                      score=c.points if passed else 0.0, visibility=c.visibility,
                                      verifies=c.verifies,
                                      feedback="" if passed else ((tcr.message or "failed") if tcr else "not run")))
        exercises.append(ExerciseResult(id=ex.id, title=ex.spec.title, checks=checks))
    return StudentResult(student=student, exercises=exercises, **extra)


def submission_summary(result: StudentResult) -> str:
    lines = [f"Score: {result.total:g} / {result.possible:g}"]
    if result.status != "ok":
        lines.append(f"Submission status: {status.label(result.status, 'submission')} — {result.detail}")
    for ex in result.exercises:
        if ex.status != "ok":
            lines.append(f"{ex.id}: {status.label(ex.status)} — {ex.detail}")
    return "\n".join(lines)


def standing_tests(st: Standing) -> list[dict]:
    """The late policy and each adjustment as test entries (max_score 0), so the tests add up to the score."""
    tests = []
    late = [n for n in st.notes if n.startswith(("late", "on time", "extension"))]
    if st.penalty or late:
        tests.append({"name": "Late policy", "score": -round(st.penalty, 5), "max_score": 0.0,
                      "visibility": "visible", "output": "\n".join(late)})
    for a in st.applied:
        tests.append({"name": f"Adjustment › {a.target}", "score": round(a.points, 5), "max_score": 0.0,
                      "visibility": "visible", "output": a.text})
    return tests


def gradescope_dict(result: StudentResult, course: Course, gr: GradingResults | None = None,
                    term: Term | None = None) -> dict:
    """results.json in the Gradescope format: top-level score (final: late policy and adjustments applied),
    one test entry per check with its graded score, then one entry for the late policy and each adjustment."""
    st = standing_for(result, course, term)
    gr = gr or to_grading_results(result)
    if st.notes:
        gr.set_output(submission_summary(result) + "\n" + "\n".join(st.notes)
                      + f"\nFinal score: {round(st.total, 2):g} / {result.possible:g}")
    config = AutograderConfig({"show_hidden": course.spec.grading.hidden_feedback != "never",
                               "show_stdout": False, "force_public_test_summary": True})
    out = gr.to_gradescope_dict(config)
    hidden = hidden_visibility(course)
    tests = [t for t in out["tests"] if t.get("name") == "Public Tests"]
    for name in gr.test_files:
        tf = gr.get_result(name)
        for tcr in tf.test_case_results:
            case = tcr.test_case
            tests.append({
                "name": f"{name} › {case.name}",
                "score": case.points if tcr.passed else 0.0,
                "max_score": case.points,
                "visibility": hidden if case.hidden else "visible",
                "output": ("✓ " if tcr.passed else "✗ ") + (case.body or "") + ("" if tcr.passed else f"\n\n{tcr.message}"),
            })
    out["tests"] = tests + standing_tests(st)
    out["score"] = round(st.total, 5)
    return out
