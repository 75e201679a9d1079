r"""Random feature maps whose inner products estimate a kernel.

* :func:`fourier_features` (Rahimi and Recht 2007), the Gaussian kernel of width
  ``h``: :math:`\sqrt{2/D}\cos(Wx/h + b)`, ``W ~ N(0, I)``, ``b ~ U(0, 2 pi)``.
  Unbiased, but a feature product can be negative.
* :func:`positive_features` (Choromanski et al. 2021), the softmax kernel
  :math:`\exp(q\cdot k/h^2)` or the Gaussian kernel, every product positive;
  ``orthogonal=True`` draws :func:`orthogonal_gaussian` rows, which lowers the
  variance.

A :class:`FeatureMap` maps (n, d) points to (n, D) features; apply the same map
to queries and keys. Draws are made in float64 from a seeded
``torch.Generator`` and cast, so a seed gives the same features in any dtype;
integer, boolean and Python-number input is computed in float64, floating input
in its own dtype. :mod:`nwlib.random_features` pools with them in linear time.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

Tensor = torch.Tensor

__all__ = [
    "FeatureMap",
    "fourier_features",
    "positive_features",
    "orthogonal_gaussian",
]


def as_points(x, name: str) -> Tensor:
    r"""Points as a (n, d) floating tensor for the feature maps; 1-D input is (n, 1).

    Parameters
    ----------
    x : Tensor or array_like, shape (n,) or (n, d)
        Points. Floating input keeps its dtype; integers and booleans as float64.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    Tensor, shape (n, d)
        The points, n, d >= 1.

    Raises
    ------
    TypeError
        For non-numeric or complex input, or ``None``.
    ValueError
        For another shape, an empty input, or NaN/inf.

    Examples
    --------
    >>> as_points([1, 2], "keys").tolist()
    [[1.0], [2.0]]
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(
            f"{name} must be numbers (a tensor or array), got {type(x).__name__}"
        )
    try:
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"{name} must be numbers, got {type(x).__name__}") from e
    if t.dtype.is_complex:
        raise TypeError(f"{name} must be real numbers")
    if not t.dtype.is_floating_point:
        t = t.to(torch.float64)
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (n,) or (n, d) with n, d >= 1, "
            f"got {tuple(t.shape)}"
        )
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} holds NaN or inf")
    return t


def _positive_int(x, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return int(x)


def _positive_float(x, name: str) -> float:
    if (
        isinstance(x, bool)
        or not isinstance(x, numbers.Real)
        or not x > 0
        or not math.isfinite(x)
    ):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return float(x)


def orthogonal_gaussian(
    n_features: int, d: int, *, generator: torch.Generator
) -> Tensor:
    r"""A (n_features, d) float64 matrix of rows orthogonal in blocks of d.

    Each block of d rows is the Q of a QR decomposition of a d x d standard normal
    matrix (signs fixed so that it is uniform on the orthogonal group); each row is
    then given the length of an independent N(0, I_d) vector (chi with d degrees of
    freedom), so every row is marginally N(0, I_d), as Choromanski et al. (2021)
    draw them. The last block is cut to n_features rows.

    Parameters
    ----------
    n_features : int
        Number of rows D (>= 1).
    d : int
        Number of columns, the dimension of the points (>= 1).
    generator : torch.Generator
        The source of randomness (seed it for reproducible draws).

    Returns
    -------
    Tensor, shape (n_features, d)
        float64.

    References
    ----------
    Choromanski et al. (2021), orthogonal random features.

    Examples
    --------
    >>> w = orthogonal_gaussian(3, 3, generator=torch.Generator().manual_seed(0))
    >>> u = w / w.norm(dim=1, keepdim=True)
    >>> bool(torch.allclose(u @ u.T, torch.eye(3, dtype=torch.float64)))
    True
    """
    blocks = []
    for _ in range(-(-n_features // d)):
        g = torch.randn(d, d, generator=generator, dtype=torch.float64)
        q, r = torch.linalg.qr(g)
        blocks.append(q * torch.sign(torch.diagonal(r))[None, :])
    rows = torch.cat([b.T for b in blocks])[:n_features]
    lengths = torch.randn(n_features, d, generator=generator, dtype=torch.float64).norm(
        dim=1
    )
    return rows * lengths[:, None]


@dataclass(frozen=True)
class FeatureMap:
    r"""D random features drawn once; ``phi(x)`` maps (n, d) points to (n, D).

    Build one with :func:`fourier_features` or :func:`positive_features` and apply
    the same map to queries and keys: :math:`\phi(q)\cdot\phi(k)` estimates the
    kernel. ``phi(x, shift=...)`` (positive features) divides each row
    (``"row"``) or all entries (``"global"``) by their largest, a constant that
    cancels in attention's ratio; ``phi.log_features(x)`` gives
    :math:`\log\phi(x)` of positive features.

    Parameters
    ----------
    kind : {"fourier", "positive"}
        The family of features.
    weights : Tensor, shape (D, d)
        The random projection ``W``, float64.
    offsets : Tensor, shape (D,), or None
        The random phases ``b`` (Fourier features only).
    width : float
        The kernel's width h (x is divided by it), in the units of x.
    kernel : {"gaussian", "softmax"}
        The kernel the features estimate.

    Attributes
    ----------
    n_features : int
        D.

    Raises
    ------
    ValueError
        When called on points whose d differs from the one drawn for.

    References
    ----------
    Rahimi and Recht (2007); Choromanski et al. (2021).

    Examples
    --------
    >>> phi = fourier_features(2, 16, 1.0, seed=0)
    >>> phi.n_features, tuple(phi([[0.0, 1.0], [2.0, 3.0]]).shape)
    (16, (2, 16))
    """

    kind: str
    weights: Tensor
    offsets: Tensor | None
    width: float
    kernel: str

    @property
    def n_features(self) -> int:
        return self.weights.shape[0]

    def _z(self, x) -> Tensor:
        x = as_points(x, "x")
        if x.shape[1] != self.weights.shape[1]:
            raise ValueError(
                f"x has d = {x.shape[1]} but the features were drawn for "
                f"d = {self.weights.shape[1]}"
            )
        return x / self.width

    def log_features(self, x) -> Tensor:
        """Positive features only: log phi(x), shape (n, D), no shift."""
        if self.kind != "positive":
            raise ValueError("log_features exists for positive features only")
        z = self._z(x)
        sq = (z * z).sum(1, keepdim=True)
        half = 0.5 if self.kernel == "softmax" else 1.0
        return (
            z @ self.weights.to(z.dtype).T - half * sq - 0.5 * math.log(self.n_features)
        )

    def __call__(self, x, *, shift: str | None = None) -> Tensor:
        """phi(x), shape (n, D), in x's floating dtype (float64 for integers).

        ``shift`` (positive features): ``None`` the exact features, ``"row"`` each
        row divided by its largest entry, ``"global"`` all divided by the largest
        entry (a per-row or global constant, applied in the log domain).
        """
        if shift not in (None, "row", "global"):
            raise ValueError(f"shift must be None, 'row' or 'global', got {shift!r}")
        if self.kind == "fourier":
            z = self._z(x)
            proj = z @ self.weights.to(z.dtype).T + self.offsets.to(z.dtype)
            return math.sqrt(2 / self.n_features) * torch.cos(proj)
        log = self.log_features(x)
        if shift == "row":
            log = log - log.amax(1, keepdim=True)
        elif shift == "global":
            log = log - log.max()
        return log.exp()


def fourier_features(
    d: int, n_features: int, width: float, *, seed: int = 0
) -> FeatureMap:
    r"""Random Fourier features for the Gaussian kernel of width h.

    :math:`\phi(x) = \sqrt{2/D}\cos(Wx/h + b)` with rows of ``W`` ~ N(0, I_d) and
    ``b`` ~ U(0, 2 pi), so that :math:`E[\phi(q)\cdot\phi(k)]` is the kernel. Products
    of features can be negative. The draws are float64; the features are computed
    in the points' floating dtype (integers as float64).

    Parameters
    ----------
    d : int
        Dimension of queries and keys.
    n_features : int
        D, the number of features.
    width : float
        h > 0, in the units of the points.
    seed : int, default 0
        Seed of the ``torch.Generator`` that draws ``W`` and ``b``.

    Returns
    -------
    FeatureMap
        ``kind="fourier"``, ``kernel="gaussian"``.

    Raises
    ------
    ValueError
        For non-positive or non-integer ``d`` or ``n_features``, or a ``width``
        that is not a positive finite number.

    References
    ----------
    Rahimi and Recht (2007).

    Examples
    --------
    >>> phi = fourier_features(1, 20000, 1.0, seed=0)
    >>> q, k = torch.tensor([[0.0]]), torch.tensor([[1.0]])
    >>> abs(float(phi(q) @ phi(k).T) - math.exp(-0.5)) < 0.05
    True
    """
    d, n = _positive_int(d, "d"), _positive_int(n_features, "n_features")
    h = _positive_float(width, "width")
    gen = torch.Generator().manual_seed(int(seed))
    w = torch.randn(n, d, generator=gen, dtype=torch.float64)
    b = 2 * math.pi * torch.rand(n, generator=gen, dtype=torch.float64)
    return FeatureMap("fourier", w, b, h, "gaussian")


def positive_features(
    d: int,
    n_features: int,
    *,
    width: float = 1.0,
    kernel: str = "softmax",
    orthogonal: bool = False,
    seed: int = 0,
) -> FeatureMap:
    r"""Positive random features for the softmax or Gaussian kernel.

    With z = x/h and rows w of ``W`` ~ N(0, I_d):
    ``kernel="softmax"``: :math:`\phi(x) = \exp(Wz - \lVert z\rVert^2/2)/\sqrt D`,
    unbiased for :math:`\exp(q\cdot k/h^2)` (h^2 is the temperature);
    ``kernel="gaussian"``: :math:`\exp(Wz - \lVert z\rVert^2)/\sqrt D`, unbiased for
    :math:`\exp(-\lVert q-k\rVert^2/2h^2)`. Every feature is positive. The relative
    variance of one feature's product is :math:`e^{\lVert z_q + z_k\rVert^2} - 1`
    (iid ``W``): small widths need many more features.

    Parameters
    ----------
    d : int
        Dimension of queries and keys.
    n_features : int
        D, the number of features.
    width : float, default 1.0
        h > 0, in the units of the points (1: the plain softmax kernel exp(q.k)).
    kernel : {"softmax", "gaussian"}, default "softmax"
        The kernel the features estimate.
    orthogonal : bool, default False
        Draw ``W`` with :func:`orthogonal_gaussian` (lower variance) instead of iid.
    seed : int, default 0
        Seed of the ``torch.Generator``.

    Returns
    -------
    FeatureMap
        ``kind="positive"``.

    Raises
    ------
    ValueError
        For non-positive or non-integer ``d`` or ``n_features``, a ``width`` that is
        not a positive finite number, or an unknown ``kernel``.

    References
    ----------
    Choromanski et al. (2021), FAVOR+.

    Examples
    --------
    >>> phi = positive_features(2, 20000, seed=1)
    >>> q, k = torch.tensor([[0.6, 0.0]]), torch.tensor([[0.0, 0.8]])
    >>> bool((phi(q) > 0).all()), round(float(phi(q) @ phi(k).T), 2)
    (True, 1.0)
    """
    d, n = _positive_int(d, "d"), _positive_int(n_features, "n_features")
    h = _positive_float(width, "width")
    if kernel not in ("softmax", "gaussian"):
        raise ValueError(f"kernel must be 'softmax' or 'gaussian', got {kernel!r}")
    gen = torch.Generator().manual_seed(int(seed))
    if orthogonal:
        w = orthogonal_gaussian(n, d, generator=gen)
    else:
        w = torch.randn(n, d, generator=gen, dtype=torch.float64)
    return FeatureMap("positive", w, None, h, kernel)
