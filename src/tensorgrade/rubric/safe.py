"""C-level tensor accessors captured at import, before any student code runs.

Student code may monkeypatch `torch.Tensor` methods, `torch` functions or
builtins. Everything the rubric reads about a tensor goes through the
descriptors of `torch._C.TensorBase` captured here, with torch-function
dispatch disabled so tensor subclasses cannot intercept the read.
"""

from __future__ import annotations

import builtins

import torch

_Base = torch._C.TensorBase
_Tensor = torch.Tensor
_no_torch_function = torch._C.DisableTorchFunction
_type, _issubclass, _len, _id = builtins.type, builtins.issubclass, builtins.len, builtins.id


_dtype = _Base.__dict__["dtype"].__get__
_shape = _Base.__dict__["shape"].__get__
_requires_grad = _Base.__dict__["requires_grad"].__get__
_grad_fn = _Base.__dict__["grad_fn"].__get__
_is_leaf = _Base.__dict__["is_leaf"].__get__
_grad = _Base.__dict__["grad"].__get__
_version = _Base.__dict__["_version"].__get__
_tolist = _Base.tolist
_detach = _Base.detach
_contiguous = _Base.contiguous
_untyped_storage = _Base.untyped_storage
_data_ptr = _Base.data_ptr
_numel = _Base.numel
_reshape = _Base.reshape
_cpu = _Base.cpu


def is_tensor(obj) -> bool:
    return _issubclass(_type(obj), _Tensor)


def is_plain_tensor(obj) -> bool:
    return _type(obj) is _Tensor or _type(obj) is torch.nn.Parameter


def dtype(t):
    with _no_torch_function():
        return _dtype(t)


def shape(t) -> tuple[int, ...]:
    with _no_torch_function():
        return tuple(_shape(t))


def requires_grad(t) -> bool:
    with _no_torch_function():
        return bool(_requires_grad(t))


def grad_fn(t):
    with _no_torch_function():
        return _grad_fn(t)


def is_leaf(t) -> bool:
    with _no_torch_function():
        return bool(_is_leaf(t))


def grad(t):
    with _no_torch_function():
        return _grad(t)


def version(t) -> int:
    with _no_torch_function():
        return int(_version(t))


def numel(t) -> int:
    with _no_torch_function():
        return int(_numel(t))


def flat_values(t) -> list:
    """All elements as a flat Python list (float/int/bool/complex)."""
    with _no_torch_function():
        return _tolist(_reshape(_contiguous(_cpu(_detach(t))), (-1,)))


def storage_ptr(t) -> int:
    """Address of the storage that backs `t` (equal for views and detach(); different for copies)."""
    with _no_torch_function():
        return int(_untyped_storage(t).data_ptr())


def same_object(a, b) -> bool:
    return _id(a) == _id(b) and a is b
