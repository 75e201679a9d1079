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
from functools import partial
from typing import NamedTuple

import numpy as np
import torch

from ._validate import ArrayLike, as_float_tensor, as_points, as_width, common_dtype, compute_dtype
from .kernels import Kernel, get_kernel
from .pooling import (DEFAULT_MEMORY_BUDGET, _BLOCK_ELEMENTS, _centre_for, _centre_values, _offset,
                      _check_exclude_self, _check_on_empty, _fast_block, _is_gaussian,
                      _pow2_scaled, _report_empty, _resolve_dtype, _run_blocks, _single_threaded,
                      _uncentre, _work_dtype, _workers, nadaraya_watson)

Tensor = torch.Tensor

__all__ = ["truncation_radius", "banded_nadaraya_watson", "loo_cv_score", "LooWidth",
           "select_width_loo"]


def truncation_radius(n_keys: int, dtype: torch.dtype = torch.float32) -> float:
    r""":math:`c = \sqrt{2 \log(n_k / u)}` of :eq:`eq-truncation`: Gaussian keys farther than
    :math:`c` widths beyond the nearest carry less than the unit roundoff :math:`u` of the
    total weight together.

    Dtype: the unit roundoff of ``dtype`` sets the radius (float32: about 7 widths
    for 10^3 keys; float64: about 9).
    """
    u = torch.finfo(dtype).eps / 2
    return math.sqrt(2.0 * math.log(max(n_keys, 1) / u))


def _window(xs: Tensor, qs: Tensor, h: float, kernel: Kernel, exclude_self: bool) -> Tensor | None:
    """Half-width of the key window of each (sorted) query; ``None`` means every key."""
    if kernel.compact:  # a hair wider than the support: rounding never drops a key in range
        return torch.full_like(qs, kernel.radius * h * (1 + 1e-6))
    if not _is_gaussian(kernel):
        return None
    n = xs.shape[0]
    if exclude_self:  # nearest *other* key: the gap to a neighbour in sorted order
        gaps = xs[1:] - xs[:-1]
        inf = torch.full((1,), torch.inf, dtype=xs.dtype)
        near = torch.minimum(torch.cat([inf, gaps]), torch.cat([gaps, inf]))
    else:
        j = torch.searchsorted(xs, qs).clamp(1, n - 1) if n > 1 else torch.zeros_like(qs, dtype=torch.long)
        near = torch.minimum((qs - xs[j - 1]).abs(), (qs - xs[j]).abs()) if n > 1 else (qs - xs[0]).abs()
    c = truncation_radius(n, qs.dtype)
    return torch.sqrt(near.square() + (c * h) ** 2)


def _block_size(counts: Tensor, n_q: int) -> int:
    band = int(counts.float().median()) if counts.numel() else 1
    rows = min(max(256, band // 4), max(1, _BLOCK_ELEMENTS // max(band, 1)))
    return max(1, min(n_q, rows))


def banded_nadaraya_watson(queries: ArrayLike, keys: ArrayLike, values: ArrayLike,
                           width: float, kernel: str | Kernel = "gaussian", *,
                           exclude_self: bool = False, on_empty: str = "nan",
                           dtype: torch.dtype | str | None = None,
                           block_size: int | None = None,
                           memory_budget: int | None = None, _stacklevel: int = 3) -> Tensor:
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
    _check_on_empty(on_empty)
    dtype = _resolve_dtype(dtype)
    q = as_points(queries, "queries").detach()
    k = as_points(keys, "keys").detach()
    v = as_float_tensor(values, "values").detach()
    if q.shape[1] != 1 or k.shape[1] != 1:
        raise ValueError(f"banded_nadaraya_watson is for 1-D inputs, got queries with d={q.shape[1]} "
                         f"and keys with d={k.shape[1]}")
    hw = as_width(width)
    if hw.numel() != 1:
        raise ValueError(f"width must be a scalar here, got shape {tuple(hw.shape)}")
    if v.ndim not in (1, 2) or v.shape[0] != k.shape[0]:
        raise ValueError(f"values must have shape (n_keys,) or (n_keys, m) with n_keys={k.shape[0]}, "
                         f"got shape {tuple(v.shape)}")
    n_q, n_k = q.shape[0], k.shape[0]
    if exclude_self:
        _check_exclude_self(n_q, n_k)
    dt = _work_dtype(dtype) or common_dtype(q, k, v)
    if dtype is not None:
        q, k = _centre_for(dt, q, k)
    v, v_centre = _centre_values(v, dt)
    q, k, hs = _pow2_scaled(q.to(dt), k.to(dt), hw.detach().reshape(()).to(dt))
    workers = _workers(torch.device("cpu"))
    with _single_threaded(torch.device("cpu")):
        sums, qorder = _banded_sums(q, k, v, float(hs), kern, exclude_self, dt, block_size,
                                    memory_budget, workers)
    num, den = sums[:-1], sums[-1]
    _report_empty(int((den == 0).sum()), n_q, kern, on_empty, stacklevel=_stacklevel)
    f_sorted = (num / den).T
    f = torch.empty_like(f_sorted)
    f[qorder] = f_sorted
    return _uncentre(f.reshape(n_q) if v.ndim == 1 else f, v_centre, dtype or dt)


def _banded_sums(q: Tensor, k: Tensor, v: Tensor, h: float, kern: Kernel, exclude_self: bool,
                 dt: torch.dtype, block_size: int | None, memory_budget: int | None,
                 workers: int) -> tuple[Tensor, Tensor]:
    """Weighted sums (m + 1, n_q) in sorted query order, and that order."""
    n_q, n_k = q.shape[0], k.shape[0]
    xs, order = torch.sort(k[:, 0].to(dt))
    vs = v.to(dt).reshape(n_k, -1)[order]
    if exclude_self:
        qs, qorder = xs, order
    else:
        qs, qorder = torch.sort(q[:, 0].to(dt))
    vt1 = torch.cat([vs.T, torch.ones(1, n_k, dtype=dt)])
    radius = _window(xs, qs, h, kern, exclude_self)
    if radius is None:
        lo, hi = torch.zeros(n_q, dtype=torch.long), torch.full((n_q,), n_k, dtype=torch.long)
    else:
        lo = torch.searchsorted(xs, qs - radius)
        hi = torch.searchsorted(xs, qs + radius, right=True)
    factor = 1 if _is_gaussian(kern) else 6  # temporaries per element of a block
    itemsize = torch.empty((), dtype=dt).element_size()
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    auto = block_size is None
    block_size = _block_size(hi - lo, n_q) if auto else block_size
    while True:
        starts = list(range(0, n_q, block_size))
        slabs = [(int(lo[i:i + block_size].min()), int(hi[i:i + block_size].max())) for i in starts]
        width_max = max(1, max(b - a for a, b in slabs))
        if block_size * width_max * itemsize * factor * workers <= budget:
            break
        if not auto or block_size == 1:
            raise ValueError(f"memory_budget={budget:.4g} bytes is too small for blocks of "
                             f"{block_size} queries x {width_max} keys: raise it")
        block_size = max(1, block_size // 2)
    sums = torch.zeros(vt1.shape[0], n_q, dtype=torch.float64)  # a block with no key in range stays 0/0
    qcol, kcol, hh = qs.unsqueeze(1), xs.unsqueeze(1), torch.tensor(h, dtype=dt)

    def task(i: int, a: int, b: int, bufs: list[Tensor]) -> None:
        r = min(block_size, n_q - i)
        sums[:, i:i + r] = _fast_block(qcol[i:i + r], kcol[a:b], hh, vt1[:, a:b], kern,
                                       (i - a) if exclude_self else None,
                                       bufs[0][:r * (b - a)].view(r, b - a), None,
                                       (float(xs[a]), float(xs[b - 1])))

    tasks = [partial(task, i, a, b) for i, (a, b) in zip(starts, slabs) if b > a]
    _run_blocks(tasks, 1, block_size * width_max, dt, torch.device("cpu"), workers)
    return sums, qorder


def loo_cv_score(x: ArrayLike, y: ArrayLike, width: ArrayLike, kernel: str | Kernel = "gaussian",
                 *, dtype: torch.dtype | str | None = None, truncate: bool = True,
                 memory_budget: int | None = None) -> float:
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
        raise ValueError(f"y must have shape (n,) or (n, m) with n={xt.shape[0]}, got {tuple(yt.shape)}")
    h = as_width(width)
    dt = _work_dtype(_resolve_dtype(dtype))
    if dt is not None and dt != torch.float64:  # a shift of y leaves CV unchanged: keep its digits
        c = _offset(yt)
        yt = yt if c is None else yt - c
    with torch.no_grad():
        if truncate and xt.shape[1] == 1 and h.numel() == 1:
            pred = banded_nadaraya_watson(xt, xt, yt, float(h), kernel, exclude_self=True,
                                          dtype=dtype, memory_budget=memory_budget)
        else:
            pred = nadaraya_watson(xt, xt, yt, h, kernel, exclude_self=True, dtype=dtype,
                                   memory_budget=memory_budget)
        return float(((yt.double() - pred.double()) ** 2).mean())


def _silverman(x: Tensor) -> float:
    a = x.detach().cpu().double().numpy().reshape(-1)
    sd = a.std(ddof=1)
    iqr = float(np.subtract(*np.percentile(a, [75, 25])))
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    return 0.9 * spread * len(a) ** (-0.2)


class LooWidth(NamedTuple):
    """Result of :func:`select_width_loo`."""

    width: float
    score: float
    evaluations: int
    bounds: tuple[float, float]


def select_width_loo(x: ArrayLike, y: ArrayLike, kernel: str | Kernel = "gaussian", *,
                     centre: float | None = None, span: float = 10.0, xatol: float = 1e-3,
                     dtype: torch.dtype | str | None = torch.float32,
                     truncate: bool = True) -> LooWidth:
    r"""The width minimizing :func:`loo_cv_score`, searched on :math:`\log h`.

    1. Start at ``centre`` (default Silverman's :math:`0.9\min(\hat\sigma, \mathrm{IQR}/1.34)
       n^{-1/5}`) and walk downhill in steps of a factor 2 inside
       :math:`[c/\text{span}, c\cdot\text{span}]` until the score rises again;
    2. polish with ``scipy.optimize.minimize_scalar(method="bounded")`` (Brent) on the
       bracketing interval, to ``xatol`` in :math:`\log h` (a relative tolerance on h).

    Like any local search it finds the minimum downhill from the centre. A
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
    c = _silverman(xt[:, 0]) if centre is None else float(centre)
    # Centre and scale x and y in float64 before any cast to a lower dtype: CV(h) of the
    # standardized data, times sy^2, is CV(h * sx) of the data (NW is translation and scale
    # equivariant), so a float32 search loses no digits to an offset or a unit.
    dtype = compute_dtype(xt, yt) if dtype is None else dtype
    xt, yt = xt.double(), yt.double()
    sx = float(xt.std(0).max()) if float(xt.std(0).max()) > 0 else 1.0
    sy = float(yt.std()) if yt.numel() > 1 and float(yt.std()) > 0 else 1.0
    xt, yt = (xt - xt.mean(0)) / sx, (yt - yt.mean(0)) / sy
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"centre must be a width > 0 (x needs some spread), got {c!r}")
    lo, hi = math.log(c / span), math.log(c * span)
    cache: dict[float, float] = {}

    def score(log_h: float) -> float:
        if log_h not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                s = loo_cv_score(xt, yt, math.exp(log_h) / sx, kernel, dtype=dtype,
                                 truncate=truncate) * sy ** 2
            cache[log_h] = s if math.isfinite(s) else math.inf
        return cache[log_h]

    a, b = _bracket(score, math.log(c), math.log(2.0), lo, hi)
    minimize_scalar(score, bounds=(a, b), method="bounded", options={"xatol": xatol})
    best = min(cache, key=cache.get)
    if min(best - lo, hi - best) < 10 * xatol:
        warnings.warn(f"the LOO minimum lies at the edge of the search interval "
                      f"[{math.exp(lo):.4g}, {math.exp(hi):.4g}]: increase span", RuntimeWarning,
                      stacklevel=2)
    return LooWidth(math.exp(best), cache[best], len(cache), (math.exp(lo), math.exp(hi)))


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
