r"""From Gaussian attention pooling to scaled dot-product attention.

For any queries and keys,

.. math::

    \lVert q - k\rVert^2 = \lVert q\rVert^2 + \lVert k\rVert^2 - 2\, q\cdot k ,

so on the unit sphere (:math:`\lVert q\rVert = \lVert k\rVert = 1`) the squared
distance is :math:`2 - 2\,q\cdot k` and the Gaussian attention weights are

.. math::

    \frac{\exp(-\lVert q - k_i\rVert^2 / 2h^2)}{\sum_j \exp(-\lVert q - k_j\rVert^2 / 2h^2)}
    = \operatorname{softmax}_i\!\left(\frac{q\cdot k_i}{h^2}\right):

the factor :math:`e^{-1/h^2}` is common to every key and cancels. The
temperature :math:`t` of dot-product attention is the squared width,
:math:`t = h^2`; the :math:`1/\sqrt d` of Vaswani et al. is :math:`h^2 = \sqrt d`.
Off the sphere :math:`\lVert q\rVert^2` still cancels (it is common to every key
of one query) but each key keeps a bias :math:`-\lVert k\rVert^2 / 2h^2`.

Shapes are queries x keys, with an optional leading batch dimension:
``queries`` (n_q, d) and ``keys`` (n_k, d) give weights (n_q, n_k);
``queries`` (b, n_q, d) and ``keys`` (b, n_k, d) give (b, n_q, n_k), one
independent set of keys per batch entry (the tokens of one sequence, say).
A 1-D input of length n is read as n points in d = 1. Inputs may be numpy
arrays or torch tensors; outputs are torch tensors, and autograd flows through
tensor inputs.
"""

from __future__ import annotations

import math
import numbers

import torch

from ._validate import (
    ArrayLike,
    as_float_tensor,
    as_width,
    common_dtype,
    compute_dtype,
    same_device,
)

Tensor = torch.Tensor

__all__ = [
    "as_batched_points",
    "normalize",
    "random_unit_vectors",
    "temperature_from_width",
    "width_from_temperature",
    "vaswani_temperature",
    "sq_distances",
    "gaussian_weights",
    "dot_product_weights",
    "key_bias",
    "biased_dot_product_weights",
    "sphere_identity_error",
]


def as_batched_points(x: ArrayLike, name: str) -> Tensor:
    """Points as a (n, d) or (b, n, d) floating tensor; a 1-D input becomes (n, 1).

    Dtype: the input's floating dtype; integers, booleans and Python numbers as
    float64.

    Raises
    ------
    TypeError
        For non-numeric input.
    ValueError
        For an empty input, NaN/inf entries, or more than 3 dimensions.
    """
    t = as_float_tensor(x, name)
    if t.ndim == 0:
        t = t.reshape(1, 1)
    elif t.ndim == 1:
        t = t.unsqueeze(1)
    elif t.ndim > 3:
        raise ValueError(
            f"{name} must have shape (n,), (n, d) or (b, n, d), "
            f"got shape {tuple(t.shape)}"
        )
    return t


def _pair(queries: ArrayLike, keys: ArrayLike) -> tuple[Tensor, Tensor]:
    """Validate a query/key pair: same d, same batch size (if any), one dtype."""
    q = as_batched_points(queries, "queries")
    k = as_batched_points(keys, "keys")
    if q.ndim != k.ndim:
        raise ValueError(
            f"queries and keys must both be batched (b, n, d) or both not, "
            f"got queries of shape {tuple(q.shape)} and keys of shape {tuple(k.shape)}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"queries and keys must have the same number of coordinates d, "
            f"got queries with d={q.shape[-1]} and keys with d={k.shape[-1]}"
        )
    if q.ndim == 3 and q.shape[0] != k.shape[0]:
        raise ValueError(
            f"queries and keys must have the same batch size, "
            f"got {q.shape[0]} and {k.shape[0]}"
        )
    same_device(queries=q, keys=k)
    dt = common_dtype(q, k)
    return q.to(dt), k.to(dt)


def _scalar_positive(x: ArrayLike, name: str, like: Tensor) -> Tensor:
    """A single positive number as a 0-d tensor in ``like``'s dtype (graph kept)."""
    t = as_width(x, name)
    if t.numel() != 1:
        raise ValueError(
            f"{name} must be a single positive number, got shape {tuple(t.shape)}"
        )
    out = t.reshape(()).to(dtype=like.dtype, device=like.device)
    low = out.detach()
    if not bool(torch.isfinite(low)) or float(low) < torch.finfo(low.dtype).tiny:
        raise ValueError(
            f"{name} = {float(t.detach().reshape(())):g} is not representable in "
            f"{low.dtype}, the dtype of the points (it becomes {float(low):g}); "
            f"rescale the points (the weights are scale equivariant) or pass "
            f"them in float64"
        )
    return out


def normalize(x: ArrayLike, *, name: str = "x", eps: float = 0.0) -> Tensor:
    r"""Project points onto the unit sphere: :math:`x / \lVert x\rVert` along the last axis.

    Dtype: the input's, float16/bfloat16 in float32. Each vector is divided by its
    largest coordinate before its norm is taken, so norms of 1e20 or 1e-20 do not
    overflow or underflow in float32.

    Parameters
    ----------
    x : (n,), (n, d) or (b, n, d)
        Points (a 1-D input of length n is n points in d = 1, which all land on -1 or +1).
    name : str
        Argument name used in error messages.
    eps : float
        Vectors with norm ``<= eps`` count as zero (default: only exact zeros).

    Returns
    -------
    Tensor of the same shape as ``as_batched_points(x)``, every row of unit length.

    Raises
    ------
    ValueError
        If any vector is (numerically) zero: it has no direction, so no point
        on the sphere represents it. The message says how many and where.
    """
    t = as_batched_points(x, name)
    t = t.to(compute_dtype(t))
    # divide by the largest |coordinate| first: |(1e20, 1e20)|^2 overflows float32
    big = t.detach().abs().amax(dim=-1, keepdim=True)
    u = t / big.clamp(min=torch.finfo(t.dtype).tiny)
    unorm = torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    zero = (unorm * big <= eps).squeeze(-1)
    if zero.any():
        first = tuple(int(i) for i in torch.nonzero(zero)[0])
        raise ValueError(
            f"{name} has {int(zero.sum())} zero vector(s) (first at index {first}); "
            f"a zero vector has no direction and cannot be projected onto the "
            f"unit sphere"
        )
    return u / unorm


def random_unit_vectors(
    n: int,
    d: int,
    *,
    batch: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """Points uniform on the unit sphere in d dimensions: normalized standard normals.

    Returns shape (n, d), or (batch, n, d) when ``batch`` is given. Seeded.

    Dtype: ``dtype`` (float64 by default).
    """
    for val, nm in ((n, "n"), (d, "d")):
        if not isinstance(val, numbers.Integral) or isinstance(val, bool) or val < 1:
            raise ValueError(f"{nm} must be a positive integer, got {val!r}")
    if batch is not None and (not isinstance(batch, numbers.Integral) or batch < 1):
        raise ValueError(f"batch must be a positive integer or None, got {batch!r}")
    g = torch.Generator().manual_seed(seed)
    shape = (n, d) if batch is None else (batch, n, d)
    z = torch.randn(shape, generator=g, dtype=dtype)
    return z / torch.linalg.vector_norm(z, dim=-1, keepdim=True)


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


def sq_distances(queries: ArrayLike, keys: ArrayLike) -> Tensor:
    r"""Squared Euclidean distances :math:`\lVert q_j - k_i\rVert^2`, formed from differences.

    Shapes (n_q, d), (n_k, d) -> (n_q, n_k); (b, n_q, d), (b, n_k, d) -> (b, n_q, n_k).
    Memory is n_q x n_k x d per batch entry.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums). Differences are squared (not dot products), exact for data
    far from the origin. Each difference vector is first divided by a power of two
    near its largest coordinate (exact), squared and summed there, and scaled back
    once: no coordinate's square underflows or overflows on its own. The result
    itself, a squared length, still leaves the dtype's normal range for distances
    below the square root of its smallest normal number (about 1e-19 in float32,
    1e-154 in float64: a subnormal with fewer significant bits, or 0) or above the
    square root of its largest (1e19 in float32): there only its own rounding is lost.

    Examples
    --------
    >>> sq_distances([[0.0, 0.0]], [[3.0, 4.0]]).tolist()
    [[25.0]]
    """
    q, k = _pair(queries, keys)
    diff = q.unsqueeze(-2) - k.unsqueeze(-3)  # (..., n_q, n_k, d)
    big = diff.detach().abs().amax(-1, keepdim=True)
    _, e = torch.frexp(torch.where(big > 0, big, torch.ones_like(big)))
    s = torch.ldexp(torch.ones_like(big), e)  # a power of two: dividing by it is exact
    r = diff / s
    return (r * r).sum(-1) * (s * s).squeeze(-1)


def gaussian_weights(queries: ArrayLike, keys: ArrayLike, width: ArrayLike) -> Tensor:
    r"""Gaussian attention weights :math:`\operatorname{softmax}_i(-\lVert q - k_i\rVert^2/2h^2)`.

    The distance form (no dot products), for unbatched or batched inputs; the
    unbatched case agrees with :func:`nwlib.pooling.attention_weights` with the
    Gaussian kernel. Nothing is normalized here: pass :func:`normalize` d points
    to work on the sphere.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums). Differences are divided by the width before they are
    squared; where every key of a query lies so many widths away that its squared
    scaled distance overflows (a width below about 1e-154 of the distances in
    float64), the squared distances are shifted by the nearest one first, so the
    nearest key gets the weight (ties share it) instead of NaN.

    Parameters
    ----------
    queries : (n_q, d) or (b, n_q, d)
    keys : (n_k, d) or (b, n_k, d)
    width : float
        :math:`h > 0`.

    Returns
    -------
    Tensor, (n_q, n_k) or (b, n_q, n_k); each row sums to 1.
    """
    q, k = _pair(queries, keys)
    h = _scalar_positive(width, "width", q)
    diff = (q.unsqueeze(-2) - k.unsqueeze(-3)) / h  # scaled before squaring
    r2 = (diff * diff).sum(-1)
    far = torch.isinf(r2).all(-1, keepdim=True)  # every key beyond sqrt(max) widths
    if bool(far.any()):
        r2 = torch.where(far, _shifted_sq_norms(diff), r2)
    return torch.softmax(-0.5 * r2, dim=-1)


def _shifted_sq_norms(r: Tensor) -> Tensor:
    r""":math:`\lVert r\rVert^2 - \min_i \lVert r_i\rVert^2` along the keys, without overflow.

    For rows whose every squared scaled distance overflows (a width below about
    1e-154 of the distances in float64, 1e-19 in float32): the norms are formed
    from power-of-two-scaled vectors and the difference of squares as
    :math:`(n - m)(n + m)`, so the nearest key scores 0 and the softmax gives it
    its weight instead of inf - inf = NaN.
    """
    big = r.detach().abs().amax(-1, keepdim=True)
    _, e = torch.frexp(torch.where(big > 0, big, torch.ones_like(big)))
    p = torch.ldexp(torch.ones_like(big), e)
    n = torch.linalg.vector_norm(r / p, dim=-1) * p.squeeze(-1)
    m = n.amin(-1, keepdim=True)
    return (n - m) * (n + m)


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
    q, k = _pair(queries, keys)
    t = _scalar_positive(
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
    h = _scalar_positive(width, "width", k)
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
    q, k = _pair(queries, keys)
    h = _scalar_positive(width, "width", q)
    c = k.detach().mean(
        -2, keepdim=True
    )  # the keys' centre; shifting both by it changes a
    qc, kc = (q - c) / h, (k - c) / h  # query's scores by one constant, which cancels
    scores = qc @ kc.transpose(-1, -2) + key_bias(kc, 1.0).unsqueeze(-2)
    return torch.softmax(scores, dim=-1)


def sphere_identity_error(
    queries: ArrayLike, keys: ArrayLike, width: ArrayLike
) -> float:
    r"""Largest gap between Gaussian weights and :math:`\operatorname{softmax}(q\cdot k/h^2)`.

    Both sides are computed from the points projected onto the unit sphere
    (:func:`normalize`): the Gaussian side from distances, the other from dot
    products. Returns :math:`\max_{j,i} |a^{\text{gauss}}_{ji} - a^{\text{dot}}_{ji}|`,
    about the floating-point precision when the identity holds.

    Dtype: as :func:`normalize` and :func:`gaussian_weights`.
    """
    q = normalize(queries, name="queries")
    k = normalize(keys, name="keys")
    h = as_width(width)
    gauss = gaussian_weights(q, k, h)
    dot = dot_product_weights(q, k, temperature_from_width(h))
    return float((gauss - dot).abs().max())
