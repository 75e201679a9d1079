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
:func:`~nwlib.coordinate_widths.fit_coordinate_widths` (re-exported here) learns
them by gradient descent on the leave-one-out error, through :math:`\log h_c`.

Shapes are queries x keys: ``queries`` (n_q, d), ``keys`` (n_k, d), ``values`` (n_k,) or
(n_k, m); weights (n_q, n_k). :func:`nwlib.pooling.nadaraya_watson` with ``p`` works in blocks of
queries, so its memory is O(block x n_k x d), never O(n_q x n_k x d). The
``minkowski_*`` scores, weights, estimate and leave-one-out error are deprecated
aliases of the pooling and selection functions with ``p``.
"""

from __future__ import annotations

import warnings

import torch

from ._validate import ArrayLike, as_points
from .coordinate_widths import CoordinateWidths, fit_coordinate_widths
from .kernels import Kernel
from .pooling import attention_weights, log_scores, nadaraya_watson, scaled_sq_distances
from .selection import loo_error

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
