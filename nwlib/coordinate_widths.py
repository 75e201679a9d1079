r"""One width per coordinate, learned on the leave-one-out error.

A width per coordinate is the same as dividing coordinate :math:`c` of every
input by :math:`h_c` and using width 1: feature scaling and widths are one
thing. :func:`fit_coordinate_widths` learns :math:`h_1, \dots, h_d` by Adam on
:math:`\log h_c` (so they stay positive), minimizing the leave-one-out error of
:func:`nwlib.selection.loo_error` on the scaled Minkowski distance of order
``p`` (:mod:`nwlib.multidim`). A coordinate the error improves by ignoring gets
a growing width, which flattens the kernel along it. It is
:func:`nwlib.selection.select_width_gd` with ``per="coordinate"``, started from
Silverman's rule per coordinate, and returns its :class:`~nwlib.search.WidthChoice`.
"""

from __future__ import annotations

from ._training import check_steps_lr
from ._validate import ArrayLike
from .kernels import Kernel
from .loo import check_pairs
from .search import WidthChoice
from .selection import select_width_gd, silverman_width

__all__ = ["fit_coordinate_widths"]


def fit_coordinate_widths(
    x: ArrayLike,
    y: ArrayLike,
    *,
    p: float = 2.0,
    width: ArrayLike | None = None,
    steps: int = 200,
    lr: float = 0.05,
    kernel: str | Kernel = "gaussian",
    seed: int = 0,
) -> WidthChoice:
    r"""Learn one width per coordinate by minimizing the leave-one-out error.

    Adam on :math:`\log h_c` (the widths stay positive), full batch. An irrelevant
    coordinate is one the leave-one-out error improves by ignoring: its width grows,
    which flattens the kernel along it. This is
    ``select_width_gd(x, y, kernel, width=width, per="coordinate", p=p, steps=steps,
    lr=lr, seed=seed)`` of :mod:`nwlib.selection` (which trains
    :class:`nwlib.learn.LearnedWidthNW`), with Silverman's rule per coordinate as
    the default start. A :class:`~nwlib.learn.FlatLossWarning` says when the loss
    did not move from the start.

    Parameters
    ----------
    x : Tensor or array_like, shape (n,) or (n, d)
        Training inputs.
    y : Tensor or array_like, shape (n,) or (n, m)
        Training targets.
    p : float, default 2.0
        Order of the Minkowski distance (>= 1 or ``math.inf``).
    width : float or array_like, shape () or (d,), optional
        Starting widths, in the units of each coordinate (default: Silverman's rule
        per coordinate, :func:`nwlib.selection.silverman_width`).
    steps : int, default 200
        Adam steps (>= 1).
    lr : float, default 0.05
        Adam's learning rate (on :math:`\log h_c`).
    kernel : str or Kernel, default "gaussian"
        A kernel with a gradient (not boxcar or constant).
    seed : int, default 0
        Seeds torch for the fit (the global state is restored).

    Returns
    -------
    WidthChoice
        ``width``: the learned widths, shape (d,) (float64 for float64 input; the
        dtype of ``x``, integers as float64); ``score``: the leave-one-out error
        there (squared units of ``y``); ``method="gd"``; ``details["history"]``: the
        :class:`~nwlib.learn.FitHistory` (``loss``, shape (steps,), the error before
        each step; ``width``, shape (steps, d), the widths where it was evaluated);
        ``details["model"]``: the trained :class:`~nwlib.learn.LearnedWidthNW`.

    Raises
    ------
    FloatingPointError
        (:class:`~nwlib.learn.DivergenceError`) When the loss stops being finite;
        the message names the step.
    ValueError
        For ``steps`` or ``lr`` out of range, a width that is not > 0 or has a
        shape other than () or (d,), ``p < 1``, fewer than 2 points, a coordinate
        with zero spread (default start), or a kernel without a gradient.

    References
    ----------
    Wasserman (2006) for widths per coordinate; the leave-one-out error is
    least-squares cross-validation (Härdle, Hall and Marron 1988).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(60, 2, generator=g, dtype=torch.float64)
    >>> y = torch.sin(6 * x[:, 0])  # the second coordinate is irrelevant
    >>> fit = fit_coordinate_widths(x, y, steps=20, lr=0.2)
    >>> print(f"{fit.details['history'].loss[0]:.4f} -> {fit.score:.4f}")
    0.0543 -> 0.0015
    >>> print(", ".join(f"{h:.3f}" for h in fit.width))  # the irrelevant one grew
    0.014, 1.280
    """
    check_steps_lr(steps, lr, min_steps=1)
    xt, yt = check_pairs(x, y)
    if width is None:  # Silverman's rule per coordinate: the data's own scale
        width = silverman_width(xt)
    return select_width_gd(
        xt,
        yt,
        kernel,
        width=width,
        per="coordinate",
        p=p,
        steps=steps,
        lr=lr,
        seed=seed,
    )
