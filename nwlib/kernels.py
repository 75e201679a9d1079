r"""Similarity kernels as functions of the scaled distance :math:`u = (q - k)/h`.

Every kernel here is an unnormalized *profile* :math:`K(u)` with :math:`K(0) > 0`:

============  =============================================  ==========
name          :math:`K(u)`                                   non-zero on
============  =============================================  ==========
gaussian      :math:`\exp(-u^2/2)`                           all u
boxcar        :math:`\mathbf 1\{|u| < 1\}`                   |u| < 1
constant      :math:`1`                                      all u
epanechnikov  :math:`\tfrac34 (1 - u^2)` on :math:`|u| < 1`   |u| < 1
triangular    :math:`\max(0, 1 - |u|)`                       |u| < 1
============  =============================================  ==========

The triangular kernel is *not* the Epanechnikov kernel: a widely read textbook
implementation (Zhang et al., Dive into Deep Learning, Section 11.2) gives
``max(0, 1 - |u|)`` that name; reported as "Wrong epanechikov kernel",
https://github.com/d2l-ai/d2l-en/issues/2440.

For attention pooling with one width shared by all keys, the constant factor of
a kernel cancels in the normalization over keys, so only the profile matters
(with one width per key it would not: per-key kernels are unnormalized). Each
kernel also gives ``log_profile(r2)``, the log of :math:`K` as a function of the
squared scaled distance :math:`r^2 = u^2` (``-inf`` outside the support): pooling
works with
log-weights so that tiny widths never underflow to 0/0, and working with
:math:`r^2` keeps gradients finite at distance 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._validate import as_float_tensor

Tensor = torch.Tensor

__all__ = [
    "Kernel",
    "KERNELS",
    "get_kernel",
    "gaussian",
    "boxcar",
    "constant",
    "epanechnikov",
    "triangular",
]


def _as_u(u: Tensor) -> Tensor:
    """Tensors pass through (graph and dtype kept); array-likes become floating tensors
    (integers as float64), read-only numpy arrays without a warning. Profiles are
    elementwise, so they compute in the dtype of ``u``: no sums, nothing to accumulate.

    NaN is a ``ValueError`` naming ``u``, as in every other public function (it has
    no distance, so no kernel value); ``u = +-inf`` is accepted: an infinitely far
    point has the profile's limit there (0, or 1 for the constant kernel)."""
    t = (
        u
        if isinstance(u, Tensor) and u.is_floating_point()
        else as_float_tensor(u, "u", allow_empty=True, finite=False)
    )
    if bool(torch.isnan(t.detach()).any()):
        raise ValueError(
            "u contains NaN; every entry must be a number (+-inf is allowed: "
            "an infinitely far point)"
        )
    return t


def gaussian(u: Tensor) -> Tensor:
    """Gaussian profile :math:`\\exp(-u^2/2)`, elementwise.

    Parameters
    ----------
    u : Tensor or array_like, any shape
        Scaled distances :math:`u = (q - k)/h` (unitless). A floating tensor keeps its
        dtype and autograd graph (elementwise, nothing is summed); other input
        becomes a tensor, integers as float64. ``+-inf`` is allowed (an infinitely
        far point).

    Returns
    -------
    Tensor
        K(u) > 0 everywhere, the shape and dtype of ``u``.

    Raises
    ------
    ValueError
        If ``u`` contains NaN (it has no distance, so no kernel value).
    TypeError
        If ``u`` is not numeric (a string, say).

    References
    ----------
    Silverman (1986), the Gaussian kernel of density estimation.

    Examples
    --------
    >>> print(", ".join(f"{v:.4f}" for v in gaussian([0.0, 0.5, 1.0, 2.0]).tolist()))
    1.0000, 0.8825, 0.6065, 0.1353
    """
    u = _as_u(u)
    return torch.exp(-0.5 * u * u)


def boxcar(u: Tensor) -> Tensor:
    """Boxcar profile :math:`\\mathbf 1\\{|u| < 1\\}`, elementwise.

    Parameters
    ----------
    u : Tensor or array_like, any shape
        Scaled distances :math:`u = (q - k)/h` (unitless). A floating tensor keeps its
        dtype and autograd graph (elementwise, nothing is summed); other input
        becomes a tensor, integers as float64. ``+-inf`` is allowed (an infinitely
        far point).

    Returns
    -------
    Tensor
        1 inside the open unit interval, 0 outside, the shape and dtype of ``u``.

    Raises
    ------
    ValueError
        If ``u`` contains NaN (it has no distance, so no kernel value).
    TypeError
        If ``u`` is not numeric (a string, say).

    References
    ----------
    Silverman (1986), the rectangular kernel among the kernels of density estimation.

    Examples
    --------
    >>> print(", ".join(f"{v:.4f}" for v in boxcar([0.0, 0.5, 1.0, 2.0]).tolist()))
    1.0000, 1.0000, 0.0000, 0.0000
    """
    u = _as_u(u)
    return (u.abs() < 1).to(u.dtype)


def constant(u: Tensor) -> Tensor:
    """Constant profile 1: every key gets the same weight.

    Parameters
    ----------
    u : Tensor or array_like, any shape
        Scaled distances :math:`u = (q - k)/h` (unitless). A floating tensor keeps its
        dtype and autograd graph (elementwise, nothing is summed); other input
        becomes a tensor, integers as float64. ``+-inf`` is allowed (an infinitely
        far point).

    Returns
    -------
    Tensor
        Ones (NW pooling then returns the mean of the values), the shape and dtype
        of ``u``.

    Raises
    ------
    ValueError
        If ``u`` contains NaN (it has no distance, so no kernel value).
    TypeError
        If ``u`` is not numeric (a string, say).

    Examples
    --------
    >>> print(", ".join(f"{v:.4f}" for v in constant([0.0, 0.5, 1.0, 2.0]).tolist()))
    1.0000, 1.0000, 1.0000, 1.0000
    """
    u = _as_u(u)
    return torch.ones_like(u)


def epanechnikov(u: Tensor) -> Tensor:
    """Epanechnikov profile :math:`\\tfrac34(1 - u^2)` for :math:`|u| \\le 1`, else 0.

    Parameters
    ----------
    u : Tensor or array_like, any shape
        Scaled distances :math:`u = (q - k)/h` (unitless). A floating tensor keeps its
        dtype and autograd graph (elementwise, nothing is summed); other input
        becomes a tensor, integers as float64. ``+-inf`` is allowed (an infinitely
        far point).

    Returns
    -------
    Tensor
        :math:`\\tfrac34 \\max(0, 1 - u^2)`, the shape and dtype of ``u``.

    Raises
    ------
    ValueError
        If ``u`` contains NaN (it has no distance, so no kernel value).
    TypeError
        If ``u`` is not numeric (a string, say).

    References
    ----------
    Silverman (1986), the Epanechnikov kernel among the kernels of density estimation.

    Examples
    --------
    >>> k = epanechnikov([0.0, 0.5, 1.0, 2.0])
    >>> print(", ".join(f"{v:.4f}" for v in k.tolist()))
    0.7500, 0.5625, 0.0000, 0.0000
    """
    u = _as_u(u)
    return 0.75 * torch.clamp(1 - u * u, min=0)


def triangular(u: Tensor) -> Tensor:
    """Triangular profile :math:`\\max(0, 1 - |u|)` (not Epanechnikov).

    Parameters
    ----------
    u : Tensor or array_like, any shape
        Scaled distances :math:`u = (q - k)/h` (unitless). A floating tensor keeps its
        dtype and autograd graph (elementwise, nothing is summed); other input
        becomes a tensor, integers as float64. ``+-inf`` is allowed (an infinitely
        far point).

    Returns
    -------
    Tensor
        :math:`\\max(0, 1 - |u|)`, the shape and dtype of ``u``.

    Raises
    ------
    ValueError
        If ``u`` contains NaN (it has no distance, so no kernel value).
    TypeError
        If ``u`` is not numeric (a string, say).

    References
    ----------
    Silverman (1986); mislabelled Epanechnikov in Zhang et al.,
    Dive into Deep Learning (2023), reported as d2l-ai/d2l-en issue 2440.

    Examples
    --------
    >>> print(", ".join(f"{v:.4f}" for v in triangular([0.0, 0.5, 1.0, 2.0]).tolist()))
    1.0000, 0.5000, 0.0000, 0.0000
    """
    u = _as_u(u)
    return torch.clamp(1 - u.abs(), min=0)


def _safe_log(x: Tensor, inside: Tensor) -> Tensor:
    """log(x) where ``inside``, -inf elsewhere, with finite gradients everywhere."""
    tiny = torch.finfo(x.dtype).tiny
    return torch.where(
        inside, torch.log(torch.clamp(x, min=tiny)), torch.full_like(x, -math.inf)
    )


def _log_gaussian(r2: Tensor) -> Tensor:
    return -0.5 * r2


def _log_boxcar(r2: Tensor) -> Tensor:
    return torch.where(r2 < 1, torch.zeros_like(r2), torch.full_like(r2, -math.inf))


def _log_constant(r2: Tensor) -> Tensor:
    return torch.zeros_like(r2)


def _log_epanechnikov(r2: Tensor) -> Tensor:
    return math.log(0.75) + _safe_log(1 - r2, r2 < 1)


def _log_triangular(r2: Tensor) -> Tensor:
    u = torch.sqrt(torch.clamp(r2, min=torch.finfo(r2.dtype).tiny))
    return _safe_log(1 - u, r2 < 1)


@dataclass(frozen=True)
class Kernel:
    """A named kernel profile, usable wherever nwlib takes ``kernel=``.

    Parameters
    ----------
    name : str
        Registry name (lower case for the built-in kernels).
    profile : callable
        :math:`K(u)` of the scaled distance, elementwise, with :math:`K(0) > 0`.
    log_profile : callable
        :math:`\\log K` as a function of the squared scaled distance :math:`r^2`
        (``-inf`` outside the support), what pooling uses.
    radius : float
        Support radius in units of the width (``math.inf`` for kernels that never
        vanish).

    Attributes
    ----------
    compact : bool
        True when ``radius`` is finite (a query can then have no key: 0/0).

    See Also
    --------
    get_kernel : look a kernel up by name.

    References
    ----------
    Silverman (1986) for the kernels of density estimation.

    Examples
    --------
    >>> import torch
    >>> biweight = Kernel(
    ...     "biweight",
    ...     lambda u: (1 - u * u).clamp(min=0) ** 2,
    ...     lambda r2: 2 * torch.log((1 - r2).clamp(min=0)),
    ...     1.0,
    ... )
    >>> biweight.compact, f"{float(biweight(torch.tensor(0.5))):.4f}"
    (True, '0.5625')
    """

    name: str
    profile: Callable[[Tensor], Tensor]
    log_profile: Callable[[Tensor], Tensor]
    radius: float

    @property
    def compact(self) -> bool:
        """True when the kernel is zero beyond a finite distance (0/0 is possible)."""
        return math.isfinite(self.radius)

    def __call__(self, u: Tensor) -> Tensor:
        return self.profile(u)


KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in [
        Kernel("gaussian", gaussian, _log_gaussian, math.inf),
        Kernel("boxcar", boxcar, _log_boxcar, 1.0),
        Kernel("constant", constant, _log_constant, math.inf),
        Kernel("epanechnikov", epanechnikov, _log_epanechnikov, 1.0),
        Kernel("triangular", triangular, _log_triangular, 1.0),
    ]
}


def get_kernel(kernel: str | Kernel) -> Kernel:
    """Look a kernel up by name (case-insensitive), or pass a :class:`Kernel` through.

    Parameters
    ----------
    kernel : str or Kernel
        A name of ``KERNELS`` ("gaussian", "boxcar", "constant", "epanechnikov",
        "triangular"; surrounding spaces and case ignored) or a :class:`Kernel`.

    Returns
    -------
    Kernel
        The registry's kernel, or ``kernel`` itself.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    TypeError
        For anything that is neither a string nor a :class:`Kernel`.

    Examples
    --------
    >>> k = get_kernel(" Epanechnikov")
    >>> k.name, k.radius, k.compact
    ('epanechnikov', 1.0, True)
    """
    if isinstance(kernel, Kernel):
        return kernel
    if not isinstance(kernel, str):
        raise TypeError(
            f"kernel must be a name (str) or a Kernel, got {type(kernel).__name__}"
        )
    key = kernel.strip().lower()
    if key not in KERNELS:
        valid = ", ".join(sorted(KERNELS))
        raise ValueError(f"kernel {kernel!r} is unknown; valid kernels are: {valid}")
    return KERNELS[key]
