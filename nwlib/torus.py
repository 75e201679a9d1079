r"""The torus :math:`[0, 1)^d`: Nadaraya-Watson with periodic coordinates.

Each coordinate is read as an angle (period 1), so there is no boundary. In 1-D
the kernel is the Gaussian of the distance around the circle, computed with
ghost copies of the keys near the ends and the banded path of
:func:`nwlib.scale.banded_nadaraya_watson`; in :math:`d \ge 2` each coordinate is
embedded as a point on a circle of circumference 1 (:func:`torus_embedding`) and
the Gaussian of the embedded (chord) distance, a product of von Mises kernels, is
computed by :func:`nwlib.pooling.nadaraya_watson`. :mod:`nwlib.rates` measures
rates of convergence there; ``periodic=True`` of :func:`nwlib.selection.loo_error`
scores widths there.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._engine import check_exclude_self, resolve_dtype, work_dtype
from ._validate import ArrayLike, as_float_tensor, as_points, as_width, common_dtype
from .pooling import nadaraya_watson
from .scale import banded_nadaraya_watson, truncation_radius

Tensor = torch.Tensor

__all__ = ["periodic_function", "torus_embedding", "torus_nadaraya_watson"]


# numpy for sin/cos: torch 2.13's float64 sin/cos on CPU took ~15 ms for 2000 numbers
# with two threads here (numpy: 0.02 ms)
def _np_sin(x: Tensor) -> np.ndarray:
    return np.sin(2 * math.pi * x.numpy())


def _np_cos(x: Tensor) -> np.ndarray:
    return np.cos(2 * math.pi * x.numpy())


def periodic_function(x: ArrayLike) -> Tensor:
    r"""The periodic target :math:`f(x) = d^{-1/2} \sum_{c=1}^{d} \sin(2\pi x_c)`.

    Period 1 in every coordinate, mean 0 and variance 1/2 under the uniform design
    for every :math:`d`; its Laplacian is :math:`-4\pi^2 f`.

    Parameters
    ----------
    x : array-like, (n,) or (n, d)
        Points; any real dtype.

    Returns
    -------
    Tensor, (n,), float64 (numpy's sin), whatever the input's floating dtype.

    Raises
    ------
    TypeError, ValueError
        Non-numeric, empty, non-finite input or more than 2 dimensions.

    Examples
    --------
    >>> [f"{v:.4f}" for v in periodic_function([0.0, 0.25, 0.75])]
    ['0.0000', '1.0000', '-1.0000']
    """
    xt = (
        as_points(x, "x").detach().cpu().double()
    )  # half dtypes too (numpy has no bfloat16)
    return torch.from_numpy(_np_sin(xt).sum(1) / math.sqrt(xt.shape[1]))


def torus_embedding(x: ArrayLike) -> Tensor:
    r"""Each coordinate as a point on a circle of circumference 1, (n, d) to (n, 2d).

    :math:`e(x) = (\cos 2\pi x_c, \sin 2\pi x_c)_c / (2\pi)`. Then

    .. math:: \lVert e(q) - e(k)\rVert^2 = \sum_c \frac{\sin^2(\pi (q_c - k_c))}{\pi^2}
              = \sum_c (q_c - k_c)^2 \big(1 + O((q_c - k_c)^2)\big),

    so a Gaussian of the embedded distance is the product of von Mises kernels
    :math:`\exp\big((\cos 2\pi\Delta_c - 1)/(4\pi^2 h^2)\big)`: periodic, and a
    Gaussian of width :math:`h` for small differences.

    Parameters
    ----------
    x : array-like, (n,) or (n, d)
        Coordinates, each of period 1.

    Returns
    -------
    Tensor, (n, 2d)
        The cosines of every coordinate, then the sines, divided by :math:`2\pi`.
        Dtype: the input's floating dtype (integers and Python numbers as float64,
        float16 and bfloat16 in float32), by numpy's sin and cos. Each coordinate
        is first reduced modulo 1 in the input's precision (exact), so whole-period
        shifts (time stamps in periods, say) cost no digits.

    Raises
    ------
    TypeError, ValueError
        Non-numeric, empty, non-finite input or more than 2 dimensions.

    Examples
    --------
    >>> e = torus_embedding([[0.0], [0.5], [1.0]])
    >>> tuple(e.shape), f"{float((e[0] - e[2]).abs().max()):.1e}"
    ((3, 2), '0.0e+00')
    >>> f"{float(((e[0] - e[1]) ** 2).sum()):.6f}"  # sin^2(pi/2) / pi^2
    '0.101321'
    """
    xt = as_points(x, "x").detach().cpu()
    if xt.dtype in (torch.float16, torch.bfloat16):
        xt = xt.float()
    xt = torch.remainder(xt, 1.0)  # exact: x - floor(x)
    return torch.from_numpy(
        np.concatenate([_np_cos(xt), _np_sin(xt)], axis=1) / (2 * math.pi)
    )


#: Most whole periods of images ``method="images"`` adds on each side (width about 4/c).
_MAX_PERIODS = 64


def _ghosts(x: Tensor, values: Tensor, margin: float) -> tuple[Tensor, Tensor]:
    """Keys on [0, 1) and their images ``x + m`` (m = 1, -1, 2, ...) near [0, 1)."""
    xs, vs = [x], [values]
    for m in range(1, math.ceil(margin) + 1):
        up, down = (
            x < margin - (m - 1),
            x >= m - margin,
        )  # x + m < 1 + margin, x - m >= -margin
        xs += [x[up] + m, x[down] - m]
        vs += [values[up], values[down]]
    return torch.cat(xs), torch.cat(vs)


def torus_nadaraya_watson(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: ArrayLike,
    *,
    exclude_self: bool = False,
    method: str | None = None,
    dtype: torch.dtype | str | None = torch.float32,
) -> Tensor:
    r"""Gaussian Nadaraya-Watson on the torus :math:`[0,1)^d`.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d)
        Points of the torus; coordinates are taken modulo 1.
    keys : (n_k,) or (n_k, d)
        Points of the torus, in the queries' dimension; taken modulo 1.
    values : (n_k,) or (n_k, m)
        One value (or row of m values) per key.
    width : scalar (or (d,) with ``method="embedding"``)
        The Gaussian width :math:`h > 0`, in units of the period 1.
    exclude_self : bool
        Leave-one-out: queries must be the keys. With ``"images"`` a point's own
        images at distance 1 stay among the keys, with relative weight at most
        :math:`e^{-1/(2h^2)}` (below :math:`10^{-9}` for :math:`h < 0.15`).
    method : {"images", "embedding"}, optional
        ``"images"`` (1-D only, the default there): the Gaussian of the distance
        around the circle, :math:`\sum_m K((q - k + m)/h)` over the images :math:`k - m`
        within :math:`c h` of :math:`[0, 1)` (:math:`c` from
        :func:`nwlib.scale.truncation_radius`: farther images weigh less than the
        dtype's precision; as many whole periods as that takes, at most 64, else
        ``ValueError``), by :func:`nwlib.scale.banded_nadaraya_watson` on the keys
        plus ghost copies. ``"embedding"`` (the default for d >= 2): the product von
        Mises kernel of :func:`torus_embedding`, by
        :func:`nwlib.pooling.nadaraya_watson`.
    dtype : torch dtype or None, default float32
        float32 is the fast choice: coordinates are reduced modulo 1, so the data
        are centred and scaled by construction; values with less precision than
        ``dtype`` is asked for are centred first (as
        :func:`nwlib.pooling.nadaraya_watson`). None: the inputs' dtype.

    Returns
    -------
    Tensor, (n_q,) or (n_q, m), in ``dtype``.

    Raises
    ------
    ValueError
        Mismatched d or number of values, an unknown ``method``, ``"images"`` with
        d > 1, a non-scalar width or a width needing more than 64 periods,
        ``exclude_self`` with queries that are not the keys, a width not > 0.

    Examples
    --------
    >>> keys = torch.tensor([0.05, 0.95], dtype=torch.float64)
    >>> f = torus_nadaraya_watson([0.0], keys, [1.0, 3.0], 0.1, dtype=None)
    >>> f"{float(f[0]):.4f}"  # both keys are 0.05 away around the circle
    '2.0000'
    """
    q = as_points(queries, "queries").detach()
    k = as_points(keys, "keys").detach()
    v = as_float_tensor(values, "values").detach()
    if q.shape[1] != k.shape[1]:
        raise ValueError(
            f"queries and keys must have the same number of coordinates d, "
            f"got {q.shape[1]} and {k.shape[1]}"
        )
    if v.ndim not in (1, 2) or v.shape[0] != k.shape[0]:
        raise ValueError(
            f"values must have shape (n_keys,) or (n_keys, m) with "
            f"n_keys={k.shape[0]}, got {tuple(v.shape)}"
        )
    d = k.shape[1]
    method = method or ("images" if d == 1 else "embedding")
    if method not in ("images", "embedding"):
        raise ValueError(f"method must be 'images' or 'embedding', got {method!r}")
    if exclude_self:  # the keys themselves, in order (compared in float64)
        check_exclude_self(q.double(), k.double())
    h = as_width(width)
    q, k = torch.remainder(q, 1.0), torch.remainder(k, 1.0)
    if method == "embedding":
        hh = torch.cat([h, h]) if h.ndim == 1 and h.numel() == d and d > 1 else h
        eq, ek = torus_embedding(q), torus_embedding(k)
        return nadaraya_watson(
            ek if exclude_self else eq,
            ek,
            v,
            hh,
            exclude_self=exclude_self,
            dtype=dtype,
        )
    if d != 1 or h.numel() != 1:
        raise ValueError(
            f"method='images' needs 1-D inputs and a scalar width, got d={d} "
            f"and width of shape {tuple(h.shape)}; use method='embedding'"
        )
    hf = float(h)
    dt = work_dtype(resolve_dtype(dtype)) or common_dtype(k, v)
    margin = truncation_radius(3 * k.shape[0], dt) * hf
    if margin > _MAX_PERIODS:
        raise ValueError(
            f"width={hf:g} is too large for method='images' (it would need "
            f"{math.ceil(margin)} periods of images on each side, at most "
            f"{_MAX_PERIODS} are kept): use method='embedding'"
        )
    ke, ve = _ghosts(k[:, 0], v, margin)
    if exclude_self:  # ghosts are queries too; a point's own copy is >= 1 - margin away
        return banded_nadaraya_watson(ke, ke, ve, hf, exclude_self=True, dtype=dtype)[
            : k.shape[0]
        ]
    return banded_nadaraya_watson(q[:, 0], ke, ve, hf, dtype=dtype)
