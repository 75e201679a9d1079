r"""Parzen-window (kernel) densities, normalized to integrate to 1.

A Parzen-window density estimate from points :math:`x_1, \dots, x_n` in
:math:`\mathbb R^d` (Rosenblatt 1956, Parzen 1962) is

.. math::

    \hat p(x) = \frac1n \sum_i K_h(x - x_i), \qquad
    K_h(z) = \frac{K(\lVert z / h\rVert)}{c_d(K)\, \prod_c h_c},
    \qquad c_d(K) = \int_{\mathbb R^d} K(\lVert u\rVert)\, du ,

with the kernel profiles of :mod:`nwlib.kernels` (radial in the scaled
coordinates :math:`u = z/h`), so that :math:`K_h` integrates to 1. The constant
kernel has :math:`c_d = \infty`: it has no Parzen density and asking for one is
a ``ValueError``.

Shapes are queries x training points: ``queries`` (n_q,) or (n_q, d), ``keys``
(n,) or (n, d). Widths as in :mod:`nwlib.pooling`: a scalar, (d,) per
coordinate, or (n, 1)/(n, d) per training point (the sample-point,
variable-bandwidth estimate, whose bump i is divided by its own
:math:`c_d \prod_c h_{ic}`). Densities are computed in the log domain
(log-sum-exp), so tiny Gaussian widths do not turn into 0/0. Dtype: the inputs'
floating dtype (integers as float64, float16/bfloat16 in float32), as
:func:`nwlib.pooling.log_scores`. Units: a density has the units of
1 / (units of x)^d.
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch

from ._validate import ArrayLike, as_points, as_width
from .kernels import KERNELS, Kernel, get_kernel
from .pooling import log_scores

Tensor = torch.Tensor

__all__ = [
    "kernel_integral",
    "log_parzen_kernels",
    "log_parzen_density",
    "parzen_density",
]


def _unit_ball_volume(d: int) -> float:
    return math.pi ** (d / 2) / math.gamma(d / 2 + 1)


# c_d(K) = integral of K(|u|) over R^d, for the registry's kernels.
_INTEGRALS = {
    "gaussian": lambda d: (2 * math.pi) ** (d / 2),
    "boxcar": _unit_ball_volume,
    "epanechnikov": lambda d: 3 * _unit_ball_volume(d) / (2 * (d + 2)),
    "triangular": lambda d: _unit_ball_volume(d) / (d + 1),
}


def _check_dim(d: int) -> None:
    if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")


def _numerical_integral(kern: Kernel, d: int) -> float:
    """Radial integral S_{d-1} int_0^R K(r) r^{d-1} dr for a user-defined kernel."""
    from scipy.integrate import IntegrationWarning, quad

    def integrand(r: float) -> float:
        return float(kern.profile(torch.tensor([r], dtype=torch.float64))[0]) * r ** (
            d - 1
        )

    with warnings.catch_warnings():
        warnings.simplefilter("error", IntegrationWarning)
        try:
            val, _ = quad(integrand, 0.0, kern.radius, limit=200)
        except IntegrationWarning:
            val = math.inf
    if not math.isfinite(val) or val <= 0:
        raise ValueError(
            f"the {kern.name!r} kernel does not have a finite, positive integral "
            f"in d={d}: it cannot be normalized into a density"
        )
    return d * _unit_ball_volume(d) * val


def kernel_integral(kernel: str | Kernel, d: int) -> float:
    r"""The normalizing constant :math:`c_d(K) = \int K(\lVert u\rVert)\, du` over R^d.

    ============  ===================================
    gaussian      :math:`(2\pi)^{d/2}`
    boxcar        :math:`V_d = \pi^{d/2} / \Gamma(d/2 + 1)` (unit-ball volume)
    epanechnikov  :math:`3 V_d / (2(d + 2))` (1 in d = 1)
    triangular    :math:`V_d / (d + 1)` (1 in d = 1)
    constant      not integrable: ``ValueError``
    ============  ===================================

    A user-defined :class:`~nwlib.kernels.Kernel` is integrated numerically in
    radial coordinates (scipy's ``quad``).

    Parameters
    ----------
    kernel : str or Kernel
        The kernel profile (a name of ``nwlib.kernels.KERNELS`` or a Kernel).
    d : int
        The dimension (>= 1).

    Returns
    -------
    float
        :math:`c_d(K)` (unitless: u is a scaled distance), a Python float.

    Raises
    ------
    ValueError
        For the constant kernel (its integral over :math:`\mathbb R^d` is
        infinite), any other kernel without a finite positive integral, an unknown
        kernel name, or a ``d`` that is not a positive integer.

    References
    ----------
    Silverman (1986) for the kernels; the unit-ball volume :math:`V_d` is classical.

    Examples
    --------
    >>> c1, c2 = kernel_integral("gaussian", 1), kernel_integral("boxcar", 2)
    >>> print(f"{c1:.6f} {c2:.6f}")
    2.506628 3.141593
    """
    kern = get_kernel(kernel)
    _check_dim(d)
    if kern.name == "constant" and kern is KERNELS["constant"]:
        raise ValueError(
            "the 'constant' kernel is not integrable (its integral over R^d is "
            "infinite), so it has no Parzen density; it still works for NW pooling, "
            "where constant factors cancel. Use 'gaussian', 'boxcar', "
            "'epanechnikov' or 'triangular'."
        )
    if kern is KERNELS.get(kern.name) and kern.name in _INTEGRALS:
        return _INTEGRALS[kern.name](d)
    return _numerical_integral(kern, d)


def _log_width_volume(width: Tensor, n: int, d: int) -> Tensor:
    """log of prod_c h_c: shape () for a shared width, (n,) for per-point widths."""
    lh = torch.log(width)
    if width.ndim == 0 or (width.ndim == 1 and width.shape[0] == 1 and d != 1):
        return d * lh.reshape(())
    if width.ndim == 1:  # (d,) per coordinate (pooling has checked the shape)
        return lh.sum()
    if width.shape[1] == 1:  # (n, 1) per point
        return d * lh[:, 0]
    return lh.sum(1)  # (n, d)


def log_parzen_kernels(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
) -> Tensor:
    r"""Log of each normalized bump, :math:`\log K_h(x_j - x_i)`, shape (n_q, n).

    Parameters
    ----------
    queries : array_like or Tensor, shape (n_q,) or (n_q, d)
        Where to evaluate.
    keys : array_like or Tensor, shape (n,) or (n, d)
        The sample, in the units of the queries.
    width : float or array_like or Tensor, shape (), (d,), (n, 1) or (n, d)
        :math:`h > 0`, in the units of the queries.
    kernel : str or Kernel, default "gaussian"
        Any integrable kernel of :mod:`nwlib.kernels` (not ``"constant"``).
    exclude_self : bool, default False
        Leave-one-out: ``queries`` must be ``keys``; the diagonal is ``-inf``.

    Returns
    -------
    Tensor, shape (n_q, n)
        :math:`\log K_h`, ``-inf`` outside a compact kernel's support; in the
        dtype of :func:`nwlib.pooling.log_scores`.

    Raises
    ------
    ValueError
        For the constant kernel, a width that is not > 0 or has no accepted shape,
        mismatched d, or ``exclude_self`` with ``queries`` that are not ``keys``.

    See Also
    --------
    log_parzen_density : the log-sum-exp of each row, minus log n.

    References
    ----------
    Parzen (1962), Rosenblatt (1956).

    Examples
    --------
    >>> s = log_parzen_kernels([0.0], [0.0, 1.0], 1.0)
    >>> print(", ".join(f"{v:.4f}" for v in s[0].tolist()))
    -0.9189, -1.4189
    """
    kern = get_kernel(kernel)
    pts = as_points(keys, "keys")
    n, d = pts.shape
    log_c = math.log(kernel_integral(kern, d))
    s = log_scores(queries, pts, width, kern, exclude_self=exclude_self)
    h = as_width(width).to(s.dtype)
    return s - log_c - _log_width_volume(h, n, d)


def log_parzen_density(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
) -> Tensor:
    r"""Log of the Parzen density, :math:`\log \hat p(x_j)`; ``-inf`` where it is 0.

    Summed by log-sum-exp over the training points, so a Gaussian density far
    below the dtype's smallest number still has a finite log.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Where to evaluate.
    keys : Tensor or array_like, shape (n,) or (n, d)
        The sample, in the units of the queries.
    width : float or array_like or Tensor, shape (), (d,), (n, 1) or (n, d)
        :math:`h > 0`, in the units of the queries: one width, one per coordinate, or
        one per training point.
    kernel : str or Kernel, default "gaussian"
        Any integrable kernel (not ``"constant"``).
    exclude_self : bool, default False
        Leave-one-out: ``queries`` must be ``keys``; point j's own kernel is left
        out and the average runs over the other n - 1 points.

    Returns
    -------
    Tensor, shape (n_q,)
        :math:`\log \hat p`, with :math:`\hat p` in units of 1/(units of x)^d.
        Dtype: as :func:`nwlib.pooling.log_scores` (the inputs' floating dtype;
        integers as float64; float16/bfloat16 in float32).

    Raises
    ------
    ValueError
        For the constant kernel, a width that is not > 0 or has no accepted shape,
        mismatched d, or ``exclude_self`` with ``queries`` that are not ``keys``.

    References
    ----------
    Rosenblatt (1956), Parzen (1962).

    Examples
    --------
    >>> print(f"{float(log_parzen_density([0.0], [0.0], 1e-200)[0]):.2f}")
    459.60
    """
    logk = log_parzen_kernels(queries, keys, width, kernel, exclude_self=exclude_self)
    return torch.logsumexp(logk, dim=1) - math.log(logk.shape[1] - int(exclude_self))


def parzen_density(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
) -> Tensor:
    r"""Parzen density :math:`\hat p(x_j) = \frac1n\sum_i K_h(x_j - x_i)`.

    Exactly 0 where no point lies inside a compact kernel's support. Exponentiated
    last (from :func:`log_parzen_density`), so it underflows to 0 only where the
    true density is below the dtype's smallest number.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Where to evaluate.
    keys : Tensor or array_like, shape (n,) or (n, d)
        The sample, in the units of the queries.
    width : float or array_like or Tensor, shape (), (d,), (n, 1) or (n, d)
        :math:`h > 0`, in the units of the queries.
    kernel : str or Kernel, default "gaussian"
        Any integrable kernel (not ``"constant"``).
    exclude_self : bool, default False
        Leave-one-out: ``queries`` must be ``keys``.

    Returns
    -------
    Tensor, shape (n_q,)
        :math:`\hat p(x_j)`, in units of 1/(units of x)^d; dtype as
        :func:`log_parzen_density`.

    Raises
    ------
    ValueError
        As :func:`log_parzen_density`.

    References
    ----------
    Rosenblatt (1956), Parzen (1962).

    Examples
    --------
    >>> p = parzen_density([0.0, 0.5, 3.0], [0.0, 1.0], 1.0, "epanechnikov")
    >>> print(", ".join(f"{v:.4f}" for v in p.tolist()))
    0.3750, 0.5625, 0.0000
    """
    return torch.exp(
        log_parzen_density(queries, keys, width, kernel, exclude_self=exclude_self)
    )
