"""Expected records for the otter path, and the bundle file that carries them.

The bundle (`tensorgrade_otter.json`) holds, with no reference solution: per exercise,
the check code (the grader's source; public-only in the student distribution), the
banned APIs, and per check its spec, tolerance, seed and the *expected record* — the
reference solution's record on exactly that seed, computed at build time with
`Reference(course).record`. `StoredReference` answers a Grader's reference look-ups
from it, so the fast engine can judge without solutions.

Which seeds, and who reads the bundle:
- student distribution: the public fixed key `seeds.PUBLIC`, public checks only — the
  same inputs `tensorgrade check` uses; read by `tensorgrade check` (in its grading
  process) and by the notebook's check cells (otter/runtime.py, in the student's own
  kernel: nothing in it is secret);
- autograder.zip (Gradescope, `otter run`): key "fixed" — `Plan(seed_by="fixed")` of the
  fast engine — all checks, in `tensorgrade-data/` beside otter's config, never among
  the support files otter copies next to the submission. Only the `TensorgradePlugin`
  reads it, in otter's runner process; the student's code runs in tensorgrade's sandbox,
  where the folder is hidden (and 0600 against the sandbox's uid). Inside Gradescope's
  container the student id is not known, so everyone gets the same (fixed) inputs; no
  solution is shipped, not even in the instructor-side zip;
- `OtterPool` (instructor machine): the grading process knows the student id and holds
  the reference, so it writes a bundle for that student's key (`plan.student_key`) in a
  private folder and points the plugin at it (env `TENSORGRADE_OTTER_BUNDLE`): otter
  then grades with the very seeds the fast engine uses for the same plan.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from tensorgrade import seeds
from tensorgrade.spec.course import Course
from tensorgrade.spec.errors import SpecError
from tensorgrade.wire import TrialRecord

BUNDLE = "tensorgrade_otter.json"
FORMAT = 1


def public_grader_source(source: str, hidden: set[str], filename: str = "<grader>") -> str:
    """The grader's source without the check functions registered for `hidden` check ids.

    Top-level functions decorated with `@<rubric>.check("<hidden id>")` are cut out with
    their decorators (helpers they share with public checks stay). The result must not
    mention any hidden id.
    """
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines(keepends=True)
    cut: list[tuple[int, int]] = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == "check"
                    and dec.args and isinstance(dec.args[0], ast.Constant) and dec.args[0].value in hidden):
                start = min(d.lineno for d in node.decorator_list) - 1
                cut.append((start, node.end_lineno))
                break
    for start, end in sorted(cut, reverse=True):
        # also drop the blank lines that separated the removed function from the previous one
        while start > 0 and not lines[start - 1].strip():
            start -= 1
        del lines[start:end]
    out = "".join(lines).rstrip() + "\n"
    leaked = sorted(h for h in hidden if h in out)
    if leaked:
        raise SpecError(f"{filename}: hidden check id(s) {leaked} are still mentioned after removing their "
                        "check functions (keep hidden ids out of shared helpers)")
    return out


def make_bundle(course: Course, reference, *, key: str, public_only: bool) -> dict:
    """The bundle for one seed key: check code, specs, seeds and expected records.

    `reference` is anything with `.record(exercise, check, seed) -> TrialRecord` (normally
    `run.reference.Reference`).
    """
    base = course.spec.grading.seed
    exercises = {}
    for ex in course.exercises:
        checks = [c for c in ex.spec.checks if not public_only or c.visibility == "public"]
        hidden = {c.id for c in ex.spec.checks if c.visibility == "hidden"}
        source = ex.grader.read_text(encoding="utf-8")
        if public_only:
            source = public_grader_source(source, hidden, course.relative(ex.grader))
        entry = {
            "functions": [f.name for f in ex.spec.functions],
            "banned": {f.name: f.banned for f in ex.spec.functions if f.banned},
            "grader": {"source": source, "filename": f"checks/{ex.id}.py"},
            "checks": {},
        }
        for c in checks:
            seed = seeds.check_seed(base, key, ex.id, c.id)
            entry["checks"][c.id] = {
                "spec": c.model_dump(mode="json"),
                "tolerance": ex.spec.tolerance_for(c.id).model_dump(mode="json"),
                "seed": seed,
                "expected": reference.record(ex.id, c.id, seed).to_json(),
            }
        exercises[ex.id] = entry
    return {"format": FORMAT, "assignment": course.spec.assignment.id, "seed_key": key,
            "public_only": public_only, "exercises": exercises}


def write_bundle(path: Path, bundle: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


def read_bundle(path: Path) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise SpecError(f"{path}: unsupported bundle format {data.get('format')!r} (rebuild with tensorgrade build)")
    return data


class StoredReference:
    """A `Reference` stand-in that answers from a bundle's stored expected records.

    Used by `tensorgrade check` in the student distribution, which has no solutions/.
    Only the (exercise, check, seed) triples stored at build time are known.
    """

    def __init__(self, bundle: dict | Path):
        self.bundle = read_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle

    def record(self, exercise: str, check: str, seed: int) -> TrialRecord:
        entry = self.bundle["exercises"].get(exercise, {}).get("checks", {}).get(check)
        if entry is None:
            raise SpecError(f"{BUNDLE}: no stored expectation for check '{check}' of '{exercise}'")
        if entry["seed"] != seed:
            raise SpecError(f"{BUNDLE}: the stored expectation of '{check}' is for other inputs "
                            f"(seed {entry['seed']}, asked {seed}); rebuild the distribution")
        return TrialRecord.from_json(entry["expected"], keep_tracebacks=True)
