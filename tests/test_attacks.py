"""The attack corpus (tests/attack_corpus.py), graded as two batches: no attack gains a point.

Every case is a submission with one hostile change; its `base` is the same submission without it.
Two corpora: the first (attack_corpus) was written against the previous engine, where 21 of its
cases gained points (up to 60/60 from stubs), 7 leaked another student's data or hidden grader
source and 4 cost another exercise points; the second (attack_corpus_second) was written blind,
against the new boundary, and found holes since closed. Here each case must:
- score at most its base on every check of the exercise it attacks, and exactly its base elsewhere;
- leave no marker it hunts for (another student's source or output, hidden grader source) in its outputs;
- be named in the review column (a refusal or a static flag);
and the honest neighbours in the same batches must be unaffected.
"""

from __future__ import annotations

import html
import importlib

import pytest

import run_attack_corpus as runner
from gradekit import EXERCISES, exercise_of, read_gradebook

CORPORA = {name: importlib.import_module(name).CASES for name in ("attack_corpus", "attack_corpus_second")}
# Cases that attack nothing themselves (victims, colluders), controls the previous engine already stopped,
# and cases about messages or ids rather than an attempt: no refusal needs to be named for them.
NOT_AN_ATTEMPT = ("_victim", "writer", "stop_", "confusing_", "xdir_", "grades.csv", "summary.html")


def unflagged(name: str, case: dict) -> bool:
    return ("does not work today" in case["what"] or any(part in name for part in NOT_AN_ATTEMPT)
            or name.startswith("ban_"))  # a banned call is named in the check's own feedback instead


def cases_of(corpus: str) -> list[tuple[str, str]]:
    return [(corpus, name) for name in sorted(CORPORA[corpus])]


ALL = cases_of("attack_corpus") + cases_of("attack_corpus_second")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{corpus: {case: (out folder, base student)}} and the controls' folders, graded as the runner does."""
    found, controls = {}, []
    for corpus, cases in CORPORA.items():
        tmp = tmp_path_factory.mktemp(corpus)
        batches = [("fast", 1, 2, None), ("real", 5, 1, None)]
        batches += [(f"isolated-{i}", 1, 1, n) for i, n in
                    enumerate(sorted(n for n, c in cases.items() if runner.batch_of(c) == "isolated"))]
        found[corpus] = {}
        for label, limit, workers, only in batches:
            part = {n: c for n, c in sorted(cases.items()) if (n == only if only else runner.batch_of(c) == label)}
            if not part:
                continue
            out, base_of = runner.grade(tmp, label, part, limit, workers)
            controls.append(out)
            for name in part:
                found[corpus][name] = (out, base_of[name])
    return found, controls


def per_check(rec: dict) -> dict[tuple[str, str], float]:
    return {(e["id"], c["id"]): c["score"] for e in rec["exercises"] for c in e["checks"]}


@pytest.mark.parametrize("corpus, name", ALL)
def test_no_attack_earns_a_point_it_did_not_earn_by_behaviour(graded, corpus, name):
    out, base = graded[0][corpus][name]
    case = CORPORA[corpus][name]
    rec = runner.record(out, name)
    assert rec["student"] == name, "another student's grading wrote this student's folder"
    got, honest = per_check(rec), per_check(runner.record(out, base))
    attacked = {case["exercise"]} | {ex for ex, source in case["files"].items() if case["base"].get(ex) != source}
    for (ex, check), score in got.items():
        if ex in attacked:
            assert score <= honest[(ex, check)], (name, check, score, honest[(ex, check)])
        else:
            assert score == honest[(ex, check)], (name, ex, check, score, honest[(ex, check)])


@pytest.mark.parametrize("corpus, name", [(c, n) for c, n in ALL if CORPORA[c][n].get("leak")])
def test_snooping_finds_nothing(graded, corpus, name):
    out, _ = graded[0][corpus][name]
    folder = runner.student_dir(out, name)
    seen = html.unescape((folder / "report.html").read_text(errors="replace"))
    seen += (folder / "record.json").read_text() + (folder / "results.json").read_text()
    for label, marker in CORPORA[corpus][name]["leak"].items():
        assert marker not in seen, (name, label)


@pytest.mark.parametrize("corpus, name", [(c, n) for c, n in ALL if not unflagged(n, CORPORA[c][n])])
def test_every_attempt_is_named_in_the_review_column(graded, corpus, name):
    out, _ = graded[0][corpus][name]
    _, book = read_gradebook(out / "grades.csv")
    assert book[name]["review"], f"{name}: nothing in the review column"


def test_banned_calls_say_what_was_banned(graded):
    out, _ = graded[0]["attack_corpus_second"]["ban_is_grads_batched"]
    rec = runner.record(out, "ban_is_grads_batched")
    text = "\n".join(c["feedback"] for c in exercise_of(rec, "ex6_jacobian_hessian")["checks"]
                     if c["function"] == "jacobian_by_rows")
    assert "batched gradients" in text and "may not be used in jacobian_by_rows()" in text, text


def test_whole_course_forgeries_from_stubs_score_zero(graded):
    for corpus, name in (("attack_corpus", "rec_sysmodules_whole_course"), ("attack_corpus", "channel_fd3_whole_course"),
                         ("attack_corpus_second", "esc_functools_property_whole_course")):
        out, _ = graded[0][corpus][name]
        assert sum(per_check(runner.record(out, name)).values()) == 0, name


def test_honest_neighbours_are_unaffected(graded):
    for out in graded[1]:
        full = per_check(runner.record(out, "control"))
        assert all(score > 0 for score in full.values())
        assert sum(per_check(runner.record(out, "stub_control")).values()) == 0
        for student in ("control", "stub_control"):
            rec = runner.record(out, student)
            assert rec["flags"] == [] and all(e["status"] == "ok" for e in rec["exercises"]), (out, student)
        assert [e for e in EXERCISES if exercise_of(runner.record(out, "control"), e)["status"] != "ok"] == []


def test_a_slow_call_cannot_keep_its_deadline_alive(graded):
    for name in ("slow_chatter_fd3", "slow_chatter_on_call", "slow_chatter_print"):
        out, _ = graded[0]["attack_corpus"][name]
        rec = runner.record(out, name)
        grads = [c for c in exercise_of(rec, "ex1_requires_grad")["checks"] if c["function"] == "gradient"]
        assert min(c["score"] for c in grads) == 0, name
        assert rec["seconds"] < 60, (name, rec["seconds"])
