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
  angle), so there is no boundary and the interior rate holds everywhere
  (:mod:`nwlib.torus`: the Gaussian of the distance around the circle in 1-D,
  a product of von Mises kernels in :math:`d \ge 2`).
* ``"cube"``: the plain estimator on the cube, whose bias is of order
  :math:`h` within about :math:`h` of the boundary.

The target :func:`nwlib.torus.periodic_function`
:math:`f(x) = d^{-1/2}\sum_c \sin(2\pi x_c)` is smooth on the torus, with the same
variance 1/2 in every dimension. Everything is seeded; widths are searched on
:math:`\log h` by :func:`nwlib.search.minimize_log_width` with
``method="parabola"`` (a walk downhill, then one parabola). ``periodic_function``,
``torus_embedding``, ``torus_nadaraya_watson`` (:mod:`nwlib.torus`) and
``PowerLaw``, ``fit_power_law`` (:mod:`nwlib.powerlaw`) are importable from here
too, as the chapter on rates uses them together.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .pooling import nadaraya_watson
from .powerlaw import PowerLaw, fit_power_law
from .rules import silverman_width
from .scale import banded_nadaraya_watson
from .search import minimize_log_width
from .selection import loo_error
from .torus import periodic_function, torus_embedding, torus_nadaraya_watson

Tensor = torch.Tensor

__all__ = [
    "GEOMETRIES",
    "predicted_exponents",
    "periodic_function",
    "draw_sample",
    "torus_embedding",
    "torus_nadaraya_watson",
    "PowerLaw",
    "fit_power_law",
    "RateRun",
    "rate_experiment",
    "exponent_table",
]

GEOMETRIES = ("torus", "cube")


def predicted_exponents(d: int) -> tuple[float, float]:
    r"""The predicted exponents :math:`(-4/(d+4),\ -1/(d+4))` of the MSE and the width.

    Stone (1982): for a twice-differentiable regression function in d dimensions the
    best MSE falls like :math:`n^{-4/(d+4)}`, at a width shrinking like
    :math:`n^{-1/(d+4)}`.

    Parameters
    ----------
    d : int >= 1
        The dimension.

    Returns
    -------
    tuple of float
        ``(mse_exponent, width_exponent)``.

    Raises
    ------
    TypeError, ValueError
        ``d`` not an int, or below 1.

    Examples
    --------
    >>> [f"{e:.2f}" for e in predicted_exponents(1)]
    ['-0.80', '-0.20']
    """
    _check_int(d, "d", 1)
    return -4.0 / (d + 4), -1.0 / (d + 4)


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def draw_sample(
    n: int,
    d: int,
    *,
    noise: float = 0.5,
    generator: torch.Generator | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    r"""A seeded sample: x uniform on :math:`[0,1)^d`, y the periodic target plus noise.

    ``y = periodic_function(x) + noise * eps`` with standard normal ``eps``.

    Parameters
    ----------
    n, d : int >= 1
        Number of points and dimension.
    noise : float >= 0
        Standard deviation of the noise.
    generator : torch.Generator, optional
        Draw from it; else from a private generator seeded with ``seed``.
    seed : int
        Seed of the private generator (ignored when ``generator`` is given).

    Returns
    -------
    x : Tensor, (n, d), float64
    y : Tensor, (n,), float64

    Raises
    ------
    TypeError, ValueError
        ``n`` or ``d`` not an int >= 1, a negative or non-finite ``noise``.

    Examples
    --------
    >>> x, y = draw_sample(5, 2, seed=1)
    >>> tuple(x.shape), tuple(y.shape), x.dtype
    ((5, 2), (5,), torch.float64)
    """
    _check_int(n, "n", 1)
    _check_int(d, "d", 1)
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g, dtype=torch.float64)
    y = periodic_function(x) + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


# ---------------------------------------------------------------------- the experiment


@dataclass
class RateRun:
    """What :func:`rate_experiment` returns.

    Parameters
    ----------
    d : int
        Dimension of the points.
    geometry : str
        ``"torus"`` (periodic, no boundary) or ``"cube"`` (the unit cube, with edges).
    noise : float
        Standard deviation of the noise added to the target.
    records : DataFrame
        One row per (n, replicate): ``n``, ``replicate``, ``width_loo``, ``cv`` (the
        leave-one-out score there), ``mse_loo`` (test MSE against the truth at that
        width), ``width_oracle``, ``mse_oracle``, ``evaluations`` (of the LOO score),
        ``seconds``; for the cube also ``mse_loo_interior`` / ``mse_loo_edge``, the
        test MSE over queries at least ``interior`` from the boundary / within
        ``edge`` of it.
    seconds : float
        Wall time of the whole run.

    Notes
    -----
    :meth:`summary` gives geometric means per size; :meth:`fit` a power law.

    Examples
    --------
    >>> run = rate_experiment(1, [100, 200], oracle=False, n_test=100)
    >>> list(run.summary().index), run.fit("mse_loo").exponent < 0
    ([100, 200], True)
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
    choose the width minimizing the leave-one-out score
    (:func:`nwlib.selection.loo_error`, ``periodic=True`` on the torus) with
    :func:`nwlib.search.minimize_log_width` (``method="parabola"``),
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
        The dimension.
    sizes : sequence of int
        Increasing sample sizes, each >= 10.
    replicates : int, or one int per size
        More replicates where n is small and cheap.
    noise : float > 0
        Standard deviation of the noise.
    n_test : int >= 10
        Number of test queries.
    geometry : {"torus", "cube"}
        Periodic coordinates (no boundary) or the plain cube.
    oracle : bool
        Also find the oracle width.
    seed : int
        Seeds every draw (data and test set).
    interior, edge : float
        Cube only: the test-query regions of ``mse_loo_interior`` and
        ``mse_loo_edge``.
    dtype : torch dtype
        Computation dtype (float32: fast; scores are averaged in float64).
    progress : bool
        Print one line per size.

    Returns
    -------
    RateRun
        The settings, one record per (size, replicate), the wall time.

    Raises
    ------
    TypeError, ValueError
        A setting of the wrong type or out of range (the message names it).

    Source: Stone (1982) for the rates; Wasserman (2006), ch. 5.

    Examples
    --------
    >>> run = rate_experiment(1, [100, 200], replicates=2, n_test=100, oracle=False)
    >>> len(run.records), sorted(set(run.records["n"]))
    (4, [100, 200])
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
    if any(b <= a for a, b in itertools.pairwise(sizes)):
        raise ValueError(f"sizes must be strictly increasing, got {sizes}")
    counts = _replicate_counts(replicates, len(sizes))
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise > 0):
        raise ValueError(f"noise must be a finite number > 0, got {noise!r}")
    n_test = _check_int(n_test, "n_test", 10)
    if geometry == "cube" and not (0 < edge < interior < 0.5):
        raise ValueError(
            f"need 0 < edge < interior < 0.5, got edge={edge!r}, interior={interior!r}"
        )

    torus = geometry == "torus"
    start_all = time.perf_counter()
    q = torch.rand(
        n_test,
        d,
        generator=torch.Generator().manual_seed(_seed(seed, d, 0)),
        dtype=torch.float64,
    )
    fq = periodic_function(q)
    # distance of each query to the cube's boundary
    gap = torch.minimum(q, 1 - q).amin(1)
    masks = {"interior": gap >= interior, "edge": gap < edge}
    rows = []
    centre = prev_n = None
    for n, reps in zip(sizes, counts, strict=True):
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

            def cv(h: float, x: Tensor = x, y: Tensor = y) -> float:  # this replicate's
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    return float(loo_error(x, y, h, periodic=torus, dtype=dtype))

            def sq_err(h: float, x: Tensor = x, y: Tensor = y) -> Tensor:
                return (_predict(geometry, q, x, y, h, dtype).double() - fq) ** 2

            loo = minimize_log_width(cv, c, method="parabola")
            err = sq_err(loo.width)
            row = {
                "n": n,
                "replicate": rep,
                "width_loo": loo.width,
                "cv": loo.score,
                "mse_loo": float(err.mean()),
            }
            if geometry == "cube":
                for name, m in masks.items():
                    row[f"mse_loo_{name}"] = (
                        float(err[m].mean()) if bool(m.any()) else math.nan
                    )
            if oracle:
                orc = minimize_log_width(
                    lambda h: float(sq_err(h).mean()),
                    loo.width,
                    method="parabola",
                    refine=1,
                )
                row.update(width_oracle=orc.width, mse_oracle=orc.score)
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

    Parameters
    ----------
    runs : sequence of RateRun
        Results of :func:`rate_experiment`.
    n_min : int
        Fit only sizes >= ``n_min``.

    Returns
    -------
    DataFrame, one row per run (NaN for oracle columns of runs without one).

    Raises
    ------
    TypeError
        An entry that is not a :class:`RateRun`.

    Examples
    --------
    >>> run = rate_experiment(1, [100, 200, 400], n_test=100)
    >>> table = exponent_table([run])
    >>> f"{table['MSE exponent, predicted'][0]:.2f}", len(table)
    ('-0.80', 1)
    """
    rows = []
    for run in runs:
        if not isinstance(run, RateRun):
            raise TypeError(
                f"runs must be RateRun results of rate_experiment, "
                f"got {type(run).__name__}"
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
