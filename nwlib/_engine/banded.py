r"""Banded 1-D sums: sorted keys, each block of queries visits only its slab.

Compact kernels are exactly 0 beyond :math:`|q - k| = h`; the Gaussian is
truncated per query at :math:`|q - k| \le h \sqrt{r_{\min}^2 + c^2}` with
:math:`c^2 = 2 \log(n_k / u)` (:func:`truncation_radius`, :math:`u` the unit
roundoff): every dropped key has weight below :math:`u / n_k` of the nearest
key's, so all of them together move the estimate by at most
:math:`u (\max v - \min v)`. The slab sizes come from the band, not from
:func:`nwlib._engine.blocks.choose_block_size`.
"""

from __future__ import annotations

import math
import numbers
from functools import partial

import torch

from .._validate import common_dtype
from ..kernels import Kernel
from .blocks import (
    BLOCK_ELEMENTS,
    DEFAULT_MEMORY_BUDGET,
    choose_block_size,
    fast_block,
    is_gaussian,
    pow2_scaled,
    shifted_sums,
)
from .prep import (
    centre_for,
    centre_values,
    ordinary,
    report_empty,
    uncentre,
    work_dtype,
)
from .threads import run_blocks, single_threaded, worker_count

Tensor = torch.Tensor


def truncation_radius(n_keys: int, dtype: torch.dtype = torch.float32) -> float:
    r""":math:`c = \sqrt{2 \log(n_k / u)}` of :eq:`eq-truncation`.

    Gaussian keys farther than :math:`c` widths beyond the nearest carry less than
    the unit roundoff :math:`u` of the total weight together.

    Parameters
    ----------
    n_keys : int >= 1
        Number of keys :math:`n_k`.
    dtype : torch.dtype, default torch.float32
        The floating dtype of the computation: its unit roundoff :math:`u`
        (``torch.finfo(dtype).eps / 2``) sets the radius.

    Returns
    -------
    float
        The radius :math:`c`, in widths (float32: about 7 for 10^3 keys; float64:
        about 9).

    Raises
    ------
    TypeError
        ``n_keys`` not an int, ``dtype`` not a floating torch dtype.
    ValueError
        ``n_keys < 1``.

    References
    ----------
    The bound follows from the Gaussian tail, as derived in the scaling appendix.

    Examples
    --------
    >>> import torch
    >>> from nwlib.scale import truncation_radius
    >>> c32, c64 = truncation_radius(1000), truncation_radius(1000, torch.float64)
    >>> print(f"{c32:.2f} {c64:.2f}")
    6.86 9.34
    """
    if isinstance(n_keys, bool) or not isinstance(n_keys, numbers.Integral):
        raise TypeError(f"n_keys must be an int, got {type(n_keys).__name__}")
    if n_keys < 1:
        raise ValueError(f"n_keys must be >= 1, got {n_keys}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch dtype, got {dtype!r}")
    u = torch.finfo(dtype).eps / 2
    return math.sqrt(2.0 * math.log(int(n_keys) / u))


def band_radius(
    xs: Tensor, qs: Tensor, h: float, kernel: Kernel, exclude_self: bool
) -> Tensor | None:
    """Half-width of the key window of each (sorted) query; ``None`` means every key."""
    if (
        kernel.compact
    ):  # a hair wider than the support: rounding never drops a key in range
        return torch.full_like(qs, kernel.radius * h * (1 + 1e-6))
    if not is_gaussian(kernel):
        return None
    n = xs.shape[0]
    if exclude_self:  # nearest *other* key: the gap to a neighbour in sorted order
        gaps = xs[1:] - xs[:-1]
        inf = torch.full((1,), torch.inf, dtype=xs.dtype)
        near = torch.minimum(torch.cat([inf, gaps]), torch.cat([gaps, inf]))
    else:
        j = (
            torch.searchsorted(xs, qs).clamp(1, n - 1)
            if n > 1
            else torch.zeros_like(qs, dtype=torch.long)
        )
        near = (
            torch.minimum((qs - xs[j - 1]).abs(), (qs - xs[j]).abs())
            if n > 1
            else (qs - xs[0]).abs()
        )
    c = truncation_radius(n, qs.dtype)
    # a query far from every key (near >> c h): the root rounds to about `near`, and
    # q - radius may round past the nearest key; a relative slack of 8 eps keeps it in
    slack = near * (1 + 8 * torch.finfo(qs.dtype).eps)
    return torch.maximum(torch.sqrt(near.square() + (c * h) ** 2), slack)


def _band_block_size(counts: Tensor, n_q: int) -> int:
    band = int(counts.float().median()) if counts.numel() else 1
    rows = min(max(256, band // 4), max(1, BLOCK_ELEMENTS // max(band, 1)))
    return max(1, min(n_q, rows))


def banded_sums(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    h: float,
    kern: Kernel,
    exclude_self: bool,
    dt: torch.dtype,
    block_size: int | None,
    memory_budget: int | None,
    workers: int,
) -> tuple[Tensor, Tensor]:
    """Weighted sums (m + 1, n_q) in sorted query order, and that order."""
    n_q, n_k = q.shape[0], k.shape[0]
    xs, order = torch.sort(k[:, 0].to(dt))
    vs = v.to(dt).reshape(n_k, -1)[order]
    if exclude_self:
        qs, qorder = xs, order
    else:
        qs, qorder = torch.sort(q[:, 0].to(dt))
    vt1 = torch.cat([vs.T, torch.ones(1, n_k, dtype=dt)])
    radius = band_radius(xs, qs, h, kern, exclude_self)
    if radius is None:
        lo, hi = (
            torch.zeros(n_q, dtype=torch.long),
            torch.full((n_q,), n_k, dtype=torch.long),
        )
    else:
        lo = torch.searchsorted(xs, qs - radius)
        hi = torch.searchsorted(xs, qs + radius, right=True)
    factor = 1 if is_gaussian(kern) else 6  # temporaries per element of a block
    itemsize = torch.empty((), dtype=dt).element_size()
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    auto = block_size is None
    block_size = _band_block_size(hi - lo, n_q) if auto else block_size
    while True:
        starts = list(range(0, n_q, block_size))
        slabs = [
            (int(lo[i : i + block_size].min()), int(hi[i : i + block_size].max()))
            for i in starts
        ]
        width_max = max(1, max(b - a for a, b in slabs))
        if block_size * width_max * itemsize * factor * workers <= budget:
            break
        if not auto or block_size == 1:
            raise ValueError(
                f"memory_budget={budget:.4g} bytes is too small for blocks of "
                f"{block_size} queries x {width_max} keys: raise it"
            )
        block_size = max(1, block_size // 2)
    # a block with no key in range stays 0/0
    sums = torch.zeros(vt1.shape[0], n_q, dtype=torch.float64)
    qcol, kcol, hh = qs.unsqueeze(1), xs.unsqueeze(1), torch.tensor(h, dtype=dt)

    def task(i: int, a: int, b: int, bufs: list[Tensor]) -> None:
        r = min(block_size, n_q - i)
        sums[:, i : i + r] = fast_block(
            qcol[i : i + r],
            kcol[a:b],
            hh,
            vt1[:, a:b],
            kern,
            (i - a) if exclude_self else None,
            bufs[0][: r * (b - a)].view(r, b - a),
            None,
            (float(xs[a]), float(xs[b - 1])),
        )

    tasks = [
        partial(task, i, a, b) for i, (a, b) in zip(starts, slabs, strict=True) if b > a
    ]
    run_blocks(tasks, 1, block_size * width_max, dt, torch.device("cpu"), workers)
    return sums, qorder


def banded_estimate(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    h: Tensor,
    kern: Kernel,
    *,
    exclude_self: bool,
    on_empty: str,
    dtype: torch.dtype | None,
    block_size: int | None,
    memory_budget: int | None,
    stacklevel: int,
) -> Tensor:
    """1-D estimate visiting only the keys that carry weight, from validated tensors.

    ``q`` and ``k`` are (n, 1), ``v`` (n_k,) or (n_k, m), ``h`` a scalar tensor;
    ``dtype`` the requested dtype (``None``: the inputs'). Returns (n_q,) or (n_q, m).
    """
    n_q = q.shape[0]
    dt = work_dtype(dtype) or common_dtype(q, k, v)
    if dtype is not None:
        q, k = centre_for(dt, q, k)
    v, v_centre = centre_values(v, dt)
    if is_gaussian(kern) and not ordinary(q.to(dt), k.to(dt), h.detach().to(dt)):
        # tiny or huge widths: every key, each row shifted before dividing by h^2
        qd, kd, vd = q.to(dt), k.to(dt), v.to(dt)
        vt1 = torch.cat(
            [vd.reshape(k.shape[0], -1).T, torch.ones(1, k.shape[0], dtype=dt)]
        )
        bs = choose_block_size(n_q, k.shape[0], dtype=dt, requires_grad=True)
        sums = shifted_sums(
            qd, kd, h.detach().reshape(()).to(dt), vt1, exclude_self, bs
        )
        report_empty(
            int((sums[-1] == 0).sum()), n_q, kern, on_empty, stacklevel=stacklevel
        )
        f = (sums[:-1] / sums[-1]).T
        return uncentre(f.reshape(n_q) if v.ndim == 1 else f, v_centre, dtype or dt)
    q, k, hs = pow2_scaled(q.to(dt), k.to(dt), h.detach().reshape(()).to(dt))
    n_workers = worker_count(torch.device("cpu"))
    with single_threaded(torch.device("cpu")):
        sums, qorder = banded_sums(
            q,
            k,
            v,
            float(hs),
            kern,
            exclude_self,
            dt,
            block_size,
            memory_budget,
            n_workers,
        )
    num, den = sums[:-1], sums[-1]
    report_empty(int((den == 0).sum()), n_q, kern, on_empty, stacklevel=stacklevel)
    f_sorted = (num / den).T
    f = torch.empty_like(f_sorted)
    f[qorder] = f_sorted
    return uncentre(f.reshape(n_q) if v.ndim == 1 else f, v_centre, dtype or dt)
