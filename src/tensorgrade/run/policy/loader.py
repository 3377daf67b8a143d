"""A submission's files as modules: compiled under the policy, executed in restricted namespaces.

Nothing here uses `sys.modules` or the import system for student code: the
submission's own modules live in this loader's table, so a student module can
import another one (`from ex1_requires_grad import make_leaf`) and nothing
else can find them. A notebook (intake marks its cells) runs cell by cell as
in Jupyter: a cell that fails to compile or raises is reported in the output
and the next cells still run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tensorgrade.run.policy.compiler import Compiled, compile_source
from tensorgrade.run.policy.guards import Policy, PrintSink

CELL_MARK = re.compile(r"^# \[tensorgrade\] cell (\d+)\n", re.M)


@dataclass
class ImportFailed(Exception):
    """A student module could not be loaded: kind is "syntax", "policy" or "error"."""

    kind: str
    message: str
    where: str = ""
    exc: BaseException | None = None


def split_cells(source: str) -> list[tuple[str, str]]:
    """A notebook's converted source (intake) as [(label, cell source)]."""
    parts = CELL_MARK.split(source)
    return [(f"<cell {parts[i]}>", parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


class StudentCode:
    def __init__(self, policy: Policy, files: dict[str, str], notebooks: set[str], sink: PrintSink):
        self.policy, self.sink = policy, sink
        self.units: dict[str, list[Compiled]] = {}
        self.notebooks = {name.removesuffix(".py") for name in notebooks}
        self.loaded: dict[str, dict] = {}
        self.failed: dict[str, ImportFailed] = {}
        for name, source in files.items():
            module = name.removesuffix(".py")
            pieces = split_cells(source) if module in self.notebooks else [(name, source)]
            self.units[module] = [compile_source(src, label) for label, src in pieces]
        policy.loader = self._import_own
        policy.student_files = self.files

    @property
    def files(self) -> set[str]:
        return {u.filename for units in self.units.values() for u in units}

    def _import_own(self, name: str) -> dict | None:
        if name not in self.units:
            return None
        return self.load(name)

    def load(self, module: str) -> dict:
        """The module's namespace after running its top level; ImportFailed if it cannot be loaded."""
        if module in self.loaded:
            return self.loaded[module]
        if module in self.failed:
            raise self.failed[module]
        units = self.units[module]
        namespace = self.policy.namespace(module, units[0].filename if units else module, self.sink)
        self.loaded[module] = namespace  # a circular import sees the module as loaded so far, as Python does
        try:
            for unit in units:
                self._run(unit, namespace, notebook=module in self.notebooks)
        except ImportFailed as failed:
            del self.loaded[module]
            self.failed[module] = failed
            raise
        return namespace

    def _run(self, unit: Compiled, namespace: dict, *, notebook: bool) -> None:
        failed = _compile_failure(unit)
        label = unit.filename.strip("<>")
        if failed is not None:
            if notebook:
                verb = "raised" if failed.kind == "syntax" else "was not run:"
                self.sink.write(f"[tensorgrade] {label} {verb} {failed.message} ({failed.where})\n")
                return
            raise failed
        try:
            exec(unit.code, namespace)
        except ImportFailed:
            raise  # another module of the submission failed to load: its own reason
        except BaseException as exc:  # noqa: BLE001 - SystemExit at the top level too
            if notebook and isinstance(exc, (Exception, SystemExit)):
                self.sink.write(f"[tensorgrade] {label} raised {type(exc).__name__}: {_message(exc)}\n")
                return
            raise ImportFailed("error", f"{type(exc).__name__}: {_message(exc)}", exc=exc) from None


def _compile_failure(unit: Compiled) -> ImportFailed | None:
    name = unit.filename.rsplit("/", 1)[-1]
    if unit.syntax_error is not None:
        line, message = unit.syntax_error
        return ImportFailed("syntax", f"SyntaxError: {message}", f"{name}, line {line}" if line else name)
    if unit.errors:
        first = unit.errors[0]
        line = re.match(r"line (\d+)", first)
        more = f" (and {len(unit.errors) - 1} more)" if len(unit.errors) > 1 else ""
        return ImportFailed("policy", first.split(": ", 1)[-1] + more,
                            f"{name}, line {line.group(1)}" if line else name)
    return None


def _message(exc: BaseException, limit: int = 500) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        text = f"<{type(exc).__name__} whose message could not be shown>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
