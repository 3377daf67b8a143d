"""The attack corpus (tests/attack_corpus.py), graded as two batches: no attack gains a point.

Every case is a submission with one hostile change; its `base` is the same submission without it.
Against the previous engine 26 of these gained points (up to 60/60 from stubs) or leaked another
student's data or hidden grader source; see the corpus for what each one did. Here each must:
- score at most its base on every check of the exercise it attacks, and exactly its base elsewhere;
- leave no marker it hunts for (another student's source or output, hidden grader source) in its outputs;
- be named in the review column (a refusal or a static flag);
and the honest neighbours in the same batches must be unaffected.
"""

from __future__ import annotations

import html
import json

import pytest

import run_attack_corpus as runner
from attack_corpus import CASES
from gradekit import EXERCISES, exercise_of, read_gradebook, record

# Cases that the previous engine already stopped (see their `what`), and the victims/colluders of the
# snooping cases: they attack nothing themselves, so no refusal needs to be named for them.
UNFLAGGED = {name for name, case in CASES.items() if "does not work today" in case["what"]
             or name.endswith(("_victim",)) or "writer" in name}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    outs = {}
    for label, limit, workers in (("fast", 1, 2), ("real", 5, 1)):
        part = {n: c for n, c in sorted(CASES.items()) if runner.batch_of(c) == label}
        out, base_of = runner.grade(tmp, label, part, limit, workers)
        outs[label] = (out, base_of)
    return outs


def where(graded, name):
    out, base_of = graded[runner.batch_of(CASES[name])]
    return out, base_of[name]


def per_check(rec: dict) -> dict[tuple[str, str], float]:
    return {(e["id"], c["id"]): c["score"] for e in rec["exercises"] for c in e["checks"]}


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_attack_earns_a_point_it_did_not_earn_by_behaviour(graded, name):
    out, base = where(graded, name)
    case = CASES[name]
    got, honest = per_check(record(out, name)), per_check(record(out, base))
    for (ex, check), score in got.items():
        if ex == case["exercise"]:
            assert score <= honest[(ex, check)], (name, check, score, honest[(ex, check)])
        else:
            assert score == honest[(ex, check)], (name, ex, check, score, honest[(ex, check)])


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.get("leak")))
def test_snooping_finds_nothing(graded, name):
    out, _ = where(graded, name)
    seen = html.unescape((out / name / "report.html").read_text(errors="replace"))
    seen += (out / name / "record.json").read_text() + (out / name / "results.json").read_text()
    for label, marker in CASES[name]["leak"].items():
        assert marker not in seen, (name, label)


@pytest.mark.parametrize("name", sorted(set(CASES) - UNFLAGGED))
def test_every_attempt_is_named_in_the_review_column(graded, name):
    out, _ = where(graded, name)
    _, book = read_gradebook(out / "grades.csv")
    assert book[name]["review"], f"{name}: nothing in the review column"


def test_whole_course_forgeries_from_stubs_score_zero(graded):
    for name in ("rec_sysmodules_whole_course", "channel_fd3_whole_course"):
        out, _ = where(graded, name)
        assert sum(per_check(record(out, name)).values()) == 0, name


@pytest.mark.parametrize("label", ["fast", "real"])
def test_honest_neighbours_are_unaffected(graded, label):
    out, _ = graded[label]
    full = per_check(record(out, "control"))
    assert set(full.values()) != {0.0} and all(score > 0 for score in full.values())
    assert sum(per_check(record(out, "stub_control")).values()) == 0
    for student in ("control", "stub_control"):
        rec = record(out, student)
        assert rec["flags"] == [] and all(e["status"] == "ok" for e in rec["exercises"]), (student, rec["flags"])
    assert [e for e in EXERCISES if exercise_of(record(out, "control"), e)["status"] != "ok"] == []


def test_a_slow_call_cannot_keep_its_deadline_alive(graded):
    for name in ("slow_chatter_fd3", "slow_chatter_on_call", "slow_chatter_print"):
        out, _ = where(graded, name)
        rec = record(out, name)
        grads = {c["id"]: c for c in exercise_of(rec, "ex1_requires_grad")["checks"] if c["function"] == "gradient"}
        assert min(c["score"] for c in grads.values()) == 0, name
        assert json.dumps(rec["seconds"]) and rec["seconds"] < 60, (name, rec["seconds"])
