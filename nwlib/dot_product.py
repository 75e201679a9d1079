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
    r"""Temperature of the equivalent dot-product softmax on the sphere: :math:`t = h^2`.

    Dtype: the width's (Python numbers as float64).

    Raises
    ------
    ValueError
        Naming ``width``, where :math:`h^2` is not a normal number of the width's
        dtype (it would underflow to 0 or a subnormal, or overflow to inf): below
        about 1e-154 or above 1e154 in float64, 1e-19 and 1e19 in float32. No softmax
        accepts such a temperature; rescale the points and the width together.

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

    Dtype: the temperature's (Python numbers as float64).
    """
    return torch.sqrt(as_width(temperature, "temperature"))


def vaswani_temperature(d: int) -> float:
    r"""The temperature :math:`\sqrt d` of scaled dot-product attention (Vaswani et al.).

    It is the Gaussian width :math:`h = d^{1/4}`. For q and k with independent
    zero-mean, unit-variance coordinates, :math:`q\cdot k` has variance d, so
    :math:`q\cdot k / \sqrt d` has variance 1 whatever d is.
    """
    if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    return math.sqrt(d)


def dot_product_weights(
    queries: ArrayLike, keys: ArrayLike, temperature: ArrayLike | None = None
) -> Tensor:
    r"""Scaled dot-product attention weights :math:`\operatorname{softmax}_i(q\cdot k_i / t)`.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums).

    Parameters
    ----------
    queries : (n_q, d) or (b, n_q, d)
    keys : (n_k, d) or (b, n_k, d)
    temperature : float, optional
        :math:`t > 0`; default :math:`\sqrt d`, the scaling of Vaswani et al. (2017).
        On the unit sphere, :math:`t = h^2` gives the Gaussian weights of width h.

    Returns
    -------
    Tensor, (n_q, n_k) or (b, n_q, n_k); each row sums to 1.
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
    r"""The per-key bias :math:`-\lVert k_i\rVert^2 / 2h^2` that dot products miss off the sphere.

    Shapes (n_k, d) -> (n_k,); (b, n_k, d) -> (b, n_k). On the unit sphere it is
    the same constant :math:`-1/2h^2` for every key and cancels in the softmax.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums). The keys are divided by the width before squaring.
    """
    k = as_batched_points(keys, "keys")
    k = k.to(compute_dtype(k))
    h = scalar_positive(width, "width", k)
    kh = k / h  # scaled before squaring: no overflow or underflow of |k|^2 or h^2
    return -0.5 * (kh * kh).sum(-1)


def biased_dot_product_weights(
    queries: ArrayLike, keys: ArrayLike, width: ArrayLike
) -> Tensor:
    r"""Gaussian weights written as attention: :math:`\operatorname{softmax}_i(q\cdot k_i/h^2 - \lVert k_i\rVert^2/2h^2)`.

    Equal to :func:`gaussian_weights` for any points, on the sphere or not:
    :math:`-\lVert q\rVert^2/2h^2` is the same for every key of a query and cancels.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums). Queries and keys are first shifted by the keys' mean (per
    batch entry) and divided by the width: the shift changes every score of one
    query by the same constant, which the softmax cancels, so the result stays equal
    to :func:`gaussian_weights` for data far from the origin. What remains is the
    rounding of the dot products, about the dtype's epsilon times :math:`\lVert q -
    c\rVert \lVert k - c\rVert / h^2` (c the keys' mean) in each score: below the
    epsilon unless a query lies many widths from keys spread over many widths.

    Returns
    -------
    Tensor, (n_q, n_k) or (b, n_q, n_k).
    """
    q, k = pair(queries, keys)
    h = scalar_positive(width, "width", q)
    c = k.detach().mean(
        -2, keepdim=True
    )  # the keys' centre; shifting both by it changes a
    qc, kc = (q - c) / h, (k - c) / h  # query's scores by one constant, which cancels
    scores = qc @ kc.transpose(-1, -2) + key_bias(kc, 1.0).unsqueeze(-2)
    return torch.softmax(scores, dim=-1)
