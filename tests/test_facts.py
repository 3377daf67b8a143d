"""rubric.facts and rubric.safe on small hand-made autograd graphs."""

from __future__ import annotations

import contextlib

import pytest
import torch

from tensorgrade.rubric import facts, safe


@pytest.fixture
def x():
    return torch.tensor([1.0, -2.0, 3.0], requires_grad=True)


# -- graph_path ---------------------------------------------------------------


def test_graph_path_through_mul_and_sum_ends_at_accumulate_grad(x):
    path = facts.graph_path((x * 2).sum(), x)
    assert path == ["SumBackward0", "MulBackward0", "AccumulateGrad"]
    assert facts.show_path(path) == "connected: SumBackward0 → MulBackward0 → AccumulateGrad"


def test_graph_path_multiplying_by_zero_is_still_connected(x):
    assert facts.graph_path(x * 0, x) == ["MulBackward0", "AccumulateGrad"]


def test_graph_path_of_x_itself(x):
    assert facts.graph_path(x, x) is not None


def test_graph_path_detached_is_not_connected(x):
    y = x.detach() * 2
    assert facts.graph_path(y, x) is None
    assert facts.show_path(facts.graph_path(y, x)) == "not connected"


def test_graph_path_computed_under_no_grad_is_not_connected(x):
    with torch.no_grad():
        y = (x * 2).sum()
    assert facts.graph_path(y, x) is None


def test_graph_path_through_another_leaf_does_not_reach_x(x):
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)  # same values, different leaf
    assert facts.graph_path((w * 2).sum(), x) is None
    assert facts.graph_path((w * 2).sum(), w) == ["SumBackward0", "MulBackward0", "AccumulateGrad"]


def test_graph_path_finds_x_on_one_branch_of_two(x):
    w = torch.tensor([0.5, 0.5, 0.5], requires_grad=True)
    y = (w * 3).sum() + (x ** 2).sum()
    path = facts.graph_path(y, x)
    assert path is not None
    assert path[0] == "AddBackward0" and path[-1] == "AccumulateGrad"
    assert "PowBackward0" in path and "MulBackward0" not in path


@pytest.mark.parametrize("y", [None, [1.0, 2.0], 3.0, "tensor"])
def test_graph_path_non_tensor_output_is_none(x, y):
    assert facts.graph_path(y, x) is None


def test_graph_path_non_tensor_target_is_none(x):
    assert facts.graph_path((x * 2).sum(), [1.0, -2.0, 3.0]) is None


# -- shares_storage -------------------------------------------------------------


@pytest.mark.parametrize("make", [
    pytest.param(lambda t: t.detach(), id="detach"),
    pytest.param(lambda t: t.data, id="data"),
    pytest.param(lambda t: t[1:], id="view-slice"),
    pytest.param(lambda t: t.view(3, 1), id="view-reshape"),
    pytest.param(lambda t: t, id="itself"),
])
def test_shares_storage_true_for_aliases(x, make):
    assert facts.shares_storage(x, make(x)) is True


@pytest.mark.parametrize("make", [
    pytest.param(lambda t: t.clone().detach(), id="clone-detach"),
    pytest.param(lambda t: torch.tensor(t.tolist()), id="copy-of-values"),
    pytest.param(lambda t: t.detach() * 1, id="computed"),
])
def test_shares_storage_false_for_copies(x, make):
    assert facts.shares_storage(x, make(x)) is False


def test_shares_storage_non_tensor_is_false(x):
    assert facts.shares_storage(x, x.tolist()) is False
    assert facts.shares_storage(None, x) is False


# -- safe accessors against monkeypatching and hostile subclasses ---------------------


@contextlib.contextmanager
def patched_tensor_attr(name, value):
    """Replace a torch.Tensor attribute at the Python level; always restore it."""
    had = name in torch.Tensor.__dict__
    old = torch.Tensor.__dict__.get(name)
    setattr(torch.Tensor, name, value)
    try:
        yield
    finally:
        if had:
            setattr(torch.Tensor, name, old)
        else:
            delattr(torch.Tensor, name)


def test_safe_requires_grad_ignores_patched_attribute(x):
    plain = torch.tensor([1.0])
    with patched_tensor_attr("requires_grad", property(lambda self: "lie")):
        assert x.requires_grad == "lie"  # the patch is in effect
        assert safe.requires_grad(x) is True
        assert safe.requires_grad(plain) is False
        assert facts.requires_grad(x) is True
    assert x.requires_grad is True


def test_safe_flat_values_ignores_patched_tolist(x):
    with patched_tensor_attr("tolist", lambda self: [42.0]):
        assert x.tolist() == [42.0]
        assert safe.flat_values(x) == [1.0, -2.0, 3.0]
        assert safe.flat_values(torch.tensor([[1, 2], [3, 4]])) == [1, 2, 3, 4]
    assert x.tolist() == [1.0, -2.0, 3.0]


def test_safe_dtype_ignores_patched_dtype(x):
    with patched_tensor_attr("dtype", property(lambda self: torch.int64)):
        assert x.dtype is torch.int64
        assert safe.dtype(x) is torch.float32
        assert safe.dtype(torch.zeros(2, dtype=torch.float64)) is torch.float64
    assert x.dtype is torch.float32


class Hostile(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        raise RuntimeError("hostile subclass")


def test_safe_reads_a_subclass_whose_torch_function_raises():
    h = torch.tensor([[1.5, -2.0], [0.25, 4.0]], dtype=torch.float64).as_subclass(Hostile)
    with pytest.raises(RuntimeError):
        h.tolist()  # ordinary access goes through __torch_function__
    assert safe.is_tensor(h) and not safe.is_plain_tensor(h)
    assert safe.dtype(h) is torch.float64
    assert safe.shape(h) == (2, 2)
    assert safe.flat_values(h) == [1.5, -2.0, 0.25, 4.0]
    assert safe.requires_grad(h) is False
    assert safe.grad(h) is None
    assert safe.numel(h) == 4
    assert facts.kind(h) == "Hostile"


def test_safe_storage_of_hostile_view_matches_its_base():
    base = torch.tensor([1.0, 2.0, 3.0])
    h = base[1:].as_subclass(Hostile)
    assert facts.shares_storage(base, h) is True
    assert facts.shares_storage(base.clone(), h) is False


def test_safe_leaf_and_grad_fn(x):
    y = x * 2
    assert safe.is_leaf(x) is True and safe.is_leaf(y) is False
    assert safe.grad_fn(x) is None
    assert facts.grad_fn_name(y) == "MulBackward0"
    assert facts.grad_fn_name(x) is None
    assert facts.is_leaf([1]) is None and facts.requires_grad(None) is None


def test_safe_version_counts_in_place_updates():
    t = torch.zeros(3)
    v0 = safe.version(t)
    t.add_(1)
    t.mul_(2)
    assert safe.version(t) == v0 + 2


# -- grad_of, kind, yes_no --------------------------------------------------------------


def test_grad_of_before_and_after_backward(x):
    assert facts.grad_of(x) is None
    (x ** 2).sum().backward()
    g = facts.grad_of(x)
    assert g is x.grad
    assert g.tolist() == [2.0, -4.0, 6.0]


def test_grad_of_ignores_patched_grad(x):
    (3 * x).sum().backward()
    with patched_tensor_attr("grad", property(lambda self: None)):
        assert x.grad is None
        assert facts.grad_of(x).tolist() == [3.0, 3.0, 3.0]


def test_grad_of_non_tensor_is_none():
    assert facts.grad_of([1.0]) is None
    assert facts.grad_of(None) is None


@pytest.mark.parametrize("obj, expected", [
    (None, "None"),
    (torch.zeros(2), "tensor"),
    (torch.nn.Parameter(torch.zeros(2)), "tensor"),
    ([1, 2], "tuple or list"),
    ((1,), "tuple or list"),
    (3.0, "float"),
    (torch.zeros(2).as_subclass(Hostile), "Hostile"),
])
def test_kind(obj, expected):
    assert facts.kind(obj) == expected


def test_yes_no():
    assert facts.yes_no(True) == "yes"
    assert facts.yes_no(False) == "no"
    assert facts.yes_no(None) == "not a tensor"
