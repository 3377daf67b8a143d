"""Deterministic inputs and function families, drawn from a check's seed.

Every student gets their own values, sizes and functions `f`, so hard-coded
answers fail; the reference sees exactly the same draws because the seed is
the same. Functions are `Formula`s: callables that also say what they compute,
so feedback can show the learner the exact inputs.
"""

from __future__ import annotations

import random
from typing import Callable

import torch


class Formula:
    """A function `f` handed to student code, with a readable formula for feedback."""

    def __init__(self, fn: Callable, text: str):
        self._fn = fn
        self.text = text

    def __call__(self, *args):
        return self._fn(*args)

    def __repr__(self) -> str:
        return self.text


def _c(rng: random.Random, lo: float = 0.5, hi: float = 2.0) -> float:
    """A coefficient with a random sign, rounded so it reads well in feedback."""
    return round(rng.choice((-1, 1)) * rng.uniform(lo, hi), 2)


def _fmt(v: float) -> str:
    return f"{v:g}"


def _sum_text(lead: str, terms: list[str]) -> str:
    """Join terms with signs that read naturally: 'a + b − c', not 'a + -c'."""
    text = lead + terms[0]
    for term in terms[1:]:
        text += f" − {term[1:]}" if term.startswith("-") else f" + {term}"
    return text


def values(rng: random.Random, n: int, lo: float = -1.5, hi: float = 1.5) -> list[float]:
    """n floats rounded to two decimals, none too close to zero (keeps relative errors meaningful)."""
    out = []
    for _ in range(n):
        v = round(rng.uniform(lo, hi), 2)
        out.append(v if abs(v) >= 0.1 else round(v + 0.3, 2))
    return out


def size(rng: random.Random, lo: int = 2, hi: int = 5) -> int:
    return rng.randint(lo, hi)


def leaf(rng: random.Random, n: int | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A fresh leaf tensor that requires grad and has no .grad yet."""
    n = size(rng) if n is None else n
    return torch.tensor(values(rng, n), dtype=dtype, requires_grad=True)


def scalar_leaf(rng: random.Random, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(values(rng, 1, -1.2, 1.2)[0], dtype=dtype, requires_grad=True)


def _matrix(rng: random.Random, rows: int, cols: int) -> list[list[float]]:
    return [[_c(rng, 0.2, 1.5) for _ in range(cols)] for _ in range(rows)]


def scalar_function(rng: random.Random, n: int) -> Formula:
    """f: R^n -> R, smooth, with a full, non-diagonal Hessian; two or three terms."""
    cube, sine_a, sine_w = _c(rng), _c(rng), round(rng.uniform(0.5, 2.0), 2)
    M = _matrix(rng, n, n)
    log_c, exp_w = _c(rng), [round(rng.uniform(-0.6, 0.6), 2) for _ in range(n)]
    terms = {
        "cube": (lambda x: cube * (x**3).sum(), f"{_fmt(cube)}·Σx³"),
        "sine": (lambda x: sine_a * torch.sin(sine_w * x).sum(), f"{_fmt(sine_a)}·Σsin({_fmt(sine_w)}x)"),
        # xᵀMx as Σ x⊙(Mx): torch 2.13 cannot batch the forward-mode Jacobian of `x @ M @ x` (vectorized
        # forward-over-reverse Hessians raised; graders/idioms/ex6_jacobian_hessian/forward_mode_vectorized.py)
        "quad": (lambda x: (x * (torch.tensor(M, dtype=x.dtype) @ x)).sum(), f"xᵀMx with M={M}"),
        "log": (lambda x: log_c * torch.log(1 + x**2).sum(), f"{_fmt(log_c)}·Σlog(1+x²)"),
        "exp": (lambda x: torch.exp(torch.tensor(exp_w, dtype=x.dtype) @ x), f"exp(w·x) with w={exp_w}"),
        "cross": (lambda x: x[0] * x[-1] ** 2, "x₀·xₙ₋₁²"),
    }
    picked = rng.sample(sorted(terms), k=rng.randint(2, 3))
    if "cross" not in picked:
        picked.append("cross")  # x₀·xₙ₋₁² always couples two inputs: the Hessian is never diagonal
    fns = [terms[k][0] for k in picked]
    return Formula(lambda x: sum(fn(x) for fn in fns), _sum_text("f(x) = ", [terms[k][1] for k in picked]))


def vector_function(rng: random.Random, n: int, m: int) -> Formula:
    """f: R^n -> R^m (m != n is the interesting case), smooth and non-linear."""
    A, B = _matrix(rng, m, n), _matrix(rng, m, n)
    c = [_c(rng, 0.2, 1.0) for _ in range(m)]

    def f(x):
        At, Bt, ct = (torch.tensor(v, dtype=x.dtype) for v in (A, B, c))
        return At @ torch.tanh(x) + ct * (Bt @ x) ** 2

    return Formula(f, f"f(x) = A·tanh(x) + c⊙(B·x)² with A={A}, B={B}, c={c}")


def function_1d(rng: random.Random) -> Formula:
    """f: R -> R for 0-dim x, with non-zero derivatives of every order we ask for."""
    a, k = _c(rng), rng.randint(3, 6)
    b, w = _c(rng), round(rng.uniform(0.5, 2.0), 2)
    d, e = _c(rng, 0.2, 1.0), round(rng.uniform(-1.0, 1.0), 2) or 0.5
    return Formula(
        lambda x: a * x**k + b * torch.sin(w * x) + d * torch.exp(e * x),
        _sum_text("f(x) = ", [f"{_fmt(a)}·x^{k}", f"{_fmt(b)}·sin({_fmt(w)}x)", f"{_fmt(d)}·exp({_fmt(e)}x)"]),
    )


def multi_input_function(rng: random.Random, count: int) -> Formula:
    """f(t₀, …, t_{k-1}) -> scalar for same-shaped tensors, coupling every input."""
    coefs = [_c(rng) for _ in range(count)]
    powers = [rng.randint(2, 3) for _ in range(count)]

    def f(*ts):
        total = sum(c * (t**p).sum() for c, p, t in zip(coefs, powers, ts))
        prod = ts[0]
        for t in ts[1:]:
            prod = prod * torch.sin(t)
        return total + prod.sum()

    parts = [f"{_fmt(c)}·Σt{i}^{p}" for i, (c, p) in enumerate(zip(coefs, powers))]
    couple = "·".join(["t0"] + [f"sin(t{i})" for i in range(1, count)])
    return Formula(f, _sum_text("f = ", parts + [f"Σ({couple})"]))
