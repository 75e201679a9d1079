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
(n_k, m); weights (n_q, n_k). :func:`nwlib.pooling.nadaraya_watson` with ``p`` works in blocks of
queries, so its memory is O(block x n_k x d), never O(n_q x n_k x d). The
``minkowski_*`` scores, weights, estimate and leave-one-out error are deprecated
aliases of the pooling and selection functions with ``p``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from ._engine import check_p
from ._validate import ArrayLike, as_float_tensor, as_points
from .kernels import Kernel, get_kernel
from .pooling import attention_weights, log_scores, nadaraya_watson, scaled_sq_distances
from .selection import loo_error, silverman_width

Tensor = torch.Tensor

__all__ = [
    "minkowski_distances",
    "minkowski_log_scores",
    "minkowski_attention_weights",
    "minkowski_nadaraya_watson",
    "minkowski_loo_error",
    "standardize",
    "CoordinateWidths",
    "fit_coordinate_widths",
]


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"nwlib.multidim.{old} is deprecated and will be removed in the next "
        f"release: use {new}",
        DeprecationWarning,
        stacklevel=3,
    )


def minkowski_distances(
    queries: ArrayLike, keys: ArrayLike, width: ArrayLike = 1.0, p: float = 2.0
) -> Tensor:
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
    return scaled_sq_distances(queries, keys, width, p=p).sqrt()


def minkowski_log_scores(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    p: float = 2.0,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
) -> Tensor:
    r"""Log-kernel scores :math:`\log K(r_p(q_j, k_i))`, shape (n_q, n_k); ``-inf`` outside a
    compact kernel's support and, with ``exclude_self``, on the diagonal.

    Dtype: as :func:`minkowski_distances`.
    """
    _deprecated("minkowski_log_scores", "nwlib.pooling.log_scores(..., p=p)")
    return log_scores(queries, keys, width, kernel, exclude_self=exclude_self, p=p)


def minkowski_attention_weights(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    p: float = 2.0,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
    on_empty: str = "nan",
) -> Tensor:
    """Attention weights on the Minkowski distance, (n_q, n_k), rows summing to 1.

    A query with no key inside a compact kernel's support gets a row of NaN and a
    ``RuntimeWarning`` (or ``ValueError`` with ``on_empty="raise"``), as in
    :func:`nwlib.pooling.attention_weights`.

    Dtype: as :func:`minkowski_distances`; normalized in the log domain.
    """
    _deprecated(
        "minkowski_attention_weights", "nwlib.pooling.attention_weights(..., p=p)"
    )
    return attention_weights(
        queries, keys, width, kernel, exclude_self=exclude_self, on_empty=on_empty, p=p
    )


def minkowski_nadaraya_watson(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: ArrayLike,
    p: float = 2.0,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
    on_empty: str = "nan",
    block_size: int | None = None,
    memory_budget: int | None = None,
) -> Tensor:
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
    _deprecated("minkowski_nadaraya_watson", "nwlib.pooling.nadaraya_watson(..., p=p)")
    return nadaraya_watson(
        queries,
        keys,
        values,
        width,
        kernel,
        exclude_self=exclude_self,
        on_empty=on_empty,
        p=p,
        block_size=block_size,
        memory_budget=memory_budget,
    )


def minkowski_loo_error(
    x: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    p: float = 2.0,
    kernel: str | Kernel = "gaussian",
) -> Tensor:
    r"""Leave-one-out error :math:`\frac1n\sum_i (y_i - f_{-i}(x_i))^2`, a differentiable 0-d tensor.

    Dtype: as :func:`minkowski_nadaraya_watson`.
    """
    _deprecated("minkowski_loo_error", "nwlib.selection.loo_error(..., p=p)")
    return loo_error(x, y, width, kernel, p=p)


def standardize(
    x: ArrayLike, *, like: ArrayLike | None = None
) -> tuple[Tensor, Tensor, Tensor]:
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
        raise ValueError(
            f"like must have the same number of coordinates as x, got {ref.shape[1]} and {xt.shape[1]}"
        )
    if ref.shape[0] < 2:
        raise ValueError("standardize needs at least 2 points to measure the spread")
    mean, sd = ref.mean(0), ref.std(0)
    if bool((sd == 0).any()):
        cols = torch.nonzero(sd == 0).reshape(-1).tolist()
        raise ValueError(
            f"coordinate(s) {cols} have zero spread: every value is the same"
        )
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


def fit_coordinate_widths(
    x: ArrayLike,
    y: ArrayLike,
    *,
    p: float = 2.0,
    width: ArrayLike | None = None,
    steps: int = 200,
    lr: float = 0.05,
    kernel: str | Kernel = "gaussian",
    seed: int = 0,
) -> CoordinateWidths:
    r"""Learn one width per coordinate by Adam on :math:`\log h_c`, minimizing the LOO error.

    Dtype: as :func:`minkowski_nadaraya_watson` (integers as float64).

    Parameters
    ----------
    x : (n, d); y : (n,) or (n, m)
    p : order of the Minkowski distance
    width : starting widths, a number or (d,) (default: Silverman's rule per
        coordinate, :func:`nwlib.selection.silverman_width`; a ``FlatLossWarning``
        says when the loss did not move from the start)
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
    p = check_p(p)
    xt = as_points(x, "x").detach()
    yt = as_float_tensor(y, "y").detach()
    d = xt.shape[1]
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if width is None:  # Silverman's rule per coordinate: the data's own scale
        sw = np.atleast_1d(np.asarray(silverman_width(xt.double()), dtype=np.float64))
        width = np.where(np.isfinite(sw) & (sw > 0), sw, 1.0)
    h0 = as_float_tensor(width, "width").detach().to(xt.dtype)
    if h0.numel() == 1:
        h0 = h0.reshape(()).expand(d).clone()
    if tuple(h0.shape) != (d,) or bool((h0 <= 0).any()):
        raise ValueError(
            f"width must be a number > 0 or {d} numbers > 0 (one per coordinate), "
            f"got shape {tuple(h0.shape)}"
        )
    log_h = torch.nn.Parameter(h0.log())
    losses, widths = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        opt = torch.optim.Adam([log_h], lr=lr)
        for step in range(steps):
            opt.zero_grad()
            loss = loo_error(xt, yt, log_h.exp(), kernel, p=p)
            if not loss.requires_grad:
                raise ValueError(
                    f"the {get_kernel(kernel).name!r} kernel gives no gradient "
                    f"with respect to the widths: use 'gaussian' or 'epanechnikov'"
                )
            if not bool(torch.isfinite(loss)):
                raise FloatingPointError(
                    f"the leave-one-out error became {float(loss)} at step {step} "
                    f"(widths {log_h.detach().exp().numpy().round(4)}): "
                    f"try a smaller lr or another starting width"
                )
            losses.append(float(loss.detach()))
            widths.append(log_h.detach().exp().numpy().copy())
            loss.backward()
            opt.step()
    grad = float(log_h.grad.abs().max()) if log_h.grad is not None else 0.0
    change = abs(losses[-1] - losses[0]) / max(abs(losses[0]), 1e-300)
    if len(losses) > 1 and change < 1e-6 and grad < 1e-8:
        from .learn import FlatLossWarning  # learn imports this module's neighbours

        warnings.warn(
            f"the loss did not change (relative change {change:.1e}, gradient "
            f"{grad:.1e}): it is flat at the starting widths "
            f"{h0.numpy().round(6)}, far too small or too large for gradient descent. "
            f"Start from the default (Silverman's rule per coordinate).",
            FlatLossWarning,
            stacklevel=2,
        )
    with torch.no_grad():
        h = log_h.detach().exp()
        final = float(loo_error(xt, yt, h, kernel, p=p))
    return CoordinateWidths(h.numpy(), final, np.asarray(losses), np.asarray(widths), p)
