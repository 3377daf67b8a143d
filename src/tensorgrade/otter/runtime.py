"""The student's self-check in Jupyter: one tensorgrade check on the student's functions, in the student's kernel.

Used only by the student distribution (dist/student/): the notebook's `grader.check`
cells run the public otter tests, and each test case calls `run_check(env, exercise,
check)`, where `env` is the student's global namespace (otter passes it to a test
parameter named `env`). The check runs the same check function as the fast engine
(the grader's public part, loaded from the bundle), on the same seed, and is judged by
the same `judge` against the stored expected record. A failing check raises
AssertionError whose message is tensorgrade's feedback; otter shows it after the test's
own line.

Judging here, in the kernel that runs the student's code, is fine on the student's own
machine: the checks are public, the bundle holds only the public checks' expectations,
and a student who patches the judge fools only themselves. It is never used for
grades: the autograder zip's tests are placeholders, and its `TensorgradePlugin`
(plugin.py) grades in tensorgrade's sandbox from otter's runner process instead, because
there the same patching (`tensorgrade.judge.verdict.judge = ...`) would earn full marks.

The bundle is found at $TENSORGRADE_OTTER_BUNDLE, else `tensorgrade_otter.json` in the
current folder or its parent (the student notebook runs next to its bundle).
"""

from __future__ import annotations

import os
from pathlib import Path

from tensorgrade.otter.expected import BUNDLE, read_bundle

ENV_BUNDLE = "TENSORGRADE_OTTER_BUNDLE"
_BUNDLES: dict[str, dict] = {}
_RUBRICS: dict[tuple[str, str], object] = {}
_BANS: dict[tuple[str, str], dict] = {}


def bundle_path() -> Path:
    env = os.environ.get(ENV_BUNDLE)
    if env:
        return Path(env)
    here = Path.cwd()
    for folder in (here, here.parent):
        if (folder / BUNDLE).is_file():
            return folder / BUNDLE
    raise FileNotFoundError(f"{BUNDLE} not found in {here} or its parent (is tensorgrade's data next to the tests?)")


def _bundle() -> tuple[str, dict]:
    path = str(bundle_path().resolve())
    if path not in _BUNDLES:
        _BUNDLES[path] = read_bundle(Path(path))
    return path, _BUNDLES[path]


def _rubric(path: str, exercise: str, grader: dict):
    from tensorgrade.rubric.registry import rubric_from_source

    key = (path, exercise)
    if key not in _RUBRICS:
        _RUBRICS[key] = rubric_from_source(grader["source"], grader["filename"], exercise)
    return _RUBRICS[key]


def _bans(path: str, exercise: str, banned: dict) -> dict:
    from tensorgrade.rubric.ban import banned_code

    key = (path, exercise)
    if key not in _BANS:
        _BANS[key] = {fn: banned_code(mods) for fn, mods in banned.items()}
    return _BANS[key]


def evaluate(env: dict, exercise: str, check: str):
    """Run and judge one check on the functions in `env`; return the Verdict."""
    from tensorgrade.judge.verdict import judge
    from tensorgrade.rubric.trial import Trial, run_trial
    from tensorgrade.spec.models import CheckSpec, Tolerance
    from tensorgrade.wire import TrialRecord

    path, bundle = _bundle()
    ex = bundle["exercises"][exercise]
    entry = ex["checks"][check]
    rubric = _rubric(path, exercise, ex["grader"])
    trial = Trial(env, entry["seed"], banned=_bans(path, exercise, ex.get("banned", {})))
    record = run_trial(rubric.checks[check], trial)
    expected = TrialRecord.from_json(entry["expected"])
    return judge(CheckSpec(**entry["spec"]), Tolerance(**entry["tolerance"]), expected, record)


def run_check(env: dict, exercise: str, check: str) -> None:
    """Pass silently, or raise AssertionError with the learner-facing feedback."""
    verdict = evaluate(env, exercise, check)
    if not verdict.passed:
        raise AssertionError(verdict.feedback())
