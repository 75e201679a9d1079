r"""Choosing the width: leave-one-out cross-validation and rules of thumb.

Leave-one-out (LOO) prediction of training pair :math:`i` uses every other pair:

.. math::

    f_{-i}(x_i) = \frac{\sum_{j \ne i} K((x_i - x_j)/h)\, y_j}{\sum_{j \ne i} K((x_i - x_j)/h)},
    \qquad \mathrm{CV}(h) = \frac1n \sum_{i=1}^n \big(y_i - f_{-i}(x_i)\big)^2 .

It is computed in one pass by masking the diagonal of the (n, n) score matrix
(``nadaraya_watson(x, x, y, h, exclude_self=True)``), never by rebuilding n
key sets. :math:`\mathrm{CV}(h)` is the criterion statsmodels'
``KernelReg(reg_type='lc', bw='cv_ls')`` minimizes.

Three ways to minimize it over the width (:func:`select_width_grid`,
:func:`select_width_minimize` on :math:`\log h`, :func:`select_width_gd`) and two
rules of thumb that need no fitting (:func:`silverman_width`, :func:`scott_width`).
Shapes: ``x`` (n,) or (n, d), ``y`` (n,) or (n, m).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._validate import ArrayLike, as_float_tensor, as_points, as_width
from .kernels import Kernel
from .pooling import nadaraya_watson

Tensor = torch.Tensor

__all__ = [
    "loo_predictions",
    "loo_error",
    "in_sample_error",
    "error_curve",
    "silverman_width",
    "scott_width",
    "WidthChoice",
    "select_width_grid",
    "select_width_minimize",
    "select_width_gd",
]


def _pairs(x: ArrayLike, y: ArrayLike, need: int = 2) -> tuple[Tensor, Tensor]:
    xt = as_points(x, "x")
    yt = as_float_tensor(y, "y")
    if yt.ndim not in (1, 2):
        raise ValueError(
            f"y must have shape (n,) or (n, m), got shape {tuple(yt.shape)}"
        )
    if yt.shape[0] != xt.shape[0]:
        raise ValueError(
            f"x and y must have the same number of points, got {xt.shape[0]} and {yt.shape[0]}"
        )
    if xt.shape[0] < need:
        raise ValueError(
            f"leave-one-out needs at least {need} points: with n = {xt.shape[0]} "
            f"no other key is left to predict a point from"
        )
    return xt, yt


def loo_predictions(
    x: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    p: float = 2.0,
) -> Tensor:
    r"""Leave-one-out predictions :math:`f_{-i}(x_i)`, shape (n,) or (n, m).

    The diagonal of the score matrix is masked, so pair :math:`i` gets weight 0 in
    its own prediction. Autograd flows through a tensor ``width``. ``p`` is the
    order of the Minkowski distance (as in :func:`nwlib.pooling.nadaraya_watson`).

    Dtype: as :func:`nwlib.pooling.nadaraya_watson` (the inputs' floating dtype;
    integers as float64; half dtypes in float32).

    Raises
    ------
    ValueError
        For n < 2 (no other key), a width that is not > 0, mismatched shapes.
    """
    xt, yt = _pairs(x, y)
    return nadaraya_watson(xt, xt, yt, width, kernel, exclude_self=True, p=p)


def _mse(pred: Tensor, y: Tensor) -> Tensor:
    return ((pred - y.to(pred.dtype)) ** 2).mean()


def loo_error(
    x: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    p: float = 2.0,
) -> Tensor:
    r""":math:`\mathrm{CV}(h) = \frac1n\sum_i (y_i - f_{-i}(x_i))^2`, a 0-d tensor (differentiable).

    Dtype: as :func:`loo_predictions`; ``p`` the Minkowski order of the distance.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([0.0, 1.0, 2.0])
    >>> y = torch.tensor([0.0, 1.0, 0.0])
    >>> loo_error(x, y, 1e-3)  # each point predicted by its nearest other point
    tensor(1.)
    """
    _, yt = _pairs(x, y)
    return _mse(loo_predictions(x, y, width, kernel, p=p), yt)


def in_sample_error(
    x: ArrayLike, y: ArrayLike, width: ArrayLike, kernel: str | Kernel = "gaussian"
) -> Tensor:
    r"""Training error with each pair *included* in its own prediction, a 0-d tensor.

    :math:`\frac1n\sum_i (y_i - f(x_i))^2`: it tends to 0 as :math:`h \to 0` (for
    distinct inputs), so it cannot choose a width.

    Dtype: as :func:`loo_predictions`.
    """
    xt, yt = _pairs(x, y, need=1)
    return _mse(nadaraya_watson(xt, xt, yt, width, kernel), yt)


def error_curve(
    x: ArrayLike,
    y: ArrayLike,
    widths: Sequence[float] | ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = True,
) -> np.ndarray:
    """The LOO error (or, with ``exclude_self=False``, the in-sample error) at each width.

    Returns a float64 array of ``len(widths)``; NaN where a compact kernel leaves some
    point with no key inside its support (the error is undefined there).

    Dtype: each error in the inputs' floating dtype (as :func:`loo_predictions`),
    returned as float64.
    """
    hs = np.asarray(widths, dtype=np.float64).reshape(-1)
    fn = loo_error if exclude_self else in_sample_error
    out = np.empty(len(hs))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, h in enumerate(hs):
            out[i] = float(fn(x, y, float(h), kernel))
    return out


def _spread(x: ArrayLike) -> tuple[np.ndarray, np.ndarray, int]:
    xt = as_points(x, "x")
    n = xt.shape[0]
    if n < 2:
        raise ValueError(
            f"a rule of thumb needs at least 2 points to measure the spread, got {n}"
        )
    a = xt.detach().cpu().double().numpy()
    sd = a.std(axis=0, ddof=1)
    q75, q25 = np.percentile(a, [75, 25], axis=0)
    if np.any(sd == 0):
        raise ValueError(
            "x has zero spread in some coordinate: every value is the same"
        )
    return sd, q75 - q25, n


def _out(w: np.ndarray) -> float | np.ndarray:
    return float(w[0]) if w.size == 1 else w


def silverman_width(x: ArrayLike) -> float | np.ndarray:
    r"""Silverman's rule of thumb :math:`h = 0.9\,\min(\hat\sigma, \mathrm{IQR}/1.34)\, n^{-1/5}`.

    For d = 1 this is Silverman (1986), eq. (3.31): :math:`\hat\sigma` the sample
    standard deviation (``ddof=1``), IQR the interquartile range (numpy's linear
    percentiles); when the IQR is 0 (many ties) :math:`\hat\sigma` alone is used.
    For d > 1 it is a per-coordinate heuristic, not a rule from the book: the same
    formula coordinate by coordinate with the exponent :math:`-1/(d+4)` of the
    d-dimensional optimal width, returning a (d,) array. (Silverman's own d-dimensional
    normal-reference rule, eq. (4.14), is :math:`A(K)\,\hat\sigma\, n^{-1/(d+4)}` with
    :math:`A = (4/(d+2))^{1/(d+4)}` for the Gaussian kernel; for the Gaussian kernel
    it is :func:`scott_width` up to that constant, which lies in [0.92, 1.06].)

    Parameters
    ----------
    x : array-like, (n,) or (n, d), n >= 2
        The inputs (keys); units of x.

    Returns
    -------
    float (d = 1) or ndarray (d,)
        Widths in the units of x, float64 whatever the input's dtype.

    Raises
    ------
    ValueError
        Fewer than 2 points, or a coordinate with zero spread.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=1000)
    >>> iqr = np.subtract(*np.percentile(x, [75, 25]))
    >>> ref = 0.9 * min(x.std(ddof=1), iqr / 1.34) * 1000 ** -0.2
    >>> bool(np.isclose(silverman_width(x), ref))
    True
    """
    sd, iqr, n = _spread(x)
    spread = np.where(iqr > 0, np.minimum(sd, iqr / 1.34), sd)
    return _out(0.9 * spread * n ** (-1.0 / (len(sd) + 4)))


def scott_width(x: ArrayLike) -> float | np.ndarray:
    r"""Scott's rule :math:`h_c = \hat\sigma_c\, n^{-1/(d+4)}`, one width per coordinate.

    Scott (1992), ch. 6: the normal-reference width
    :math:`(4/(d+2))^{1/(d+4)}\,\hat\sigma_c\, n^{-1/(d+4)}` with the constant (between
    0.92 and 1.06 for every d) rounded to 1. It is the factor
    ``scipy.stats.gaussian_kde(bw_method="scott")`` uses and the rule behind
    ``bandwidth="scott"`` of :class:`nwlib.estimators.NadarayaWatsonRegressor`. (The
    constant 1.06 of the d = 1 normal-reference rule :math:`1.06\,\hat\sigma\, n^{-1/5}`,
    Silverman 1986 eq. (3.28), is that constant for d = 1.)

    Parameters
    ----------
    x : array-like, (n,) or (n, d), n >= 2
        The inputs (keys); units of x. :math:`\hat\sigma_c` is the sample standard
        deviation (``ddof=1``) of coordinate c.

    Returns
    -------
    float (d = 1) or ndarray (d,)
        Widths in the units of x, float64 whatever the input's dtype.

    Raises
    ------
    ValueError
        Fewer than 2 points, or a coordinate with zero spread.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 2))
    >>> np.allclose(scott_width(x), x.std(0, ddof=1) * 500 ** (-1 / 6))
    True
    """
    sd, _, n = _spread(x)
    return _out(sd * n ** (-1.0 / (len(sd) + 4)))


@dataclass
class WidthChoice:
    """A selected width and how it was found.

    Attributes
    ----------
    width : float or ndarray
        The selected width (an array for per-coordinate/per-key gradient descent).
    loo_error : float
        :math:`\\mathrm{CV}` at that width.
    method : str
        ``"grid"``, ``"minimize"`` or ``"gd"``.
    evaluations : int
        How many times :math:`\\mathrm{CV}` (or its gradient) was computed.
    details : dict
        Method-specific extras (the grid and its errors, the scipy result, the history).
    """

    width: Any
    loo_error: float
    method: str
    evaluations: int
    details: dict = field(default_factory=dict, repr=False)


def _start_width(x: ArrayLike, width: float | None) -> float:
    c = silverman_width(x) if width is None else width
    c = float(np.min(c))
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"width must be a starting width > 0, got {width!r}")
    return c


def select_width_grid(
    x: ArrayLike,
    y: ArrayLike,
    widths: ArrayLike | None = None,
    kernel: str | Kernel = "gaussian",
    *,
    num: int = 41,
    span: float = 20.0,
) -> WidthChoice:
    """The width with the smallest LOO error on a grid.

    By default the grid has ``num`` log-spaced widths from Silverman's width / ``span``
    to Silverman's width * ``span``.

    Dtype: as :func:`loo_predictions`; the grid is float64.
    """
    xt, yt = _pairs(x, y)
    if widths is None:
        c = _start_width(xt, None)
        widths = np.geomspace(c / span, c * span, num)
    hs = np.asarray(widths, dtype=np.float64).reshape(-1)
    as_width(hs, "widths")
    errs = error_curve(xt, yt, hs, kernel)
    if np.all(np.isnan(errs)):
        raise ValueError(
            "the LOO error is undefined (NaN) at every width of the grid: "
            "with a compact kernel, use wider widths"
        )
    i = int(np.nanargmin(errs))
    return WidthChoice(
        float(hs[i]), float(errs[i]), "grid", len(hs), {"widths": hs, "errors": errs}
    )


def select_width_minimize(
    x: ArrayLike,
    y: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    width: float | None = None,
    span: float = 20.0,
    xatol: float = 1e-3,
) -> WidthChoice:
    r"""Minimize :math:`\mathrm{CV}(h)` over :math:`\log h` with a bounded 1-D minimizer.

    ``scipy.optimize.minimize_scalar(method="bounded")`` (Brent's method) searches
    :math:`\log h \in [\log(c/\text{span}), \log(c\cdot\text{span})]`, an interval centred
    (in log scale) on the starting ``width`` (default: Silverman's width). ``xatol`` is the
    tolerance on :math:`\log h`, i.e. a relative tolerance on :math:`h`. A scalar width
    for any d. Where a compact kernel leaves CV undefined the objective is +inf.
    A ``RuntimeWarning`` says when the minimum sits at an end of the interval.

    Dtype: as :func:`loo_predictions`.
    """
    from scipy.optimize import minimize_scalar

    xt, yt = _pairs(x, y)
    if not (span > 1):
        raise ValueError(f"span must be > 1, got {span!r}")
    c = _start_width(xt, width)
    lo, hi = math.log(c / span), math.log(c * span)

    def objective(log_h: float) -> float:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            e = float(loo_error(xt, yt, math.exp(log_h), kernel))
        return e if math.isfinite(e) else math.inf

    res = minimize_scalar(
        objective, bounds=(lo, hi), method="bounded", options={"xatol": xatol}
    )
    if min(res.x - lo, hi - res.x) < 10 * xatol:
        warnings.warn(
            f"the LOO minimum lies at the edge of the search interval "
            f"[{math.exp(lo):.4g}, {math.exp(hi):.4g}]: increase span",
            RuntimeWarning,
            stacklevel=2,
        )
    return WidthChoice(
        math.exp(res.x),
        float(res.fun),
        "minimize",
        int(res.nfev),
        {"result": res, "bounds": (math.exp(lo), math.exp(hi))},
    )


def select_width_gd(
    x: ArrayLike,
    y: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    width: ArrayLike | None = None,
    per: str = "scalar",
    steps: int = 300,
    lr: float = 0.05,
    optimizer: Any = "adam",
    progress: bool = False,
    seed: int = 0,
) -> WidthChoice:
    """Minimize the LOO error by gradient descent on :math:`s = \\log h`.

    Starts from ``width`` (default: Silverman's width) and uses
    :class:`nwlib.learn.LearnedWidthNW` with ``exclude_self=True``.

    Dtype: as :class:`nwlib.learn.LearnedWidthNW` (the inputs' floating dtype;
    integers as float64).
    """
    from .learn import LearnedWidthNW

    xt, yt = _pairs(x, y)
    h0 = _start_width(xt, None) if width is None else width
    model = LearnedWidthNW(xt, yt, h0, kernel=kernel, per=per)
    hist = model.fit(
        steps,
        lr=lr,
        optimizer=optimizer,
        exclude_self=True,
        progress=progress,
        seed=seed,
    )
    h = model.width.cpu().numpy()
    with torch.no_grad():
        err = float(model.loss(exclude_self=True))
    return WidthChoice(
        float(h) if h.ndim == 0 else h,
        err,
        "gd",
        steps + 1,
        {"history": hist, "model": model},
    )
