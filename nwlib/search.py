r"""Searching a width: the one result type and the one minimizer on :math:`\log h`.

A width is positive and acts by scale, so it is searched on :math:`t = \log h`.
:func:`minimize_log_width` minimizes any score of the width (a leave-one-out
error, a test error against a known truth) and returns a :class:`WidthChoice`;
:func:`nwlib.selection.select_width_minimize` and
:func:`nwlib.selection.select_width_grid` apply it (or a grid) to the
leave-one-out error.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._validate import as_count, as_real

__all__ = ["WidthChoice", "minimize_log_width", "METHODS"]

#: The minimizers of :func:`minimize_log_width`.
METHODS = ("brent", "parabola")


@dataclass
class WidthChoice:
    """A selected width, its score and how it was found.

    Parameters
    ----------
    width : float or ndarray
        The selected width, in the units of x (an array for per-coordinate widths).
    score : float
        The minimized criterion at that width: the leave-one-out error
        :math:`\\mathrm{CV}(h)` for the selectors of :mod:`nwlib.selection`.
    method : str
        ``"grid"``, ``"brent"``, ``"parabola"`` or ``"gd"``.
    evaluations : int
        How many times the score (or its gradient) was computed.
    details : dict
        Method-specific extras (the grid and its scores, the scipy result and the
        search interval, the gradient-descent history).

    Examples
    --------
    >>> choice = WidthChoice(0.25, 0.31, "grid", 60)
    >>> choice
    WidthChoice(width=0.25, score=0.31, method='grid', evaluations=60)
    >>> choice.width, choice.details
    (0.25, {})
    """

    width: Any
    score: float
    method: str
    evaluations: int
    details: dict = field(default_factory=dict, repr=False)


def _check_finite(cache: dict[float, float]) -> None:
    """Raise ``ValueError`` when no evaluated score is finite (no minimum to return)."""
    if not any(math.isfinite(v) for v in cache.values()):
        lo, hi = math.exp(min(cache)), math.exp(max(cache))
        raise ValueError(
            f"the score is NaN or infinite at every width tried ({len(cache)} "
            f"between {lo:.4g} and {hi:.4g}): no minimum to return; with a compact "
            f"kernel (no key within h of a point) start from a wider width"
        )


def minimize_log_width(
    score: Callable[[float], float],
    width: float,
    *,
    method: str = "brent",
    span: float = 20.0,
    xatol: float = 1e-3,
    factor: float = 1.5,
    refine: int = 0,
    max_evaluations: int = 40,
) -> WidthChoice:
    r"""A local minimum of ``score(h)`` over :math:`t = \log h`, from a starting width.

    ``method="brent"``: scipy's ``minimize_scalar(method="bounded")`` (Brent's
    method) on :math:`t \in [\log(c/\text{span}), \log(c\,\text{span})]`, :math:`c` the
    starting ``width``, to ``xatol`` in :math:`t` (a relative tolerance on
    :math:`h`). A ``RuntimeWarning`` says when the minimum lies at an end of that
    interval.

    ``method="parabola"`` (few evaluations, for a good warm start): evaluate at
    :math:`t_0 - s, t_0, t_0 + s` with :math:`s = \log(\text{factor})` and, while an end
    is lower, move the triple that way (at most ``max_evaluations``); then evaluate
    at the vertex :math:`t_0 + s\,(f_- - f_+) / (2(f_- - 2f_0 + f_+))` of the parabola
    through the triple; ``refine`` times more, a parabola through the best point and
    its neighbours at a third of the spacing. The best width evaluated is returned:
    4 evaluations from a good start.

    A NaN or infinite score counts as :math:`+\infty`.

    Parameters
    ----------
    score : callable, float -> float
        The criterion at a width :math:`h > 0` (units of x).
    width : float > 0
        The starting width :math:`c`.
    method : {"brent", "parabola"}
        The minimizer (see above).
    span : float > 1
        ``"brent"``: the search interval :math:`[c/\text{span}, c\,\text{span}]`.
    xatol : float > 0
        ``"brent"``: tolerance on :math:`\log h`.
    factor : float > 1
        ``"parabola"``: the step :math:`\log(\text{factor})` of the triple.
    refine : int >= 0
        ``"parabola"``: how many parabolas at a third of the spacing follow the first.
    max_evaluations : int >= 3
        ``"parabola"``: the largest number of evaluations of the downhill walk (the
        first triple is 3).

    Returns
    -------
    WidthChoice
        ``width`` (float), ``score`` (float), ``method``, ``evaluations``;
        ``details`` holds ``bounds`` and the scipy ``result`` for ``"brent"``.

    Raises
    ------
    ValueError
        A starting width, span, factor, tolerance, ``refine`` or
        ``max_evaluations`` out of range, an unknown method; a score NaN or
        infinite at every width evaluated.
    TypeError
        A starting width, span, factor or tolerance that is not a real number,
        ``refine`` or ``max_evaluations`` that is not an int.

    Source: Brent (1973), *Algorithms for Minimization without Derivatives*, via
    ``scipy.optimize.minimize_scalar``.

    Examples
    --------
    >>> import math
    >>> best = minimize_log_width(lambda h: math.log(h / 0.2) ** 2, 1.0)
    >>> f"{best.width:.3f}", best.method
    ('0.200', 'brent')
    >>> score = lambda h: math.log(h / 0.2) ** 2
    >>> best = minimize_log_width(score, 0.3, method="parabola")
    >>> f"{best.width:.3f}", best.evaluations
    ('0.200', 4)
    """
    c = as_real(width, "width")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    cache: dict[float, float] = {}

    def f(t: float) -> float:
        if t not in cache:
            val = float(score(math.exp(t)))
            cache[t] = val if math.isfinite(val) else math.inf
        return cache[t]

    if method == "brent":
        return _brent(f, c, as_real(span, "span", 1.0), as_real(xatol, "xatol"), cache)
    s = math.log(as_real(factor, "factor", 1.0))
    refine = as_count(refine, "refine", 0)
    max_evaluations = as_count(max_evaluations, "max_evaluations", 3)

    def g(t: float) -> float:  # the same t twice gives one evaluation
        return f(round(t, 12))

    t0 = math.log(c)
    while True:
        fm, f0, fp = g(t0 - s), g(t0), g(t0 + s)
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
    for r in range(refine + 1):
        denom = fm - 2 * f0 + fp
        if math.isfinite(denom) and denom > 0:
            g(t0 + 0.5 * s * (fm - fp) / denom)
        if r == refine:
            break
        t0, s = min(cache, key=cache.get), s / 3
        fm, f0, fp = g(t0 - s), g(t0), g(t0 + s)
    _check_finite(cache)
    best = min(cache, key=cache.get)
    return WidthChoice(math.exp(best), cache[best], "parabola", len(cache))


def _brent(f, c: float, span: float, xatol: float, cache: dict) -> WidthChoice:
    from scipy.optimize import minimize_scalar

    lo, hi = math.log(c / span), math.log(c * span)
    res = minimize_scalar(
        f, bounds=(lo, hi), method="bounded", options={"xatol": xatol}
    )
    _check_finite(cache)
    if min(res.x - lo, hi - res.x) < 10 * xatol:
        warnings.warn(
            f"the minimum lies at the edge of the search interval "
            f"[{math.exp(lo):.4g}, {math.exp(hi):.4g}]: increase span",
            RuntimeWarning,
            stacklevel=3,
        )
    bounds = (math.exp(lo), math.exp(hi))
    return WidthChoice(
        math.exp(res.x),
        float(res.fun),
        "brent",
        int(res.nfev),
        {"result": res, "bounds": bounds},
    )
