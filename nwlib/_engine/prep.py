"""Validation shared by the definitions and the engine: dtypes, offsets, shapes.

Everything here takes and returns tensors; :func:`prepare` turns user input
(array-likes) into (n, d) queries and keys and a checked width in one dtype.
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch

from .._validate import (
    ArrayLike,
    as_points,
    as_width,
    common_dtype,
    compute_dtype,
    precision,
    same_device,
)
from ..kernels import Kernel

Tensor = torch.Tensor


def resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, str):
        dt = getattr(torch, dtype.strip().lower(), None)
        if not isinstance(dt, torch.dtype):
            raise ValueError(
                f"dtype must be a floating torch dtype such as torch.float32 or "
                f"'float64', got {dtype!r}"
            )
        dtype = dt
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(
            f"dtype must be a floating torch dtype such as torch.float32, got {dtype!r}"
        )
    return dtype


def work_dtype(dtype: torch.dtype | None) -> torch.dtype | None:
    """The dtype a requested ``dtype`` is computed in: float16/bfloat16 in float32."""
    return None if dtype is None else compute_dtype(dtype)


def as_result(t: Tensor, dtype: torch.dtype | str | None) -> Tensor:
    """A result in the requested ``dtype`` (computed in float32 for a half dtype)."""
    dt = resolve_dtype(dtype)
    return t if dt is None else t.to(dt)


def offset(x: Tensor) -> Tensor | None:
    """A common offset of the columns of ``x`` worth removing, or ``None``.

    Per column: the midpoint of its range, where it is larger than the range (an
    offset that dominates the spread, such as Unix time stamps), else 0. Data
    around the origin, or with far outliers, are left as they are.
    """
    lo, hi = torch.aminmax(x.detach(), dim=0)
    mid, spread = lo + (hi - lo) / 2, hi - lo
    c = torch.where(mid.abs() > spread, mid, torch.zeros_like(mid))
    return c if bool((c != 0).any()) else None


def centre_for(dt: torch.dtype, *points: Tensor) -> tuple[Tensor, ...]:
    """Points shifted by a common offset of the last ones (the keys) before a cast.

    The cast is to ``dt``, and the shift happens only when ``dt`` holds less
    precision than the points: the translation is done in their precision, so a
    large common offset (time stamps, say) is not rounded into the differences.
    Distance-based results do not change.
    """
    src = compute_dtype(*points)
    if precision(dt) <= precision(src):
        return points
    c = offset(points[-1].to(src))
    return points if c is None else tuple(p.to(src) - c for p in points)


def centre_values(v: Tensor, dt: torch.dtype) -> tuple[Tensor, Tensor | None]:
    """Values minus a dominating offset (:func:`offset`) if ``dt`` holds less precision.

    NW is equivariant under a shift of the values (the weights sum to 1), so the
    shift is added back, in float64, after the weighted averages.
    """
    if precision(dt) <= precision(v.dtype):
        return v, None
    c = offset(v)
    return (v, None) if c is None else (v - c, c)


def uncentre(f: Tensor, centre: Tensor | None, dt: torch.dtype) -> Tensor:
    if centre is None:
        return f.to(dt)
    return (f.to(torch.float64) + centre.to(torch.float64)).to(dt)


def prepare(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    *,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Validated queries, keys (both (n, d)) and width in the compute dtype.

    The compute dtype is ``dtype`` if given, else :func:`nwlib._validate.compute_dtype`
    of the queries and keys (float16/bfloat16 become float32). When ``dtype`` holds
    less precision than the inputs, both are first shifted by the middle of the
    keys' range, in their own precision, where it dominates that range (see
    ``offset``).
    """
    dtype = work_dtype(resolve_dtype(dtype))
    q = as_points(queries, "queries", device=device)
    k = as_points(keys, "keys", device=device)
    h = as_width(width)
    if device is not None:
        h = h.to(device)
    if q.shape[1] != k.shape[1]:
        raise ValueError(
            f"queries and keys must have the same number of coordinates d, "
            f"got queries with d={q.shape[1]} and keys with d={k.shape[1]}"
        )
    same_device(queries=q, keys=k, width=h)
    dt = dtype or common_dtype(q, k)
    if dtype is not None:
        q, k = centre_for(dt, q, k)
    q, k = q.to(dt), k.to(dt)
    if h.dtype != dt:
        hd = h.to(dt)
        if not bool(torch.isfinite(hd).all() and (hd > 0).all()):
            raise ValueError(
                f"width {float(h.detach().min()):g} is not a positive finite number "
                f"in {dt} (the compute dtype): pass the data in float64 or rescale "
                f"data and width together"
            )
        h = hd
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
        per_key = f"({n_k}, 1)" if d == 1 else f"({n_k}, 1) or ({n_k}, {d})"
        raise ValueError(
            f"width must be a scalar, one width per coordinate (shape ({d},)), or one "
            f"width per key (shape {per_key}); got shape {tuple(h.shape)}"
        )
    return q, k, h


def check_p(p: object) -> float:
    """``p`` as a float in [1, inf], or a TypeError/ValueError naming it."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(
            f"p must be a number >= 1 (or math.inf), got {type(p).__name__}"
        )
    p = float(p)
    if math.isnan(p) or p < 1:
        raise ValueError(
            f"p must be >= 1 (or math.inf): p < 1 is not a norm, got {p!r}"
        )
    return p


def sq_dist(q: Tensor, k: Tensor, h: Tensor, p: float = 2.0) -> Tensor:
    r"""Squared scaled distances :math:`r_p^2`, (n_q, n_k); Minkowski order ``p``.

    Differences are divided by the width before any power. For general :math:`p`
    the sum is taken relative to the largest coordinate :math:`m`:
    :math:`r_p = m\,(\sum_c (|x_c|/m)^p)^{1/p}`, which neither overflows for large
    :math:`p` nor has an infinite derivative at :math:`r = 0`.
    """
    if q.shape[1] == 1 and h.ndim == 0:  # 1-D fast path (every p gives |q - k|)
        return ((q - k.T) / h) ** 2
    diff = (q.unsqueeze(1) - k.unsqueeze(0)) / h  # (n_q, n_k, d)
    return _sq_norm(diff.abs(), p)


def ordinary(q: Tensor, k: Tensor, h: Tensor) -> bool:
    """Whether squared distances in units of the width are safe to form directly.

    True for widths in [1e-10, 1e10], data below 1e15 in size and distances below
    about sqrt(max float) / 1e3 widths: there the plain formulas are kept (the
    book's numbers do not move). Elsewhere :func:`shifted_sq_dist` is used.
    """
    if q.numel() == 0 or k.numel() == 0:
        return True
    hlo, hhi = (float(x) for x in torch.aminmax(h.detach().reshape(-1)))
    big = max(abs(float(v)) for x in (q, k) for v in torch.aminmax(x.detach()))
    lim = math.sqrt(torch.finfo(q.dtype).max) * 1e-3
    return 1e-10 <= hlo and hhi <= 1e10 and big <= 1e15 and 2 * big / hlo <= lim


def _sq_norm(a: Tensor, p: float) -> Tensor:
    """Squared Minkowski norm over the last axis of non-negative ``a`` (see sq_dist)."""
    if a.shape[-1] == 1:
        return a.squeeze(-1) ** 2
    if p == 2.0:
        return (a * a).sum(-1)
    if p == 1.0:
        return a.sum(-1) ** 2
    m = a.amax(-1, keepdim=True)
    if math.isinf(p):
        return m.squeeze(-1) ** 2
    tiny = torch.finfo(a.dtype).tiny
    s = ((a / m.clamp(min=tiny)) ** p).sum(-1)
    return m.squeeze(-1) ** 2 * s.clamp(min=1.0) ** (2.0 / p)


def shifted_sq_dist(
    q: Tensor, k: Tensor, h: Tensor, p: float = 2.0, mask: Tensor | None = None
) -> Tensor:
    r""":math:`r^2_{ji} - \min_l r^2_{jl}`, (n_q, n_k): 0 at each query's nearest key.

    For any width, however small or large: the shift is formed before dividing by
    :math:`h^2`. Differences (divided by a per-coordinate or per-key width first,
    raw for a scalar width) are scaled per query by a power of 2 (exact) so that
    the nearest key's are in [1, 2): their squares neither overflow nor
    underflow. The shifted squares are then multiplied twice by 2^e / h; keys
    tied with the nearest get exactly 0, farther keys at most the largest float
    (weight 0), never NaN. ``mask`` (bool, (n_q, n_k), e.g. :func:`self_mask`):
    entries left out, returned as exactly ``inf`` (weight exactly 0, log-weight
    ``-inf``) and left out of the nearest-key shift.
    """
    diff = q.unsqueeze(1) - k.unsqueeze(0)  # (n_q, n_k, d)
    scalar = h.ndim == 0
    u = diff.abs() if scalar else (diff / h).abs()
    if mask is not None:
        u = u.masked_fill(mask.unsqueeze(-1), torch.inf)
    near = (
        u.detach().amax(-1).amin(1, keepdim=True)
    )  # Chebyshev distance of the nearest key
    near = torch.where(torch.isfinite(near) & (near > 0), near, torch.ones_like(near))
    e = torch.floor(torch.log2(near))
    scale = torch.exp2(-e)  # (n_q, 1), exact powers of 2
    d2 = _sq_norm(u * scale.unsqueeze(-1), p)
    delta = d2 - d2.detach().amin(1, keepdim=True)
    f = torch.exp2(e)  # undo the scaling: delta * f^2 / h^2
    if scalar:
        f = f / h.detach()
    big = torch.finfo(
        d2.dtype
    ).max  # clamps: beyond it exp gives 0 anyway, and no 0 * inf = NaN
    f = f.clamp(max=big)
    out = ((delta * f).clamp(max=big) * f).clamp(max=big)
    if scalar and h.requires_grad:  # d out / d h = -2 out / h, without forming 1 / h^2
        r = h.detach() / h  # 1, with derivative -1 / h
        out = out * r * r
    if mask is not None:  # the clamps above stop at the largest float: inf here
        out = out.masked_fill(mask, torch.inf)
    return out


def check_exclude_self(q: Tensor, k: Tensor) -> None:
    """``exclude_self`` leaves out entry (i, i): the queries must be the keys, in order.

    Raises ``ValueError`` unless ``q`` and ``k`` are equal tensors with at least 2 rows
    (a mask on the diagonal of other points would drop an arbitrary key).
    """
    n_q, n_k = q.shape[0], k.shape[0]
    if n_q != n_k:
        raise ValueError(
            f"exclude_self needs queries and keys to be the same points, "
            f"got {n_q} queries and {n_k} keys"
        )
    if n_k < 2:
        raise ValueError(
            "exclude_self needs at least 2 keys: with 1 key no other key is left"
        )
    if q is not k and not torch.equal(q.detach(), k.detach()):
        raise ValueError(
            "exclude_self needs the queries to be the keys (the same points in the "
            "same order): leaving out entry (i, i) of other points would drop "
            "an arbitrary key"
        )


def self_mask(q: Tensor, k: Tensor, exclude_self: bool) -> Tensor | None:
    """The (n, n) boolean diagonal that ``exclude_self`` leaves out, or None.

    With ``exclude_self`` the queries must be the keys (:func:`check_exclude_self`
    raises ``ValueError`` otherwise); entry (i, i) is True. The one place the
    leave-one-out mask of the dense scores is made.
    """
    if not exclude_self:
        return None
    check_exclude_self(q, k)
    return torch.eye(k.shape[0], dtype=torch.bool, device=k.device)


def check_on_empty(on_empty: str) -> None:
    if on_empty not in ("nan", "raise"):
        raise ValueError(f"on_empty must be 'nan' or 'raise', got {on_empty!r}")


def report_empty(
    n_empty: int, n_q: int, kernel: Kernel, on_empty: str, stacklevel: int
) -> None:
    if not n_empty:
        return
    if kernel.compact:
        msg = (
            f"{n_empty} of {n_q} queries have no key inside the support of the "
            f"{kernel.name!r} kernel: their weights are 0/0 (undefined) and "
            "returned as NaN. "
            f"Use a wider width or a kernel with unbounded support such as 'gaussian'."
        )
    else:
        msg = (
            f"{n_empty} of {n_q} queries got weight 0 on every key with the "
            f"{kernel.name!r} kernel (a width or distance beyond the dtype's range): "
            f"returned as NaN. Compute in float64 or rescale data and width together."
        )
    if on_empty == "raise":
        raise ValueError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=stacklevel)


def warn_at_caller(fn, /, *args, stacklevel: int = 3, **kwargs):
    """``fn(*args, **kwargs)``, its warnings issued again ``stacklevel`` frames up.

    A public function that reaches the engine through other public functions wraps
    its inner call in this, so that a warning names the line of the user's code
    (``stacklevel=3``: the caller of the function that calls ``warn_at_caller``).
    The warnings are recorded while ``fn`` runs and issued once it returns, under
    the caller's filters.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=stacklevel)
    return out


def softmax_rows(s: Tensor, kernel: Kernel, on_empty: str) -> Tensor:
    check_on_empty(on_empty)
    w = torch.softmax(s, dim=1)
    empty = torch.isneginf(s).all(dim=1)
    n_empty = int(empty.sum())
    report_empty(n_empty, s.shape[0], kernel, on_empty, stacklevel=4)
    if n_empty:
        w = w.masked_fill(empty.unsqueeze(1), torch.nan)
    return w
