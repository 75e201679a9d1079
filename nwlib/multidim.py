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
O(n_q x n_k x d). The ``minkowski_*`` scores, weights, estimate and leave-one-out
error are deprecated aliases of the pooling and selection functions with ``p``.
"""

from __future__ import annotations

import warnings

import torch

from ._validate import ArrayLike, as_points
from .coordinate_widths import fit_coordinate_widths
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


def minkowski_log_scores(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    p: float = 2.0,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
) -> Tensor:
    r"""Log-kernel scores :math:`\log K(r_p(q_j, k_i))`, queries x keys (deprecated).

    Deprecated: use :func:`nwlib.pooling.log_scores` with ``p=p``; this alias warns
    (``DeprecationWarning``) and will be removed in the next release.

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
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.
    exclude_self : bool, default False
        Leave each point out of its own prediction (queries must be the keys).

    Returns
    -------
    Tensor, shape (n_q, n_k)
        ``-inf`` outside a compact kernel's support and, with ``exclude_self``, on
        the diagonal. Dtype as :func:`minkowski_distances`.

    Raises
    ------
    ValueError
        As :func:`minkowski_distances`, and ``exclude_self`` with queries that are
        not the keys.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     s = minkowski_log_scores([[0.0, 0.0]], [[1.0, 1.0]], 1.0, p=1)
    >>> float(s)
    -2.0
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
    r"""Attention weights on the Minkowski distance, rows summing to 1 (deprecated).

    Deprecated: use :func:`nwlib.pooling.attention_weights` with ``p=p``; this
    alias warns (``DeprecationWarning``) and will be removed in the next release.

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
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.
    exclude_self : bool, default False
        Leave each point out of its own prediction (queries must be the keys).
    on_empty : {"nan", "raise"}, default "nan"
        What a query with no key inside a compact kernel's support gets.

    Returns
    -------
    Tensor, shape (n_q, n_k)
        A query with no key inside a compact kernel's support gets a row of NaN
        and a ``RuntimeWarning``. Dtype as :func:`minkowski_distances`, normalized
        in the log domain.

    Raises
    ------
    ValueError
        As :func:`minkowski_log_scores`, and with ``on_empty="raise"``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     w = minkowski_attention_weights([[0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]], 1.0)
    >>> print(", ".join(f"{v:.4f}" for v in w[0].tolist()))
    0.7311, 0.2689
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
    r"""Nadaraya-Watson estimate on the Minkowski distance (deprecated).

    Deprecated: use :func:`nwlib.pooling.nadaraya_watson` with ``p=p``; this alias warns
    (``DeprecationWarning``) and will be removed in the next release.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points, in the units of the queries.
    values : Tensor or array_like, shape (n_k,) or (n_k, m)
        One value (row) per key.
    width : float or array_like or Tensor, shape (), (d,), (n_k, 1) or (n_k, d)
        :math:`h > 0`, in the units of the points: one width, one per coordinate,
        or one per key.
    p : float, default 2.0
        Order of the Minkowski distance, >= 1 or ``math.inf``.
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.
    exclude_self : bool, default False
        Leave each point out of its own prediction (queries must be the keys).
    on_empty : {"nan", "raise"}, default "nan"
        What a query with no key inside a compact kernel's support gets.
    block_size : int, optional
        Queries per block (default from ``memory_budget``).
    memory_budget : int, optional
        Bytes one block's temporaries may take.

    Returns
    -------
    Tensor, shape (n_q,) or (n_q, m)
        :math:`f(q_j) = \sum_i a(q_j, k_i)\, v_i`. Dtype as
        :func:`minkowski_distances` (values included).

    Raises
    ------
    ValueError
        As :func:`minkowski_attention_weights`, and for values without one row per
        key.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     q, k = [[0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]]
    ...     f = minkowski_nadaraya_watson(q, k, [0.0, 1.0], 1.0)
    >>> print(f"{float(f[0]):.4f}")
    0.2689
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
    r"""Leave-one-out error :math:`\frac1n\sum_i (y_i - f_{-i}(x_i))^2` (deprecated).

    Deprecated: use :func:`nwlib.selection.loo_error` with ``p=p``; this alias warns
    (``DeprecationWarning``) and will be removed in the next release.

    Parameters
    ----------
    x : Tensor or array_like, shape (n,) or (n, d)
        Training inputs.
    y : Tensor or array_like, shape (n,) or (n, m)
        Training targets.
    width : float or array_like or Tensor, shape (), (d,), (n, 1) or (n, d)
        :math:`h > 0`, in the units of the points: one width, one per coordinate,
        or one per key.
    p : float, default 2.0
        Order of the Minkowski distance, >= 1 or ``math.inf``.
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.

    Returns
    -------
    Tensor, shape ()
        Differentiable, in the squared units of ``y``; dtype as
        :func:`minkowski_nadaraya_watson`.

    Raises
    ------
    ValueError
        As :func:`minkowski_nadaraya_watson`.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     e = minkowski_loo_error([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], 1.0, p=1)
    >>> print(f"{float(e):.4f}")
    0.7790
    """
    _deprecated("minkowski_loo_error", "nwlib.selection.loo_error(..., p=p)")
    return loo_error(x, y, width, kernel, p=p)


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
