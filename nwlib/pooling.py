r"""Attention pooling by similarity: the Nadaraya-Watson estimator.

For queries :math:`q_j`, keys :math:`k_i` and values :math:`v_i`,

.. math::

    a(q_j, k_i) = \frac{K(\lVert q_j - k_i\rVert / h)}{\sum_l K(\lVert q_j - k_l\rVert / h)},
    \qquad f(q_j) = \sum_i a(q_j, k_i)\, v_i .

Shapes are always queries x keys: ``queries`` (n_q,) or (n_q, d), ``keys``
(n_k,) or (n_k, d), ``values`` (n_k,) or (n_k, m); the weights are
(n_q, n_k) with rows summing to 1, the estimate (n_q,) or (n_q, m).

The weights are computed as a softmax over keys of the log-kernel, so a
Gaussian with a tiny width never turns into 0/0. With a compact kernel
(boxcar, Epanechnikov, triangular) a query with no key inside the support
really is 0/0: its row of weights is set to NaN and a ``RuntimeWarning`` says
how many queries are affected (or ``on_empty="raise"`` raises ``ValueError``).

Speed and memory (:func:`nadaraya_watson`)
------------------------------------------
The estimate never forms the (n_q, n_k) matrix: queries are processed in
blocks of ``block_size`` rows, so peak memory is O(block_size x n_k), with the
block size chosen from ``memory_budget`` by :func:`choose_block_size`. Inside
a block each row of log-scores is shifted by its maximum (the nearest key gets
:math:`e^0 = 1`) and, for the Gaussian, shifted log-weights at or below
:math:`\log(\text{tiny}) + 4` (about -83 in float32, -704 in float64) are clamped
there before ``exp`` (``exp`` of them would be subnormal, which is 10-100x
slower) and the keys they belong to then get weight exactly 0: their true
weights are smaller than that, so no key holds more weight than the exact
answer gives it. Keys outside a
compact kernel's support, and the left-out point of ``exclude_self``, get
exactly 0 weight too. For widths outside [1e-10, 1e10] or data beyond 1e15,
squared differences are formed after a scaling by a power of 2 near :math:`1/h`
(exact), so units of 1e-20 or 1e20 neither underflow nor overflow; differences :math:`q - k` are formed directly, so a common offset
does not enter them (they are exact when the offset dominates).

Dtype: by default everything is computed in the floating dtype of the inputs
(float64 arrays give float64 results; integers, booleans and Python numbers are
float64, as in numpy; float16 and bfloat16 are computed in float32, since 11 or
8 bits cannot hold squared distances or sums over many keys).
``dtype=torch.float32`` is the fast choice (about 1.7x the throughput); on data
with more precision it first centres queries and keys (and values) in their own
precision, so that an offset costs no digits. Its products are summed in float32 over
chunks of 4096 keys and the chunk totals in float64, so on the running example
its estimates agree with float64 to better than 1e-6 of the range of the
values, up to 10^6 keys (``tests/test_pooling_speed.py``). ``device="cuda"``
runs the same code on a GPU.

For 1-D inputs with a scalar width, large problems (n_q x n_k >= 2^22, no
autograd) go to :func:`nwlib.scale.banded_nadaraya_watson`, which visits only
the keys that carry weight (exact to the dtype's precision); ``banded=False``
visits every key. On a CPU the blocks are shared among ``torch.get_num_threads()``
threads (the caller plus helpers), each running torch single-threaded.
"""
from __future__ import annotations

import functools
import math
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable

import torch
from torch.utils.checkpoint import checkpoint

from ._validate import (ArrayLike, as_float_tensor, as_points, as_width, common_dtype, compute_dtype,
                        precision, same_device)
from .kernels import KERNELS, Kernel, get_kernel

Tensor = torch.Tensor

__all__ = ["scaled_sq_distances", "log_scores", "attention_weights", "nadaraya_watson",
           "choose_block_size", "DEFAULT_MEMORY_BUDGET"]

#: Bytes the temporaries of one block of :func:`nadaraya_watson` may take by default.
DEFAULT_MEMORY_BUDGET = 256 * 2 ** 20
#: Upper bound on block_size x n_k for speed: blocks that stay in the CPU's caches.
_BLOCK_ELEMENTS = 2 ** 20
#: Keys per float32 partial sum (the partial sums are added in float64).
_CHUNK = 4096
#: From this many (query, key) pairs on, 1-D problems take the banded path by default.
_BANDED_MIN = 2 ** 22


def _resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, str):
        dt = getattr(torch, dtype.strip().lower(), None)
        if not isinstance(dt, torch.dtype):
            raise ValueError(f"dtype must be a floating torch dtype such as torch.float32 or "
                             f"'float64', got {dtype!r}")
        dtype = dt
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype such as torch.float32, got {dtype!r}")
    return dtype


def _work_dtype(dtype: torch.dtype | None) -> torch.dtype | None:
    """The dtype a requested ``dtype`` is computed in: float16/bfloat16 in float32."""
    return None if dtype is None else compute_dtype(dtype)


def _offset(x: Tensor) -> Tensor | None:
    """A common offset of the columns of ``x`` worth removing, or ``None``.

    Per column: the midpoint of its range, where it is larger than the range (an
    offset that dominates the spread, such as Unix time stamps), else 0. Data
    around the origin, or with far outliers, are left as they are.
    """
    lo, hi = torch.aminmax(x.detach(), dim=0)
    mid, spread = lo + (hi - lo) / 2, hi - lo
    c = torch.where(mid.abs() > spread, mid, torch.zeros_like(mid))
    return c if bool((c != 0).any()) else None


def _centre_for(dt: torch.dtype, *points: Tensor) -> tuple[Tensor, ...]:
    """Points translated by a common offset of the last ones (the keys) before a cast to ``dt``.

    Only when ``dt`` holds less precision than the points: the translation is
    done in their precision, so a large common offset (time stamps, say) is not
    rounded into the differences. Distance-based results do not change.
    """
    src = compute_dtype(*points)
    if precision(dt) <= precision(src):
        return points
    c = _offset(points[-1].to(src))
    return points if c is None else tuple(p.to(src) - c for p in points)


def _prepare(queries: ArrayLike, keys: ArrayLike, width: ArrayLike, *,
             dtype: torch.dtype | str | None = None, device: torch.device | str | None = None,
             ) -> tuple[Tensor, Tensor, Tensor]:
    """Validated queries, keys (both (n, d)) and width in the compute dtype.

    The compute dtype is ``dtype`` if given, else :func:`nwlib._validate.compute_dtype`
    of the queries and keys (float16/bfloat16 become float32). When ``dtype`` holds
    less precision than the inputs, both are first shifted by the middle of the keys' range, in
    their own precision, where it dominates that range (see ``_offset``).
    """
    dtype = _work_dtype(_resolve_dtype(dtype))
    q = as_points(queries, "queries", device=device)
    k = as_points(keys, "keys", device=device)
    h = as_width(width)
    if device is not None:
        h = h.to(device)
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"queries and keys must have the same number of coordinates d, "
                         f"got queries with d={q.shape[1]} and keys with d={k.shape[1]}")
    same_device(queries=q, keys=k, width=h)
    dt = dtype or common_dtype(q, k)
    if dtype is not None:
        q, k = _centre_for(dt, q, k)
    q, k = q.to(dt), k.to(dt)
    h = h.to(dt) if h.dtype != dt else h
    n_k, d = k.shape
    if h.ndim == 0:
        pass
    elif h.ndim == 1 and h.shape[0] == d:
        pass
    elif h.ndim == 1 and h.shape[0] == 1:
        h = h.reshape(())
    elif h.ndim == 2 and h.shape[0] == n_k and h.shape[1] in (1, d):
        pass
    else:
        raise ValueError(
            f"width must be a scalar, one width per coordinate (shape ({d},)), or one "
            f"width per key (shape ({n_k}, 1) or ({n_k}, {d})); got shape {tuple(h.shape)}")
    return q, k, h


def scaled_sq_distances(queries: ArrayLike, keys: ArrayLike, width: ArrayLike, *,
                        dtype: torch.dtype | str | None = None,
                        device: torch.device | str | None = None) -> Tensor:
    r"""Squared scaled distances :math:`r^2_{ji} = \sum_c ((q_{jc} - k_{ic}) / h_{ic})^2`.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums); ``dtype`` overrides it (a half dtype is computed in float32
    and returned in it). Differences are divided by the width before they are
    squared, so scales from 1e-20 to 1e20 neither overflow nor underflow.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d)
    keys : (n_k,) or (n_k, d)
    width : scalar, (d,), or (n_k, 1) / (n_k, d)
        One width, one per coordinate, or one per key. Must be > 0.
    dtype, device : optional
        Compute in this dtype / on this device (default: the inputs').

    Returns
    -------
    Tensor, shape (n_q, n_k)

    Notes
    -----
    Differences are formed directly (not as :math:`\lVert q\rVert^2 + \lVert k\rVert^2 - 2q\cdot k`),
    which stays accurate when inputs carry a large common offset.
    """
    q, k, h = _prepare(queries, keys, width, dtype=dtype, device=device)
    return _out(_sq_dist(q, k, h), dtype)


def _sq_dist(q: Tensor, k: Tensor, h: Tensor) -> Tensor:
    if q.shape[1] == 1 and h.ndim == 0:  # 1-D fast path: no (n_q, n_k, 1) detour
        return ((q - k.T) / h) ** 2
    diff = (q.unsqueeze(1) - k.unsqueeze(0)) / h  # (n_q, n_k, d)
    return (diff * diff).sum(-1)


def _check_exclude_self(n_q: int, n_k: int) -> None:
    if n_q != n_k:
        raise ValueError(f"exclude_self needs queries and keys to be the same points, "
                         f"got {n_q} queries and {n_k} keys")
    if n_k < 2:
        raise ValueError("exclude_self needs at least 2 keys: with 1 key no other key is left")


def log_scores(queries: ArrayLike, keys: ArrayLike, width: ArrayLike,
               kernel: str | Kernel = "gaussian", *, exclude_self: bool = False,
               dtype: torch.dtype | str | None = None,
               device: torch.device | str | None = None) -> Tensor:
    r"""Log-kernel scores :math:`s_{ji} = \log K(r_{ji})`, shape (n_q, n_k).

    ``-inf`` marks a key outside a compact kernel's support. With
    ``exclude_self=True`` (queries are the keys, in the same order) the diagonal
    is set to ``-inf``: each point is left out of its own prediction, the
    leave-one-out form.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums); ``dtype`` overrides it. Scaled differences are squared, so
    the scores do not change when queries, keys and width are multiplied by one
    factor or shifted together.
    """
    return _out(_log_scores(queries, keys, width, kernel, exclude_self, dtype, device), dtype)


def _out(t: Tensor, dtype: torch.dtype | str | None) -> Tensor:
    """A result in the requested ``dtype`` (computed in float32 when that is a half dtype)."""
    dt = _resolve_dtype(dtype)
    return t if dt is None else t.to(dt)


def _log_scores(queries: ArrayLike, keys: ArrayLike, width: ArrayLike, kernel: str | Kernel,
                exclude_self: bool, dtype: torch.dtype | str | None,
                device: torch.device | str | None) -> Tensor:
    q, k, h = _prepare(queries, keys, width, dtype=dtype, device=device)
    s = get_kernel(kernel).log_profile(_sq_dist(q, k, h))
    if exclude_self:
        _check_exclude_self(q.shape[0], k.shape[0])
        s = s.masked_fill(torch.eye(k.shape[0], dtype=torch.bool, device=s.device), -torch.inf)
    return s


def _check_on_empty(on_empty: str) -> None:
    if on_empty not in ("nan", "raise"):
        raise ValueError(f"on_empty must be 'nan' or 'raise', got {on_empty!r}")


def _report_empty(n_empty: int, n_q: int, kernel: Kernel, on_empty: str, stacklevel: int) -> None:
    if not n_empty:
        return
    msg = (f"{n_empty} of {n_q} queries have no key inside the support of the "
           f"{kernel.name!r} kernel: their weights are 0/0 (undefined) and returned as NaN. "
           f"Use a wider width or a kernel with unbounded support such as 'gaussian'.")
    if on_empty == "raise":
        raise ValueError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=stacklevel)


def _softmax_rows(s: Tensor, kernel: Kernel, on_empty: str) -> Tensor:
    _check_on_empty(on_empty)
    w = torch.softmax(s, dim=1)
    empty = torch.isneginf(s).all(dim=1)
    n_empty = int(empty.sum())
    _report_empty(n_empty, s.shape[0], kernel, on_empty, stacklevel=4)
    if n_empty:
        w = w.masked_fill(empty.unsqueeze(1), torch.nan)
    return w


def attention_weights(queries: ArrayLike, keys: ArrayLike, width: ArrayLike,
                      kernel: str | Kernel = "gaussian", *, exclude_self: bool = False,
                      on_empty: str = "nan", dtype: torch.dtype | str | None = None,
                      device: torch.device | str | None = None) -> Tensor:
    r"""Attention weights :math:`a(q_j, k_i)`, a (n_q, n_k) matrix with rows summing to 1.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums); ``dtype`` overrides it (when it holds less precision than
    the inputs, an offset that dominates the keys' spread is first removed in their
    own precision).
    The softmax normalizes log-scores: no weight is exponentiated before the
    normalization.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d) array or tensor
    keys : (n_k,) or (n_k, d) array or tensor
    width : float or tensor
        :math:`h > 0`: a scalar, (d,) per coordinate, or (n_k, 1)/(n_k, d) per key.
        Autograd flows through a tensor width.
    kernel : str or Kernel
        One of ``nwlib.kernels.KERNELS``.
    exclude_self : bool
        Leave each point out of its own prediction (queries must be the keys).
    on_empty : {"nan", "raise"}
        What a query with no key inside a compact kernel's support gets.
    dtype, device : optional
        Compute in this dtype / on this device (default: the inputs').

    Returns
    -------
    Tensor, shape (n_q, n_k), in the floating dtype of the inputs (or ``dtype``).

    Notes
    -----
    This returns the whole matrix, so it needs O(n_q x n_k) memory; for the
    estimate alone use :func:`nadaraya_watson`, which works in blocks.
    """
    kern = get_kernel(kernel)
    s = _log_scores(queries, keys, width, kern, exclude_self, dtype, device)
    return _out(_softmax_rows(s, kern, on_empty), dtype)


# --------------------------------------------------------------------------- blocked estimate

def _buffers_per_row(kernel: Kernel, d: int, requires_grad: bool) -> int:
    """How many (n_k,)-rows of temporaries one query needs inside a block (an upper bound)."""
    if requires_grad:  # out-of-place graph of one block: distances, scores, weights, masks
        return 8 + 2 * d
    base = 1 if d == 1 else 2  # the score buffer (+ one coordinate's differences)
    return base if _is_gaussian(kernel) else base + 5  # log_profile allocates its own


def choose_block_size(n_queries: int, n_keys: int, *, dtype: torch.dtype = torch.float32,
                      d: int = 1, kernel: str | Kernel = "gaussian",
                      memory_budget: int | None = None, requires_grad: bool = False,
                      workers: int = 1) -> int:
    r"""Queries per block so that one block's temporaries fit in ``memory_budget`` bytes.

    A block of :math:`B` queries needs :math:`c \cdot B \cdot n_k` numbers of
    ``dtype`` (:math:`c` = 1 for the 1-D Gaussian without autograd, more for other
    kernels, d > 1 and autograd, see ``_buffers_per_row``), so

    .. math:: B = \min\big(n_q,\ \lfloor \text{budget} / (c\, n_k\, \text{itemsize}) \rfloor\big),

    capped further at about :math:`2^{20} / n_k` rows without autograd (blocks
    that stay in cache are faster). Without autograd ``workers`` threads each hold
    one block, so the budget is shared among them. Peak memory is O(B x n_k),
    never O(n_q x n_k).

    Dtype: only the item size of ``dtype`` enters (bytes per number).

    Raises
    ------
    ValueError
        If the budget cannot hold even one query row.
    """
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")
    itemsize = torch.empty((), dtype=dtype).element_size()
    per_row = _buffers_per_row(get_kernel(kernel), d, requires_grad) * n_keys * itemsize
    rows = int(budget // (per_row * (1 if requires_grad else workers)))
    if rows < 1:
        raise ValueError(f"memory_budget={budget:.4g} bytes cannot hold one query row of "
                         f"{n_keys} keys ({per_row} bytes): raise memory_budget")
    if not requires_grad:
        rows = min(rows, max(1, _BLOCK_ELEMENTS // max(n_keys, 1)))
        if workers > 1 and n_queries * n_keys > _BLOCK_ELEMENTS // 4:  # give every worker a share
            rows = min(rows, -(-n_queries // workers))
    return max(1, min(n_queries, rows))


def _is_gaussian(kernel: Kernel) -> bool:
    return kernel.log_profile is KERNELS["gaussian"].log_profile


def _exp_floor(dtype: torch.dtype) -> float:
    """Smallest log-weight sent to exp: exp of anything lower would be subnormal (slow).

    Keys whose log-weight (shifted so the nearest key has 0) is at or below it get
    weight exactly 0, never more than their true weight (below ``tiny * e**4``
    relative to the nearest key's): see :func:`_exp_floored_`.
    """
    return math.log(torch.finfo(dtype).tiny) + 4.0


@functools.lru_cache(maxsize=None)
def _floor_pair(dtype: torch.dtype) -> tuple[float, float]:
    """``(floor, exp(floor))``, the exponential computed in ``dtype`` as the blocks do."""
    floor = _exp_floor(dtype)
    return floor, float(torch.exp(torch.tensor(floor, dtype=dtype)))


def _exp_floored_(t: Tensor) -> Tensor:
    """``exp`` in place, with exactly 0 for arguments at or below :func:`_exp_floor`.

    Arguments are clamped at the floor (``exp`` of very negative numbers or of
    ``-inf`` takes a slow path, 7-100x slower), exponentiated, and the entries equal
    to ``exp(floor)`` are then set to 0: the clamp never hands a far key weight.
    """
    floor, e_floor = _floor_pair(t.dtype)
    return torch.nn.functional.threshold_(t.clamp_(min=floor).exp_(), e_floor, 0.0)


def _exp_floored(t: Tensor) -> Tensor:
    """Out-of-place :func:`_exp_floored_` (autograd flows; 0 gradient below the floor)."""
    floor, e_floor = _floor_pair(t.dtype)
    return torch.nn.functional.threshold(torch.exp(torch.clamp(t, min=floor)), e_floor, 0.0)


def _pow2_scaled(q: Tensor, k: Tensor, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Queries, keys and a scalar or per-coordinate width times a power of 2 near 1/h.

    Multiplying by a power of 2 is exact, and afterwards the width is in [0.7, 1.5),
    so squared differences neither overflow (data of scale 1e20 in float32) nor
    underflow (scale 1e-20) before they are divided by the squared width. Widths in
    [1e-10, 1e10] with data below 1e15 in size need no scaling (squares of both fit
    every float dtype from float32 up) and are returned as they are, as are per-key
    widths (which divide before squaring) and scalings that would overflow the data.
    """
    if h.ndim == 2:
        return q, k, h
    hlo, hhi = (float(x) for x in torch.aminmax(h.detach().reshape(-1)))
    big = max(abs(float(v)) for x in (q, k) for v in torch.aminmax(x.detach()))
    if 1e-10 <= hlo and hhi <= 1e10 and big <= 1e15:
        return q, k, h
    e = torch.round(torch.log2(h.detach().double())).clamp(-1000, 1000)
    s = torch.exp2(-e).to(q.dtype)
    smax = float(s.max())
    if not (smax > 0 and math.isfinite(smax)) or not smax * big < torch.finfo(q.dtype).max / 4:
        return q, k, h
    return q * s, k * s, h * s


def _sq_dist_into(buf: Tensor, tmp: Tensor | None, qb: Tensor, k: Tensor, h: Tensor,
                  scale: float) -> tuple[Tensor, float]:
    """``scale * r^2`` of a query block, in place in ``buf`` (no autograd).

    Returns ``(buf, coef)``: the wanted quantity is ``coef * buf`` (``coef`` is
    deferred for a scalar width so the caller can fold it into a later pass).
    """
    d = qb.shape[1]
    per_key = h.ndim == 2
    inv = h.reciprocal() if per_key else None
    hs = h.expand(d) if h.ndim == 0 else (h if h.ndim == 1 else None)
    coefs = [scale if per_key else scale / float(hs[c]) ** 2 for c in range(d)]
    for c in range(d):
        out = buf if c == 0 else tmp
        torch.sub(qb[:, c:c + 1], k[:, c], out=out)
        if per_key:
            out.mul_(inv[:, min(c, inv.shape[1] - 1)])
        if c == 0:
            out.square_()
            if d == 1:
                return buf, coefs[0]
            buf.mul_(coefs[0])
        else:
            buf.addcmul_(out, out, value=coefs[c])
    return buf, 1.0


def _fast_block(qb: Tensor, k: Tensor, h: Tensor, vt1: Tensor, kernel: Kernel,
                diag: int | None, buf: Tensor, tmp: Tensor | None,
                k_range: tuple[float, float] | None = None) -> Tensor:
    """Unnormalized sums ``[sum_i e_ji v_i ; sum_i e_ji]`` of a block, shape (m + 1, B).

    In-place and without autograd. ``diag`` is the block's first row index when
    the queries are the keys (exclude_self): entry (r, diag + r) is left out.
    ``k_range`` (1-D keys and a scalar width): the smallest and largest key; when
    no key can lie beyond the exp floor (:func:`_exp_floor`) of any query of the
    block, the floor's two passes are skipped.
    """
    if _is_gaussian(kernel):
        floor = True
        if k_range is not None:
            qlo, qhi = (float(x) for x in torch.aminmax(qb.detach()))
            far = max(qhi - k_range[0], k_range[1] - qlo) / float(h)
            floor = not 0.5 * far * far < -_exp_floor(qb.dtype) - 1.0
        t, coef = _sq_dist_into(buf, tmp, qb, k, h, 0.5)  # coef * t = r^2 / 2 = -log K
        if diag is not None:
            t.diagonal(diag).fill_(torch.inf)
        m = t.amin(1, keepdim=True)  # nearest key (max log K), in units of coef
        torch.sub(m, t, out=t)  # exactly 0 at the nearest key, even far from every key
        if coef != 1.0:  # log K - max log K = coef (m - t) <= 0
            t.mul_(coef)
        _exp_floored_(t) if floor else t.exp_()
        if diag is not None:
            t.diagonal(diag).zero_()
    else:
        r2, coef = _sq_dist_into(buf, tmp, qb, k, h, 1.0)
        if coef != 1.0:
            r2.mul_(coef)
        t = kernel.log_profile(r2)
        if diag is not None:
            t.diagonal(diag).fill_(-torch.inf)
        m = t.amax(1, keepdim=True)
        t.sub_(m.masked_fill_(torch.isneginf(m), 0.0)).exp_()  # exp(-inf) = 0 exactly
    return _weighted_sums(vt1, t)


def _weighted_sums(vt1: Tensor, e: Tensor) -> Tensor:
    """``vt1 @ e.T`` (c, B), accumulated in float64 across chunks of ``_CHUNK`` keys.

    A single float32 matrix product over 10^6 keys loses about 3e-5 of the values'
    range to rounding; float32 partial sums over chunks of 4096 keys added in
    float64 keep it near 5e-8, at the same speed.
    """
    n_k = e.shape[1]
    if e.dtype == torch.float64 or n_k < 2 * _CHUNK:
        return torch.mm(vt1, e.T).double()
    c, b, n_chunks = vt1.shape[0], e.shape[0], n_k // _CHUNK
    n = n_chunks * _CHUNK
    a = vt1[:, :n].reshape(c, n_chunks, _CHUNK).permute(1, 0, 2)  # (chunks, c, L)
    w = e[:, :n].reshape(b, n_chunks, _CHUNK).permute(1, 2, 0)  # (chunks, L, B)
    sums = torch.bmm(a, w).sum(0, dtype=torch.float64)
    if n < n_k:
        sums += torch.mm(vt1[:, n:], e[:, n:].T).double()
    return sums


class _GaussianWidthSums(torch.autograd.Function):
    r"""Block sums ``vt1 @ e.T`` of Gaussian weights, differentiable in a scalar width only.

    With :math:`r^2_{ji} = \lVert q_j - k_i\rVert^2 / h^2` and
    :math:`e_{ji} = \exp(-r^2_{ji}/2 - m_j)` (the row shift :math:`m_j` cancels in
    the ratio of sums), taking :math:`m_j = -r^2_{j,\min}/2` (the nearest key) gives
    :math:`\partial e_{ji} / \partial h = e_{ji}\,(r^2_{ji} - r^2_{j,\min}) / h`.
    So the forward pass also forms ``vt1 @ (e * (r2 - r2_min)).T`` and saves only that
    (m + 1, B) matrix: no (B, n_k) tensor is kept for the backward pass, which
    is one multiply-add per entry instead of autograd's chain of elementwise ops.
    """

    @staticmethod
    def forward(ctx, h: Tensor, qb: Tensor, k: Tensor, vt1: Tensor, diag: int | None) -> Tensor:
        r2 = _sq_dist(qb, k, h.reshape(()))
        t = -0.5 * r2
        if diag is not None:
            t.diagonal(diag).fill_(-torch.inf)
        m = t.amax(1, keepdim=True)  # -r2 / 2 of each query's nearest key
        _exp_floored_(t.sub_(m))
        if diag is not None:
            t.diagonal(diag).zero_()
        # Differentiate with the shift taken as a function of h too (it still cancels):
        # d e / d h = e (r2 - r2_nearest) / h. The nearest key then contributes 0, which
        # avoids cancelling two huge terms when h is tiny. Clamped entries are constant in
        # h (as under autograd): no derivative from them.
        r2.add_(2 * m.masked_fill(torch.isneginf(m), 0.0))
        de = (t * r2).masked_fill_(t == 0, 0.0)
        ctx.save_for_backward(h, torch.mm(vt1, de.T))
        return torch.mm(vt1, t.T)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_sums: Tensor):
        h, dsums = ctx.saved_tensors
        grad_h = (grad_sums * dsums).sum() / h.reshape(())
        return grad_h.reshape(h.shape), None, None, None, None


def _grad_block(qb: Tensor, k: Tensor, h: Tensor, vt1: Tensor, kernel: Kernel,
                diag: int | None) -> Tensor:
    """Same sums as :func:`_fast_block`, out of place so autograd can flow."""
    s = kernel.log_profile(_sq_dist(qb, k, h))
    mask = None
    if diag is not None:
        rows = torch.arange(qb.shape[0], device=s.device)
        mask = torch.zeros(s.shape, dtype=torch.bool, device=s.device)
        mask[rows, rows + diag] = True
        s = s.masked_fill(mask, -torch.inf)
    m = s.detach().amax(1, keepdim=True)
    t = s - m.masked_fill(torch.isneginf(m), 0.0)  # the shift cancels: no gradient needed
    if _is_gaussian(kernel):  # far keys: weight exactly 0 (see _exp_floor), no subnormals
        e = _exp_floored(t)
    else:
        e = torch.exp(t)
    return vt1 @ e.T


def nadaraya_watson(queries: ArrayLike, keys: ArrayLike, values: ArrayLike,
                    width: ArrayLike, kernel: str | Kernel = "gaussian", *,
                    exclude_self: bool = False, on_empty: str = "nan",
                    dtype: torch.dtype | str | None = None,
                    device: torch.device | str | None = None,
                    block_size: int | None = None,
                    memory_budget: int | None = None,
                    banded: bool | None = None) -> Tensor:
    r"""Nadaraya-Watson estimate :math:`f(q_j) = \sum_i a(q_j, k_i) v_i`, in blocks of queries.

    Dtype: computes in the inputs' floating dtype, promoted (float64 wins);
    integers, booleans and Python numbers as float64 (float32 would round integers
    above 2**24), float16 and bfloat16 in float32 (too few bits for squared
    distances and sums). ``dtype`` overrides it: a half dtype is computed in float32
    and returned in it; when it holds less precision than the inputs
    (``dtype=torch.float32`` on float64 data, the fast choice), queries and keys are
    first shifted by the middle of the keys' range and the values by theirs, in the
    inputs' precision, where that middle dominates the range (time stamps, say): an offset
    costs no digits. The fast path
    multiplies queries, keys and width by a power of 2 near 1/h (exact) before
    squaring differences, and the weighted sums are added in float64.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d)
    keys : (n_k,) or (n_k, d)
    values : (n_k,) or (n_k, m)
    width, kernel, exclude_self, on_empty
        As in :func:`attention_weights`.
    dtype : torch dtype or str, optional
        Compute (and return) in this dtype. Default: the common dtype of queries,
        keys and values (float64 inputs give float64). ``torch.float32`` is the
        fast choice.
    device : optional
        Move the inputs there (e.g. ``"cuda"``); default: where they are.
    block_size : int, optional
        Queries per block; default from ``memory_budget`` via :func:`choose_block_size`.
    memory_budget : int, optional
        Bytes one block's temporaries may take (default ``DEFAULT_MEMORY_BUDGET``).
    banded : bool, optional
        Use :func:`nwlib.scale.banded_nadaraya_watson` (1-D, scalar width, CPU, no
        autograd): sorted keys, only those that carry weight, exact to the dtype's
        precision. ``None`` (default) does so automatically for large problems
        (n_q x n_k >= 2^22) where it applies; ``False`` always visits every key.

    Returns
    -------
    Tensor, shape (n_q,) for 1-D values or (n_q, m) for vector values.

    Notes
    -----
    Peak extra memory is O(block_size x n_k). Without autograd the block is
    computed in place; when a gradient is needed each block is checkpointed
    (recomputed in the backward pass), so memory stays bounded there too.
    """
    kern = get_kernel(kernel)
    _check_on_empty(on_empty)
    out_dt = _resolve_dtype(dtype)
    q, k, h = _prepare(queries, keys, width, dtype=out_dt, device=device)
    v = as_float_tensor(values, "values", device=device)
    if v.ndim not in (1, 2):
        raise ValueError(f"values must have shape (n_keys,) or (n_keys, m), got shape {tuple(v.shape)}")
    n_q, n_k = q.shape[0], k.shape[0]
    if v.shape[0] != n_k:
        raise ValueError(f"values must have one row per key: got {v.shape[0]} values for {n_k} keys")
    same_device(queries=q, values=v)
    if exclude_self:
        _check_exclude_self(n_q, n_k)
    dt = _work_dtype(out_dt) or common_dtype(q, v)
    out_dt = out_dt or dt
    v, v_centre = _centre_values(v, dt)
    q, k, h, v = q.to(dt), k.to(dt), h.to(dt), v.to(dt)
    vt1 = torch.cat([v.reshape(n_k, -1).T, torch.ones(1, n_k, dtype=dt, device=v.device)])
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, h, v))
    can_band = q.shape[1] == 1 and h.numel() == 1 and not grad and q.device.type == "cpu"
    if banded is None:
        banded = can_band and n_q * n_k >= _BANDED_MIN
    elif banded and not can_band:
        raise ValueError("banded=True needs 1-D inputs, a scalar width, a CPU tensor and no autograd")
    if banded:
        from .scale import banded_nadaraya_watson
        f = banded_nadaraya_watson(q, k, v, float(h), kern, exclude_self=exclude_self,
                                   on_empty=on_empty, dtype=dt, block_size=block_size,
                                   memory_budget=memory_budget, _stacklevel=4)
        return _uncentre(f, v_centre, out_dt)
    if block_size is None:
        block_size = choose_block_size(n_q, n_k, dtype=dt, d=q.shape[1], kernel=kern,
                                       memory_budget=memory_budget, requires_grad=grad,
                                       workers=_workers(q.device))
    elif isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise ValueError(f"block_size must be a positive int, got {block_size!r}")
    if not grad:
        q, k, h = _pow2_scaled(q, k, h)
    sums = _blocked_sums(q, k, h, vt1, kern, exclude_self, block_size, grad)
    num, den = sums[:-1], sums[-1]
    _report_empty(int((den == 0).sum()), n_q, kern, on_empty, stacklevel=3)
    f = (num / den).T  # 0/0 = NaN where a compact kernel has no key in range
    f = _uncentre(f.reshape(n_q) if v.ndim == 1 else f, v_centre, out_dt)
    return f


def _centre_values(v: Tensor, dt: torch.dtype) -> tuple[Tensor, Tensor | None]:
    """Values minus a dominating offset (:func:`_offset`) when ``dt`` holds less precision.

    NW is equivariant under a shift of the values (the weights sum to 1), so the
    shift is added back, in float64, after the weighted averages.
    """
    if precision(dt) <= precision(v.dtype):
        return v, None
    c = _offset(v)
    return (v, None) if c is None else (v - c, c)


def _uncentre(f: Tensor, centre: Tensor | None, dt: torch.dtype) -> Tensor:
    if centre is None:
        return f.to(dt)
    return (f.to(torch.float64) + centre.to(torch.float64)).to(dt)


def _blocked_sums(q: Tensor, k: Tensor, h: Tensor, vt1: Tensor, kernel: Kernel,
                  exclude_self: bool, block_size: int, grad: bool) -> Tensor:
    n_q, n_k = q.shape[0], k.shape[0]
    starts = range(0, n_q, block_size)
    if grad:
        width_only = (_is_gaussian(kernel) and h.numel() == 1
                      and not (q.requires_grad or k.requires_grad or vt1.requires_grad))
        parts = []
        for i in starts:
            diag = i if exclude_self else None
            if width_only:  # the common case of learning one width: an exact, lean backward
                parts.append(_GaussianWidthSums.apply(h, q[i:i + block_size], k, vt1, diag))
                continue
            args = (q[i:i + block_size], k, h, vt1, kernel, diag)
            parts.append(checkpoint(_grad_block, *args, use_reentrant=False)
                         if len(starts) > 1 else _grad_block(*args))
        return torch.cat(parts, dim=1)
    out = torch.empty(vt1.shape[0], n_q, dtype=torch.float64, device=q.device)
    n_tmp = 1 if q.shape[1] > 1 else 0
    k_range = (tuple(float(x) for x in torch.aminmax(k[:, 0]))
               if q.shape[1] == 1 and h.numel() == 1 and _is_gaussian(kernel) else None)

    def task(i: int, bufs: list[Tensor]) -> None:
        b = min(block_size, n_q - i)
        out[:, i:i + b] = _fast_block(q[i:i + b], k, h, vt1, kernel, i if exclude_self else None,
                                      bufs[0][:b * n_k].view(b, n_k),
                                      bufs[1][:b * n_k].view(b, n_k) if n_tmp else None,
                                      k_range)

    _run_blocks([partial(task, i) for i in starts], 1 + n_tmp, min(block_size, n_q) * n_k,
                q.dtype, q.device)
    return out


# --------------------------------------------------------------------------- worker threads

_POOL: dict = {"pool": None, "pid": None, "n": 0}
_POOL_LOCK = threading.Lock()
_HELPERS = {"off_until": 0.0, "pause_s": 5.0}


def _workers(device: torch.device) -> int:
    """Threads that process blocks side by side: torch's thread count on CPU, 1 elsewhere."""
    return max(1, torch.get_num_threads()) if device.type == "cpu" else 1


def _pool(n: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if _POOL["pool"] is None or _POOL["pid"] != os.getpid() or _POOL["n"] != n:
            if _POOL["pool"] is not None and _POOL["pid"] == os.getpid():
                _POOL["pool"].shutdown(wait=False)
            # each worker runs torch single-threaded: no fork-join barrier per operation,
            # which stalls badly when another process holds a core
            _POOL.update(pool=ThreadPoolExecutor(n, thread_name_prefix="nwlib",
                                                 initializer=torch.set_num_threads, initargs=(1,)),
                         pid=os.getpid(), n=n)
        return _POOL["pool"]


class _single_threaded:
    """Run torch single-threaded in this thread (CPU): small operations otherwise pay a
    fork-join barrier each, which stalls when another process holds a core."""

    def __init__(self, device: torch.device):
        self.cpu = device.type == "cpu"

    def __enter__(self) -> None:
        if self.cpu:
            self.threads = torch.get_num_threads()
            torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        if self.cpu:
            torch.set_num_threads(self.threads)


def _run_blocks(tasks: list[Callable[[list[Tensor]], None]], n_buffers: int, numel: int,
                dtype: torch.dtype, device: torch.device, workers: int | None = None) -> None:
    """Run ``task(buffers)`` for every task; each worker owns ``n_buffers`` scratch tensors.

    On a CPU with several torch threads the caller and ``workers - 1`` helper
    threads take blocks from a shared queue, each running torch single-threaded
    (the GIL is released inside torch operations), so there is no fork-join
    barrier per operation. If a worker got much less CPU time than wall time
    (other processes hold the cores), or the helpers did little of the work, the
    caller works alone for the next few seconds: threads that share one core
    only slow each other down.
    Peak scratch memory: workers x n_buffers x numel elements.
    """
    n = min(_workers(device) if workers is None else workers, len(tasks))
    if time.monotonic() < _HELPERS["off_until"]:
        n = 1
    alloc = lambda: [torch.empty(max(numel, 1), dtype=dtype, device=device) for _ in range(n_buffers)]
    todo = iter(tasks)
    lock = threading.Lock()
    done = [0] * n
    cpu_share = [1.0] * n

    def drain(bufs: list[Tensor], who: int) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        with torch.no_grad():
            while True:
                with lock:
                    t = next(todo, None)
                if t is None:
                    break
                t(bufs)
                done[who] += 1
        wall = time.perf_counter() - wall
        if wall > 1e-3:
            cpu_share[who] = (time.thread_time() - cpu) / wall

    helpers = [_pool(n - 1).submit(drain, alloc(), w) for w in range(1, n)]
    try:
        with _single_threaded(device):
            drain(alloc(), 0)
    finally:
        for f in helpers:
            if not f.cancel():  # a helper that never started (pool busy elsewhere) is dropped
                f.result()
    if n > 1 and len(tasks) >= 2 * n and (
            min(cpu_share) < 0.6 or sum(done[1:]) < 0.25 * len(tasks) * (n - 1) / n):
        _HELPERS["off_until"] = time.monotonic() + _HELPERS["pause_s"]
