"""The otter engine: every submission graded through otter's own runner, one subprocess each.

`OtterPool` has the pool interface of `batch.LocalPool`: `grade(subs)` yields
`(Submission, StudentResult | Exception)` in completion order, and `close()`.

Per submission:
1. the submission's files become one notebook (`submission.ipynb`, one code cell per
   file, in exercise order; a one-file submission is one cell, as `otter run` does
   with a `.py`), so a file that fails to import breaks only its own cell;
2. a per-student bundle is written to a private folder of its own (0700, the file
   0600), never the submission's folder: the seeds are the fast engine's for the same
   plan (`Plan.student_key(student)`), the expected records come from the reference in
   this (trusted) process; its path travels in $TENSORGRADE_OTTER_BUNDLE to the grading
   subprocess, where otter's runner process and the tensorgrade plugin read it;
3. a subprocess (`python -m tensorgrade.otter.engine`) calls `otter.api.grade_submission`
   on the autograder zip, whose `TensorgradePlugin` (plugin.py) keeps the notebook as
   data, lets otter's kernel execute an empty notebook and placeholder tests, and then,
   in otter's runner process, grades the notebook in tensorgrade's sandbox (the bundle's
   folder hidden from it) and overwrites every test result with tensorgrade's verdicts;
   the subprocess writes those GradingResults as JSON, taken from the plugin in memory
   (plus the plugin's full record, and otter's Gradescope dict as results.json);
4. the subprocess is killed with its whole process group after `timeout` seconds; the
   student then scores zero with status "timeout";
5. `results.otter.from_grading_results` turns otter's GradingResults into the
   StudentResult that the batch writes (grades.csv, results.json); statuses, review
   flags and captured output come from the plugin's record.

Where judging happens: in the grading subprocess (otter's runner), a process that never
runs student code: the student's code runs only in the sandbox's child, so it cannot
patch the judge, and cannot read the bundle (hidden, 0600, path not in its environment).
Before the plugin, checks were judged in otter's kernel next to the student's code, and a
notebook replacing `tensorgrade.judge.verdict.judge` scored full marks with stubs.

Differences from the fast engine: the whole submission is one notebook, i.e. one module
(a fatal fault while importing it costs every exercise, as in the fast engine for a
one-file submission); each submission pays for a Jupyter kernel and a zygote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable, Iterator

from tensorgrade.grading import Plan, zero_result
from tensorgrade.results.status import INFRASTRUCTURE
from tensorgrade.otter.expected import BUNDLE, make_bundle, write_bundle
from tensorgrade.otter.runtime import ENV_BUNDLE
from tensorgrade.results.model import StudentResult
from tensorgrade.results.otter import from_grading_results, grading_results_from_json, grading_results_to_json
from tensorgrade.intake.submission import Submission
from tensorgrade.spec.course import Course

RESULTS_JSON = "grading_results.json"  # JSON, never a pickle


def submission_notebook(course: Course, sub: Submission):
    """The submission's files as a notebook: one code cell per file, in the course's exercise order."""
    import nbformat

    order = []
    for ex in course.exercises:
        module = sub.modules.get(ex.id)
        name = f"{module}.py" if module else None
        if name in sub.files and name not in order:
            order.append(name)
    order += [n for n in sorted(sub.files) if n not in order]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(sub.files[n]) for n in order])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["otter"] = {"assignment_name": course.spec.assignment.id}
    return nb


class OtterPool:
    """Grades with `otter.api.grade_submission` in a subprocess per submission, `workers` at a time."""

    def __init__(self, course: Course, plan: Plan = Plan(), workers: int = 1,
                 autograder_zip: Path | None = None, timeout: float = 300):
        from tensorgrade.run.reference import Reference

        self.course, self.plan, self.workers, self.timeout = course, plan, max(1, workers), timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="tensorgrade-otter-")
        self.tmp = Path(self._tmp.name)
        self.reference = Reference(course)
        if autograder_zip is None:
            from tensorgrade.otter.build import build_autograder

            autograder_zip = build_autograder(course, self.tmp / "autograder.zip", self.reference)
        self.autograder_zip = Path(autograder_zip).resolve()
        self._count = 0

    def _bundle(self, student: str, index: int) -> Path:
        """Expected records for this student's seeds (all checks), in a private folder of their own.

        Not in the submission's folder: the plugin hides the bundle's folder from the sandbox,
        and nothing of the submission should be hidden with it.
        """
        key = Plan(seed_by=self.plan.seed_by).student_key(student)
        folder = self.tmp / "bundles" / f"s{index:06d}"
        folder.mkdir(parents=True, mode=0o700)
        os.chmod(folder.parent, 0o700)
        path = folder / BUNDLE
        write_bundle(path, make_bundle(self.course, self.reference, key=key, public_only=False))
        os.chmod(path, 0o600)
        return path

    def grade_one(self, sub: Submission, index: int = 0) -> StudentResult:
        import nbformat

        start = time.perf_counter()
        if sub.status != "ok":
            result = zero_result(self.course, sub.student, sub.status, sub.detail)
            result.seconds = time.perf_counter() - start
            return result
        folder = self.tmp / f"s{index:06d}"
        folder.mkdir(parents=True)
        nb_path = folder / "submission.ipynb"
        nbformat.write(submission_notebook(self.course, sub), str(nb_path))
        env = {**os.environ, ENV_BUNDLE: str(self._bundle(sub.student, index)), "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = [sys.executable, "-m", "tensorgrade.otter.engine", str(self.autograder_zip), str(nb_path), str(folder)]
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            result = zero_result(self.course, sub.student, "timeout",
                                 f"otter did not finish grading within {self.timeout:g} s")
            result.seconds = time.perf_counter() - start
            return result
        finally:
            _kill_group(proc)  # a kernel left behind by a crashed runner
        data_path = folder / RESULTS_JSON
        if proc.returncode != 0 or not data_path.is_file():
            text = output.decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"otter failed (exit {proc.returncode}): {text}")
        data = json.loads(data_path.read_text(encoding="utf-8"))
        gr, catastrophic = grading_results_from_json(data, self.course)
        plugin = data.get("tensorgrade") if isinstance(data.get("tensorgrade"), dict) else {}
        status, detail = "ok", ""
        if catastrophic:
            status, detail = INFRASTRUCTURE, f"otter could not grade the submission: {catastrophic}"
        elif plugin.get("error") or not plugin.get("record"):
            status, detail = INFRASTRUCTURE, str(plugin.get("error") or "the tensorgrade plugin produced no record")[:2000]
        result = from_grading_results(gr, self.course, sub.student, status=status, detail=detail)
        if status == "ok":
            _take_details(result, StudentResult.from_dict(plugin["record"]))
        result.seconds = time.perf_counter() - start
        return result

    def grade(self, subs: Iterable[Submission]) -> Iterator[tuple[Submission, StudentResult | BaseException]]:
        from tensorgrade.batch import grade_concurrently

        subs = list(subs)
        numbered = {id(sub): i for i, sub in enumerate(subs, start=self._count + 1)}  # a private folder each
        self._count += len(subs)
        return grade_concurrently(lambda sub: self.grade_one(sub, numbered[id(sub)]), subs, self.workers)

    def close(self) -> None:
        self._tmp.cleanup()


def _take_details(result: StudentResult, record: StudentResult) -> None:
    """Statuses, review flags and captured output from the plugin's record (scores stay otter's)."""
    result.status, result.detail = record.status, record.detail
    result.flags, result.output = list(record.flags), record.output
    by_id = {e.id: e for e in record.exercises}
    for ex in result.exercises:
        if ex.id in by_id:
            ex.status, ex.detail = by_id[ex.id].status, by_id[ex.id].detail


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _main(argv: list[str]) -> int:
    """Subprocess entry: grade one submission with otter, write its GradingResults as JSON and results.json.

    The JSON comes from the plugin's own GradingResults object in this process (the one it
    overwrote), not from the copy that otter round-trips through a pickle file.
    """
    from otter.api import grade_submission
    from otter.run.run_autograder.autograder_config import AutograderConfig

    from tensorgrade.otter import plugin

    ag_zip, submission, out = argv
    out_dir = Path(out).resolve()
    gr = grade_submission(submission, ag_zip, quiet=True)
    run = plugin.RUNS[-1] if plugin.RUNS else None
    if run is not None and run.results is not None:
        gr = run.results
    data = grading_results_to_json(gr)
    if run is None:
        data["tensorgrade"] = {"error": f"{ag_zip} did not run the tensorgrade plugin ({plugin.PLUGIN}); "
                                        "rebuild it with `tensorgrade build`"}
    else:
        data["tensorgrade"] = {"error": run.error, "record": run.record.to_dict() if run.record else None}
    (out_dir / RESULTS_JSON).write_text(json.dumps(data), encoding="utf-8")
    import zipfile

    with zipfile.ZipFile(ag_zip) as zf:
        config = AutograderConfig(json.loads(zf.read("otter_config.json")))
    (out_dir / "results.json").write_text(json.dumps(gr.to_gradescope_dict(config), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
