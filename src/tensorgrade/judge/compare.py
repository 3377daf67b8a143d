"""Compare two encoded tensors and explain the difference like torch.testing.assert_close does.

The message says how many elements differ, the greatest absolute and relative
difference and where, and prints small tensors whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from tensorgrade.spec.models import Tolerance

PRINT_WHOLE = 16


@dataclass(frozen=True)
class Mismatch:
    problem: str  # one line: what is wrong
    expected: str
    observed: str
    details: tuple[str, ...] = ()


def _decode_number(v):
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(v, math.nan)
    if isinstance(v, dict):
        return complex(_decode_number(v.get("re", 0)), _decode_number(v.get("im", 0)))
    if isinstance(v, bool) or v is None:
        return float(bool(v)) if v is not None else math.nan
    return v


def values_of(enc: dict) -> torch.Tensor:
    """Rebuild an encoded tensor's values as a float64 (or complex128) tensor of its shape."""
    data = [_decode_number(v) for v in enc["data"]]
    dtype = torch.complex128 if any(isinstance(v, complex) for v in data) else torch.float64
    return torch.tensor(data, dtype=dtype).reshape(enc["shape"])


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def show_tensor(enc: dict) -> str:
    shape = tuple(enc["shape"])
    label = f"{enc['dtype']}, shape {shape}"
    if enc.get("data") is None:
        return f"a tensor too large to show ({label})"
    if len(enc["data"]) > PRINT_WHOLE:
        return f"a tensor ({label})"
    if not shape:
        return f"tensor({_fmt(_decode_number(enc['data'][0]))}) ({enc['dtype']})"
    return f"tensor({_nested(values_of(enc).tolist())}) ({label})"


def _nested(values) -> str:
    """Nested lists with short numbers: [[-0.2625, 1.391], [0.4484, -0.7784]]."""
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return f"{values:.4g}" if isinstance(values, float) else str(values)


def show_value(enc: dict) -> str:
    """How a returned value reads in feedback: tensors by content, others by type and repr."""
    kind = enc.get("type")
    if kind == "tensor":
        return show_tensor(enc)
    if kind == "none":
        return "None"
    if kind == "number":
        return f"the Python {enc.get('pytype')} {_fmt(_decode_number(enc.get('value')))}"
    if kind == "sequence":
        return f"a {enc.get('pytype')} of length {enc.get('length')}"
    return f"a {enc.get('pytype')}: {enc.get('repr', '')}"


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    idx = []
    for dim in reversed(shape):
        idx.append(flat % dim)
        flat //= dim
    return tuple(reversed(idx))


def compare_tensors(expected: dict, observed: dict, tol: Tolerance) -> Mismatch | None:
    """None when `observed` matches `expected` (dtype, shape, values within tolerance); else why not."""
    exp_text = show_value(expected)
    if expected.get("type") != "tensor":  # the reference gave None, a number, ...: the student must too
        same = all(observed.get(k) == expected.get(k) for k in ("type", "pytype", "value", "length"))
        return None if same else Mismatch(f"expected {exp_text}", exp_text, show_value(observed))
    if observed.get("type") != "tensor":
        return Mismatch("expected a tensor", exp_text, show_value(observed))
    if not observed.get("plain", False):
        return Mismatch(f"expected a plain torch.Tensor, got the subclass {observed.get('pytype')}",
                        exp_text, show_value(observed))
    if observed["dtype"] != expected["dtype"]:
        return Mismatch(f"expected dtype {expected['dtype']}, observed {observed['dtype']}", exp_text,
                        show_value(observed))
    if list(observed["shape"]) != list(expected["shape"]):
        return Mismatch(f"expected shape {tuple(expected['shape'])}, observed {tuple(observed['shape'])}",
                        exp_text, show_value(observed))
    if observed.get("data") is None or expected.get("data") is None:
        return Mismatch("the tensor is too large to compare", exp_text, show_value(observed))
    if len(observed["data"]) != len(expected["data"]):
        return Mismatch("the tensor data is malformed", exp_text, show_value(observed))
    return _compare_values(expected, observed, tol)


def _compare_values(expected: dict, observed: dict, tol: Tolerance) -> Mismatch | None:
    exp, obs = values_of(expected), values_of(observed)
    if exp.is_complex() or obs.is_complex():
        exp, obs = exp.to(torch.complex128), obs.to(torch.complex128)
    exact = expected["dtype"].startswith(("int", "uint", "bool"))
    rtol, atol = (0.0, 0.0) if exact else (tol.rtol, tol.atol)
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
    return Mismatch("values differ", show_value(expected), show_value(observed), details)
