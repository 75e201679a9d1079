r"""Choosing the width: searches that minimize the leave-one-out error.

The leave-one-out error :math:`\mathrm{CV}(h)` is :func:`nwlib.loo.loo_error`
(re-exported here with :func:`~nwlib.loo.loo_predictions`,
:func:`~nwlib.loo.in_sample_error` and :func:`~nwlib.loo.error_curve`). Two
searches return a :class:`~nwlib.search.WidthChoice`: :func:`select_width_grid` (the
best width of a grid) and :func:`select_width_minimize` (a 1-D minimizer on
:math:`\log h`); both take the options of ``loo_error`` (``p``, ``degree``,
``periodic``, ``dtype``). :func:`select_width_gd` descends the gradient of the
error, the way a network learns it, and gives per-coordinate widths. The rules of
thumb :func:`~nwlib.rules.silverman_width` and :func:`~nwlib.rules.scott_width` (module
:mod:`nwlib.rules`, re-exported here) need no fitting.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from ._engine import warn_at_caller
from ._validate import ArrayLike, as_count, as_real, as_width
from .kernels import Kernel
from .learn import LearnedWidthNW
from .loo import check_pairs, error_curve, in_sample_error, loo_error, loo_predictions
from .rules import scott_width, silverman_width
from .search import WidthChoice, minimize_log_width

__all__ = [
    "loo_predictions",
    "loo_error",
    "in_sample_error",
    "error_curve",
    "WidthChoice",
    "select_width_grid",
    "select_width_minimize",
    "select_width_gd",
    "silverman_width",
    "scott_width",
]


def _start_width(x: torch.Tensor, width: ArrayLike | None) -> float:
    """Silverman's width (or the given one, checked > 0); an array: its smallest."""
    if width is None:
        return float(np.min(silverman_width(x)))
    return float(as_width(width, "width").detach().min())


def select_width_grid(
    x: ArrayLike,
    y: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    widths: ArrayLike | None = None,
    num: int = 41,
    span: float = 20.0,
    **options: Any,
) -> WidthChoice:
    """The width with the smallest :func:`loo_error` on a grid.

    Parameters
    ----------
    x, y, kernel
        As :func:`loo_predictions`.
    widths : sequence of float > 0, optional
        The grid; default ``num`` log-spaced widths from Silverman's width / ``span``
        to Silverman's width * ``span``.
    num : int
        The number of widths of the default grid (ignored when ``widths`` is given).
    span : float > 1
        The default grid spans Silverman's width divided and multiplied by ``span``
        (ignored when ``widths`` is given).
    **options
        ``p``, ``degree``, ``periodic``, ``dtype`` of :func:`loo_error`.

    Returns
    -------
    WidthChoice
        ``method="grid"``; ``details`` holds ``widths`` and their ``errors``.

    Raises
    ------
    TypeError
        ``widths`` not numbers, ``span`` not a number, ``num`` not an int; as
        :func:`loo_error`.
    ValueError
        ``widths`` empty or not > 0 everywhere, ``span <= 1``, ``num < 1``, an
        error undefined (NaN) at every width; as :func:`loo_error`.

    Examples
    --------
    >>> from nwlib.data import running_example
    >>> d = running_example()
    >>> best = select_width_grid(d.x_train, d.y_train, widths=[0.05, 0.2, 1.0])
    >>> f"{best.width:.2f}", best.evaluations
    ('0.20', 3)
    """
    xt, yt = check_pairs(x, y)
    if widths is None:
        span = as_real(span, "span", 1.0)
        num = as_count(num, "num", 1)
        c = _start_width(xt, None)
        widths = np.geomspace(c / span, c * span, num)
    hs = as_width(widths, "widths").detach().double().cpu().numpy().reshape(-1)
    errs = error_curve(xt, yt, hs, kernel, **options)
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
    method: str = "brent",
    span: float = 20.0,
    xatol: float = 1e-3,
    **options: Any,
) -> WidthChoice:
    r"""Minimize :func:`loo_error` over :math:`\log h`, from a starting width.

    :func:`nwlib.search.minimize_log_width` on :math:`h \mapsto \mathrm{CV}(h)`:
    by default Brent's bounded method on :math:`[c/\text{span}, c\,\text{span}]`
    around the starting ``width`` :math:`c` (default: Silverman's width), to
    ``xatol`` in :math:`\log h`. A scalar width for any d. Where a compact kernel
    leaves CV undefined the objective is :math:`+\infty`. A ``RuntimeWarning``
    says when the minimum lies at an end of the interval.

    Parameters
    ----------
    x, y, kernel
        As :func:`loo_predictions`.
    width : float > 0 or array, optional
        Starting width :math:`c` (an array: its smallest entry).
    method, span, xatol
        As :func:`nwlib.search.minimize_log_width`.
    **options
        ``p``, ``degree``, ``periodic``, ``dtype`` of :func:`loo_error`.

    Returns
    -------
    WidthChoice
        ``width`` (float), ``score`` (CV there), ``method``, ``evaluations``.

    Raises
    ------
    ValueError, TypeError
        As :func:`loo_error` and :func:`nwlib.search.minimize_log_width` (a
        starting width, ``span`` or ``xatol`` out of range, an unknown method, a
        LOO error undefined or infinite at every width tried).

    Examples
    --------
    >>> from nwlib.data import running_example
    >>> d = running_example()
    >>> best = select_width_minimize(d.x_train, d.y_train)
    >>> 0.1 < best.width < 1.0, best.method
    (True, 'brent')
    """
    xt, yt = check_pairs(x, y)

    def cv(h: float) -> float:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(loo_error(xt, yt, h, kernel, **options))

    return warn_at_caller(  # the edge warning names the caller's line
        minimize_log_width,
        cv,
        _start_width(xt, width),
        method=method,
        span=span,
        xatol=xatol,
    )


def select_width_gd(
    x: ArrayLike,
    y: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    width: ArrayLike | None = None,
    per: str = "scalar",
    p: float = 2.0,
    steps: int = 300,
    lr: float = 0.05,
    optimizer: Any = "adam",
    progress: bool = False,
    seed: int = 0,
) -> WidthChoice:
    """Minimize the LOO error by gradient descent on :math:`s = \\log h`.

    Starts from ``width`` (default: Silverman's width) and trains
    :class:`nwlib.learn.LearnedWidthNW` with ``exclude_self=True``.

    Parameters
    ----------
    x, y, kernel
        As :func:`loo_predictions`.
    width : float or array, optional
        Starting width(s).
    per, p, steps, lr, optimizer, progress, seed
        As :class:`nwlib.learn.LearnedWidthNW` and its ``fit``; ``per="coordinate"``
        learns one width per coordinate, ``p`` is the order of the Minkowski
        distance.

    Returns
    -------
    WidthChoice
        ``method="gd"``; ``width`` a float or an array; ``details`` holds the
        ``history`` and the ``model``.

    Raises
    ------
    TypeError, ValueError
        As :func:`loo_predictions` for ``x`` and ``y``, and as
        :class:`nwlib.learn.LearnedWidthNW` and its ``fit`` for the others (a
        width not > 0, an unknown ``per`` or optimizer, a kernel without gradient).

    Examples
    --------
    >>> from nwlib.data import running_example
    >>> d = running_example()
    >>> best = select_width_gd(d.x_train, d.y_train, width=1.0, steps=100)
    >>> best.method, best.evaluations
    ('gd', 101)
    """
    xt, yt = check_pairs(x, y)
    h0 = _start_width(xt, None) if width is None else width
    model = LearnedWidthNW(xt, yt, h0, kernel=kernel, per=per, p=p)
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
