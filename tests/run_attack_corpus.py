"""Grade the attack corpus (tests/attack_corpus.py) with the current engine and show what each attack gains.

    python tests/run_attack_corpus.py                 # everything (a few minutes on 2 cores)
    python tests/run_attack_corpus.py --only 'ban_|rec_'   # cases whose name matches a regex
    python tests/run_attack_corpus.py --keep /tmp/atk      # keep the class folders and outputs there
    python tests/run_attack_corpus.py --corpus attack_corpus_second   # another corpus module (same format)

Not a pytest module (pytest collects test_*.py only, and all work happens under __main__).

Two batches, each through `tensorgrade.batch.run_batch` on a copy of the course:
- "fast": a course copy with a 1 s time limit, 2 zygotes; most cases;
- "real": the course's real 5 s limit and ONE zygote, so students are graded one after the other in name
  order: the slow-chatter cases (which need the real limit) and the snooping cases (a victim must be graded
  before its snooper in the same zygote; the corpus names victims so that they sort first).
A case may name its batch with `batch` ("fast", "real" or "isolated": a batch of its own, for cases that
may take a whole batch down; a batch that raises becomes rows saying so). Each batch also grades `control` (the untouched solutions), `stub_control` (the untouched stubs) and every
case's `base` (the same submission without the hostile part), whose score is the case's honest score.
"""

from __future__ import annotations

import argparse
import html
import importlib
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attack_corpus import stub  # noqa: E402
from gradekit import EXERCISES, ROOT, copy_course, exercise_of, read_gradebook, write_folder  # noqa: E402

from tensorgrade.results.store import student_dir  # noqa: E402

REAL_BATCH_CLASSES = {"slow-chatter", "heap-snoop", "shm-snoop", "hidden-grader-source"}


def batch_of(case: dict) -> str:
    if case.get("batch"):
        return case["batch"]
    return "real" if case.get("slow") or case["attack_class"] in REAL_BATCH_CLASSES else "fast"


def record(out: Path, student: str) -> dict:
    """The stored record in the student's output folder (results/store.student_dir: ids that are not SAFE are slugged)."""
    return json.loads((student_dir(out, student) / "record.json").read_text())


def base_key(files: dict[str, str]) -> tuple:
    return tuple(sorted(files.items()))


def plan_students(cases: dict[str, dict]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """{student: files} for one batch (cases, controls, distinct bases) and {case: its base student}."""
    stubs = {ex: stub(ex) for ex in EXERCISES}
    students: dict[str, dict[str, str]] = {"control": {}, "stub_control": stubs}
    known = {base_key({}): "control", base_key(stubs): "stub_control"}
    base_of = {}
    for name, case in cases.items():
        students[name] = case["files"]
        key = base_key(case["base"])
        if key not in known:
            known[key] = f"base_{len(known) - 1:02d}_{name}"  # "base_" sorts before every snooping case
            students[known[key]] = case["base"]
        base_of[name] = known[key]
    return students, base_of


def grade(tmp: Path, label: str, cases: dict[str, dict], time_limit: int, workers: int):
    from tensorgrade.batch import LocalPool, run_batch
    from tensorgrade.grading import Plan
    from tensorgrade.spec.course import load_course

    root = tmp / label
    course = load_course(copy_course(root / "course", time_limit=time_limit))
    subs, out = root / "class", root / "out"
    subs.mkdir(parents=True)
    out.mkdir()
    students, base_of = plan_students(cases)
    for student, files in students.items():
        write_folder(subs / student, files)
    plan = Plan()
    hide = [subs, out, ROOT / "solutions", ROOT / "graders"]  # as in tests/test_adversarial.py
    started = time.perf_counter()
    report = run_batch(course, subs, out, plan=plan, workers=workers, pdf=False,
                       pool_factory=lambda: LocalPool(course, plan, workers, hide=hide))
    print(f"[{label}] graded {report.graded} submissions in {time.perf_counter() - started:.0f} s "
          f"(time limit {time_limit} s, {workers} zygote(s), infrastructure failures: "
          f"{report.infrastructure_failures})", file=sys.stderr)
    return out, base_of


def total(rec: dict) -> float:
    return sum(c["score"] for e in rec["exercises"] for c in e["checks"])


def ex_total(rec: dict, exercise: str) -> float:
    return sum(c["score"] for c in exercise_of(rec, exercise)["checks"])


def leaked(out: Path, student: str, markers: dict[str, str]) -> str:
    """Which markers this student's outputs show: in report.html (what the student sees) or only in record.json."""
    if not markers:
        return ""
    report = html.unescape((student_dir(out, student) / "report.html").read_text(errors="replace"))
    stored = json.loads((student_dir(out, student) / "record.json").read_text())
    stored = stored.get("output", "") + json.dumps(stored, ensure_ascii=False)
    seen = [label for label, m in markers.items() if m in report]
    kept = [label for label, m in markers.items() if m in stored and label not in seen]
    parts = ([f"report: {','.join(seen)}"] if seen else []) + ([f"record: {','.join(kept)}"] if kept else [])
    return "; ".join(parts) or "no"


def rows_for(cases: dict[str, dict], out: Path, base_of: dict[str, str]) -> list[dict]:
    _, book = read_gradebook(out / "grades.csv")
    rows = []
    for name, case in cases.items():
        rec, base = record(out, name), record(out, base_of[name])
        # the exercises whose score the attack changed (else the one it lives in), as "ex6 0->10"
        changed = [ex for ex in EXERCISES if ex_total(base, ex) != ex_total(rec, ex)] or [case["exercise"]]
        ex = " ".join(f"{e[:3]} {ex_total(base, e):g}->{ex_total(rec, e):g}" for e in changed)
        status = book[name]["status"]
        if rec.get("student") != name:  # another student's grading wrote this student's output folder
            status += f" [OUT folder holds {rec.get('student')!r}'s record]"
        rows.append(dict(
            case=name, cls=case["attack_class"], honest=total(base), score=total(rec),
            gained=total(rec) - total(base), ex=ex,
            status=status, flags=book[name]["review"], leak=leaked(out, name, case.get("leak", {})),
            base=base_of[name], what=case["what"]))
    for control in ("control", "stub_control"):
        rec = record(out, control)
        rows.append(dict(case=f"({control})", cls="", honest=total(rec), score=total(rec), gained=0.0, ex="",
                         status=book[control]["status"], flags=book[control]["review"], leak="", base="", what=""))
    return rows


def print_table(rows: list[dict], width: int = 60) -> None:
    head = ["case", "attack class", "honest", "score", "gained", "exercises changed", "status", "leak", "review flags"]
    cells = [[r["case"], r["cls"], f"{r['honest']:g}", f"{r['score']:g}", f"{r['gained']:+g}", r["ex"],
              r["status"], r["leak"], (r["flags"] or "-")[:width]] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *cells)]
    line = lambda vals: "| " + " | ".join(str(v).ljust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        print(line(c))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="grade only cases whose name matches this regex")
    ap.add_argument("--keep", type=Path, help="work in this folder (kept) instead of a temporary one")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    ap.add_argument("--corpus", default="attack_corpus", help="the module (in tests/) whose CASES to grade")
    args = ap.parse_args()
    CASES = importlib.import_module(args.corpus).CASES
    cases = {n: c for n, c in CASES.items() if not args.only or re.search(args.only, n)}
    # a snooper needs its victim in the same batch
    for name in list(cases):
        victim = cases[name].get("victim")
        if victim and victim not in cases:
            cases[victim] = CASES[victim]
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="tg-attacks-"))
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    batches = [("fast", 1, 2, None), ("real", 5, 1, None)]
    batches += [(f"isolated-{i}", 1, 1, n) for i, n in enumerate(sorted(n for n, c in cases.items()
                                                                     if batch_of(c) == "isolated"))]
    for label, time_limit, workers, only in batches:
        part = {n: c for n, c in sorted(cases.items()) if (n == only if only else batch_of(c) == label)}
        if not part:
            continue
        try:
            out, base_of = grade(tmp, label, part, time_limit, workers)
        except Exception as exc:  # the case took the whole batch down: that is its result
            failed = f"BATCH FAILED: {type(exc).__name__}: {exc}"[:160]
            print(f"[{label}] {failed}", file=sys.stderr)
            rows += [dict(case=n, cls=c["attack_class"], honest=0.0, score=0.0, gained=0.0, ex="", status=failed,
                          flags="", leak="", base="", what=c["what"], batch=label) for n, c in part.items()]
            continue
        rows += [dict(r, batch=label) for r in rows_for(part, out, base_of)]
    print_table(rows)
    print()
    for r in rows:
        if r["what"]:
            print(f"- {r['case']}: {r['what']}")
    print(f"\noutputs: {tmp}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
