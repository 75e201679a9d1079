r"""Inputs with d > 1: Minkowski distances with one width per coordinate.

For queries :math:`q` and keys :math:`k` in :math:`\mathbb R^d` and widths :math:`h_c > 0`,
the scaled Minkowski distance of order :math:`p \ge 1` is

.. math::

    r_p(q, k) = \Big(\sum_{c=1}^{d} \Big|\frac{q_c - k_c}{h_c}\Big|^p\Big)^{1/p},
    \qquad r_\infty(q, k) = \max_c \Big|\frac{q_c - k_c}{h_c}\Big| ,

and the attention weights are :math:`a(q, k_i) \propto K(r_p(q, k_i))` with a profile of
:mod:`nwlib.kernels`, computed as a softmax over keys of ``kernel.log_profile(r**2)``.
:math:`p = 2` is the Euclidean distance that :mod:`nwlib.pooling` uses (and the two
agree), :math:`p = 1` the Manhattan distance, :math:`p = \infty` the largest coordinate
difference. :math:`p < 1` is refused: it is not a norm (the triangle inequality fails).

Widths: a scalar, one per coordinate (shape (d,)), or one per key ((n_k, 1) or
(n_k, d)). A width per coordinate is the same as dividing coordinate :math:`c` of every
input by :math:`h_c` and using width 1: feature scaling and widths are one thing.
:func:`fit_coordinate_widths` learns them by gradient descent on the leave-one-out
error, through :math:`\log h_c`.

Shapes are queries x keys: ``queries`` (n_q, d), ``keys`` (n_k, d), ``values`` (n_k,) or
(n_k, m); weights (n_q, n_k). :func:`minkowski_nadaraya_watson` works in blocks of
queries, so its memory is O(block x n_k x d), never O(n_q x n_k x d).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.checkpoint import checkpoint

from ._engine import (
    DEFAULT_MEMORY_BUDGET,
    check_exclude_self,
    check_on_empty,
    prepare,
    report_empty,
    softmax_rows,
)
from ._validate import ArrayLike, as_float_tensor, as_points, common_dtype
from .kernels import Kernel, get_kernel

Tensor = torch.Tensor

__all__ = ["minkowski_distances", "minkowski_log_scores", "minkowski_attention_weights",
           "minkowski_nadaraya_watson", "minkowski_loo_error", "standardize",
           "CoordinateWidths", "fit_coordinate_widths"]


def _check_p(p: object) -> float:
    """``p`` as a float in [1, inf], or a TypeError/ValueError naming it."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"p must be a number >= 1 (or math.inf), got {type(p).__name__}")
    p = float(p)
    if math.isnan(p) or p < 1:
        raise ValueError(f"p must be >= 1 (or math.inf): p < 1 is not a norm, got {p!r}")
    return p


def _scaled_r2(q: Tensor, k: Tensor, h: Tensor, p: float) -> Tensor:
    r""":math:`r_p^2` for every (query, key) pair, (n_q, n_k), with finite gradients everywhere.

    For general :math:`p` the sum is taken relative to the largest coordinate
    :math:`m`: :math:`r_p = m\,(\sum_c (|x_c|/m)^p)^{1/p}`, which neither overflows for
    large :math:`p` nor has an infinite derivative at :math:`r = 0`.
    """
    diff = (q.unsqueeze(1) - k.unsqueeze(0)) / h  # (n_q, n_k, d); h: (), (d,) or (n_k, 1|d)
    if p == 2.0:
        return (diff * diff).sum(-1)
    a = diff.abs()
    if p == 1.0:
        return a.sum(-1) ** 2
    m = a.amax(-1, keepdim=True)
    if math.isinf(p):
        return m.squeeze(-1) ** 2
    tiny = torch.finfo(a.dtype).tiny
    s = ((a / m.clamp(min=tiny)) ** p).sum(-1)  # >= 1 wherever m > 0
    return m.squeeze(-1) ** 2 * s.clamp(min=1.0) ** (2.0 / p)


def minkowski_distances(queries: ArrayLike, keys: ArrayLike, width: ArrayLike = 1.0,
                        p: float = 2.0) -> Tensor:
    r"""Scaled Minkowski distances :math:`r_p(q_j, k_i)`, shape (n_q, n_k).

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums). Differences are divided by the widths before any power.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d)
    keys : (n_k,) or (n_k, d)
    width : scalar, (d,), or (n_k, 1) / (n_k, d); > 0
    p : float >= 1 or ``math.inf``

    Raises
    ------
    ValueError
        For ``p < 1`` or NaN, mismatched d, a width that is not > 0 or has a wrong shape.
    TypeError
        For a ``p`` that is not a number.
    """
    p = _check_p(p)
    q, k, h = prepare(queries, keys, width)
    return _scaled_r2(q, k, h, p).sqrt()


def minkowski_log_scores(queries: ArrayLike, keys: ArrayLike, width: ArrayLike, p: float = 2.0,
                         kernel: str | Kernel = "gaussian", *,
                         exclude_self: bool = False) -> Tensor:
    r"""Log-kernel scores :math:`\log K(r_p(q_j, k_i))`, shape (n_q, n_k); ``-inf`` outside a
    compact kernel's support and, with ``exclude_self``, on the diagonal.

    Dtype: as :func:`minkowski_distances`.
    """
    p = _check_p(p)
    kern = get_kernel(kernel)
    q, k, h = prepare(queries, keys, width)
    s = kern.log_profile(_scaled_r2(q, k, h, p))
    if exclude_self:
        check_exclude_self(q, k)
        s = s.masked_fill(torch.eye(k.shape[0], dtype=torch.bool, device=s.device), -torch.inf)
    return s


def minkowski_attention_weights(queries: ArrayLike, keys: ArrayLike, width: ArrayLike,
                                p: float = 2.0, kernel: str | Kernel = "gaussian", *,
                                exclude_self: bool = False, on_empty: str = "nan") -> Tensor:
    """Attention weights on the Minkowski distance, (n_q, n_k), rows summing to 1.

    A query with no key inside a compact kernel's support gets a row of NaN and a
    ``RuntimeWarning`` (or ``ValueError`` with ``on_empty="raise"``), as in
    :func:`nwlib.pooling.attention_weights`.

    Dtype: as :func:`minkowski_distances`; normalized in the log domain.
    """
    s = minkowski_log_scores(queries, keys, width, p, kernel, exclude_self=exclude_self)
    return softmax_rows(s, get_kernel(kernel), on_empty)


def _block_rows(n_q: int, n_k: int, d: int, itemsize: int, memory_budget: int | None) -> int:
    """Queries per block: about 3d + 8 temporaries of (n_k,) per query row fit the budget."""
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")
    rows = int(budget // ((3 * d + 8) * n_k * itemsize))
    if rows < 1:
        raise ValueError(f"memory_budget={budget:.4g} bytes cannot hold one query row of "
                         f"{n_k} keys in {d} dimensions: raise memory_budget")
    return min(n_q, rows)


def _block(qb: Tensor, k: Tensor, h: Tensor, v: Tensor, p: float, kern: Kernel,
           diag: int | None) -> Tensor:
    s = kern.log_profile(_scaled_r2(qb, k, h, p))
    if diag is not None:
        rows = torch.arange(qb.shape[0], device=s.device)
        mask = torch.zeros(s.shape, dtype=torch.bool, device=s.device)
        mask[rows, rows + diag] = True
        s = s.masked_fill(mask, -torch.inf)
    return torch.softmax(s, dim=1) @ v  # an all -inf row gives NaN: 0/0


def minkowski_nadaraya_watson(queries: ArrayLike, keys: ArrayLike, values: ArrayLike,
                              width: ArrayLike, p: float = 2.0,
                              kernel: str | Kernel = "gaussian", *, exclude_self: bool = False,
                              on_empty: str = "nan", block_size: int | None = None,
                              memory_budget: int | None = None) -> Tensor:
    r"""Nadaraya-Watson estimate on the Minkowski distance, shape (n_q,) or (n_q, m).

    :math:`f(q_j) = \sum_i a(q_j, k_i)\, v_i` with :math:`a \propto K(r_p)`. Queries are
    processed in blocks (``block_size``, default from ``memory_budget``); when a
    gradient is needed each block is checkpointed, so memory stays bounded in the
    backward pass too. Autograd flows through a tensor ``width``. With ``p=2`` this
    equals :func:`nwlib.pooling.nadaraya_watson`.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums) (values included: float64 values keep float32 points' result
    in float64).
    """
    p = _check_p(p)
    kern = get_kernel(kernel)
    check_on_empty(on_empty)
    q, k, h = prepare(queries, keys, width)
    v = as_float_tensor(values, "values")
    if v.ndim not in (1, 2) or v.shape[0] != k.shape[0]:
        raise ValueError(f"values must have shape (n_keys,) or (n_keys, m) with n_keys={k.shape[0]}, "
                         f"got {tuple(v.shape)}")
    n_q, n_k, d = q.shape[0], k.shape[0], q.shape[1]
    if exclude_self:
        check_exclude_self(q, k)
    dt = common_dtype(q, v)  # float64 values are not rounded to float32 queries' precision
    q, k, h = q.to(dt), k.to(dt), h.to(dt)
    v2 = v.to(dt).reshape(n_k, -1)
    if block_size is None:
        block_size = _block_rows(n_q, n_k, d, q.element_size(), memory_budget)
    elif isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise ValueError(f"block_size must be a positive int, got {block_size!r}")
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, h, v2))
    parts = []
    for i in range(0, n_q, block_size):
        args = (q[i:i + block_size], k, h, v2, p, kern, i if exclude_self else None)
        multi = grad and n_q > block_size
        parts.append(checkpoint(_block, *args, use_reentrant=False) if multi else _block(*args))
    f = torch.cat(parts)
    report_empty(int(torch.isnan(f[:, 0]).sum()), n_q, kern, on_empty, stacklevel=3)
    return f.reshape(n_q) if v.ndim == 1 else f


def minkowski_loo_error(x: ArrayLike, y: ArrayLike, width: ArrayLike, p: float = 2.0,
                        kernel: str | Kernel = "gaussian") -> Tensor:
    r"""Leave-one-out error :math:`\frac1n\sum_i (y_i - f_{-i}(x_i))^2`, a differentiable 0-d tensor.

    Dtype: as :func:`minkowski_nadaraya_watson`.
    """
    xt = as_points(x, "x")
    yt = as_float_tensor(y, "y")
    if yt.shape[0] != xt.shape[0]:
        raise ValueError(f"x and y must have the same number of points, got {xt.shape[0]} and {yt.shape[0]}")
    pred = minkowski_nadaraya_watson(xt, xt, yt, width, p, kernel, exclude_self=True)
    return ((pred - yt.to(pred.dtype)) ** 2).mean()


def standardize(x: ArrayLike, *, like: ArrayLike | None = None) -> tuple[Tensor, Tensor, Tensor]:
    r"""Centre and scale each coordinate: :math:`z_c = (x_c - \bar x_c) / s_c`.

    ``(z, mean, sd)`` with the sample standard deviation (``ddof=1``). With ``like``
    the mean and sd are those of ``like`` (for example: scale test inputs with the
    training set's statistics).

    Dtype: the input's floating dtype (integers as float64).

    Raises
    ------
    ValueError
        If a coordinate of the reference data has zero spread.
    """
    xt = as_points(x, "x")
    ref = xt if like is None else as_points(like, "like")
    if ref.shape[1] != xt.shape[1]:
        raise ValueError(f"like must have the same number of coordinates as x, got {ref.shape[1]} and {xt.shape[1]}")
    if ref.shape[0] < 2:
        raise ValueError("standardize needs at least 2 points to measure the spread")
    mean, sd = ref.mean(0), ref.std(0)
    if bool((sd == 0).any()):
        cols = torch.nonzero(sd == 0).reshape(-1).tolist()
        raise ValueError(f"coordinate(s) {cols} have zero spread: every value is the same")
    return (xt - mean) / sd, mean, sd


@dataclass
class CoordinateWidths:
    """What :func:`fit_coordinate_widths` returns.

    Attributes
    ----------
    width : ndarray (d,)
        The learned widths.
    loo_error : float
        Leave-one-out error at ``width``.
    loss : ndarray (steps,)
        The leave-one-out error before each step.
    widths : ndarray (steps, d)
        The widths at which ``loss`` was evaluated.
    p : float
    """

    width: np.ndarray
    loo_error: float
    loss: np.ndarray = field(repr=False)
    widths: np.ndarray = field(repr=False)
    p: float = 2.0


def fit_coordinate_widths(x: ArrayLike, y: ArrayLike, *, p: float = 2.0,
                          width: ArrayLike | None = None, steps: int = 200, lr: float = 0.05,
                          kernel: str | Kernel = "gaussian", seed: int = 0) -> CoordinateWidths:
    r"""Learn one width per coordinate by Adam on :math:`\log h_c`, minimizing the LOO error.

    Dtype: as :func:`minkowski_nadaraya_watson` (integers as float64).

    Parameters
    ----------
    x : (n, d); y : (n,) or (n, m)
    p : order of the Minkowski distance
    width : starting widths, a number or (d,) (default: 1.0 for every coordinate)
    steps, lr : Adam steps and learning rate (full batch)
    kernel : a kernel with a gradient (not boxcar or constant)
    seed : seeds torch for the fit (the global state is restored)

    An irrelevant coordinate is one the LOO error improves by ignoring: its width
    grows, which flattens the kernel along it. With ``p=2`` this is
    ``LearnedWidthNW(x, y, width, per="coordinate").fit(steps, lr=lr)`` of
    :mod:`nwlib.learn`.

    Raises
    ------
    FloatingPointError
        When the loss stops being finite; the message names the step.
    """
    p = _check_p(p)
    xt = as_points(x, "x").detach()
    yt = as_float_tensor(y, "y").detach()
    d = xt.shape[1]
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    h0 = as_float_tensor(1.0 if width is None else width, "width").detach().to(xt.dtype)
    if h0.numel() == 1:
        h0 = h0.reshape(()).expand(d).clone()
    if tuple(h0.shape) != (d,) or bool((h0 <= 0).any()):
        raise ValueError(f"width must be a number > 0 or {d} numbers > 0 (one per coordinate), "
                         f"got shape {tuple(h0.shape)}")
    log_h = torch.nn.Parameter(h0.log())
    losses, widths = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        opt = torch.optim.Adam([log_h], lr=lr)
        for step in range(steps):
            opt.zero_grad()
            loss = minkowski_loo_error(xt, yt, log_h.exp(), p, kernel)
            if not bool(torch.isfinite(loss)):
                raise FloatingPointError(f"the leave-one-out error became {float(loss)} at step {step} "
                                         f"(widths {log_h.detach().exp().numpy().round(4)}): "
                                         f"try a smaller lr or another starting width")
            if not loss.requires_grad:
                raise ValueError(f"the {get_kernel(kernel).name!r} kernel gives no gradient "
                                 f"with respect to the widths: use 'gaussian' or 'epanechnikov'")
            losses.append(float(loss.detach()))
            widths.append(log_h.detach().exp().numpy().copy())
            loss.backward()
            opt.step()
    with torch.no_grad():
        h = log_h.detach().exp()
        final = float(minkowski_loo_error(xt, yt, h, p, kernel))
    return CoordinateWidths(h.numpy(), final, np.asarray(losses), np.asarray(widths), p)
