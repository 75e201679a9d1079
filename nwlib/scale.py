r"""Scaling up: banded 1-D evaluation and fast leave-one-out width selection.

Nadaraya-Watson costs one kernel evaluation per (query, key) pair. For 1-D
inputs with a scalar width most of those pairs contribute nothing a float can
hold, and sorting the keys lets us skip them:

* compact kernels (boxcar, Epanechnikov, triangular) are exactly 0 beyond
  :math:`|q - k| = h`: only keys within :math:`h` are visited, with no error;
* the Gaussian is truncated per query at

  .. math:: |q - k| \le h \sqrt{r_{\min}^2 + c^2}, \qquad c^2 = 2 \log(n_k / u),
     :label: eq-truncation

  where :math:`r_{\min}` is the scaled distance to the nearest key and
  :math:`u` the unit roundoff of the dtype (:math:`2^{-24}` in float32,
  :math:`2^{-53}` in float64). Relative to the nearest key (shifted weight 1)
  every dropped key has weight below :math:`e^{-c^2/2} = u / n_k`, so all of
  them together carry less than :math:`u` of the total weight and the estimate
  moves by at most :math:`u \cdot (\max v - \min v)`: exact to the dtype's
  precision.

:func:`loo_cv_score` is the leave-one-out score
:math:`\mathrm{CV}(h) = \frac1n\sum_i (y_i - f_{-i}(x_i))^2` in one pass (the
diagonal of each block is masked, no n masked copies), and
:func:`select_width_loo` minimizes it over :math:`\log h` with a bounded 1-D
minimizer, starting from Silverman's width. It is the criterion statsmodels'
``KernelReg(reg_type='lc', bw='cv_ls')`` minimizes (by Nelder-Mead).

Dtype: :func:`banded_nadaraya_watson` and :func:`loo_cv_score` compute in the
inputs' dtype unless ``dtype`` is given (float64 in, float64 out);
:func:`select_width_loo` uses float32 by default, on data centred and scaled in
float64 first (so an offset or a unit costs no digits), because the location of the
minimum does not need more (``tests/test_pooling_speed.py`` checks it against
float64 and statsmodels).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import torch

from ._engine import (
    banded_estimate,
    check_exclude_self,
    check_on_empty,
    offset,
    resolve_dtype,
    truncation_radius,
    work_dtype,
)
from ._validate import (
    ArrayLike,
    as_float_tensor,
    as_points,
    as_width,
    compute_dtype,
)
from .kernels import Kernel, get_kernel
from .pooling import nadaraya_watson
from .selection import silverman_width

Tensor = torch.Tensor

__all__ = [
    "truncation_radius",
    "banded_nadaraya_watson",
    "loo_cv_score",
    "LooWidth",
    "select_width_loo",
]


def banded_nadaraya_watson(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: float,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
    on_empty: str = "nan",
    dtype: torch.dtype | str | None = None,
    block_size: int | None = None,
    memory_budget: int | None = None,
) -> Tensor:
    r"""1-D Nadaraya-Watson visiting only the keys that matter, shape (n_q,) or (n_q, m).

    Keys are sorted once; each block of sorted queries visits the contiguous slab
    of keys inside its window (:eq:`eq-truncation` for the Gaussian, the support
    for compact kernels, every key for the constant kernel). Same results as
    :func:`nwlib.pooling.nadaraya_watson` to the dtype's precision.

    Dtype: as :func:`nwlib.pooling.nadaraya_watson` (integers as float64, half
    dtypes in float32, ``dtype`` overrides, a lower ``dtype`` centres the data first
    in the inputs' precision).

    Parameters
    ----------
    queries : (n_q,) or (n_q, 1)
    keys : (n_k,) or (n_k, 1)
    values : (n_k,) or (n_k, m)
    width : float
        A scalar width > 0 (for per-coordinate or per-key widths, and for autograd,
        use :func:`nwlib.pooling.nadaraya_watson`).
    kernel, exclude_self, on_empty, dtype, block_size, memory_budget
        As in :func:`nwlib.pooling.nadaraya_watson`.
    """
    kern = get_kernel(kernel)
    check_on_empty(on_empty)
    dtype = resolve_dtype(dtype)
    q = as_points(queries, "queries").detach()
    k = as_points(keys, "keys").detach()
    v = as_float_tensor(values, "values").detach()
    if q.shape[1] != 1 or k.shape[1] != 1:
        raise ValueError(
            f"banded_nadaraya_watson is for 1-D inputs, got queries with d={q.shape[1]} "
            f"and keys with d={k.shape[1]}"
        )
    hw = as_width(width)
    if hw.numel() != 1:
        raise ValueError(f"width must be a scalar here, got shape {tuple(hw.shape)}")
    if v.ndim not in (1, 2) or v.shape[0] != k.shape[0]:
        raise ValueError(
            f"values must have shape (n_keys,) or (n_keys, m) with n_keys={k.shape[0]}, "
            f"got shape {tuple(v.shape)}"
        )
    if exclude_self:
        check_exclude_self(q, k)
    return banded_estimate(
        q,
        k,
        v,
        hw,
        kern,
        exclude_self=exclude_self,
        on_empty=on_empty,
        dtype=dtype,
        block_size=block_size,
        memory_budget=memory_budget,
        stacklevel=4,
    )


def loo_cv_score(
    x: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    dtype: torch.dtype | str | None = None,
    truncate: bool = True,
    memory_budget: int | None = None,
) -> float:
    r"""Leave-one-out score :math:`\mathrm{CV}(h) = \frac1n \sum_i (y_i - f_{-i}(x_i))^2`.

    One pass over the (n, n) score matrix in blocks, the diagonal masked. For 1-D
    ``x`` with a scalar width and ``truncate=True`` the banded evaluation of
    :func:`banded_nadaraya_watson` is used (exact to the dtype's precision);
    otherwise :func:`nwlib.pooling.nadaraya_watson` with ``exclude_self=True``.
    The mean is taken in float64. NaN (with the pooling ``RuntimeWarning``) when a
    compact kernel leaves some point without a neighbour in range.

    Dtype: as :func:`nwlib.pooling.nadaraya_watson`; with a ``dtype`` below float64,
    an offset that dominates the spread of ``y`` is removed first (CV does not change
    when y is shifted) and the mean of
    the squared errors is taken in float64.

    Parameters
    ----------
    x : (n,) or (n, d)
    y : (n,) or (n, m)
    width : scalar, or (d,) / (n, 1) / (n, d) (those use the dense blocked path)
    dtype : computation dtype, default the inputs' (float64 stays float64)

    Returns
    -------
    float
    """
    xt = as_points(x, "x")
    yt = as_float_tensor(y, "y")
    if yt.ndim not in (1, 2) or yt.shape[0] != xt.shape[0]:
        raise ValueError(
            f"y must have shape (n,) or (n, m) with n={xt.shape[0]}, got {tuple(yt.shape)}"
        )
    h = as_width(width)
    dt = work_dtype(resolve_dtype(dtype))
    if (
        dt is not None and dt != torch.float64
    ):  # a shift of y leaves CV unchanged: keep its digits
        c = offset(yt)
        yt = yt if c is None else yt - c
    with torch.no_grad():
        if truncate and xt.shape[1] == 1 and h.numel() == 1:
            pred = banded_nadaraya_watson(
                xt,
                xt,
                yt,
                float(h),
                kernel,
                exclude_self=True,
                dtype=dtype,
                memory_budget=memory_budget,
            )
        else:
            pred = nadaraya_watson(
                xt,
                xt,
                yt,
                h,
                kernel,
                exclude_self=True,
                dtype=dtype,
                memory_budget=memory_budget,
            )
        return float(((yt.double() - pred.double()) ** 2).mean())


class LooWidth(NamedTuple):
    """Result of :func:`select_width_loo`."""

    width: float
    score: float
    evaluations: int
    bounds: tuple[float, float]


def select_width_loo(
    x: ArrayLike,
    y: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    width: float | None = None,
    span: float = 10.0,
    xatol: float = 1e-3,
    dtype: torch.dtype | str | None = torch.float32,
    truncate: bool = True,
) -> LooWidth:
    r"""The width minimizing :func:`loo_cv_score`, searched on :math:`\log h`.

    1. Start at ``width`` (default Silverman's :math:`0.9\min(\hat\sigma, \mathrm{IQR}/1.34)
       n^{-1/5}`) and walk downhill in steps of a factor 2 inside
       :math:`[c/\text{span}, c\cdot\text{span}]` until the score rises again;
    2. polish with ``scipy.optimize.minimize_scalar(method="bounded")`` (Brent) on the
       bracketing interval, to ``xatol`` in :math:`\log h` (a relative tolerance on h).

    Like any local search it finds the minimum downhill from the starting width. A
    ``RuntimeWarning`` says when the minimum sits at an end of the search interval.
    1-D ``x`` uses the banded evaluation; d > 1 the dense blocked one.

    Dtype: float32 by default (``dtype``), the fast choice. x and y are first
    centred and scaled to unit spread in float64 (NW is translation and scale
    equivariant: CV(h) of the standardized data times the variance of y is CV(h s_x)
    of the data), so the float32 search finds the float64 minimum to float32
    accuracy whatever the offset or unit of the data. ``dtype=None`` computes in the
    inputs' dtype.

    Returns
    -------
    LooWidth
        ``width``, ``score`` (CV at that width, in ``dtype``), ``evaluations``, ``bounds``.
    """
    from scipy.optimize import minimize_scalar

    xt = as_points(x, "x").detach()
    yt = as_float_tensor(y, "y").detach()
    if xt.shape[0] < 3:
        raise ValueError(f"select_width_loo needs at least 3 points, got {xt.shape[0]}")
    if not span > 1:
        raise ValueError(f"span must be > 1, got {span!r}")
    c = float(np.min(silverman_width(xt))) if width is None else float(width)
    # Centre and scale x and y in float64 before any cast to a lower dtype: CV(h) of the
    # standardized data, times sy^2, is CV(h * sx) of the data (NW is translation and scale
    # equivariant), so a float32 search loses no digits to an offset or a unit.
    dtype = compute_dtype(xt, yt) if dtype is None else dtype
    xt, yt = xt.double(), yt.double()
    sx = float(xt.std(0).max()) if float(xt.std(0).max()) > 0 else 1.0
    sy = float(yt.std()) if yt.numel() > 1 and float(yt.std()) > 0 else 1.0
    xt, yt = (xt - xt.mean(0)) / sx, (yt - yt.mean(0)) / sy
    if not (math.isfinite(c) and c > 0):
        raise ValueError(
            f"width must be a starting width > 0 (x needs some spread), got {c!r}"
        )
    lo, hi = math.log(c / span), math.log(c * span)
    cache: dict[float, float] = {}

    def score(log_h: float) -> float:
        if log_h not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                s = (
                    loo_cv_score(
                        xt,
                        yt,
                        math.exp(log_h) / sx,
                        kernel,
                        dtype=dtype,
                        truncate=truncate,
                    )
                    * sy**2
                )
            cache[log_h] = s if math.isfinite(s) else math.inf
        return cache[log_h]

    a, b = _bracket(score, math.log(c), math.log(2.0), lo, hi)
    minimize_scalar(score, bounds=(a, b), method="bounded", options={"xatol": xatol})
    best = min(cache, key=cache.get)
    if min(best - lo, hi - best) < 10 * xatol:
        warnings.warn(
            f"the LOO minimum lies at the edge of the search interval "
            f"[{math.exp(lo):.4g}, {math.exp(hi):.4g}]: increase span",
            RuntimeWarning,
            stacklevel=2,
        )
    return LooWidth(
        math.exp(best), cache[best], len(cache), (math.exp(lo), math.exp(hi))
    )


def _bracket(f, x0: float, step: float, lo: float, hi: float) -> tuple[float, float]:
    """An interval around a local minimum of ``f``, walking downhill from ``x0`` in ``step``s."""
    f0 = f(x0)
    down = max(lo, x0 - step)
    if f(down) < f0:
        direction, prev, cur = -1.0, x0, down
    else:
        up = min(hi, x0 + step)
        if f(up) >= f0:
            return down, up
        direction, prev, cur = 1.0, x0, up
    while True:
        nxt = min(hi, max(lo, cur + direction * step))
        if nxt == cur or f(nxt) >= f(cur):
            return (min(prev, nxt), max(prev, nxt))
        prev, cur = cur, nxt
