r"""Scaled dot-product attention and its temperature, the Gaussian width squared.

On the unit sphere the Gaussian attention weights of width :math:`h` are
:math:`\operatorname{softmax}_i(q\cdot k_i / h^2)` (:mod:`nwlib.sphere`): the
temperature :math:`t` of dot-product attention is :math:`h^2`, and the
:math:`1/\sqrt d` scaling of Vaswani et al. (2017) is :math:`t = \sqrt d`. Off
the sphere each key keeps a bias :math:`-\lVert k\rVert^2 / 2h^2`
(:func:`key_bias`), and :func:`biased_dot_product_weights` adds it back (Tsai et
al. 2019 read attention as a kernel smoother the same way).

Shapes are queries x keys, with an optional leading batch dimension, as in
:mod:`nwlib.sphere`. Dtype: the inputs' floating dtype, promoted (float64 wins);
integers, booleans and Python numbers as float64 (float32 would round integers
above 2**24), float16 and bfloat16 in float32 (too few bits for sums).
"""

from __future__ import annotations

import math
import numbers

import torch

from ._batched import as_batched_points, pair, scalar_positive
from ._validate import ArrayLike, as_width, compute_dtype

Tensor = torch.Tensor

__all__ = [
    "temperature_from_width",
    "width_from_temperature",
    "vaswani_temperature",
    "dot_product_weights",
    "key_bias",
    "biased_dot_product_weights",
]


def temperature_from_width(width: ArrayLike) -> Tensor:
    r"""Temperature of the equal dot-product softmax on the sphere: :math:`t = h^2`.

    Parameters
    ----------
    width : float or array_like or Tensor, any shape
        Gaussian width(s) :math:`h > 0` (unitless on the unit sphere); autograd
        flows through a tensor.

    Returns
    -------
    Tensor, the shape of ``width``
        :math:`h^2`, in the width's floating dtype (Python numbers as float64).

    Raises
    ------
    ValueError
        Naming ``width``: a width that is not finite and > 0, or where :math:`h^2`
        is not a normal number of the width's dtype (it would underflow to 0 or a
        subnormal, or overflow to inf): below about 1e-154 or above 1e154 in
        float64, 1e-19 and 1e19 in float32. No softmax accepts such a temperature;
        rescale the points and the width together.

    References
    ----------
    Vaswani et al. (2017) for the temperature :math:`\sqrt{d}`.

    Examples
    --------
    >>> float(temperature_from_width(0.5))
    0.25
    """
    h = as_width(width)
    t = h**2
    td = t.detach()
    bad = ~torch.isfinite(td) | (td < torch.finfo(td.dtype).tiny)
    if bool(bad.any()):
        w = float(h.detach()[bad].reshape(-1)[0])
        raise ValueError(
            f"width = {w:g} has no temperature t = width**2 in {td.dtype}: it "
            f"{'overflows' if w > 1 else 'underflows'} there; rescale the points "
            f"and the width together (the weights are scale equivariant)"
        )
    return t


def width_from_temperature(temperature: ArrayLike) -> Tensor:
    r"""Gaussian width of a dot-product softmax with temperature t: :math:`h = \sqrt t`.

    Parameters
    ----------
    temperature : float or array_like or Tensor, any shape
        Temperature(s) :math:`t > 0` of :math:`\operatorname{softmax}(q\cdot k / t)`.

    Returns
    -------
    Tensor, the shape of ``temperature``
        :math:`\sqrt t`, in the temperature's floating dtype (Python numbers as
        float64).

    Raises
    ------
    ValueError
        Naming ``temperature``, if it is not finite and > 0.

    Examples
    --------
    >>> f"{float(width_from_temperature(vaswani_temperature(64))):.4f}"  # 64 ** 0.25
    '2.8284'
    """
    return torch.sqrt(as_width(temperature, "temperature"))


def vaswani_temperature(d: int) -> float:
    r"""The temperature :math:`\sqrt d` of scaled dot-product attention.

    It is the Gaussian width :math:`h = d^{1/4}`. For q and k with independent
    zero-mean, unit-variance coordinates, :math:`q\cdot k` has variance d, so
    :math:`q\cdot k / \sqrt d` has variance 1 whatever d is.

    Parameters
    ----------
    d : int
        Dimension of queries and keys (>= 1).

    Returns
    -------
    float
        :math:`\sqrt d`.

    Raises
    ------
    ValueError
        If ``d`` is not a positive integer.

    References
    ----------
    Vaswani et al. (2017), section 3.2.1.

    Examples
    --------
    >>> vaswani_temperature(64)
    8.0
    """
    if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    return math.sqrt(d)


def dot_product_weights(
    queries: ArrayLike, keys: ArrayLike, temperature: ArrayLike | None = None
) -> Tensor:
    r"""Scaled dot-product attention weights :math:`\mathrm{softmax}_i(q\cdot k_i/t)`.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q, d) or (b, n_q, d)
        Query vectors (1-D: n_q points in d = 1).
    keys : Tensor or array_like, shape (n_k, d) or (b, n_k, d)
        Key vectors, batched like ``queries``.
    temperature : float or Tensor, optional
        :math:`t > 0`; default :math:`\sqrt d`, the scaling of Vaswani et al. (2017).
        On the unit sphere, :math:`t = h^2` gives the Gaussian weights of width h.

    Returns
    -------
    Tensor, shape (n_q, n_k) or (b, n_q, n_k)
        Each row sums to 1. Dtype: the inputs' floating dtype, promoted (float64
        wins); integers, booleans and Python numbers as float64 (float32 would round
        integers above 2**24), float16 and bfloat16 in float32.

    Raises
    ------
    ValueError
        For mismatched queries and keys (d, batch size), NaN/inf, or a temperature
        that is not one positive number the points' dtype can hold.

    References
    ----------
    Vaswani et al. (2017).

    Examples
    --------
    >>> w = dot_product_weights([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], 0.5)
    >>> print(", ".join(f"{v:.4f}" for v in w[0].tolist()))
    0.8808, 0.1192
    """
    q, k = pair(queries, keys)
    t = scalar_positive(
        vaswani_temperature(q.shape[-1]) if temperature is None else temperature,
        "temperature",
        q,
    )
    scores = q @ k.transpose(-1, -2)  # (..., n_q, n_k)
    return torch.softmax(scores / t, dim=-1)


def key_bias(keys: ArrayLike, width: ArrayLike) -> Tensor:
    r"""The per-key bias :math:`-\lVert k_i\rVert^2 / 2h^2` that dot products miss.

    On the unit sphere it is the same constant :math:`-1/2h^2` for every key and
    cancels in the softmax; off the sphere it does not. The keys are divided by the
    width before squaring.

    Parameters
    ----------
    keys : Tensor or array_like, shape (n_k, d) or (b, n_k, d)
        Key vectors (1-D: n_k points in d = 1).
    width : float or Tensor
        One Gaussian width :math:`h > 0`, in the units of the keys.

    Returns
    -------
    Tensor, shape (n_k,) or (b, n_k)
        Unitless. Dtype: the keys' floating dtype; integers, booleans and Python
        numbers as float64, float16 and bfloat16 in float32.

    Raises
    ------
    ValueError
        For NaN/inf keys or a width that is not one positive number.

    References
    ----------
    Tsai et al. (2019).

    Examples
    --------
    >>> key_bias([[3.0, 4.0], [0.0, 1.0]], 1.0).tolist()
    [-12.5, -0.5]
    """
    k = as_batched_points(keys, "keys")
    k = k.to(compute_dtype(k))
    h = scalar_positive(width, "width", k)
    kh = k / h  # scaled before squaring: no overflow or underflow of |k|^2 or h^2
    return -0.5 * (kh * kh).sum(-1)


def biased_dot_product_weights(
    queries: ArrayLike, keys: ArrayLike, width: ArrayLike
) -> Tensor:
    r"""Gaussian weights written as attention, with each key's bias added back.

    :math:`\operatorname{softmax}_i(q\cdot k_i/h^2 - \lVert k_i\rVert^2/2h^2)` equals
    :func:`~nwlib.sphere.gaussian_weights` for any points, on the sphere or not:
    :math:`-\lVert q\rVert^2/2h^2` is the same for every key of a query and cancels.
    Queries and keys are first shifted by the keys' mean (per batch entry) and
    divided by the width: the shift changes every score of one query by the same
    constant, which the softmax cancels, so the result stays equal to the Gaussian
    weights for data far from the origin. What remains is the rounding of the dot
    products, about the dtype's epsilon times
    :math:`\lVert q - c\rVert \lVert k - c\rVert / h^2` (c the keys' mean) in each
    score: below the epsilon unless a query lies many widths from keys spread over
    many widths.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q, d) or (b, n_q, d)
        Query vectors (1-D: n_q points in d = 1).
    keys : Tensor or array_like, shape (n_k, d) or (b, n_k, d)
        Key vectors, batched like ``queries``.
    width : float or Tensor
        One Gaussian width :math:`h > 0`, in the units of the points.

    Returns
    -------
    Tensor, shape (n_q, n_k) or (b, n_q, n_k)
        Each row sums to 1. Dtype: the inputs' floating dtype, promoted (float64
        wins); integers, booleans and Python numbers as float64, float16 and
        bfloat16 in float32.

    Raises
    ------
    ValueError
        For mismatched queries and keys or a width that is not one positive number.

    References
    ----------
    Tsai et al. (2019).

    Examples
    --------
    >>> q, k = [[2.0, 1.0]], [[0.0, 0.0], [3.0, 1.0]]
    >>> w = biased_dot_product_weights(q, k, 1.0)
    >>> print(", ".join(f"{v:.4f}" for v in w[0].tolist()))
    0.1192, 0.8808
    """
    q, k = pair(queries, keys)
    h = scalar_positive(width, "width", q)
    c = k.detach().mean(
        -2, keepdim=True
    )  # the keys' centre; shifting both by it changes a
    qc, kc = (q - c) / h, (k - c) / h  # query's scores by one constant, which cancels
    scores = qc @ kc.transpose(-1, -2) + key_bias(kc, 1.0).unsqueeze(-2)
    return torch.softmax(scores, dim=-1)
