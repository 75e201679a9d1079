"""The estimate from validated tensors: pick the banded or the blocked path, add up.

:func:`estimate` is what :func:`nwlib.pooling.nadaraya_watson` runs once its
inputs are checked; it agrees with the dense definition
``attention_weights(...) @ values`` (``tests/test_engine.py``).
"""

from __future__ import annotations

import torch

from .._validate import common_dtype
from ..kernels import Kernel
from .banded import banded_estimate
from .blocks import (
    BANDED_MIN,
    blocked_sums,
    choose_block_size,
    is_gaussian,
    pow2_scaled,
    shifted_sums,
)
from .prep import centre_values, ordinary, report_empty, uncentre, work_dtype
from .threads import worker_count

Tensor = torch.Tensor


def estimate(
    q: Tensor,
    k: Tensor,
    h: Tensor,
    v: Tensor,
    kern: Kernel,
    *,
    exclude_self: bool,
    on_empty: str,
    dtype: torch.dtype | None,
    block_size: int | None,
    memory_budget: int | None,
    banded: bool | None,
    stacklevel: int,
    p: float = 2.0,
) -> Tensor:
    """Nadaraya-Watson estimate (n_q,) or (n_q, m) of prepared (n, d) queries and keys.

    ``dtype`` is the requested dtype (``None``: the common dtype of the inputs);
    ``stacklevel`` points the empty-support warning at the caller's caller; ``p`` is
    the Minkowski order of the distance (checked by the caller).
    """
    n_q, n_k = q.shape[0], k.shape[0]
    if q.shape[1] == 1:
        p = 2.0  # in one dimension every Minkowski distance is |q - k|
    dt = work_dtype(dtype) or common_dtype(q, v)
    out_dt = dtype or dt
    v, v_centre = centre_values(v, dt)
    q, k, h, v = q.to(dt), k.to(dt), h.to(dt), v.to(dt)
    vt1 = torch.cat(
        [v.reshape(n_k, -1).T, torch.ones(1, n_k, dtype=dt, device=v.device)]
    )
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, h, v))
    can_band = (
        q.shape[1] == 1 and h.numel() == 1 and not grad and q.device.type == "cpu"
    )
    plain = not is_gaussian(kern) or ordinary(
        q, k, h
    )  # else: shift before dividing by h^2
    if banded is None:
        banded = can_band and plain and n_q * n_k >= BANDED_MIN
    elif banded and not can_band:
        raise ValueError(
            "banded=True needs 1-D inputs, a scalar width, a CPU tensor and no autograd"
        )
    if banded and plain:
        f = banded_estimate(
            q,
            k,
            v,
            h,
            kern,
            exclude_self=exclude_self,
            on_empty=on_empty,
            dtype=dt,
            block_size=block_size,
            memory_budget=memory_budget,
            stacklevel=stacklevel + 1,
        )
        return uncentre(f, v_centre, out_dt)
    if block_size is None:
        block_size = choose_block_size(
            n_q,
            n_k,
            dtype=dt,
            d=q.shape[1],
            kernel=kern,
            memory_budget=memory_budget,
            requires_grad=grad,
            workers=worker_count(q.device),
            p=p,
        )
    elif (
        isinstance(block_size, bool)
        or not isinstance(block_size, int)
        or block_size < 1
    ):
        raise ValueError(f"block_size must be a positive int, got {block_size!r}")
    if not plain:
        block_size = choose_block_size(
            n_q,
            n_k,
            dtype=dt,
            d=q.shape[1],
            kernel=kern,
            memory_budget=memory_budget,
            requires_grad=True,
            p=p,
        )
        sums = shifted_sums(q, k, h, vt1, exclude_self, block_size, p)
    else:
        if not grad and p == 2.0:
            q, k, h = pow2_scaled(q, k, h)
        sums = blocked_sums(q, k, h, vt1, kern, exclude_self, block_size, grad, p)
    num, den = sums[:-1], sums[-1]
    report_empty(int((den == 0).sum()), n_q, kern, on_empty, stacklevel=stacklevel)
    f = (num / den).T  # 0/0 = NaN where a compact kernel has no key in range
    return uncentre(f.reshape(n_q) if v.ndim == 1 else f, v_centre, out_dt)
