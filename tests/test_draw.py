"""rubric.draw: deterministic inputs and function families."""

from __future__ import annotations

import math
import random
import re

import pytest
import torch
from torch.autograd.functional import hessian, jacobian

from tensorgrade.rubric import draw


def rng(seed):
    return random.Random(seed)


def _x(n, dtype=torch.float64):
    return torch.linspace(-0.9, 1.3, n, dtype=dtype)


def _off_diagonal(H):
    return H - torch.diag(torch.diagonal(H))


# -- determinism ------------------------------------------------------------------------


def test_same_seed_same_values_and_leaves():
    assert draw.values(rng(5), 6) == draw.values(rng(5), 6)
    a, b = draw.leaf(rng(5)), draw.leaf(rng(5))
    assert torch.equal(a, b)
    assert a.requires_grad and a.is_leaf and a.grad is None


def test_different_seeds_give_different_values():
    assert draw.values(rng(1), 6) != draw.values(rng(2), 6)


@pytest.mark.parametrize("make", [
    pytest.param(lambda r: draw.scalar_function(r, 4), id="scalar"),
    pytest.param(lambda r: draw.vector_function(r, 4, 2), id="vector"),
])
def test_same_seed_same_function(make):
    f, g = make(rng(11)), make(rng(11))
    x = _x(4)
    assert torch.equal(f(x), g(x))
    assert repr(f) == repr(g)


def test_same_seed_same_function_1d():
    f, g = draw.function_1d(rng(11)), draw.function_1d(rng(11))
    x = torch.tensor(0.7, dtype=torch.float64)
    assert torch.equal(f(x), g(x))


def test_different_seeds_give_different_functions():
    x = _x(4)
    outputs = [draw.scalar_function(rng(seed), 4)(x) for seed in range(5)]
    assert len({round(float(o), 10) for o in outputs}) == 5
    v1, v2 = draw.vector_function(rng(1), 4, 3)(x), draw.vector_function(rng(2), 4, 3)(x)
    assert not torch.allclose(v1, v2)


def test_values_are_rounded_and_away_from_zero():
    vals = draw.values(rng(3), 200)
    assert all(abs(v) >= 0.1 for v in vals)
    assert all(round(v, 2) == v for v in vals)


def test_size_within_bounds():
    sizes = {draw.size(rng(s)) for s in range(50)}
    assert sizes <= set(range(2, 6)) and len(sizes) > 1


def test_leaf_dtype_and_scalar_leaf():
    assert draw.leaf(rng(0), 3, dtype=torch.float64).dtype is torch.float64
    s = draw.scalar_leaf(rng(0))
    assert s.shape == () and s.requires_grad and s.dtype is torch.float64


# -- shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n, m", [(3, 2), (2, 4), (5, 1), (4, 4)])
def test_vector_function_output_shape(n, m):
    f = draw.vector_function(rng(n * 10 + m), n, m)
    y = f(_x(n))
    assert y.shape == (m,)
    assert jacobian(f, _x(n)).shape == (m, n)


def test_vector_function_is_nonlinear():
    f = draw.vector_function(rng(4), 3, 2)
    x = _x(3)
    assert not torch.allclose(f(2 * x), 2 * f(x))


def test_vector_function_respects_input_dtype():
    f = draw.vector_function(rng(4), 3, 2)
    assert f(_x(3, torch.float32)).dtype is torch.float32
    assert f(_x(3, torch.float64)).dtype is torch.float64


def test_multi_input_function_couples_every_input():
    f = draw.multi_input_function(rng(9), 3)
    ts = [torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True) + i * 0.1 for i in range(3)]
    ts = [t.detach().requires_grad_() for t in ts]
    out = f(*ts)
    assert out.shape == ()
    grads = torch.autograd.grad(out, ts, create_graph=True)
    # a mixed second derivative d²f/dt0 dt1 is non-zero: the inputs are coupled
    (mixed,) = torch.autograd.grad(grads[0].sum(), ts[1])
    assert mixed.abs().sum() > 0


# -- derivatives ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_scalar_function_hessian_is_not_diagonal(seed):
    r = rng(seed)
    n = draw.size(r)
    f = draw.scalar_function(r, n)
    H = hessian(f, _x(n))
    assert H.shape == (n, n)
    assert _off_diagonal(H).abs().max() > 1e-6, repr(f)


@pytest.mark.parametrize("seed", [2184, 2573])
def test_scalar_function_hessian_never_diagonal_for_found_seeds(seed):
    r = rng(seed)
    n = draw.size(r)
    f = draw.scalar_function(r, n)
    assert _off_diagonal(hessian(f, _x(n))).abs().max() > 1e-6, repr(f)


@pytest.mark.parametrize("seed", range(20))
def test_function_1d_has_nonzero_third_derivative(seed):
    f = draw.function_1d(rng(seed))
    for point in (0.7, -0.4):
        x = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        d = f(x)
        for _ in range(3):
            (d,) = torch.autograd.grad(d, x, create_graph=True)
        assert abs(float(d.detach())) > 1e-6, (repr(f), point)


def test_function_1d_keeps_zero_dim():
    f = draw.function_1d(rng(2))
    assert f(torch.tensor(0.3)).shape == ()


# -- readable formulas -----------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    pytest.param(lambda r: draw.scalar_function(r, 3), id="scalar"),
    pytest.param(lambda r: draw.vector_function(r, 3, 2), id="vector"),
    pytest.param(lambda r: draw.function_1d(r), id="1d"),
    pytest.param(lambda r: draw.multi_input_function(r, 2), id="multi"),
])
@pytest.mark.parametrize("seed", range(8))
def test_formula_repr_is_readable(make, seed):
    f = make(rng(seed))
    text = repr(f)
    assert text == f.text
    assert text.startswith(("f(x) = ", "f = "))
    assert "lambda" not in text and "object at 0x" not in text
    assert "+ -" not in text and "+ +" not in text  # signs read naturally


@pytest.mark.parametrize("seed", range(10))
def test_function_1d_text_is_faithful(seed):
    """Evaluating the printed formula by hand gives the same value as calling f."""
    f = draw.function_1d(rng(seed))
    num = r"(-?[0-9.]+)"
    m = re.fullmatch(rf"f\(x\) = {num}·x\^(\d+) ([+−]) {num}·sin\({num}x\) ([+−]) {num}·exp\({num}x\)", repr(f))
    assert m, repr(f)
    a, k, s1, b, w, s2, d, e = m.groups()
    sign = {"+": 1.0, "−": -1.0}
    x = 0.6
    by_hand = (float(a) * x ** int(k) + sign[s1] * float(b) * math.sin(float(w) * x)
               + sign[s2] * float(d) * math.exp(float(e) * x))
    assert float(f(torch.tensor(x, dtype=torch.float64))) == pytest.approx(by_hand, rel=1e-12)


def test_formula_is_callable_with_its_function():
    f = draw.Formula(lambda a, b: a * b, "f(a, b) = a·b")
    assert f(3, 4) == 12
    assert repr(f) == "f(a, b) = a·b"
