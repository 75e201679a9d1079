r"""Blocked sums: the estimate without the (n_q, n_k) matrix.

Queries are processed in blocks of rows (peak memory O(block x n_k), block size
from :func:`choose_block_size`, the one place blocks are sized for the dense
path). Inside a block each row of log-scores is shifted by its maximum (the
nearest key gets :math:`e^0 = 1`); for the Gaussian, shifted log-weights at or
below :math:`\log(\text{tiny}) + 4` are clamped there before ``exp`` (subnormal
exponentials are 10-100x slower) and their keys get weight exactly 0. Without
autograd a block is computed in place (:func:`fast_block`); with autograd a
scalar Gaussian width uses the custom Function ``_GaussianWidthSums`` and
anything else a checkpointed out-of-place block.
"""

from __future__ import annotations

import functools
import math
from functools import partial

import torch
from torch.utils.checkpoint import checkpoint

from ..kernels import KERNELS, Kernel, get_kernel
from .prep import shifted_sq_dist, sq_dist
from .threads import run_blocks

Tensor = torch.Tensor

#: Bytes the temporaries of one block may take by default.
DEFAULT_MEMORY_BUDGET = 256 * 2**20


#: Upper bound on block_size x n_k for speed: blocks that stay in the CPU's caches.
BLOCK_ELEMENTS = 2**20


#: Keys per float32 partial sum (the partial sums are added in float64).
_CHUNK = 4096


#: From this many (query, key) pairs on, 1-D problems take the banded path by default.
BANDED_MIN = 2**22


def _buffers_per_row(
    kernel: Kernel, d: int, requires_grad: bool, p: float = 2.0
) -> int:
    """How many (n_k,)-rows of temporaries one query needs in a block (upper bound)."""
    if (
        p != 2.0 and d > 1
    ):  # out of place: |differences| (n_k, d), ratios, powers, scores
        return 8 + 3 * d
    if (
        requires_grad
    ):  # out-of-place graph of one block: distances, scores, weights, masks
        return 8 + 2 * d
    base = 1 if d == 1 else 2  # the score buffer (+ one coordinate's differences)
    return base if is_gaussian(kernel) else base + 5  # log_profile allocates its own


def choose_block_size(
    n_queries: int,
    n_keys: int,
    *,
    dtype: torch.dtype = torch.float32,
    d: int = 1,
    kernel: str | Kernel = "gaussian",
    memory_budget: int | None = None,
    requires_grad: bool = False,
    workers: int = 1,
    p: float = 2.0,
) -> int:
    r"""Queries per block so that one block's temporaries fit in ``memory_budget``.

    A block of :math:`B` queries needs :math:`c \cdot B \cdot n_k` numbers of
    ``dtype`` (:math:`c` = 1 for the 1-D Gaussian without autograd, more for other
    kernels, d > 1 and autograd, see ``_buffers_per_row``), so

    .. math:: B = \min\big(n_q,\ \lfloor \text{budget} / (c\, n_k\, \text{itemsize})
        \rfloor\big),

    capped further at about :math:`2^{20} / n_k` rows without autograd (blocks
    that stay in cache are faster). Without autograd ``workers`` threads each hold
    one block, so the budget is shared among them. Peak memory is O(B x n_k),
    never O(n_q x n_k).

    Parameters
    ----------
    n_queries : int
        Number of queries n_q.
    n_keys : int
        Number of keys n_k.
    dtype : torch.dtype, default torch.float32
        Compute dtype; only its item size (bytes per number) enters.
    d : int, default 1
        Number of coordinates.
    kernel : str or Kernel, default "gaussian"
        The kernel (some need more temporaries per row).
    memory_budget : int, optional
        Bytes one block's temporaries may take (default ``DEFAULT_MEMORY_BUDGET``).
    requires_grad : bool, default False
        Whether a backward pass will be needed (more temporaries, no cache cap).
    workers : int, default 1
        Threads that each hold one block at a time (they share the budget).
    p : float, default 2.0
        Order of the Minkowski distance (p other than 2 needs more temporaries).

    Returns
    -------
    int
        Queries per block, between 1 and ``n_queries``.

    Raises
    ------
    ValueError
        If the budget is not a positive number or cannot hold even one query row.

    References
    ----------
    Rabe and Staats (2021): attention does not need O(n^2) memory when queries are
    processed in chunks.

    Examples
    --------
    >>> choose_block_size(10_000, 1_000, memory_budget=2**20)
    262
    """
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    if (
        isinstance(budget, bool)
        or not isinstance(budget, (int, float))
        or not budget > 0
    ):
        raise ValueError(
            f"memory_budget must be a positive number of bytes, got {memory_budget!r}"
        )
    itemsize = torch.empty((), dtype=dtype).element_size()
    requires_grad = requires_grad or (p != 2.0 and d > 1)  # the out-of-place path
    per_row = (
        _buffers_per_row(get_kernel(kernel), d, requires_grad, p) * n_keys * itemsize
    )
    rows = int(budget // (per_row * (1 if requires_grad else workers)))
    if rows < 1:
        raise ValueError(
            f"memory_budget={budget:.4g} bytes cannot hold one query row of "
            f"{n_keys} keys ({per_row} bytes): raise memory_budget"
        )
    if not requires_grad:
        rows = min(rows, max(1, BLOCK_ELEMENTS // max(n_keys, 1)))
        if (
            workers > 1 and n_queries * n_keys > BLOCK_ELEMENTS // 4
        ):  # give every worker a share
            rows = min(rows, -(-n_queries // workers))
    return max(1, min(n_queries, rows))


def is_gaussian(kernel: Kernel) -> bool:
    return kernel.log_profile is KERNELS["gaussian"].log_profile


def exp_floor(dtype: torch.dtype) -> float:
    """Smallest log-weight sent to exp: exp of anything lower would be subnormal (slow).

    Keys whose log-weight (shifted so the nearest key has 0) is at or below it get
    weight exactly 0, never more than their true weight (below ``tiny * e**4``
    relative to the nearest key's): see :func:`exp_floored_`.
    """
    return math.log(torch.finfo(dtype).tiny) + 4.0


@functools.cache
def _floor_pair(dtype: torch.dtype) -> tuple[float, float]:
    """``(floor, exp(floor))``, the exponential computed in ``dtype`` as blocks do."""
    floor = exp_floor(dtype)
    return floor, float(torch.exp(torch.tensor(floor, dtype=dtype)))


def exp_floored_(t: Tensor) -> Tensor:
    """``exp`` in place, with exactly 0 for arguments at or below :func:`exp_floor`.

    Arguments are clamped at the floor (``exp`` of very negative numbers or of
    ``-inf`` takes a slow path, 7-100x slower), exponentiated, and the entries equal
    to ``exp(floor)`` are then set to 0: the clamp never hands a far key weight.
    """
    floor, e_floor = _floor_pair(t.dtype)
    return torch.nn.functional.threshold_(t.clamp_(min=floor).exp_(), e_floor, 0.0)


def exp_floored(t: Tensor) -> Tensor:
    """Out-of-place :func:`exp_floored_` (autograd flows; 0 gradient below floor)."""
    floor, e_floor = _floor_pair(t.dtype)
    return torch.nn.functional.threshold(
        torch.exp(torch.clamp(t, min=floor)), e_floor, 0.0
    )


def pow2_scaled(q: Tensor, k: Tensor, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
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
    if (
        not (smax > 0 and math.isfinite(smax))
        or not smax * big < torch.finfo(q.dtype).max / 4
    ):
        return q, k, h
    return q * s, k * s, h * s


def _sq_dist_into(
    buf: Tensor, tmp: Tensor | None, qb: Tensor, k: Tensor, h: Tensor, scale: float
) -> tuple[Tensor, float]:
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
        torch.sub(qb[:, c : c + 1], k[:, c], out=out)
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


def fast_block(
    qb: Tensor,
    k: Tensor,
    h: Tensor,
    vt1: Tensor,
    kernel: Kernel,
    diag: int | None,
    buf: Tensor,
    tmp: Tensor | None,
    k_range: tuple[float, float] | None = None,
) -> Tensor:
    """Unnormalized sums ``[sum_i e_ji v_i ; sum_i e_ji]`` of a block, shape (m + 1, B).

    In-place and without autograd. ``diag`` is the block's first row index when
    the queries are the keys (exclude_self): entry (r, diag + r) is left out.
    ``k_range`` (1-D keys and a scalar width): the smallest and largest key; when
    no key can lie beyond the exp floor (:func:`exp_floor`) of any query of the
    block, the floor's two passes are skipped.
    """
    if is_gaussian(kernel):
        floor = True
        if k_range is not None:
            qlo, qhi = (float(x) for x in torch.aminmax(qb.detach()))
            far = max(qhi - k_range[0], k_range[1] - qlo) / float(h)
            floor = not 0.5 * far * far < -exp_floor(qb.dtype) - 1.0
        t, coef = _sq_dist_into(buf, tmp, qb, k, h, 0.5)  # coef * t = r^2 / 2 = -log K
        if diag is not None:
            t.diagonal(diag).fill_(torch.inf)
        m = t.amin(1, keepdim=True)  # nearest key (max log K), in units of coef
        torch.sub(m, t, out=t)  # exactly 0 at the nearest key, even far from every key
        if coef != 1.0:  # log K - max log K = coef (m - t) <= 0
            t.mul_(coef)
        exp_floored_(t) if floor else t.exp_()
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
    r"""Block sums ``vt1 @ e.T`` of Gaussian weights, differentiable in a scalar width.

    With :math:`r^2_{ji} = \lVert q_j - k_i\rVert^2 / h^2` and
    :math:`e_{ji} = \exp(-r^2_{ji}/2 - m_j)` (the row shift :math:`m_j` cancels in
    the ratio of sums), taking :math:`m_j = -r^2_{j,\min}/2` (the nearest key) gives
    :math:`\partial e_{ji} / \partial h = e_{ji}\,(r^2_{ji} - r^2_{j,\min}) / h`.
    So the forward pass also forms ``vt1 @ (e * (r2 - r2_min)).T`` and saves only
    that (m + 1, B) matrix: no (B, n_k) tensor is kept for the backward pass, which
    is one multiply-add per entry instead of autograd's chain of elementwise ops.
    Only the (scalar) width gets a gradient.
    """

    @staticmethod
    def forward(
        ctx, h: Tensor, qb: Tensor, k: Tensor, vt1: Tensor, diag: int | None
    ) -> Tensor:
        r2 = sq_dist(qb, k, h.reshape(()))
        t = -0.5 * r2
        if diag is not None:
            t.diagonal(diag).fill_(-torch.inf)
        m = t.amax(1, keepdim=True)  # -r2 / 2 of each query's nearest key
        exp_floored_(t.sub_(m))
        if diag is not None:
            t.diagonal(diag).zero_()
        # Differentiate with the shift taken as a function of h too (it still
        # cancels): d e / d h = e (r2 - r2_nearest) / h. The nearest key then
        # contributes 0, which avoids cancelling two huge terms when h is tiny.
        # Clamped entries are constant in h (as under autograd): no derivative
        # from them.
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


def _grad_block(
    qb: Tensor,
    k: Tensor,
    h: Tensor,
    vt1: Tensor,
    kernel: Kernel,
    diag: int | None,
    p: float = 2.0,
) -> Tensor:
    """Same sums as :func:`fast_block`, out of place so autograd flows (any ``p``)."""
    s = kernel.log_profile(sq_dist(qb, k, h, p))
    mask = None
    if diag is not None:
        rows = torch.arange(qb.shape[0], device=s.device)
        mask = torch.zeros(s.shape, dtype=torch.bool, device=s.device)
        mask[rows, rows + diag] = True
        s = s.masked_fill(mask, -torch.inf)
    m = s.detach().amax(1, keepdim=True)
    t = s - m.masked_fill(
        torch.isneginf(m), 0.0
    )  # the shift cancels: no gradient needed
    if is_gaussian(kernel):  # far keys: weight exactly 0 (see exp_floor), no subnormals
        e = exp_floored(t)
    else:
        e = torch.exp(t)
    return vt1 @ e.T


def blocked_sums(
    q: Tensor,
    k: Tensor,
    h: Tensor,
    vt1: Tensor,
    kernel: Kernel,
    exclude_self: bool,
    block_size: int,
    grad: bool,
    p: float = 2.0,
) -> Tensor:
    """Sums ``[sum_i e_ji v_i ; sum_i e_ji]`` (m + 1, n_q) over blocks of queries.

    Without autograd and with the Euclidean distance (``p = 2``) the blocks are
    computed in place and shared among worker threads; otherwise out of place
    (checkpointed when a gradient is needed over several blocks).
    """
    n_q, n_k = q.shape[0], k.shape[0]
    starts = range(0, n_q, block_size)
    if grad or p != 2.0:
        width_only = (
            grad
            and p == 2.0
            and is_gaussian(kernel)
            and h.numel() == 1
            and not (q.requires_grad or k.requires_grad or vt1.requires_grad)
        )
        parts = []
        for i in starts:
            diag = i if exclude_self else None
            if (
                width_only
            ):  # the common case of learning one width: an exact, lean backward
                parts.append(
                    _GaussianWidthSums.apply(h, q[i : i + block_size], k, vt1, diag)
                )
                continue
            args = (q[i : i + block_size], k, h, vt1, kernel, diag, p)
            parts.append(
                checkpoint(_grad_block, *args, use_reentrant=False)
                if grad and len(starts) > 1
                else _grad_block(*args)
            )
        return torch.cat(parts, dim=1)
    out = torch.empty(vt1.shape[0], n_q, dtype=torch.float64, device=q.device)
    n_tmp = 1 if q.shape[1] > 1 else 0
    k_range = (
        tuple(float(x) for x in torch.aminmax(k[:, 0]))
        if q.shape[1] == 1 and h.numel() == 1 and is_gaussian(kernel)
        else None
    )

    def task(i: int, bufs: list[Tensor]) -> None:
        b = min(block_size, n_q - i)
        out[:, i : i + b] = fast_block(
            q[i : i + b],
            k,
            h,
            vt1,
            kernel,
            i if exclude_self else None,
            bufs[0][: b * n_k].view(b, n_k),
            bufs[1][: b * n_k].view(b, n_k) if n_tmp else None,
            k_range,
        )

    run_blocks(
        [partial(task, i) for i in starts],
        1 + n_tmp,
        min(block_size, n_q) * n_k,
        q.dtype,
        q.device,
    )
    return out


def shifted_sums(
    q: Tensor,
    k: Tensor,
    h: Tensor,
    vt1: Tensor,
    exclude_self: bool,
    block_size: int,
    p: float = 2.0,
) -> Tensor:
    """Gaussian sums ``[sum_i e_ji v_i ; sum_i e_ji]`` (m + 1, n_q) for any width.

    The path for widths outside [1e-10, 1e10] (see ``prep.ordinary``): each row's
    shift is formed before dividing by h^2
    (:func:`~nwlib._engine.prep.shifted_sq_dist`), so a tiny width gives the
    nearest key's value (ties share) instead of 0/0.
    Out of place, so autograd flows.
    """
    n_q, n_k = q.shape[0], k.shape[0]
    parts = []
    for i in range(0, n_q, block_size):
        qb = q[i : i + block_size]
        mask = None
        if exclude_self:
            rows = torch.arange(qb.shape[0], device=q.device)
            mask = torch.zeros(qb.shape[0], n_k, dtype=torch.bool, device=q.device)
            mask[rows, rows + i] = True
        e = torch.exp(-0.5 * shifted_sq_dist(qb, k, h, p, mask))
        if mask is not None:
            e = e.masked_fill(mask, 0.0)
        parts.append((vt1 @ e.T).double())
    return torch.cat(parts, dim=1)
