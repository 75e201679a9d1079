r"""How fast the width must shrink: measuring rates of convergence.

With a twice-differentiable regression function and design density in
:math:`d` dimensions, the Nadaraya-Watson estimate at an interior point has
bias of order :math:`h^2` and variance of order :math:`1/(n h^d)`
(Stone 1982; Wasserman 2006), so its mean squared error behaves like

.. math::

    \mathrm{MSE}(h) \approx B h^4 + \frac{V}{n h^d}, \qquad
    h^* = \Big(\frac{d V}{4 B n}\Big)^{1/(d+4)} \propto n^{-1/(d+4)}, \qquad
    \mathrm{MSE}(h^*) \propto n^{-4/(d+4)} .

This module measures those exponents. :func:`rate_experiment` draws, for each
sample size, data from a known smooth function, chooses the width by
leave-one-out and by an *oracle* that knows the truth, and scores the estimate on
fresh points against the true function; :func:`fit_power_law` fits the log-log
slopes and :func:`exponent_table` sets them beside the predictions.

Two geometries for the same data (inputs uniform on :math:`[0, 1)^d`):

* ``"torus"``: the inputs are read as points on a torus (each coordinate is an
  angle), so there is no boundary and the interior rate holds everywhere. In
  1-D the kernel is the Gaussian of the distance around the circle, computed
  with ghost copies of the keys near the ends and the banded fast path of
  :mod:`nwlib.scale`; in :math:`d \ge 2` each coordinate is embedded as a point on
  a circle of circumference 1 (:func:`torus_embedding`), and the Gaussian of the
  embedded (chord) distance is a product of von Mises kernels, computed by the
  blocked path of :mod:`nwlib.pooling`.
* ``"cube"``: the plain estimator on the cube, whose bias is of order
  :math:`h` within about :math:`h` of the boundary.

The target :func:`periodic_function` :math:`f(x) = d^{-1/2}\sum_c \sin(2\pi x_c)`
is smooth on the torus, with the same variance 1/2 in every dimension.
Everything is seeded; widths are searched on :math:`\log h` by
:func:`minimize_log_width` (a walk downhill, then one parabola).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from ._engine import offset, resolve_dtype, work_dtype
from ._validate import ArrayLike, as_float_tensor, as_points, as_width, common_dtype
from .pooling import nadaraya_watson
from .scale import banded_nadaraya_watson, loo_cv_score, truncation_radius
from .selection import silverman_width

Tensor = torch.Tensor

__all__ = [
    "GEOMETRIES",
    "predicted_exponents",
    "periodic_function",
    "draw_sample",
    "torus_embedding",
    "torus_nadaraya_watson",
    "torus_loo_score",
    "WidthSearch",
    "minimize_log_width",
    "PowerLaw",
    "fit_power_law",
    "RateRun",
    "rate_experiment",
    "exponent_table",
]

GEOMETRIES = ("torus", "cube")


def predicted_exponents(d: int) -> tuple[float, float]:
    r"""``(mse_exponent, width_exponent)`` = :math:`(-4/(d+4),\ -1/(d+4))`."""
    _check_int(d, "d", 1)
    return -4.0 / (d + 4), -1.0 / (d + 4)


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def periodic_function(x: ArrayLike) -> Tensor:
    r""":math:`f(x) = d^{-1/2} \sum_{c=1}^{d} \sin(2\pi x_c)`, shape (n,) from (n,) or (n, d).

    Period 1 in every coordinate, mean 0 and variance 1/2 under the uniform design
    for every :math:`d`; its Laplacian is :math:`-4\pi^2 f`.

    Dtype: float64 (numpy's sin), whatever the input's floating dtype.
    """
    xt = (
        as_points(x, "x").detach().cpu().double()
    )  # half dtypes too (numpy has no bfloat16)
    return torch.from_numpy(_np_sin(xt).sum(1) / math.sqrt(xt.shape[1]))


# numpy for sin/cos: torch 2.13's float64 sin/cos on CPU took ~15 ms for 2000 numbers with
# two threads here (numpy: 0.02 ms)
def _np_sin(x: Tensor) -> np.ndarray:
    return np.sin(2 * math.pi * x.numpy())


def _np_cos(x: Tensor) -> np.ndarray:
    return np.cos(2 * math.pi * x.numpy())


def draw_sample(
    n: int,
    d: int,
    *,
    noise: float = 0.5,
    generator: torch.Generator | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    r"""``x`` (n, d) uniform on :math:`[0,1)^d` and ``y = periodic_function(x) + noise * eps``.

    float64, from ``generator`` if given, else from a private generator seeded
    with ``seed``.
    """
    _check_int(n, "n", 1)
    _check_int(d, "d", 1)
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g, dtype=torch.float64)
    y = periodic_function(x) + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


def torus_embedding(x: ArrayLike) -> Tensor:
    r"""Each coordinate as a point on a circle of circumference 1: (n, d) -> (n, 2d).

    :math:`e(x) = (\cos 2\pi x_c, \sin 2\pi x_c)_c / (2\pi)`. Then

    .. math:: \lVert e(q) - e(k)\rVert^2 = \sum_c \frac{\sin^2(\pi (q_c - k_c))}{\pi^2}
              = \sum_c (q_c - k_c)^2 \big(1 + O((q_c - k_c)^2)\big),

    so a Gaussian of the embedded distance is the product of von Mises kernels
    :math:`\exp\big((\cos 2\pi\Delta_c - 1)/(4\pi^2 h^2)\big)`: periodic, and a Gaussian of
    width :math:`h` for small differences.

    Dtype: the input's floating dtype (integers and Python numbers as float64,
    float16 and bfloat16 in float32), by numpy's sin and cos. Each coordinate is
    first reduced modulo 1 in the input's precision (exact), so whole-period shifts
    (time stamps in periods, say) cost no digits.
    """
    xt = as_points(x, "x").detach().cpu()
    if xt.dtype in (torch.float16, torch.bfloat16):
        xt = xt.float()
    xt = torch.remainder(xt, 1.0)  # exact: x - floor(x)
    return torch.from_numpy(
        np.concatenate([_np_cos(xt), _np_sin(xt)], axis=1) / (2 * math.pi)
    )


#: Most whole periods of images ``method="images"`` adds on each side (width about 4/c).
_MAX_PERIODS = 64


def _ghosts(x: Tensor, values: Tensor, margin: float) -> tuple[Tensor, Tensor]:
    """Keys on [0, 1) plus their images ``x + m`` (m = 1, -1, 2, -2, ...) within ``margin`` of it."""
    xs, vs = [x], [values]
    for m in range(1, math.ceil(margin) + 1):
        up, down = (
            x < margin - (m - 1),
            x >= m - margin,
        )  # x + m < 1 + margin, x - m >= -margin
        xs += [x[up] + m, x[down] - m]
        vs += [values[up], values[down]]
    return torch.cat(xs), torch.cat(vs)


def torus_nadaraya_watson(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: ArrayLike,
    *,
    exclude_self: bool = False,
    method: str | None = None,
    dtype: torch.dtype | str | None = torch.float32,
) -> Tensor:
    r"""Gaussian Nadaraya-Watson on the torus :math:`[0,1)^d`, shape (n_q,) or (n_q, m).

    Dtype: float32 by default (``dtype``), the fast choice: coordinates are reduced
    modulo 1, so the data are centred and scaled by construction; values with less
    precision than ``dtype`` is asked for are centred first (as
    :func:`nwlib.pooling.nadaraya_watson`).

    Parameters
    ----------
    queries : (n_q,) or (n_q, d); keys : (n_k,) or (n_k, d)
        Coordinates are taken modulo 1.
    values : (n_k,) or (n_k, m)
    width : scalar (or (d,) with ``method="embedding"``)
    exclude_self : bool
        Leave-one-out: queries must be the keys. With ``"images"`` a point's own
        images at distance 1 stay among the keys, with relative weight at most
        :math:`e^{-1/(2h^2)}` (below :math:`10^{-9}` for :math:`h < 0.15`).
    method : {"images", "embedding"}, optional
        ``"images"`` (1-D only, the default there): the Gaussian of the distance
        around the circle, :math:`\sum_m K((q - k + m)/h)` over the images :math:`k - m`
        within :math:`c h` of :math:`[0, 1)` (:math:`c` from
        :func:`nwlib.scale.truncation_radius`: farther images weigh less than the
        dtype's precision; as many whole periods as that takes, at most 64, else
        ``ValueError``), by :func:`nwlib.scale.banded_nadaraya_watson` on the keys
        plus ghost copies. ``"embedding"`` (the default for d >= 2): the product von
        Mises kernel of :func:`torus_embedding`, by :func:`nwlib.pooling.nadaraya_watson`.
    dtype : default float32 (the fast choice)
    """
    q = as_points(queries, "queries").detach()
    k = as_points(keys, "keys").detach()
    v = as_float_tensor(values, "values").detach()
    if q.shape[1] != k.shape[1]:
        raise ValueError(
            f"queries and keys must have the same number of coordinates d, "
            f"got {q.shape[1]} and {k.shape[1]}"
        )
    if v.ndim not in (1, 2) or v.shape[0] != k.shape[0]:
        raise ValueError(
            f"values must have shape (n_keys,) or (n_keys, m) with n_keys={k.shape[0]}, "
            f"got {tuple(v.shape)}"
        )
    d = k.shape[1]
    method = method or ("images" if d == 1 else "embedding")
    if method not in ("images", "embedding"):
        raise ValueError(f"method must be 'images' or 'embedding', got {method!r}")
    if exclude_self and q.shape != k.shape:
        raise ValueError(
            f"exclude_self needs queries and keys to be the same points, "
            f"got {q.shape[0]} queries and {k.shape[0]} keys"
        )
    h = as_width(width)
    q, k = torch.remainder(q, 1.0), torch.remainder(k, 1.0)
    if method == "embedding":
        hh = torch.cat([h, h]) if h.ndim == 1 and h.numel() == d and d > 1 else h
        eq, ek = torus_embedding(q), torus_embedding(k)
        return nadaraya_watson(
            ek if exclude_self else eq,
            ek,
            v,
            hh,
            exclude_self=exclude_self,
            dtype=dtype,
        )
    if d != 1 or h.numel() != 1:
        raise ValueError(
            f"method='images' needs 1-D inputs and a scalar width, got d={d} "
            f"and width of shape {tuple(h.shape)}; use method='embedding'"
        )
    hf = float(h)
    dt = work_dtype(resolve_dtype(dtype)) or common_dtype(k, v)
    margin = truncation_radius(3 * k.shape[0], dt) * hf
    if margin > _MAX_PERIODS:
        raise ValueError(
            f"width={hf:g} is too large for method='images' (it would need "
            f"{math.ceil(margin)} periods of images on each side, at most "
            f"{_MAX_PERIODS} are kept): use method='embedding'"
        )
    ke, ve = _ghosts(k[:, 0], v, margin)
    if exclude_self:  # ghosts are queries too; a point's own copy is >= 1 - margin away
        return banded_nadaraya_watson(ke, ke, ve, hf, exclude_self=True, dtype=dtype)[
            : k.shape[0]
        ]
    return banded_nadaraya_watson(q[:, 0], ke, ve, hf, dtype=dtype)


def torus_loo_score(
    x: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    *,
    dtype: torch.dtype | str | None = torch.float32,
) -> float:
    r"""Leave-one-out score :math:`\frac1n\sum_i (y_i - f_{-i}(x_i))^2` on the torus (mean in float64).

    Dtype: as :func:`torus_nadaraya_watson`; the mean is taken in float64.
    """
    yt = as_float_tensor(y, "y").detach()  # a float comes back: no graph to keep
    dt = work_dtype(resolve_dtype(dtype))
    if (
        dt is not None and dt != torch.float64
    ):  # a shift of y leaves the score unchanged
        c = offset(yt)
        yt = yt if c is None else yt - c
    pred = torus_nadaraya_watson(x, x, yt, width, exclude_self=True, dtype=dtype)
    return float(((yt.double() - pred.double()) ** 2).mean())


class WidthSearch(NamedTuple):
    """Result of :func:`minimize_log_width`."""

    width: float
    value: float
    evaluations: int


def minimize_log_width(
    score: Callable[[float], float],
    width: float,
    *,
    factor: float = 1.5,
    refine: int = 0,
    max_evaluations: int = 40,
) -> WidthSearch:
    r"""A local minimum of ``score(h)`` over :math:`t = \log h`, in few evaluations.

    1. Evaluate at :math:`t_0 - s, t_0, t_0 + s` with :math:`t_0 = \log(\text{width})` and
       :math:`s = \log(\text{factor})`; while an end is lower, move the triple that way.
    2. Through the final triple (middle lowest) fit a parabola and evaluate at its
       vertex :math:`t_0 + s\,(f_- - f_+) / (2(f_- - 2f_0 + f_+))`, within :math:`s/2` of
       :math:`t_0`.
    3. ``refine`` times: a new parabola through the best point and its neighbours
       at a third of the previous spacing (3 more evaluations each).

    The best width evaluated is returned. NaN scores count as :math:`+\infty`. With
    a good starting ``width`` and ``refine=0`` it takes 4 evaluations; the parabola locates
    the minimum of a smooth score to a few percent of :math:`h`, finer than the
    sampling noise of a leave-one-out width.

    Raises
    ------
    ValueError
        For a starting width that is not > 0 or a factor that is not > 1.
    """
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise ValueError(f"width must be a finite starting width > 0, got {width!r}")
    if not (isinstance(factor, (int, float)) and factor > 1):
        raise ValueError(f"factor must be > 1, got {factor!r}")
    s = math.log(factor)
    cache: dict[float, float] = {}

    def f(t: float) -> float:
        t = round(t, 12)
        if t not in cache:
            val = float(score(math.exp(t)))
            cache[t] = val if math.isfinite(val) else math.inf
        return cache[t]

    t0 = math.log(width)
    while True:
        fm, f0, fp = f(t0 - s), f(t0), f(t0 + s)
        if f0 <= fm and f0 <= fp:
            break
        if len(cache) >= max_evaluations:
            warnings.warn(
                f"minimize_log_width stopped after {len(cache)} evaluations without "
                f"bracketing a minimum (last centre {math.exp(t0):.4g})",
                RuntimeWarning,
                stacklevel=2,
            )
            break
        t0 += -s if fm < fp else s
    rounds = _check_int(refine, "refine", 0)
    for r in range(rounds + 1):
        denom = fm - 2 * f0 + fp
        if math.isfinite(denom) and denom > 0:
            f(t0 + 0.5 * s * (fm - fp) / denom)
        if r == rounds:
            break
        t0, s = min(cache, key=cache.get), s / 3
        fm, f0, fp = f(t0 - s), f(t0), f(t0 + s)
    best = min(cache, key=cache.get)
    return WidthSearch(math.exp(best), cache[best], len(cache))


class PowerLaw(NamedTuple):
    r"""A fitted :math:`v = C n^{a}`: ``exponent`` :math:`a`, ``prefactor`` :math:`C`, and the
    standard error of :math:`a` from the scatter about the line."""

    exponent: float
    prefactor: float
    stderr: float
    n_min: int
    n_max: int

    def __call__(self, n: ArrayLike) -> np.ndarray:
        return self.prefactor * np.asarray(n, dtype=np.float64) ** self.exponent

    def solve(self, value: float) -> float:
        """The :math:`n` at which the fitted law reaches ``value``."""
        return (value / self.prefactor) ** (1.0 / self.exponent)


def fit_power_law(n: ArrayLike, values: ArrayLike) -> PowerLaw:
    r"""Least-squares line through :math:`(\log n, \log v)`.

    Repeated sizes (replicates) are first averaged on the log scale, so each size
    counts once. Needs at least two distinct sizes (three for a standard error)
    and positive, finite values.
    """
    na, va = (
        np.asarray(
            a.detach().cpu().double() if isinstance(a, torch.Tensor) else a,
            dtype=np.float64,
        ).reshape(-1)
        for a in (n, values)
    )
    if na.shape != va.shape:
        raise ValueError(
            f"n and values must have the same length, got {na.size} and {va.size}"
        )
    if not (np.all(np.isfinite(na)) and np.all(na > 0)):
        raise ValueError("n must be finite and > 0")
    if not (np.all(np.isfinite(va)) and np.all(va > 0)):
        raise ValueError(
            "values must be finite and > 0 (they are fitted on a log scale)"
        )
    sizes = np.unique(na)
    if sizes.size < 2:
        raise ValueError(f"a slope needs at least 2 distinct sizes, got {sizes.size}")
    lx = np.log(sizes)
    ly = np.array([np.log(va[na == s]).mean() for s in sizes])
    xc = lx - lx.mean()
    slope = float((xc * (ly - ly.mean())).sum() / (xc**2).sum())
    icpt = float(ly.mean() - slope * lx.mean())
    resid = ly - (icpt + slope * lx)
    dof = sizes.size - 2
    stderr = (
        float(math.sqrt((resid**2).sum() / dof / (xc**2).sum()))
        if dof > 0
        else math.nan
    )
    return PowerLaw(slope, math.exp(icpt), stderr, int(sizes[0]), int(sizes[-1]))


# --------------------------------------------------------------------------- the experiment


@dataclass
class RateRun:
    """What :func:`rate_experiment` returns.

    Attributes
    ----------
    d, geometry, noise : the settings
    records : DataFrame
        One row per (n, replicate): ``n``, ``replicate``, ``width_loo``, ``cv`` (the
        leave-one-out score there), ``mse_loo`` (test MSE against the truth at that
        width), ``width_oracle``, ``mse_oracle``, ``evaluations`` (of the LOO score),
        ``seconds``; for the cube also ``mse_loo_interior`` / ``mse_loo_edge``, the test
        MSE over queries at least ``interior`` from the boundary / within ``edge`` of it.
    seconds : float
        Wall time of the whole run.
    """

    d: int
    geometry: str
    noise: float
    records: pd.DataFrame
    seconds: float

    def summary(self) -> pd.DataFrame:
        """Geometric means over replicates, one row per sample size."""
        cols = [c for c in self.records.columns if c.startswith(("width", "mse", "cv"))]
        g = self.records.groupby("n")
        out = np.exp(np.log(self.records[cols]).groupby(self.records["n"]).mean())
        out.insert(0, "replicates", g.size())
        return out

    def fit(self, column: str = "mse_loo", n_min: int = 0) -> PowerLaw:
        """Power law of ``column`` against n over sizes >= ``n_min``."""
        if column not in self.records.columns:
            raise ValueError(
                f"column must be one of {list(self.records.columns)}, got {column!r}"
            )
        r = self.records[self.records["n"] >= n_min]
        return fit_power_law(r["n"].to_numpy(), r[column].to_numpy())


def _replicate_counts(replicates: int | Sequence[int], n_sizes: int) -> list[int]:
    if isinstance(replicates, (int, np.integer)) and not isinstance(replicates, bool):
        counts = [int(replicates)] * n_sizes
    else:
        try:
            counts = [_check_int(r, "each replicate count", 1) for r in replicates]
        except TypeError:
            raise TypeError(
                "replicates must be an int or a sequence of ints, one per size"
            ) from None
        if len(counts) != n_sizes:
            raise ValueError(
                f"replicates must give one count per size: {len(counts)} counts "
                f"for {n_sizes} sizes"
            )
    if min(counts) < 1:
        raise ValueError(f"replicates must be >= 1, got {min(counts)}")
    return counts


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def _predict(geometry: str, q: Tensor, x: Tensor, y: Tensor, h: float, dtype) -> Tensor:
    if geometry == "torus":
        return torus_nadaraya_watson(q, x, y, h, dtype=dtype)
    if x.shape[1] == 1:
        return banded_nadaraya_watson(q, x, y, h, dtype=dtype)
    return nadaraya_watson(q, x, y, h, dtype=dtype)


def rate_experiment(
    d: int,
    sizes: Sequence[int],
    *,
    replicates: int | Sequence[int] = 1,
    noise: float = 0.5,
    n_test: int = 2000,
    geometry: str = "torus",
    oracle: bool = True,
    seed: int = 0,
    interior: float = 0.1,
    edge: float = 0.02,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
) -> RateRun:
    r"""Measure how the test error and the chosen width fall with the sample size.

    For each size ``n`` and replicate: draw ``n`` pairs with :func:`draw_sample`,
    choose the width minimizing the leave-one-out score (:func:`torus_loo_score`,
    or :func:`nwlib.scale.loo_cv_score` on the cube) with :func:`minimize_log_width`,
    and score the estimate against the noise-free truth on ``n_test`` fresh uniform
    queries (one test set for the whole run):
    :math:`\mathrm{MSE} = \frac{1}{n_{test}}\sum_j (\hat f(q_j) - f(q_j))^2`. The oracle
    width minimizes that test MSE itself (it knows the truth).

    The search for the first size starts at Silverman's width; later sizes start
    at the previous size's width times :math:`(n_{prev}/n)^{1/(d+4)}`, a warm start
    only: the search walks to the minimum of the score wherever it is.

    Parameters
    ----------
    d : int >= 1
    sizes : increasing sample sizes, each >= 10
    replicates : int, or one int per size (more replicates where n is small and cheap)
    noise : standard deviation of the noise, > 0
    n_test : number of test queries
    geometry : "torus" (no boundary) or "cube"
    oracle : also find the oracle width
    seed : seeds every draw (data and test set)
    interior, edge : cube only: the test-query regions of ``mse_loo_interior``/``mse_loo_edge``
    dtype : computation dtype (float32: fast; scores are averaged in float64)
    progress : print one line per size
    """
    d = _check_int(d, "d", 1)
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}, got {geometry!r}")
    try:
        sizes = [_check_int(n, "each size", 10) for n in sizes]
    except TypeError:
        raise TypeError(
            "sizes must be a sequence of ints (sample sizes >= 10)"
        ) from None
    if not sizes:
        raise ValueError("sizes is empty: give at least one sample size")
    if any(b <= a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"sizes must be strictly increasing, got {sizes}")
    counts = _replicate_counts(replicates, len(sizes))
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise > 0):
        raise ValueError(f"noise must be a finite number > 0, got {noise!r}")
    n_test = _check_int(n_test, "n_test", 10)
    if geometry == "cube" and not (0 < edge < interior < 0.5):
        raise ValueError(
            f"need 0 < edge < interior < 0.5, got edge={edge!r}, interior={interior!r}"
        )

    start_all = time.perf_counter()
    q = torch.rand(
        n_test,
        d,
        generator=torch.Generator().manual_seed(_seed(seed, d, 0)),
        dtype=torch.float64,
    )
    fq = periodic_function(q)
    gap = torch.minimum(q, 1 - q).amin(
        1
    )  # distance of each query to the cube's boundary
    masks = {"interior": gap >= interior, "edge": gap < edge}
    rows = []
    centre = prev_n = None
    for n, reps in zip(sizes, counts):
        widths_n = []
        for rep in range(reps):
            t0 = time.perf_counter()
            x, y = draw_sample(
                n,
                d,
                noise=noise,
                generator=torch.Generator().manual_seed(_seed(seed, d, n, rep + 1)),
            )
            c = (
                float(np.mean(silverman_width(x)))
                if centre is None
                else centre * (prev_n / n) ** (1 / (d + 4))
            )

            def cv(
                h: float, x: Tensor = x, y: Tensor = y
            ) -> float:  # this replicate's x, y
                if geometry == "torus":
                    return torus_loo_score(x, y, h, dtype=dtype)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    return loo_cv_score(x, y, h, dtype=dtype)

            def sq_err(h: float, x: Tensor = x, y: Tensor = y) -> Tensor:
                return (_predict(geometry, q, x, y, h, dtype).double() - fq) ** 2

            loo = minimize_log_width(cv, c)
            err = sq_err(loo.width)
            row = {
                "n": n,
                "replicate": rep,
                "width_loo": loo.width,
                "cv": loo.value,
                "mse_loo": float(err.mean()),
            }
            if geometry == "cube":
                for name, m in masks.items():
                    row[f"mse_loo_{name}"] = (
                        float(err[m].mean()) if bool(m.any()) else math.nan
                    )
            if oracle:
                orc = minimize_log_width(
                    lambda h: float(sq_err(h).mean()), loo.width, refine=1
                )
                row.update(width_oracle=orc.width, mse_oracle=orc.value)
            row.update(evaluations=loo.evaluations, seconds=time.perf_counter() - t0)
            rows.append(row)
            widths_n.append(loo.width)
        centre, prev_n = float(np.exp(np.mean(np.log(widths_n)))), n
        if progress:
            print(f"d={d} n={n}: width {centre:.4g}, {reps} replicate(s)", flush=True)
    return RateRun(
        d, geometry, float(noise), pd.DataFrame(rows), time.perf_counter() - start_all
    )


def exponent_table(runs: Sequence[RateRun], n_min: int = 0) -> pd.DataFrame:
    """Measured against predicted exponents, one row per run.

    Columns: ``d``, ``geometry``, ``n range``, the predicted MSE exponent
    :math:`-4/(d+4)`, the measured one at the leave-one-out width (with its
    standard error) and at the oracle width, then the predicted width exponent
    :math:`-1/(d+4)` and the measured ones for the leave-one-out and the oracle
    widths (no standard error for the width exponents).
    """
    rows = []
    for run in runs:
        if not isinstance(run, RateRun):
            raise TypeError(
                f"runs must be RateRun results of rate_experiment, got {type(run).__name__}"
            )
        mse_p, width_p = predicted_exponents(run.d)
        m_loo, w_loo = run.fit("mse_loo", n_min), run.fit("width_loo", n_min)
        has_oracle = "mse_oracle" in run.records.columns
        rows.append(
            {
                "d": run.d,
                "geometry": run.geometry,
                "n range": f"{m_loo.n_min}-{m_loo.n_max}",
                "MSE exponent, predicted": mse_p,
                "measured (LOO width)": m_loo.exponent,
                "std. error": m_loo.stderr,
                "measured (oracle width)": run.fit("mse_oracle", n_min).exponent
                if has_oracle
                else math.nan,
                "width exponent, predicted": width_p,
                "measured (LOO)": w_loo.exponent,
                "measured (oracle)": run.fit("width_oracle", n_min).exponent
                if has_oracle
                else math.nan,
            }
        )
    return pd.DataFrame(rows)
