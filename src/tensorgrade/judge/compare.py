"""Compare an observed value with the expected one: one pair per kind of value.

In the spirit of `torch.testing._comparison`: the kind of the *expected* value
(the reference's, trusted) picks a pair, and the pair decides whether the observed
value matches and builds the message from plain data:

- `TensorPair`: dtype (unless the check waives it), shape, values within tolerance,
  explained like `torch.testing.assert_close` (how many differ, greatest differences, where);
- `SequencePair`: a tuple or list, item by item; a mismatch names the item's index;
- `NumberPair`: a Python number compared with the check's tolerance (an int exactly); a
  numpy scalar or a 0-dim tensor is accepted in its place, a bool is not a number;
- `ExactPair`: None, booleans, strings and any other object, compared exactly.

Encodings come from `rubric/encode.py`. The observed one crosses from the student's
process: an encoding that `encode` never produces raises `Malformed` (the grading
process reports a malformed record) instead of being read half-way.

Messages always say what was expected and what was observed, and two values that
differ never read alike: numbers are printed with more digits until they differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from tensorgrade.spec.models import Tolerance

PRINT_WHOLE = 16
DIGITS = (4, 6, 9, 12, 17)  # significant digits tried in turn until two different values read differently


@dataclass(frozen=True)
class Mismatch:
    problem: str  # one line: what is wrong
    expected: str
    observed: str
    details: tuple[str, ...] = ()


class Malformed(ValueError):
    """An encoded value that rubric/encode.py cannot have produced (a forged or broken record)."""


@dataclass(frozen=True)
class Options:
    """How a check compares: its tolerance, and whether a tensor's dtype is part of the answer."""

    tol: Tolerance
    check_dtype: bool = True


# -- reading encodings ------------------------------------------------------------------------

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode_number(v):
    """A JSON scalar of `encode` back to a Python number (non-finite floats travel as strings)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str) and v in _NON_FINITE:
        return _NON_FINITE[v]
    if isinstance(v, dict) and set(v) <= {"re", "im"}:
        re, im = _decode_number(v.get("re", 0)), _decode_number(v.get("im", 0))
        return complex(float(re), float(im))
    raise Malformed(f"not an encoded number: {str(v)[:40]!r}")


def _checked_tensor(enc: dict) -> None:
    """Raise Malformed unless `enc` is a tensor encoding as `encode` writes it."""
    shape = enc.get("shape")
    if not isinstance(enc.get("dtype"), str) or not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise Malformed("a tensor encoding needs a dtype and a shape")
    data = enc.get("data")
    if data is None:
        return
    if not isinstance(data, list) or len(data) != math.prod(shape):
        raise Malformed("a tensor encoding's data must hold one value per element")
    for v in data:
        _decode_number(v)


def _checked(enc) -> dict:
    """`enc` itself once its structure is known good, else Malformed."""
    if not isinstance(enc, dict) or not isinstance(enc.get("type"), str):
        raise Malformed("an encoded value must be an object with a type")
    kind = enc["type"]
    if kind == "tensor":
        _checked_tensor(enc)
    elif kind == "number":
        _decode_number(enc.get("value"))
    elif kind == "sequence":
        if not isinstance(enc.get("length"), int) or not isinstance(enc.get("items"), list):
            raise Malformed("a sequence encoding needs a length and items")
    elif kind not in ("none", "other"):
        raise Malformed(f"unknown kind of value {kind[:40]!r}")
    return enc


def values_of(enc: dict) -> torch.Tensor:
    """Rebuild an encoded tensor's values as a float64 (or complex128) tensor of its shape."""
    data = [_decode_number(v) for v in enc["data"]]
    data = [float(v) if isinstance(v, bool) else v for v in data]
    dtype = torch.complex128 if any(isinstance(v, complex) for v in data) else torch.float64
    return torch.tensor(data, dtype=dtype).reshape(enc["shape"])


def _is_bool(enc: dict) -> bool:
    return enc.get("type") == "number" and isinstance(enc.get("value"), bool)


def number_of(enc: dict):
    """The number an encoding stands for where a number is asked, or None.

    A Python or numpy number, or a 0-dim tensor of numbers; never a bool (True is not 1 here).
    """
    if enc.get("type") == "number" and not _is_bool(enc):
        return _decode_number(enc["value"])
    if (enc.get("type") == "tensor" and enc.get("shape") == [] and isinstance(enc.get("data"), list)
            and enc.get("dtype") != "bool"):
        return _decode_number(enc["data"][0])
    return None


# -- showing values ------------------------------------------------------------------------------


def _fmt(v, digits: int = 6) -> str:
    if isinstance(v, complex):
        return f"{_fmt(v.real, digits)}{'+' if v.imag >= 0 else '-'}{_fmt(abs(v.imag), digits)}j"
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def _nested(values, digits: int = 4) -> str:
    """Nested lists with short numbers: [[-0.2625, 1.391], [0.4484, -0.7784]]."""
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v, digits) for v in values) + "]"
    return _fmt(values, digits)


def show_tensor(enc: dict, digits: int = 4) -> str:
    shape = tuple(enc["shape"])
    label = f"{enc['dtype']}, shape {shape}"
    subclass = "" if enc.get("plain", True) else f"a {enc.get('pytype', 'tensor subclass')} "
    if enc.get("data") is None:
        return f"{subclass or 'a '}tensor too large to show ({label})"
    if len(enc["data"]) > PRINT_WHOLE:
        return f"{subclass or 'a '}tensor ({label})"
    if not shape:
        return f"{subclass}tensor({_fmt(_decode_number(enc['data'][0]), max(digits, 6))}) ({enc['dtype']})"
    return f"{subclass}tensor({_nested(values_of(enc).tolist(), digits)}) ({label})"


def _number_type(pytype) -> str:
    pytype = str(pytype)
    return pytype if pytype.startswith("numpy.") else f"Python {pytype}"


def show_value(enc: dict, digits: int = 4) -> str:
    """How a value reads in feedback: tensors by content, numbers by type and value, others by type and repr."""
    kind = enc.get("type")
    if kind == "tensor":
        return show_tensor(enc, digits)
    if kind == "none":
        return "None"
    if kind == "number":
        return f"the {_number_type(enc.get('pytype'))} {_fmt(_decode_number(enc.get('value')), max(digits, 6))}"
    if kind == "sequence":
        return f"a {enc.get('pytype')} of length {enc.get('length')}"
    return f"a {enc.get('pytype')}: {enc.get('repr', '')}"


def distinct(expected: dict, observed: dict, show=show_value) -> tuple[str, str]:
    """The two values as feedback shows them, with enough digits that different values read differently."""
    for digits in DIGITS:
        exp, obs = show(expected, digits), show(observed, digits)
        if exp != obs:
            break
    return exp, obs


def _mismatch(problem: str, expected: dict, observed: dict, details: tuple[str, ...] = ()) -> Mismatch:
    exp, obs = distinct(expected, observed)
    return Mismatch(problem, exp, obs, details)


# -- the pairs -----------------------------------------------------------------------------------


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    idx = []
    for dim in reversed(shape):
        idx.append(flat % dim)
        flat //= dim
    return tuple(reversed(idx))


def _exact_dtype(dtype: str) -> bool:
    return dtype.startswith(("int", "uint", "bool"))


class TensorPair:
    """A tensor: plain torch.Tensor, dtype (unless waived), shape, then values within tolerance."""

    @staticmethod
    def compare(expected: dict, observed: dict, opts: Options) -> Mismatch | None:
        if observed["type"] != "tensor":
            return _mismatch("expected a tensor", expected, observed)
        if not observed.get("plain", False):
            return _mismatch(f"expected a plain torch.Tensor, got the subclass {observed.get('pytype')}",
                             expected, observed)
        dtypes_differ = observed["dtype"] != expected["dtype"]
        if dtypes_differ and opts.check_dtype:
            return _mismatch(f"expected dtype {expected['dtype']}, observed {observed['dtype']}", expected, observed)
        if list(observed["shape"]) != list(expected["shape"]):
            return _mismatch(f"expected shape {tuple(expected['shape'])}, observed {tuple(observed['shape'])}",
                             expected, observed)
        if observed.get("data") is None or expected.get("data") is None:
            return _mismatch("the tensor is too large to compare", expected, observed)
        m = _compare_values(expected, observed, opts.tol)
        if m is not None and dtypes_differ:  # waived, but worth knowing: float32 keeps about 7 digits
            m = Mismatch(m.problem, m.expected, m.observed,
                         m.details + (f"The dtype differs too: expected {expected['dtype']}, "
                                      f"observed {observed['dtype']}",))
        return m


def all_close(expected: list, observed: list, rtol: float, atol: float) -> bool:
    """True when every pair of values is finite, real and within tolerance as torch.isclose decides it
    (equal, or |o - e| <= atol + rtol·|e| in float64); False otherwise, and then torch decides and explains.
    The common case, a right answer, is settled without building tensors (the judge's main cost)."""
    if len(expected) != len(observed):
        return False
    try:
        for e, o in zip(expected, observed):
            if type(e) not in (int, float) or type(o) not in (int, float):  # bools, complex, "nan"/"inf"
                return False
            e, o = float(e), float(o)
            if not (math.isfinite(e) and math.isfinite(o)) or (e != o and not abs(o - e) <= atol + rtol * abs(e)):
                return False
    except OverflowError:  # an int beyond float64
        return False
    return True


def _compare_values(expected: dict, observed: dict, tol: Tolerance) -> Mismatch | None:
    rtol, atol = (0.0, 0.0) if _exact_dtype(expected["dtype"]) else (tol.rtol, tol.atol)
    if all_close(expected["data"], observed["data"], rtol, atol):
        return None
    exp, obs = values_of(expected), values_of(observed)
    if exp.is_complex() or obs.is_complex():
        exp, obs = exp.to(torch.complex128), obs.to(torch.complex128)
    close = torch.isclose(obs, exp, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return None
    total = close.numel()
    bad = int((~close).sum())
    abs_diff = (obs - exp).abs()
    abs_diff = torch.where(close, torch.zeros_like(abs_diff), abs_diff.nan_to_num(nan=math.inf, posinf=math.inf))
    rel_diff = abs_diff / exp.abs()
    rel_diff = torch.where(close, torch.zeros_like(rel_diff), rel_diff.nan_to_num(nan=math.inf, posinf=math.inf))
    shape = tuple(expected["shape"])
    i_abs, i_rel = int(abs_diff.reshape(-1).argmax()), int(rel_diff.reshape(-1).argmax())
    at = (lambda i: f" at index {_index(i, shape)}") if shape else (lambda i: "")
    details = (
        f"Mismatched elements: {bad} / {total} ({100.0 * bad / total:.1f}%)",
        f"Greatest absolute difference: {_fmt(float(abs_diff.reshape(-1)[i_abs]))}{at(i_abs)} (up to {atol:g} allowed)",
        f"Greatest relative difference: {_fmt(float(rel_diff.reshape(-1)[i_rel]))}{at(i_rel)} (up to {rtol:g} allowed)",
    )
    if len(expected["data"]) <= PRINT_WHOLE:
        return _mismatch("values differ", expected, observed, details)
    # too long to print whole: show each at the element that differs most, so the two never read alike
    flat_e, flat_o = exp.reshape(-1), obs.reshape(-1)
    where = f" at index {_index(i_abs, shape)}"
    for digits in DIGITS:
        e, o = _fmt(flat_e[i_abs].item(), digits), _fmt(flat_o[i_abs].item(), digits)
        if e != o:
            break
    return Mismatch("values differ", f"{show_value(expected)}, holding {e}{where}",
                    f"{show_value(observed)}, holding {o}{where}", details)


def numbers_close(expected, observed, tol: Tolerance) -> bool:
    """|observed - expected| <= atol + rtol * |expected|; NaN matches NaN, an int only itself."""
    if isinstance(expected, int) and not isinstance(expected, bool):
        return observed == expected
    if isinstance(expected, float) and isinstance(observed, (int, float)) and (
            math.isnan(expected) or math.isnan(observed)):
        return math.isnan(expected) and math.isnan(observed)
    if expected == observed:  # equal infinities
        return True
    diff = abs(observed - expected)
    return math.isfinite(diff) and diff <= tol.atol + tol.rtol * abs(expected)


class NumberPair:
    """A Python number: any number (Python, numpy, 0-dim tensor) close to it within the check's tolerance."""

    @staticmethod
    def compare(expected: dict, observed: dict, opts: Options) -> Mismatch | None:
        exp, obs = _decode_number(expected["value"]), number_of(observed)
        if obs is None:
            return _mismatch("expected a number", expected, observed)
        if numbers_close(exp, obs, opts.tol):
            return None
        if isinstance(exp, int):
            return _mismatch("the numbers differ", expected, observed)
        diff = abs(obs - exp)
        rel = diff / abs(exp) if exp else math.inf
        return _mismatch("the numbers are not close", expected, observed, (
            f"Absolute difference: {_fmt(float(diff))} (up to {opts.tol.atol:g} allowed)",
            f"Relative difference: {_fmt(float(rel))} (up to {opts.tol.rtol:g} allowed)",
        ))


class SequencePair:
    """A tuple or list: the same length, then each item by its own pair; a mismatch names the item."""

    @staticmethod
    def compare(expected: dict, observed: dict, opts: Options) -> Mismatch | None:
        if observed["type"] != "sequence":
            return _mismatch(f"expected a {expected.get('pytype')} of {expected['length']} items", expected, observed)
        if observed["length"] != expected["length"]:
            return _mismatch(f"expected {expected['length']} items, observed {observed['length']}", expected, observed)
        if len(observed["items"]) < min(expected["length"], len(expected["items"])):
            raise Malformed("a sequence encoding with fewer items than encode keeps")
        for i, (exp_item, obs_item) in enumerate(zip(expected["items"], observed["items"])):
            m = compare(exp_item, obs_item, opts.tol, check_dtype=opts.check_dtype)
            if m is not None:
                inner = m.problem.removeprefix("item ")
                joiner = "" if inner.startswith("[") else ": "
                return Mismatch(f"item [{i}]{joiner}{inner}", m.expected, m.observed, m.details)
        return None


class ExactPair:
    """None, a bool, a string or any other object: the same kind and the same value (or repr)."""

    @staticmethod
    def compare(expected: dict, observed: dict, opts: Options) -> Mismatch | None:
        kind = expected["type"]
        if kind == "none":
            return None if observed["type"] == "none" else _mismatch("expected None", expected, observed)
        if kind == "number":  # a bool: Python's or numpy's, never a number standing in for it
            if not _is_bool(observed):
                return _mismatch("expected a bool", expected, observed)
            return None if observed["value"] == expected["value"] else _mismatch("a different value", expected, observed)
        if observed["type"] != kind or observed.get("pytype") != expected.get("pytype"):
            return _mismatch(f"expected a {expected.get('pytype')}", expected, observed)
        if all(observed.get(k) == expected.get(k) for k in ("repr", "text", "length")):  # strings in full
            return None
        if observed.get("repr") == expected.get("repr") and isinstance(expected.get("text"), str):
            return _strings_differ(expected, observed)
        return _mismatch("a different value", expected, observed)


def _strings_differ(expected: dict, observed: dict) -> Mismatch:
    """Two long strings that read alike when cut: show each around the first character that differs."""
    exp, obs = expected["text"], str(observed.get("text", ""))
    i = next((k for k, (a, b) in enumerate(zip(exp, obs)) if a != b), min(len(exp), len(obs)))
    start = max(0, i - 20)
    around = lambda text, n: f"a str of length {n}, at character {i}: ...{text[start:i + 20]!r}..."  # noqa: E731
    return Mismatch(f"the strings differ from character {i}", around(exp, expected.get("length")),
                    around(obs, observed.get("length")))


def pair_for(expected: dict):
    """The pair class for the kind of the expected value."""
    kind = expected["type"]
    if kind == "tensor":
        return TensorPair
    if kind == "sequence":
        return SequencePair
    if kind == "number" and not _is_bool(expected):
        return NumberPair
    return ExactPair


def compare(expected: dict, observed: dict, tol: Tolerance, *, check_dtype: bool = True) -> Mismatch | None:
    """None when `observed` matches `expected` (see the module's pairs); else what differs.

    `check_dtype=False` compares tensors by shape and values only, for checks whose task
    asks for no particular dtype. Raises Malformed on an encoding `encode` cannot produce.
    """
    _checked(expected)
    _checked(observed)
    return pair_for(expected).compare(expected, observed, Options(tol, check_dtype))


compare_tensors = compare  # the earlier name: it always compared any encoded value
