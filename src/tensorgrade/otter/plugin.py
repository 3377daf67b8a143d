"""`TensorgradePlugin`: otter's runner hands the submission to tensorgrade's sandbox; otter's kernel runs none of it.

Why: otter executes a submission in a Jupyter kernel and runs the tests in that same
kernel. Checks judged there can be defeated by the code they judge (a notebook that
replaces `tensorgrade.judge.verdict.judge` or `tensorgrade.otter.runtime.run_check`
scored full marks with stubs), and every file the tests read (the expected records) can
be read by the student's code too. So in the autograder zip (Gradescope, `otter run`,
`tensorgrade grade --engine otter`) this plugin, listed in otter_config.json `plugins`:

- `before_grading` (otter's runner process, before anything of the submission is
  executed or deserialised): deletes a `.OTTER_LOG` from the submission folder, which
  otter would otherwise unpickle (dill) in its runner process — arbitrary code from the
  student's upload (if it cannot, it stops otter with an error) — and locks the course
  data down (0700 folders, 0600 files);
- `before_execution`: keeps the submission as *data* (a script's text, or the notebook
  as JSON) and returns a notebook with one Markdown cell, so otter's kernel executes
  only otter's own cells and the placeholder tests (see tests.py), and no student code
  ever runs in otter's kernel or otter's runner process;
- `after_grading`: grades the kept submission with tensorgrade's fast engine — student
  code in a sandboxed child of a fresh zygote (`commands.common.grader`), the verdicts
  decided here in otter's runner process, against the expected records stored at build
  time (`expected.StoredReference`, no solution anywhere) — and overwrites every test
  case result of otter's `GradingResults` (passed, message) so otter's results.json and
  Gradescope show tensorgrade's verdicts;
- `generate_report`: a few lines for the instructor's log (score, status, review flags,
  isolation; the error and traceback if grading failed).

Where the data lives: `<autograder_dir>/source/tensorgrade-data/` (`DATA_DIR`, shipped in
the zip outside otter's `files/`, so otter never copies it next to the submission): the
course files needed to run checks (course.yml, exercises/*.yml and stubs, the full check
code under checks/) and the expected records `tensorgrade_otter.json` for the fixed seed
key. `$TENSORGRADE_OTTER_BUNDLE` overrides the bundle (the otter engine writes one per
student; it must be an absolute path outside the submission folder). The sandbox never sees any of it: the course
folder, the bundle's folder and the whole autograder folder are passed to `hide=` (empty
tmpfs over them in the sandbox's mount namespace), and the sandbox's unprivileged uid
could not read the 0600 files anyway.

Failing closed: any failure (a missing data folder, a bundle for other seeds, a zygote
that does not start, tests and course out of step) marks every test case failed with a
message saying what went wrong, and a run without this plugin fails every placeholder
test: neither can ever award points.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path

from otter.plugins import AbstractOtterPlugin

from tensorgrade.otter.expected import BUNDLE
from tensorgrade.otter.runtime import ENV_BUNDLE

PLUGIN = "tensorgrade.otter.plugin.TensorgradePlugin"
DATA_DIR = "tensorgrade-data"  # under <autograder_dir>/source/; a name no `import` can pick up
FIXED_KEY = "fixed"  # = grading.Plan(seed_by="fixed").student_key(anyone)
OTTER_LOG = ".OTTER_LOG"  # otter.check.notebook.OTTER_LOG_FILENAME: a dill pickle otter loads if present
SUBMISSION = "submission"  # the name the kept file gets (one file: all functions in one module)
WITHHELD = ("This submission is graded by tensorgrade's otter plugin in a sandbox; "
            "none of its code runs in this kernel.")

RUNS: list["TensorgradePlugin"] = []  # plugins of this process that reached after_grading, newest last


class PluginFailed(Exception):
    """Grading by the plugin could not be completed; the message is shown to the student."""


class TensorgradePlugin(AbstractOtterPlugin):
    def __init__(self, submission_path, submission_metadata, plugin_config):
        super().__init__(submission_path, submission_metadata, plugin_config or {})
        self.autograder_dir: Path | None = None
        self.kept: dict[str, bytes] | None = None  # the submission, as data: {file name: bytes}
        self.record = None  # tensorgrade's StudentResult
        self.results = None  # otter's GradingResults, after overwriting
        self.isolation: dict | None = None
        self.removed: list[str] = []
        self.error: str | None = None
        self.trace: str = ""

    # -- otter events ------------------------------------------------------------------------
    def before_grading(self, config):
        ag = getattr(config, "autograder_dir", None)
        self.autograder_dir = Path(ag).resolve() if ag else self._guess_autograder_dir()
        self._remove_otter_log()  # raises (and so stops otter) rather than let otter unpickle it
        try:
            _lock_down(self.data_dir())
            bundle = os.environ.get(ENV_BUNDLE)
            if bundle and Path(bundle).is_file():
                os.chmod(bundle, 0o600)
        except Exception as exc:  # noqa: BLE001 - reported as every check's message
            self._failed("preparing", exc)

    def before_execution(self, submission):
        try:
            self.kept = self._keep(submission)
        except Exception as exc:  # noqa: BLE001
            self._failed("reading the submission", exc)
        return withheld_notebook()  # always: the student's code never reaches otter's kernel

    def after_grading(self, results):
        self.results = results
        try:
            if self.error:
                raise PluginFailed(self.error)
            if self.kept is None:
                raise PluginFailed("the submission was never handed to tensorgrade (before_execution did not run)")
            if not results.results:
                raise PluginFailed("otter produced no test files (its kernel failed before running them)")
            self.record = self._grade()
            _overwrite(results, self.record)
            results.set_output(_summary(self.record))
            results.set_plugin_data(PLUGIN, {"record": self.record.to_dict(), "isolation": self.isolation})
        except Exception as exc:  # noqa: BLE001
            if not self.error:
                self._failed("grading", exc)
            _fail_all(results, self.message())
        finally:
            RUNS.append(self)
            del RUNS[:-8]  # a long-lived process grading many submissions keeps only the latest

    def generate_report(self):
        lines = []
        if self.removed:
            lines.append("removed before grading (never loaded): " + ", ".join(self.removed))
        if self.error:
            lines += [self.message(), self.trace.rstrip()]
        elif self.record is not None:
            r = self.record
            lines.append(f"tensorgrade (sandboxed): {r.total:g}/{r.possible:g}, status {r.status}"
                         + (f" ({r.detail})" if r.detail else ""))
            lines += [f"  {e.id}: {e.status} — {e.detail}" for e in r.exercises if e.status != "ok"]
            if r.flags:
                lines.append("review: " + "; ".join(r.flags))
            if self.isolation:
                off = sorted(k for k, v in self.isolation.items() if not v)
                lines.append("sandbox layers off: " + (", ".join(off) if off else "none"))
        return "\n".join(lines) or None

    # -- helpers -----------------------------------------------------------------------------
    def message(self) -> str:
        return (f"Not graded: tensorgrade could not grade this submission ({self.error}). "
                "No points were awarded; please tell your instructor.")

    def _failed(self, stage: str, exc: BaseException) -> None:
        """Remember the first failure: one line for the student, the traceback for the instructor's report."""
        text = str(exc) if isinstance(exc, PluginFailed) else f"{stage}: {type(exc).__name__}: {exc}"
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        self.error = first if len(first) <= 300 else first[:297] + "..."
        self.trace = text + "\n" + traceback.format_exc()

    def _guess_autograder_dir(self) -> Path:
        if self.submission_path:  # <autograder_dir>/submission/<file>
            return Path(self.submission_path).resolve().parent.parent
        return Path("/autograder")

    def data_dir(self) -> Path:
        if self.autograder_dir is None:
            self.autograder_dir = self._guess_autograder_dir()
        return self.autograder_dir / "source" / str(self.plugin_config.get("data", DATA_DIR))

    def bundle_path(self) -> Path:
        env = os.environ.get(ENV_BUNDLE)
        if not env:
            return self.data_dir() / BUNDLE
        path = Path(env)
        submissions = (self.autograder_dir or self._guess_autograder_dir()) / "submission"
        if not path.is_absolute() or _inside(path.resolve(), submissions.resolve()):
            raise PluginFailed(f"${ENV_BUNDLE} must be an absolute path outside the submission folder")
        return path.resolve()

    def _remove_otter_log(self) -> None:
        """Delete a `.OTTER_LOG` next to the submission: otter would `dill.load` it in this very process."""
        from otter.run.run_autograder.utils import OtterRuntimeError

        folders = {Path.cwd()}
        if self.submission_path:
            folders.add(Path(self.submission_path).resolve().parent)
        for folder in folders:
            log = folder / OTTER_LOG
            try:
                if log.is_symlink() or log.is_file():
                    log.unlink()
                    self.removed.append(str(log))
            except OSError as exc:
                self._failed("preparing", exc)
                raise OtterRuntimeError(f"cannot remove {log} from the submission, so it is not graded: {exc}") from exc

    def _keep(self, submission) -> dict[str, bytes]:
        """The submission as data: a script's text, or the notebook's JSON (nothing executed)."""
        if isinstance(submission, str):
            return {f"{SUBMISSION}.py": submission.encode("utf-8")}
        if not isinstance(submission, dict) or not isinstance(submission.get("cells"), list):
            raise PluginFailed(f"unexpected submission object from otter: {type(submission).__name__}")
        code = [c for c in submission["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
        if str(self.submission_path or "").endswith(".py") and len(code) == 1:  # otter wraps a script in one cell
            src = code[0].get("source", "")
            return {f"{SUBMISSION}.py": ("".join(src) if isinstance(src, list) else str(src)).encode("utf-8")}
        return {f"{SUBMISSION}.ipynb": json.dumps(submission).encode("utf-8")}

    def _grade(self):
        """Grade the kept submission with the fast engine: student code sandboxed, judged here."""
        import tensorgrade
        from tensorgrade.commands.common import grader
        from tensorgrade.grading import Plan
        from tensorgrade.otter.expected import StoredReference, read_bundle
        from tensorgrade.intake.submission import from_files
        from tensorgrade.run.init import WARM_BEFORE
        from tensorgrade.spec.course import load_course

        ag = self.autograder_dir or self._guess_autograder_dir()
        if _inside(Path(tensorgrade.__file__).resolve(), ag):
            raise PluginFailed(f"tensorgrade was imported from inside the autograder folder ({tensorgrade.__file__})")
        data = self.data_dir()
        if not data.is_dir():
            raise PluginFailed(f"the autograder zip has no {DATA_DIR}/ folder (rebuild it with `tensorgrade build`)")
        course = load_course(data, layout="student")
        path = self.bundle_path()
        bundle = read_bundle(path)
        if bundle.get("assignment") != course.spec.assignment.id or bundle.get("public_only"):
            raise PluginFailed(f"{path.name} is not the full bundle of assignment '{course.spec.assignment.id}'")
        key = str(bundle.get("seed_key"))
        plan, student = (Plan(seed_by="fixed"), SUBMISSION) if key == FIXED_KEY else (Plan(seed_by="student"), key)
        if plan.student_key(student) != key:
            raise PluginFailed(f"{path.name}: seed key {key!r} cannot be reproduced")
        sub = from_files(student, Path(self.submission_path or SUBMISSION).name, self.kept,
                         [e.id for e in course.exercises])
        hide = _existing([path.parent, ag])
        # one child (no huge pages); torch.func warmed up before it whatever the code says: this is a grade
        one = grader(course, plan, reference=StoredReference(bundle), hide=hide, many_children=False,
                     warm_func=WARM_BEFORE)
        with _import_path_without(ag), one as g:
            self.isolation = getattr(getattr(g, "runner", None), "isolation", None)
            return g.grade(sub)


# -- module helpers ----------------------------------------------------------------------------
def withheld_notebook():
    """What otter's kernel gets instead of the submission: one Markdown cell, nothing to execute."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(WITHHELD)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _overwrite(results, record) -> None:
    """Replace every test case result of otter's GradingResults with tensorgrade's verdict for that check."""
    from otter.test_files.abstract_test import TestCaseResult

    checks = {(ex.id, c.id): c for ex in record.exercises for c in ex.checks}
    problems, new = [], {}
    for name, tf in results.results.items():
        new[name] = []
        for tc in tf.test_cases:
            c = checks.pop((name, tc.name), None)
            if c is None:
                problems.append(f"{name}/{tc.name} is not a tensorgrade check")
            elif float(tc.points or 0) != float(c.points):
                problems.append(f"{name}/{tc.name} is worth {tc.points} in otter's test but {c.points} in the course")
            else:
                new[name].append(TestCaseResult(test_case=tc, message=c.feedback or "passed", passed=c.passed))
    problems += [f"{ex}/{check} has no otter test case" for ex, check in checks]
    if problems:
        raise PluginFailed("the autograder's otter tests do not match its course files (rebuild the zip): "
                           + "; ".join(problems[:5]))
    for name, tf in results.results.items():
        tf.test_case_results = new[name]
        tf.update_score(None)  # scores follow the overwritten results


def _fail_all(results, message: str) -> None:
    from otter.test_files.abstract_test import TestCaseResult

    for tf in results.results.values():
        tf.test_case_results = [TestCaseResult(test_case=tc, message=message, passed=False) for tc in tf.test_cases]
        tf.update_score(None)
    results.set_output(message)


def _summary(record) -> str:
    from tensorgrade.results.otter import submission_summary

    return "Graded by tensorgrade in a sandbox.\n" + submission_summary(record)


def _lock_down(folder: Path) -> None:
    """Folders 0700, files 0600: nobody but the grader's own uid (not the sandbox's) can read them."""
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        os.chmod(root, 0o700)
        for name in files:
            os.chmod(os.path.join(root, name), 0o600)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _existing(paths) -> list[Path]:
    out = []
    for p in paths:
        p = Path(p).resolve()
        if p.exists() and p not in out and p != Path("/"):
            out.append(p)
    return out


@contextlib.contextmanager
def _import_path_without(folder: Path):
    """The zygote inherits this process's import path: keep the submission's folder (and '') off it."""
    saved = list(sys.path)
    cwd = os.path.realpath(os.getcwd())
    sys.path[:] = [p for p in sys.path if p and not _inside(Path(os.path.realpath(p)), folder)
                   and os.path.realpath(p) != cwd]
    try:
        yield
    finally:
        sys.path[:] = saved
