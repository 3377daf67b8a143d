"""Turn whatever a student function returned into plain JSON data.

Observations cross a process boundary as JSON (never pickle), so the judge
can decide verdicts from raw values without trusting the student's process.
"""

from __future__ import annotations

import math
import sys

from tensorgrade.rubric import safe

MAX_ELEMENTS = 100_000
MAX_REPR = 200
MAX_TEXT = 10_000  # a string is compared in full up to this length (its repr is only for reading)
MAX_ITEMS = 1_000  # a tuple or list is compared item by item up to this many items (and by its length)


def _number(v):
    """JSON-safe scalar: non-finite floats become strings the judge decodes."""
    if type(v) is bool or v is None:
        return v
    if type(v) is complex:
        return {"re": _number(v.real), "im": _number(v.imag)}
    if type(v) is float and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def numpy_scalar(obj):
    """The Python value of a numpy scalar (np.float64, np.int32, np.bool_), else None.

    Read with numpy's own C-level `generic.item`, so a subclass cannot answer for it; numpy is
    looked up, never imported: a numpy scalar can only exist once numpy is loaded.
    """
    np = sys.modules.get("numpy")
    generic = getattr(np, "generic", None) if np is not None else None
    if not isinstance(generic, type) or not issubclass(type(obj), generic):
        return None
    try:
        value = generic.item(obj)
    except BaseException:  # a hostile subclass must not break grading
        return None
    return value if type(value) in (bool, int, float, complex) else None


def short_repr(obj) -> str:
    try:
        text = object.__repr__(obj) if safe.is_tensor(obj) else repr(obj)
    except BaseException as exc:  # a hostile __repr__ must not break grading (SystemExit included)
        text = f"<{type(obj).__name__} whose repr raised {type(exc).__name__}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def encode(obj) -> dict:
    """Encode a value for the judge: tensors in full, anything else by type and short repr."""
    if obj is None:
        return {"type": "none"}
    if safe.is_tensor(obj):
        out = {
            "type": "tensor",
            "pytype": type(obj).__name__,
            "plain": safe.is_plain_tensor(obj),
            "dtype": str(safe.dtype(obj)).removeprefix("torch."),
            "shape": list(safe.shape(obj)),
            "requires_grad": safe.requires_grad(obj),
        }
        if safe.numel(obj) > MAX_ELEMENTS:
            out["data"] = None  # too large to ship; the judge reports it
        else:
            out["data"] = [_number(v) for v in safe.flat_values(obj)]
        return out
    if type(obj) in (bool, int, float):
        return {"type": "number", "pytype": type(obj).__name__, "value": _number(obj)}
    scalar = numpy_scalar(obj)
    if scalar is not None:  # where a number is asked, np.float64(0.5) is a number
        return {"type": "number", "pytype": f"numpy.{type(obj).__name__}", "value": _number(scalar)}
    if type(obj) in (tuple, list):
        items = [encode(v) for v in obj[:MAX_ITEMS]]
        return {"type": "sequence", "pytype": type(obj).__name__, "length": len(obj), "items": items}
    out = {"type": "other", "pytype": type(obj).__name__, "repr": short_repr(obj)}
    if type(obj) is str:
        out.update(text=obj[:MAX_TEXT], length=len(obj))
    return out
