"""Points with an optional batch dimension, for :mod:`nwlib.sphere` (private).

``as_batched_points`` (re-exported from :mod:`nwlib.sphere`) reads (n,), (n, d)
or (b, n, d) input; ``pair`` validates a query/key pair; ``scalar_positive`` a
single positive width or temperature in the points' dtype.
"""

from __future__ import annotations

import torch

from ._validate import ArrayLike, as_float_tensor, as_width, common_dtype, same_device

Tensor = torch.Tensor

__all__ = ["as_batched_points", "pair", "scalar_positive"]


def as_batched_points(x: ArrayLike, name: str) -> Tensor:
    """Points as a (n, d) or (b, n, d) floating tensor; a 1-D input becomes (n, 1).

    Parameters
    ----------
    x : Tensor or array_like, shape (), (n,), (n, d) or (b, n, d)
        Points; a number is one point in d = 1, a 1-D input n points in d = 1.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    Tensor, shape (n, d) or (b, n, d)
        The input's floating dtype (a tensor's graph kept); integers, booleans and
        Python numbers as float64.

    Raises
    ------
    TypeError
        For non-numeric input.
    ValueError
        For an empty input, NaN/inf entries, or more than 3 dimensions.

    Examples
    --------
    >>> as_batched_points([1, 2, 3], "keys").shape
    torch.Size([3, 1])
    >>> as_batched_points([[1, 2, 3]], "keys").dtype
    torch.float64
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


def pair(queries: ArrayLike, keys: ArrayLike) -> tuple[Tensor, Tensor]:
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


def scalar_positive(x: ArrayLike, name: str, like: Tensor) -> Tensor:
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
