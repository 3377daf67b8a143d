"""Decide one check: the student's record against the reference's record of the same trial.

Both records come from the same check function on identical inputs. The
verdict reads only plain data; tolerance and hints come from the course
(the reference record and the YAML), never from the student's process.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

from tensorgrade.judge.compare import Mismatch, compare, numbers_close
from tensorgrade.spec.models import CheckSpec, Tolerance
from tensorgrade.wire import ENDS_A_TRIAL, Broken, Fact, Observation, Raised, TrialRecord, Value


class ReferenceFailed(Exception):
    """The reference solution itself failed this check: a course bug, not a student's."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    what: str = ""
    problem: str = ""
    expected: str = ""
    observed: str = ""
    details: tuple[str, ...] = ()
    hint: str = ""
    inputs: tuple[tuple[str, str], ...] = field(default=())

    def feedback(self) -> str:
        """The learner-facing text: what was expected, what was observed, and a hint."""
        if self.passed:
            return ""
        lines = [f"{self.what}: {self.problem}" if self.what else self.problem]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.observed:
            lines.append(f"  observed: {self.observed}")
        lines += [f"  {d}" for d in self.details]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        if self.inputs:
            shown = (v if v.startswith((f"{k}(", f"{k} =")) else f"{k} = {v}" for k, v in self.inputs)
            lines.append("  inputs: " + "; ".join(shown))
        return "\n".join(lines)


def _error_verdict(stu: Raised, hint: str) -> Verdict:
    fn = stu.function or "the function"
    if stu.missing:
        return Verdict(False, problem=f"{fn}() is not defined in your code",
                       hint=f"Define a function named {fn} with the signature given in the exercise.")
    if stu.not_implemented:
        return Verdict(False, problem=f"{fn}() is not implemented yet",
                       hint=f"Replace the `raise NotImplementedError` in {fn}() with your code.")
    where = f" ({stu.where})" if stu.where else ""
    if stu.banned:
        return Verdict(False, problem=f"{fn}() used an API that is not allowed here: {stu.message}", hint=hint)
    return Verdict(False, problem=f"{fn}() raised {stu.error or 'an error'}: {stu.message}{where}", hint=hint)


def facts_match(expected, observed, tol: Tolerance) -> bool:
    """Facts are plain JSON values: numbers within the check's tolerance (ints exactly), lists item by item,
    anything else exactly."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (expected, observed))
    if numbers:
        return numbers_close(expected, observed, tol)
    if isinstance(expected, list) and isinstance(observed, list):
        return len(expected) == len(observed) and all(facts_match(e, o, tol) for e, o in zip(expected, observed))
    return observed == expected and type(observed) is type(expected)


def _shown(ref: Fact, stu: Fact) -> tuple[str, str]:
    """The two facts as shown; if different values would read alike, each gets its exact value too."""
    exp, obs = ref.show[:500], stu.show[:500]
    if exp == obs:
        exp, obs = f"{exp} ({ref.value!r})", f"{obs} ({stu.value!r})"
    return exp, obs


# what facts.kind() says of a number: where the reference returned a Python number, a numpy scalar or a
# tensor (0-dim, as the value check that follows decides) is a number too
NUMBER_KINDS = frozenset({"int", "float", "tensor", "float16", "float32", "float64", "longdouble", "int8", "int16",
                          "int32", "int64", "uint8", "uint16", "uint32", "uint64"})


def _returns_a_number(ref: Fact, stu: Fact) -> bool:
    return (ref.role == "returns" and ref.value in ("int", "float") and isinstance(stu.value, str)
            and stu.value in NUMBER_KINDS)


def _fact_verdict(ref: Fact, stu: Fact, hint: str, tol: Tolerance) -> Verdict | None:
    if facts_match(ref.value, stu.value, tol) or _returns_a_number(ref, stu):
        return None
    if ref.role == "returns":  # one wording for every wrong return type
        return Verdict(False, what=ref.what, problem=f"expected {ref.show}, got {stu.show[:200]}", hint=hint)
    exp, obs = _shown(ref, stu)
    return Verdict(False, what=ref.what, problem="not as expected", expected=exp, observed=obs, hint=hint)


def unimplemented_verdict(student: TrialRecord | None) -> Verdict | None:
    """The verdict for a check whose very first step met a missing or unimplemented function, else None.

    Such a verdict shows no expected values or inputs, so the reference need not run
    (untouched stubs are common in real classes).
    """
    first = student.observations[0] if student is not None and student.observations else None
    if isinstance(first, Raised) and (first.not_implemented or first.missing):
        return _error_verdict(first, "")
    return None


def judge(check: CheckSpec, tolerance: Tolerance, reference: TrialRecord, student: TrialRecord | None,
          stopped: str | None = None) -> Verdict:
    """Pass or fail `check`, explaining the first difference between the two records.

    `student` is None when the student's process never delivered a record for
    this check; `stopped` then says why (timeout, crash, ...).
    """
    inputs = reference.inputs
    ref_obs = reference.observations
    for obs in ref_obs:
        if isinstance(obs, ENDS_A_TRIAL):
            raise ReferenceFailed(f"the reference solution fails check '{check.id}': {obs}")
    if student is None:
        return Verdict(False, problem=stopped or "no result was produced", hint=check.hint, inputs=inputs)
    for ref, stu in paired_observations(ref_obs, student.observations):
        hint = ref.hint or check.hint
        if stu is None:
            return Verdict(False, what=ref.what, problem="no observation was recorded", hint=hint, inputs=inputs)
        if isinstance(stu, Raised):
            v = _error_verdict(stu, check.hint)
            return v if stu.not_implemented or stu.missing else replace(v, inputs=inputs)
        if isinstance(stu, Broken):
            return Verdict(False, what=ref.what,
                           problem=f"could not use what the function returned ({stu.error}: {stu.message})",
                           hint=hint, inputs=inputs)
        if type(stu) is not type(ref) or stu.what != ref.what:
            return Verdict(False, what=ref.what, problem="the check took a different path than expected",
                           hint=hint, inputs=inputs)
        if isinstance(ref, Value):
            m: Mismatch | None = compare(ref.value, stu.value, tolerance, check_dtype=ref.check_dtype)
            if m is not None:
                return Verdict(False, what=ref.what, problem=m.problem, expected=m.expected,
                               observed=m.observed, details=m.details, hint=hint, inputs=inputs)
        else:
            v = _fact_verdict(ref, stu, hint, tolerance)
            if v is not None:
                return replace(v, inputs=inputs)
    return Verdict(True)


# -- named observations (t.observe, name=...): matched by name where the number of calls varies ----------------
def paired_observations(ref_obs: Sequence[Observation], stu_obs: Sequence[Observation]
                        ) -> list[tuple[Observation, Observation | None]]:
    """Each reference observation with the student's observation it is judged against, in the reference's order.

    A record without names pairs by position, exactly as always. With names, unnamed observations
    still pair by position among the unnamed; a named one pairs with the student's observation of
    the same name and occurrence, so a check whose number of calls depends on the code (gradcheck
    calls 10 times when it passes, 9 when it fails) is judged on what it found, not on the count:
    fewer repeats of a name are no failure. Where the student's side runs out, the error that ended
    the student's trial stands in (it is the first thing that went wrong), else None.
    """
    if not any(o.name for o in (*ref_obs, *stu_obs)):
        return [(ref, stu_obs[i] if i < len(stu_obs) else None) for i, ref in enumerate(ref_obs)]
    last = stu_obs[-1] if stu_obs and isinstance(stu_obs[-1], ENDS_A_TRIAL) else None
    streams: dict[str | None, list[Observation]] = {}
    for obs in stu_obs:
        if obs is not last:
            streams.setdefault(obs.name, []).append(obs)
    seen: dict[str | None, int] = {}
    pairs: list[tuple[Observation, Observation | None]] = []
    for ref in ref_obs:
        key = ref.name
        k = seen[key] = seen.get(key, -1) + 1
        mine = streams.get(key, [])
        if k < len(mine):
            pairs.append((ref, mine[k]))
        elif last is None and key is not None and k > 0:
            continue  # the name was seen, fewer times than in the reference's run
        else:
            pairs.append((ref, last))
            if last is not None:
                return pairs
    if last is not None and ref_obs:
        pairs.append((ref_obs[-1], last))  # the student's trial ended in an error after all the rest matched
    return pairs
