r"""The leave-one-out error: each training pair predicted from all the others.

.. math::

    f_{-i}(x_i) = \frac{\sum_{j \ne i} K((x_i - x_j)/h)\, y_j}
                       {\sum_{j \ne i} K((x_i - x_j)/h)},
    \qquad \mathrm{CV}(h) = \frac1n \sum_{i=1}^n \big(y_i - f_{-i}(x_i)\big)^2 .

It is computed in one pass by masking the diagonal of the (n, n) score matrix
(``nadaraya_watson(x, x, y, h, exclude_self=True)``), never by rebuilding n
key sets. :math:`\mathrm{CV}(h)` is the criterion statsmodels'
``KernelReg(reg_type='lc', bw='cv_ls')`` minimizes. :func:`loo_error` is the one
score: Minkowski distances (``p``), local-linear fits (``degree=1``) and periodic
inputs (``periodic=True``) are parameters of it. :mod:`nwlib.selection` minimizes
it (and re-exports these functions). Shapes: ``x`` (n,) or (n, d), ``y`` (n,) or
(n, m).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._engine import offset, resolve_dtype, warn_at_caller, work_dtype
from ._validate import ArrayLike, as_float_tensor, as_points, as_width
from .kernels import Kernel, get_kernel
from .local_linear import loo_predictions as local_linear_loo_predictions
from .pooling import nadaraya_watson
from .torus import torus_nadaraya_watson

Tensor = torch.Tensor

__all__ = [
    "loo_predictions",
    "loo_error",
    "in_sample_error",
    "error_curve",
    "check_pairs",
]


def check_pairs(x: ArrayLike, y: ArrayLike, need: int = 2) -> tuple[Tensor, Tensor]:
    """Training pairs as tensors, checked: one y per x and at least ``need`` pairs.

    Parameters
    ----------
    x : array-like, (n,) or (n, d)
        The keys, real numbers (a 1-D x is one coordinate per point).
    y : array-like, (n,) or (n, m)
        The values, one per key.
    need : int
        The fewest pairs accepted (2 for leave-one-out: one left out, one left).

    Returns
    -------
    x : Tensor, (n, d); y : Tensor, (n,) or (n, m)
        Floating tensors (integers as float64), graphs kept.

    Raises
    ------
    TypeError, ValueError
        Non-numeric or non-finite input, mismatched lengths, fewer than ``need``.

    Examples
    --------
    >>> x, y = check_pairs([0, 1, 2], [1.0, 2.0, 3.0])
    >>> tuple(x.shape), x.dtype
    ((3, 1), torch.float64)
    """
    xt = as_points(x, "x")
    yt = as_float_tensor(y, "y")
    if yt.ndim not in (1, 2):
        raise ValueError(
            f"y must have shape (n,) or (n, m), got shape {tuple(yt.shape)}"
        )
    if yt.shape[0] != xt.shape[0]:
        raise ValueError(
            f"x and y must have the same number of points, "
            f"got {xt.shape[0]} and {yt.shape[0]}"
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
    degree: int = 0,
    periodic: bool = False,
    dtype: torch.dtype | str | None = None,
) -> Tensor:
    r"""Leave-one-out predictions :math:`f_{-i}(x_i)`, one per training pair.

    ``degree=0`` (Nadaraya-Watson): the diagonal of the score matrix is masked, so
    pair :math:`i` gets weight 0 in its own prediction, by
    :func:`nwlib.pooling.nadaraya_watson` (banded for 1-D inputs, a scalar width
    and no autograd; blocked otherwise). ``degree=1``: the local line without
    pair :math:`i`, from the diagonal of the smoother matrix
    (:func:`nwlib.local_linear.loo_predictions`). ``periodic=True``: coordinates
    are angles of period 1 (:func:`nwlib.torus.torus_nadaraya_watson`).

    Parameters
    ----------
    x : array-like, (n,) or (n, d), n >= 2
        The inputs, which are both the queries and the keys.
    y : array-like, (n,) or (n, m)
        The values.
    width : float or tensor, > 0
        A scalar, (d,) one per coordinate, or (n, 1) / (n, d) one per key
        (``degree=0``); autograd flows through a tensor width.
    kernel : str or Kernel
        A name of :data:`nwlib.kernels.KERNELS` (Gaussian only when periodic).
    p : float >= 1 or ``math.inf``
        Order of the Minkowski distance (``degree=0``, not periodic).
    degree : {0, 1}
        0: local constant (Nadaraya-Watson); 1: local linear.
    periodic : bool
        Read every coordinate modulo 1, as a point on a circle.
    dtype : torch dtype, optional
        Compute in it (``torch.float32``: the fast choice); default the inputs'.

    Returns
    -------
    Tensor, (n,) or (n, m)
        In the computation dtype: the inputs' (integers as float64, half dtypes
        as float32) unless ``dtype`` is given. NaN (with a ``RuntimeWarning``)
        where a compact kernel leaves no other key in reach.

    Raises
    ------
    TypeError
        ``x``, ``y`` or ``width`` not an array of real numbers (a string, a complex
        or boolean width).
    ValueError
        n < 2, mismatched shapes, non-finite input, a width that is not > 0, a
        ``degree`` other than 0 or 1, an unknown kernel, a combination the engines
        do not offer (``degree=1`` with ``p != 2`` or periodic, periodic with a
        kernel other than the Gaussian).

    Source: Stone (1974) for cross-validation; the masked diagonal as in
    statsmodels' ``KernelReg(bw='cv_ls')``.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    >>> [f"{v:.3f}" for v in loo_predictions(x, x**2, 1e-3)]  # the nearest other
    ['1.000', '2.000', '1.000']
    """
    xt, yt = check_pairs(x, y)
    if degree not in (0, 1) or isinstance(degree, bool):
        raise ValueError(f"degree must be 0 or 1, got {degree!r}")
    if periodic or degree == 1:
        if float(p) != 2.0:
            raise ValueError(f"p must be 2 with degree=1 or periodic, got {p!r}")
    if periodic:
        if degree == 1:
            raise ValueError("degree=1 is not available with periodic=True")
        if get_kernel(kernel).name != "gaussian":
            raise ValueError(f"periodic=True needs the Gaussian kernel, got {kernel!r}")
        return warn_at_caller(
            torus_nadaraya_watson, xt, xt, yt, width, exclude_self=True, dtype=dtype
        )
    if degree == 1:
        dt = work_dtype(resolve_dtype(dtype))
        xt, yt = (xt, yt) if dt is None else (xt.to(dt), yt.to(dt))
        return warn_at_caller(
            local_linear_loo_predictions, xt, yt, width, kernel, degree=1
        )
    h = as_width(width)
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (xt, yt, h))
    band = xt.shape[1] == 1 and h.numel() == 1 and not grad and xt.device.type == "cpu"
    return warn_at_caller(  # a warning names the caller's line, not this one
        nadaraya_watson,
        xt,
        xt,
        yt,
        h,
        kernel,
        exclude_self=True,
        p=p,
        dtype=dtype,
        banded=True if band else None,
    )


def loo_error(
    x: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    p: float = 2.0,
    degree: int = 0,
    periodic: bool = False,
    dtype: torch.dtype | str | None = None,
) -> Tensor:
    r"""The LOO error :math:`\mathrm{CV}(h) = \tfrac1n\sum_i (y_i - f_{-i}(x_i))^2`.

    The mean of the squared errors of :func:`loo_predictions` (vector values: over
    every entry). With a ``dtype`` below float64, a common offset of ``y`` that
    dominates its spread is removed first (CV does not change when y shifts).

    Parameters
    ----------
    x, y, width, kernel, p, degree, periodic, dtype
        As :func:`loo_predictions`.

    Returns
    -------
    Tensor, 0-d, float64
        Summed in float64 whatever the computation dtype; differentiable (with
        respect to a tensor ``width``, ``x`` or ``y``); NaN where some prediction is.

    Raises
    ------
    TypeError, ValueError
        As :func:`loo_predictions`.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0, 2.0])
    >>> y = torch.tensor([0.0, 1.0, 0.0])
    >>> f"{float(loo_error(x, y, 1e-3)):.4f}"  # each point from its nearest other
    '1.0000'
    >>> f"{float(loo_error(x, 3 * x, 1.0, degree=1)):.4f}"  # a line is kept
    '0.0000'
    """
    _, yt = check_pairs(x, y)
    dt = work_dtype(resolve_dtype(dtype))
    if dt is not None and dt != torch.float64:
        c = offset(yt)
        yt = yt if c is None else yt - c
    pred = warn_at_caller(
        loo_predictions,
        x,
        yt,
        width,
        kernel,
        p=p,
        degree=degree,
        periodic=periodic,
        dtype=dtype,
    )
    return ((yt.double() - pred.double()) ** 2).mean()


def in_sample_error(
    x: ArrayLike, y: ArrayLike, width: ArrayLike, kernel: str | Kernel = "gaussian"
) -> Tensor:
    r"""Training error with each pair *included* in its own prediction, a 0-d tensor.

    :math:`\frac1n\sum_i (y_i - f(x_i))^2`: it tends to 0 as :math:`h \to 0` (for
    distinct inputs), so it cannot choose a width.

    Parameters
    ----------
    x, y, width, kernel
        As :func:`loo_predictions` (n >= 1).

    Returns
    -------
    Tensor, 0-d
        In the computation dtype of :func:`nwlib.pooling.nadaraya_watson`; NaN
        (with a ``RuntimeWarning``) where a compact kernel leaves a point no key.

    Raises
    ------
    TypeError
        ``x``, ``y`` or ``width`` not an array of real numbers.
    ValueError
        Mismatched or empty inputs, non-finite input, a width that is not > 0, an
        unknown kernel.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    >>> f"{float(in_sample_error(x, x**2, 1e-3)):.4f}"  # each point predicts itself
    '0.0000'
    """
    xt, yt = check_pairs(x, y, need=1)
    pred = warn_at_caller(nadaraya_watson, xt, xt, yt, width, kernel)
    return ((pred - yt.to(pred.dtype)) ** 2).mean()


def error_curve(
    x: ArrayLike,
    y: ArrayLike,
    widths: Sequence[float] | ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = True,
    **options: Any,
) -> np.ndarray:
    """The LOO error (or, with ``exclude_self=False``, the in-sample error) per width.

    Parameters
    ----------
    x, y, kernel
        As :func:`loo_predictions`.
    widths : sequence of float > 0, (w,)
        The widths at which the error is computed, in the units of x.
    exclude_self : bool
        True: :func:`loo_error`; False: :func:`in_sample_error`.
    **options
        ``p``, ``degree``, ``periodic``, ``dtype`` of :func:`loo_error`.

    Returns
    -------
    ndarray, (w,), float64
        NaN where a compact kernel leaves some point with no key in its support.

    Raises
    ------
    TypeError
        ``widths`` not numbers; as :func:`loo_predictions`.
    ValueError
        ``widths`` empty or not > 0 everywhere, ``options`` with
        ``exclude_self=False``; as :func:`loo_predictions`.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    >>> [f"{e:.3f}" for e in error_curve(x, x**2, [1e-3, 1e3])]
    ['3.667', '6.500']
    """
    hs = as_width(widths, "widths").detach().double().cpu().numpy().reshape(-1)
    if not exclude_self and options:
        raise ValueError(f"{sorted(options)} apply only with exclude_self=True")
    out = np.empty(len(hs))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, h in enumerate(hs):
            if exclude_self:
                out[i] = float(loo_error(x, y, float(h), kernel, **options))
            else:
                out[i] = float(in_sample_error(x, y, float(h), kernel))
    return out
