r"""One width per coordinate, learned on the leave-one-out error.

A width per coordinate is the same as dividing coordinate :math:`c` of every
input by :math:`h_c` and using width 1: feature scaling and widths are one
thing. :func:`fit_coordinate_widths` learns :math:`h_1, \dots, h_d` by Adam on
:math:`\log h_c` (so they stay positive), minimizing the leave-one-out error of
:func:`nwlib.selection.loo_error` on the scaled Minkowski distance of order
``p`` (:mod:`nwlib.multidim`). A coordinate the error improves by ignoring gets
a growing width, which flattens the kernel along it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ._engine import check_p
from ._training import check_steps_lr, warn_if_flat
from ._validate import ArrayLike, as_float_tensor, as_points
from .kernels import Kernel, get_kernel
from .selection import loo_error, silverman_width

Tensor = torch.Tensor

__all__ = ["CoordinateWidths", "fit_coordinate_widths"]


@dataclass
class CoordinateWidths:
    r"""What :func:`fit_coordinate_widths` returns: the learned widths and the path.

    Parameters
    ----------
    width : ndarray, shape (d,)
        The learned widths, in the units of each coordinate of ``x``.
    loo_error : float
        Leave-one-out error at ``width`` (squared units of ``y``).
    loss : ndarray, shape (steps,)
        The leave-one-out error before each step.
    widths : ndarray, shape (steps, d)
        The widths at which ``loss`` was evaluated.
    p : float, default 2.0
        The order of the Minkowski distance used.

    Examples
    --------
    >>> fit = fit_coordinate_widths([[0.0, 0.0], [1.0, 5.0], [2.0, 1.0]],
    ...                             [0.0, 1.0, 2.0], steps=2)
    >>> fit.width.shape, fit.loss.shape, fit.widths.shape
    ((2,), (2,), (2, 2))
    """

    width: np.ndarray
    loo_error: float
    loss: np.ndarray = field(repr=False)
    widths: np.ndarray = field(repr=False)
    p: float = 2.0


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
) -> CoordinateWidths:
    r"""Learn one width per coordinate by minimizing the leave-one-out error.

    Adam on :math:`\log h_c` (the widths stay positive), full batch. An irrelevant
    coordinate is one the leave-one-out error improves by ignoring: its width grows,
    which flattens the kernel along it. With ``p=2`` this is
    ``LearnedWidthNW(x, y, width, per="coordinate").fit(steps, lr=lr)`` of
    :mod:`nwlib.learn`. A :class:`~nwlib.learn.FlatLossWarning` says when the loss
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
    CoordinateWidths
        The learned widths (float64 numpy arrays for float64 input; the dtype of
        ``x``, integers as float64), their leave-one-out error and the path.

    Raises
    ------
    FloatingPointError
        When the loss stops being finite; the message names the step.
    ValueError
        For ``steps`` or ``lr`` out of range, a width that is not > 0 or has a
        shape other than () or (d,), ``p < 1``, or a kernel without a gradient.

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
    >>> print(f"{fit.loss[0]:.4f} -> {fit.loo_error:.4f}")
    0.0543 -> 0.0015
    >>> print(", ".join(f"{h:.3f}" for h in fit.width))  # the irrelevant one grew
    0.014, 1.280
    """
    p = check_p(p)
    xt = as_points(x, "x").detach()
    yt = as_float_tensor(y, "y").detach()
    d = xt.shape[1]
    check_steps_lr(steps, lr, min_steps=1)
    if width is None:  # Silverman's rule per coordinate: the data's own scale
        sw = np.atleast_1d(np.asarray(silverman_width(xt.double()), dtype=np.float64))
        width = np.where(np.isfinite(sw) & (sw > 0), sw, 1.0)
    h0 = as_float_tensor(width, "width").detach().to(xt.dtype)
    if h0.numel() == 1:
        h0 = h0.reshape(()).expand(d).clone()
    if tuple(h0.shape) != (d,) or bool((h0 <= 0).any()):
        raise ValueError(
            f"width must be a number > 0 or {d} numbers > 0 (one per coordinate), "
            f"got shape {tuple(h0.shape)}"
        )
    log_h = torch.nn.Parameter(h0.log())
    losses, widths = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        opt = torch.optim.Adam([log_h], lr=lr)
        for step in range(steps):
            opt.zero_grad()
            loss = loo_error(xt, yt, log_h.exp(), kernel, p=p)
            if not loss.requires_grad:
                raise ValueError(
                    f"the {get_kernel(kernel).name!r} kernel gives no gradient "
                    f"with respect to the widths: use 'gaussian' or 'epanechnikov'"
                )
            if not bool(torch.isfinite(loss)):
                raise FloatingPointError(
                    f"the leave-one-out error became {float(loss)} at step {step} "
                    f"(widths {log_h.detach().exp().numpy().round(4)}): "
                    f"try a smaller lr or another starting width"
                )
            losses.append(float(loss.detach()))
            widths.append(log_h.detach().exp().numpy().copy())
            loss.backward()
            opt.step()
    grad = float(log_h.grad.abs().max()) if log_h.grad is not None else 0.0
    warn_if_flat(
        losses,
        grad,
        f"widths {h0.numpy().round(6)}",
        "Start from the default (Silverman's rule per coordinate).",
        stacklevel=2,
    )
    with torch.no_grad():
        h = log_h.detach().exp()
        final = float(loo_error(xt, yt, h, kernel, p=p))
    return CoordinateWidths(h.numpy(), final, np.asarray(losses), np.asarray(widths), p)
