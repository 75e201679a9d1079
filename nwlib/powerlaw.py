r"""Power laws :math:`v = C n^{a}`: fitting a rate on log-log axes.

:mod:`nwlib.rates` measures how the error and the width fall with the sample
size; :func:`fit_power_law` reads the exponent off a least-squares line through
:math:`(\log n, \log v)`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ._validate import ArrayLike

__all__ = ["PowerLaw", "fit_power_law"]


class PowerLaw(NamedTuple):
    r"""A fitted power law :math:`v = C n^{a}`, as :func:`fit_power_law` returns it.

    Calling it at sizes ``n`` (array-like) returns :math:`C n^a` (float64 ndarray);
    :meth:`solve` inverts it.

    Parameters
    ----------
    exponent : float
        :math:`a`.
    prefactor : float
        :math:`C`, in the units of the values.
    stderr : float
        Standard error of :math:`a` from the scatter about the line (NaN with two
        sizes).
    n_min, n_max : int
        The range of sizes fitted.

    Examples
    --------
    >>> law = PowerLaw(-0.5, 2.0, 0.0, 1, 100)
    >>> [f"{v:.3f}" for v in law([1, 4])], f"{law.solve(0.5):.1f}"
    (['2.000', '1.000'], '16.0')
    """

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
    r"""The power law :math:`v = C n^a` fitted by least squares on log-log axes.

    Repeated sizes (replicates) are first averaged on the log scale, so each size
    counts once.

    Parameters
    ----------
    n : array-like, (k,)
        Sample sizes, finite and > 0 (at least two distinct; three for a standard
        error).
    values : array-like, (k,)
        The measured values, finite and > 0, one per size (any real dtype; computed
        in float64).

    Returns
    -------
    PowerLaw
        Exponent, prefactor, standard error of the exponent, size range.

    Raises
    ------
    ValueError
        Lengths that differ, non-positive or non-finite entries, fewer than two
        distinct sizes.

    Examples
    --------
    >>> law = fit_power_law([10, 100, 1000], [1.0, 0.1, 0.01])
    >>> f"{law.exponent:.4f}", f"{law.prefactor:.4f}"
    ('-1.0000', '10.0000')
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
