r"""Rules of thumb for the width: Silverman's and Scott's, no fitting needed.

Both scale the spread of the inputs by a power of n chosen for a normal reference
density (:func:`spread` measures it); :mod:`nwlib.selection` chooses the width
from the data instead.
"""

from __future__ import annotations

import numpy as np

from ._validate import ArrayLike, as_points

__all__ = ["silverman_width", "scott_width", "spread"]


def spread(x: ArrayLike, name: str = "x") -> tuple[np.ndarray, np.ndarray, int]:
    r"""What a rule of thumb scales: the spread of each coordinate, checked.

    Parameters
    ----------
    x : array-like, (n,) or (n, d), n >= 2
        The inputs (keys); units of x.
    name : str, default "x"
        The argument's name in error messages.

    Returns
    -------
    sd : ndarray, (d,)
        Sample standard deviation (``ddof=1``) of each coordinate, float64.
    iqr : ndarray, (d,)
        Interquartile range of each coordinate (numpy's linear percentiles), float64.
    n : int
        The number of points.

    Raises
    ------
    ValueError
        Fewer than 2 points, or coordinates with zero spread (their indices named).
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> sd, iqr, n = spread([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    >>> sd.tolist(), iqr.tolist(), n
    ([2.0, 1.7320508075688772], [2.0, 1.5], 3)
    >>> spread([[0.0, 1.0], [2.0, 1.0]])
    Traceback (most recent call last):
    ...
    ValueError: x has zero spread in coordinate(s) [1]: every value is the same
    """
    xt = as_points(x, name)
    n = xt.shape[0]
    if n < 2:
        raise ValueError(
            f"a rule of thumb needs at least 2 points to measure the spread, got {n}"
        )
    a = xt.detach().cpu().double().numpy()
    sd = a.std(axis=0, ddof=1)
    q75, q25 = np.percentile(a, [75, 25], axis=0)
    if np.any(sd == 0):
        cols = np.flatnonzero(sd == 0).tolist()
        raise ValueError(
            f"{name} has zero spread in coordinate(s) {cols}: every value is the same"
        )
    return sd, q75 - q25, n


def _out(w: np.ndarray) -> float | np.ndarray:
    return float(w[0]) if w.size == 1 else w


def silverman_width(x: ArrayLike) -> float | np.ndarray:
    r"""Silverman's rule :math:`h = 0.9 \min(\hat\sigma, \mathrm{IQR}/1.34)\, n^{-1/5}`.

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
    TypeError
        ``x`` not an array of real numbers.
    ValueError
        Fewer than 2 points, NaN or inf, or a coordinate with zero spread.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=1000)
    >>> iqr = np.subtract(*np.percentile(x, [75, 25]))
    >>> ref = 0.9 * min(x.std(ddof=1), iqr / 1.34) * 1000 ** -0.2
    >>> bool(np.isclose(silverman_width(x), ref))
    True
    """
    sd, iqr, n = spread(x)
    s = np.where(iqr > 0, np.minimum(sd, iqr / 1.34), sd)
    return _out(0.9 * s * n ** (-1.0 / (len(sd) + 4)))


def scott_width(x: ArrayLike) -> float | np.ndarray:
    r"""Scott's rule :math:`h_c = \hat\sigma_c\, n^{-1/(d+4)}`, a width per coordinate.

    Scott (1992), ch. 6: the normal-reference width
    :math:`(4/(d+2))^{1/(d+4)}\,\hat\sigma_c\, n^{-1/(d+4)}` with the constant (between
    0.92 and 1.06 for every d) rounded to 1. It is the factor
    ``scipy.stats.gaussian_kde(bw_method="scott")`` uses and the rule behind
    ``bandwidth="scott"`` of :class:`nwlib.estimators.NadarayaWatsonRegressor`. (The
    constant 1.06 of the d = 1 normal-reference rule
    :math:`1.06\,\hat\sigma\, n^{-1/5}`, Silverman 1986 eq. (3.28), is that
    constant for d = 1.)

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
    TypeError
        ``x`` not an array of real numbers.
    ValueError
        Fewer than 2 points, NaN or inf, or a coordinate with zero spread.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 2))
    >>> np.allclose(scott_width(x), x.std(0, ddof=1) * 500 ** (-1 / 6))
    True
    """
    sd, _, n = spread(x)
    return _out(sd * n ** (-1.0 / (len(sd) + 4)))
