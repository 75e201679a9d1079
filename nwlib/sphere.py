r"""From Gaussian attention pooling to scaled dot-product attention.

For any queries and keys,

.. math::

    \lVert q - k\rVert^2 = \lVert q\rVert^2 + \lVert k\rVert^2 - 2\, q\cdot k ,

so on the unit sphere (:math:`\lVert q\rVert = \lVert k\rVert = 1`) the squared
distance is :math:`2 - 2\,q\cdot k` and the Gaussian attention weights are

.. math::

    \frac{\exp(-\lVert q - k_i\rVert^2 / 2h^2)}
         {\sum_j \exp(-\lVert q - k_j\rVert^2 / 2h^2)}
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
The dot-product side (temperatures, :func:`dot_product_weights`,
:func:`key_bias`, :func:`biased_dot_product_weights`) lives in
:mod:`nwlib.dot_product` and is re-exported here.
"""

from __future__ import annotations

import numbers

import torch

from ._batched import as_batched_points, pair, scalar_positive
from ._validate import ArrayLike, as_width, compute_dtype
from .dot_product import (
    biased_dot_product_weights,
    dot_product_weights,
    key_bias,
    temperature_from_width,
    vaswani_temperature,
    width_from_temperature,
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


def normalize(x: ArrayLike, *, name: str = "x", eps: float = 0.0) -> Tensor:
    r"""Project points onto the unit sphere: :math:`x / \lVert x\rVert` (last axis).

    Each vector is divided by its largest coordinate before its norm is taken, so
    norms of 1e20 or 1e-20 do not overflow or underflow in float32.

    Parameters
    ----------
    x : Tensor or array_like, shape (n,), (n, d) or (b, n, d)
        Points (a 1-D input of length n is n points in d = 1, which all land on -1
        or +1). Integers as float64, float16/bfloat16 computed in float32.
    name : str, default "x"
        Argument name used in error messages.
    eps : float, default 0.0
        Vectors with norm ``<= eps`` (in the units of ``x``) count as zero
        (default: only exact zeros).

    Returns
    -------
    Tensor, shape (n, d) or (b, n, d)
        Every row of unit length (unitless); the input's floating dtype, float32
        for float16/bfloat16; autograd flows through a tensor input.

    Raises
    ------
    ValueError
        If any vector is (numerically) zero: it has no direction, so no point on
        the sphere represents it. The message says how many and where. Also for
        NaN/inf, an empty input or more than 3 dimensions.
    TypeError
        For non-numeric input.

    Examples
    --------
    >>> print(normalize([[3.0, 4.0], [0.0, -2.0]]).tolist())
    [[0.6, 0.8], [0.0, -1.0]]
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
    r"""Points uniform on the unit sphere in d dimensions: normalized standard normals.

    Parameters
    ----------
    n : int
        Number of points (>= 1).
    d : int
        Dimension (>= 1).
    batch : int, optional
        Draw ``batch`` independent sets (a leading batch dimension).
    seed : int, default 0
        Seed of a private ``torch.Generator`` (the global random state is left
        alone).
    dtype : torch.dtype, default torch.float64
        Dtype of the draws and the result.

    Returns
    -------
    Tensor, shape (n, d) or (batch, n, d)
        Unit vectors, in ``dtype``.

    Raises
    ------
    ValueError
        If ``n``, ``d`` or ``batch`` is not a positive integer.

    References
    ----------
    Vaswani et al. (2017) reason with queries and keys of independent zero-mean,
    unit-variance coordinates; normalized, standard normal vectors are uniform
    on the sphere.

    Examples
    --------
    >>> u = random_unit_vectors(4, 3, seed=0)
    >>> tuple(u.shape), f"{float(u.norm(dim=1).max()):.6f}"
    ((4, 3), '1.000000')
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


def sq_distances(queries: ArrayLike, keys: ArrayLike) -> Tensor:
    r"""Squared Euclidean distances :math:`\lVert q_j - k_i\rVert^2`, from differences.

    Memory is n_q x n_k x d per batch entry. Differences are squared (not dot
    products), exact for data far from the origin. Each difference vector is first
    divided by a power of two near its largest coordinate (exact), squared and
    summed there, and scaled back once: no coordinate's square underflows or
    overflows on its own. The result itself, a squared length, still leaves the
    dtype's normal range for distances below the square root of its smallest normal
    number (about 1e-19 in float32, 1e-154 in float64: a subnormal with fewer
    significant bits, or 0) or above the square root of its largest (1e19 in
    float32): there only its own rounding is lost.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q, d) or (b, n_q, d)
        Query points (1-D: n_q points in d = 1).
    keys : Tensor or array_like, shape (n_k, d) or (b, n_k, d)
        Key points, batched like ``queries``.

    Returns
    -------
    Tensor, shape (n_q, n_k) or (b, n_q, n_k)
        In the squared units of the points. Dtype: the inputs' floating dtype,
        promoted (float64 wins); integers, booleans and Python numbers as float64
        (float32 would round integers above 2**24), float16 and bfloat16 in float32.

    Raises
    ------
    ValueError
        If queries and keys differ in d, in batch size, or one is batched and the
        other not; for NaN/inf or empty input.
    TypeError
        For non-numeric input.

    Examples
    --------
    >>> sq_distances([[0.0, 0.0]], [[3.0, 4.0]]).tolist()
    [[25.0]]
    """
    q, k = pair(queries, keys)
    diff = q.unsqueeze(-2) - k.unsqueeze(-3)  # (..., n_q, n_k, d)
    big = diff.detach().abs().amax(-1, keepdim=True)
    _, e = torch.frexp(torch.where(big > 0, big, torch.ones_like(big)))
    s = torch.ldexp(torch.ones_like(big), e)  # a power of two: dividing by it is exact
    r = diff / s
    return (r * r).sum(-1) * (s * s).squeeze(-1)


def gaussian_weights(queries: ArrayLike, keys: ArrayLike, width: ArrayLike) -> Tensor:
    r"""Gaussian weights :math:`\mathrm{softmax}_i(-\lVert q - k_i\rVert^2/2h^2)`.

    The distance form (no dot products), for unbatched or batched inputs; the
    unbatched case agrees with :func:`nwlib.pooling.attention_weights` with the
    Gaussian kernel. Nothing is normalized here: pass :func:`normalize` d points to
    work on the sphere. Differences are divided by the width before they are
    squared; where every key of a query lies so many widths away that its squared
    scaled distance overflows (a width below about 1e-154 of the distances in
    float64), the squared distances are shifted by the nearest one first, so the
    nearest key gets the weight (ties share it) instead of NaN.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q, d) or (b, n_q, d)
        Query points (1-D: n_q points in d = 1).
    keys : Tensor or array_like, shape (n_k, d) or (b, n_k, d)
        Key points, batched like ``queries``.
    width : float or Tensor
        One width :math:`h > 0`, in the units of the points; autograd flows through
        a tensor.

    Returns
    -------
    Tensor, shape (n_q, n_k) or (b, n_q, n_k)
        Each row sums to 1. Dtype: the inputs' floating dtype, promoted (float64
        wins); integers, booleans and Python numbers as float64, float16 and
        bfloat16 in float32.

    Raises
    ------
    ValueError
        For mismatched queries and keys (as :func:`sq_distances`), a width that is
        not one positive number, or one that the points' dtype cannot hold.

    References
    ----------
    Nadaraya (1964), Watson (1964).

    Examples
    --------
    >>> w = gaussian_weights([[0.0]], [[0.0], [1.0], [3.0]], 1.0)
    >>> print(", ".join(f"{v:.4f}" for v in w[0].tolist()))
    0.6182, 0.3749, 0.0069
    """
    q, k = pair(queries, keys)
    h = scalar_positive(width, "width", q)
    diff = (q.unsqueeze(-2) - k.unsqueeze(-3)) / h  # scaled before squaring
    r2 = (diff * diff).sum(-1)
    far = torch.isinf(r2).all(-1, keepdim=True)  # every key beyond sqrt(max) widths
    if bool(far.any()):
        r2 = torch.where(far, _shifted_sq_norms(diff), r2)
    return torch.softmax(-0.5 * r2, dim=-1)


def _shifted_sq_norms(r: Tensor) -> Tensor:
    r""":math:`\lVert r\rVert^2 - \min_i \lVert r_i\rVert^2` over keys, no overflow.

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


def sphere_identity_error(
    queries: ArrayLike, keys: ArrayLike, width: ArrayLike
) -> float:
    r"""Largest gap between Gaussian weights and :math:`\mathrm{softmax}(q\cdot k/h^2)`.

    Both sides are computed from the points projected onto the unit sphere
    (:func:`normalize`): the Gaussian side from distances, the other from dot
    products.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q, d) or (b, n_q, d)
        Query points (any nonzero length; they are normalized).
    keys : Tensor or array_like, shape (n_k, d) or (b, n_k, d)
        Key points, batched like ``queries``.
    width : float or Tensor
        The Gaussian width :math:`h > 0` (unitless on the sphere); the dot-product
        side uses the temperature :math:`h^2`.

    Returns
    -------
    float
        :math:`\max_{j,i} |a^{\text{gauss}}_{ji} - a^{\text{dot}}_{ji}|`, about the
        floating-point precision of the dtype (as :func:`normalize`) when the
        identity holds.

    Raises
    ------
    ValueError
        For a zero vector (it has no direction), mismatched shapes, or a width
        that is not positive.

    References
    ----------
    Vaswani et al. (2017); Tsai et al. (2019), attention as a kernel smoother.

    Examples
    --------
    >>> q, k = random_unit_vectors(5, 8, seed=1), random_unit_vectors(7, 8, seed=2)
    >>> sphere_identity_error(q, k, 0.7) < 1e-15
    True
    """
    q = normalize(queries, name="queries")
    k = normalize(keys, name="keys")
    h = as_width(width)
    gauss = gaussian_weights(q, k, h)
    dot = dot_product_weights(q, k, temperature_from_width(h))
    return float((gauss - dot).abs().max())
