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
