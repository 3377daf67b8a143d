"""The otter engine: every submission graded by otter's own runner, one subprocess each.

`OtterPool` has the pool interface of `batch.LocalPool`: `grade(subs)` yields
`(Submission, StudentResult | Exception)` in completion order, and `close()`.

Per submission:
1. the submission's files become one notebook (`submission.ipynb`, one code cell per
   file, in exercise order; a one-file submission is one cell, as `otter run` does
   with a `.py`), so a file that fails to import breaks only its own cell;
2. a per-student bundle is written: the seeds are the fast engine's for the same plan
   (`Plan.student_key(student)`), the expected records come from the reference in this
   (trusted) process; the kernel finds it through $TENSORGRADE_OTTER_BUNDLE, which the
   kernel inherits from the grading subprocess;
3. a subprocess (`python -m tensorgrade.otter.engine`) calls `otter.api.grade_submission`
   on the autograder zip — otter unzips it, executes the notebook in a real Jupyter
   kernel and runs the generated tests there — and writes the `GradingResults` as JSON
   (plus otter's Gradescope dict as results.json, for inspection);
4. the subprocess is killed with its whole process group (the kernel included) after
   `timeout` seconds; the student then scores zero with status "timeout";
5. `results.otter.from_grading_results` turns otter's GradingResults into the
   StudentResult that the batch writes (grades.csv, results.json).

Differences from the fast engine, by design of otter: student code and tests share one
kernel (no sandbox, no per-call time limit, no tamper guard); a submission that kills
the kernel (os._exit, a segfault) loses every check, not only the exercise that did it.
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
from tensorgrade.otter.expected import make_bundle, write_bundle
from tensorgrade.otter.runtime import ENV_BUNDLE
from tensorgrade.results.model import StudentResult
from tensorgrade.results.otter import from_grading_results, grading_results_from_json, grading_results_to_json
from tensorgrade.run.submission import Submission
from tensorgrade.spec.course import Course

RESULTS_JSON = "grading_results.json"  # JSON, never a pickle: student code could have written the file


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

    def _bundle(self, student: str, folder: Path) -> Path:
        """Expected records for this student's seeds (all checks: the zip's tests cover every check)."""
        key = Plan(seed_by=self.plan.seed_by).student_key(student)
        path = folder / "tensorgrade_otter.json"
        write_bundle(path, make_bundle(self.course, self.reference, key=key, public_only=False))
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
        env = {**os.environ, ENV_BUNDLE: str(self._bundle(sub.student, folder)), "PYTHONDONTWRITEBYTECODE": "1"}
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
        gr, catastrophic = grading_results_from_json(json.loads(data_path.read_text(encoding="utf-8")), self.course)
        status, detail = "ok", ""
        if catastrophic:
            status, detail = "error", f"otter could not grade the submission: {catastrophic}"
        result = from_grading_results(gr, self.course, sub.student, status=status, detail=detail)
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


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _main(argv: list[str]) -> int:
    """Subprocess entry: grade one submission with otter, write its GradingResults as JSON and results.json."""
    from otter.api import grade_submission
    from otter.run.run_autograder.autograder_config import AutograderConfig

    ag_zip, submission, out = argv
    out_dir = Path(out).resolve()
    gr = grade_submission(submission, ag_zip, quiet=True)
    (out_dir / RESULTS_JSON).write_text(json.dumps(grading_results_to_json(gr)), encoding="utf-8")
    import zipfile

    with zipfile.ZipFile(ag_zip) as zf:
        config = AutograderConfig(json.loads(zf.read("otter_config.json")))
    (out_dir / "results.json").write_text(json.dumps(gr.to_gradescope_dict(config), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
