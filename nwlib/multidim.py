r"""Inputs with d > 1: Minkowski distances with one width per coordinate.

For queries :math:`q` and keys :math:`k` in :math:`\mathbb R^d` and widths
:math:`h_c > 0`, the scaled Minkowski distance of order :math:`p \ge 1` is

.. math::

    r_p(q, k) = \Big(\sum_{c=1}^{d} \Big|\frac{q_c - k_c}{h_c}\Big|^p\Big)^{1/p},
    \qquad r_\infty(q, k) = \max_c \Big|\frac{q_c - k_c}{h_c}\Big| ,

and the attention weights are :math:`a(q, k_i) \propto K(r_p(q, k_i))` with a
profile of :mod:`nwlib.kernels`, computed as a softmax over keys of
``kernel.log_profile(r**2)``. :math:`p = 2` is the Euclidean distance that
:mod:`nwlib.pooling` uses (and the two agree), :math:`p = 1` the Manhattan
distance, :math:`p = \infty` the largest coordinate difference. :math:`p < 1` is
refused: it is not a norm (the triangle inequality fails).

Widths: a scalar, one per coordinate (shape (d,)), or one per key ((n_k, 1) or
(n_k, d)). A width per coordinate is the same as dividing coordinate :math:`c` of
every input by :math:`h_c` and using width 1: feature scaling and widths are one
thing. :func:`~nwlib.coordinate_widths.fit_coordinate_widths` (re-exported here)
learns them by gradient descent on the leave-one-out error, through
:math:`\log h_c`.

Shapes are queries x keys: ``queries`` (n_q, d), ``keys`` (n_k, d), ``values``
(n_k,) or (n_k, m); weights (n_q, n_k). :func:`nwlib.pooling.nadaraya_watson` with
``p`` works in blocks of queries, so its memory is O(block x n_k x d), never
O(n_q x n_k x d); :func:`nwlib.pooling.log_scores`,
:func:`~nwlib.pooling.attention_weights` and :func:`nwlib.selection.loo_error`
take ``p`` too.
"""

from __future__ import annotations

import torch

from ._validate import ArrayLike, as_points
from .coordinate_widths import fit_coordinate_widths
from .pooling import scaled_sq_distances

Tensor = torch.Tensor

__all__ = [
    "minkowski_distances",
    "standardize",
    "fit_coordinate_widths",
]


def minkowski_distances(
    queries: ArrayLike, keys: ArrayLike, width: ArrayLike = 1.0, p: float = 2.0
) -> Tensor:
    r"""Scaled Minkowski distances :math:`r_p(q_j, k_i)`, queries x keys.

    Differences are divided by the widths before any power.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points, in the units of the queries.
    width : float or array_like or Tensor, shape (), (d,), (n_k, 1) or (n_k, d)
        :math:`h > 0`, in the units of the points: one width, one per coordinate,
        or one per key.
    p : float, default 2.0
        Order of the Minkowski distance, >= 1 or ``math.inf``.

    Returns
    -------
    Tensor, shape (n_q, n_k)
        Unitless (in widths). Dtype: the inputs' floating dtype, promoted (float64
        wins); integers, booleans and Python numbers as float64, float16 and
        bfloat16 in float32.

    Raises
    ------
    ValueError
        For ``p < 1`` or NaN, mismatched d, or a width that is not > 0 or has a
        wrong shape.
    TypeError
        For a ``p`` that is not a number.

    References
    ----------
    Wasserman (2006) for kernels of a scaled distance in d dimensions.

    Examples
    --------
    >>> import math
    >>> q, k = [[0.0, 0.0]], [[3.0, 4.0]]
    >>> [float(minkowski_distances(q, k, p=p)) for p in (1, 2, math.inf)]
    [7.0, 5.0, 4.0]
    """
    return scaled_sq_distances(queries, keys, width, p=p).sqrt()


def standardize(
    x: ArrayLike, *, like: ArrayLike | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Centre and scale each coordinate: :math:`z_c = (x_c - \bar x_c) / s_c`.

    With ``like``, the mean and standard deviation are those of ``like`` (for
    example: scale test inputs with the training set's statistics).

    Parameters
    ----------
    x : Tensor or array_like, shape (n,) or (n, d)
        The points to scale.
    like : Tensor or array_like, shape (n_ref, d), optional
        Reference points whose statistics are used (default: ``x`` itself).

    Returns
    -------
    z : Tensor, shape (n, d)
        Unitless standardized points.
    mean : Tensor, shape (d,)
        The reference mean, in the units of ``x``.
    sd : Tensor, shape (d,)
        The reference sample standard deviation (``ddof=1``), in the units of ``x``.

    Raises
    ------
    ValueError
        If a coordinate of the reference data has zero spread, it has fewer than 2
        points, or ``like`` has another number of coordinates.

    Examples
    --------
    >>> z, mean, sd = standardize([[0.0, 10.0], [2.0, 30.0]])
    >>> print(z.numpy().round(4).tolist(), mean.tolist(), sd.numpy().round(4).tolist())
    [[-0.7071, -0.7071], [0.7071, 0.7071]] [1.0, 20.0] [1.4142, 14.1421]
    """
    xt = as_points(x, "x")
    ref = xt if like is None else as_points(like, "like")
    if ref.shape[1] != xt.shape[1]:
        raise ValueError(
            f"like must have the same number of coordinates as x, "
            f"got {ref.shape[1]} and {xt.shape[1]}"
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
