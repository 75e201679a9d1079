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
"""
from __future__ import annotations

import warnings

import torch

from ._validate import ArrayLike, as_points, as_width, as_float_tensor, common_dtype, same_device
from .kernels import Kernel, get_kernel

Tensor = torch.Tensor

__all__ = ["scaled_sq_distances", "log_scores", "attention_weights", "nadaraya_watson"]


def _prepare(queries: ArrayLike, keys: ArrayLike, width: ArrayLike,
             ) -> tuple[Tensor, Tensor, Tensor]:
    q = as_points(queries, "queries")
    k = as_points(keys, "keys")
    h = as_width(width)
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"queries and keys must have the same number of coordinates d, "
                         f"got queries with d={q.shape[1]} and keys with d={k.shape[1]}")
    same_device(queries=q, keys=k, width=h)
    dt = common_dtype(q, k)
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


def scaled_sq_distances(queries: ArrayLike, keys: ArrayLike, width: ArrayLike) -> Tensor:
    r"""Squared scaled distances :math:`r^2_{ji} = \sum_c ((q_{jc} - k_{ic}) / h_{ic})^2`.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d)
    keys : (n_k,) or (n_k, d)
    width : scalar, (d,), or (n_k, 1) / (n_k, d)
        One width, one per coordinate, or one per key. Must be > 0.

    Returns
    -------
    Tensor, shape (n_q, n_k)

    Notes
    -----
    Differences are formed directly (not as :math:`\lVert q\rVert^2 + \lVert k\rVert^2 - 2q\cdot k`),
    which stays accurate when inputs carry a large common offset.
    """
    q, k, h = _prepare(queries, keys, width)
    return _sq_dist(q, k, h)


def _sq_dist(q: Tensor, k: Tensor, h: Tensor) -> Tensor:
    if q.shape[1] == 1 and h.ndim == 0:  # 1-D fast path: no (n_q, n_k, 1) detour
        return ((q - k.T) / h) ** 2
    diff = (q.unsqueeze(1) - k.unsqueeze(0)) / h  # (n_q, n_k, d)
    return (diff * diff).sum(-1)


def log_scores(queries: ArrayLike, keys: ArrayLike, width: ArrayLike,
               kernel: str | Kernel = "gaussian", *, exclude_self: bool = False) -> Tensor:
    r"""Log-kernel scores :math:`s_{ji} = \log K(r_{ji})`, shape (n_q, n_k).

    ``-inf`` marks a key outside a compact kernel's support. With
    ``exclude_self=True`` (queries are the keys, in the same order) the diagonal
    is set to ``-inf``: each point is left out of its own prediction, the
    leave-one-out form.
    """
    q, k, h = _prepare(queries, keys, width)
    s = get_kernel(kernel).log_profile(_sq_dist(q, k, h))
    if exclude_self:
        if q.shape[0] != k.shape[0]:
            raise ValueError(f"exclude_self needs queries and keys to be the same points, "
                             f"got {q.shape[0]} queries and {k.shape[0]} keys")
        if k.shape[0] < 2:
            raise ValueError("exclude_self needs at least 2 keys: with 1 key no other key is left")
        s = s.masked_fill(torch.eye(k.shape[0], dtype=torch.bool, device=s.device), -torch.inf)
    return s


def _softmax_rows(s: Tensor, kernel: Kernel, on_empty: str) -> Tensor:
    if on_empty not in ("nan", "raise"):
        raise ValueError(f"on_empty must be 'nan' or 'raise', got {on_empty!r}")
    w = torch.softmax(s, dim=1)
    empty = torch.isneginf(s).all(dim=1)
    n_empty = int(empty.sum())
    if n_empty:
        msg = (f"{n_empty} of {s.shape[0]} queries have no key inside the support of the "
               f"{kernel.name!r} kernel: their weights are 0/0 (undefined) and returned as NaN. "
               f"Use a wider width or a kernel with unbounded support such as 'gaussian'.")
        if on_empty == "raise":
            raise ValueError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        w = w.masked_fill(empty.unsqueeze(1), torch.nan)
    return w


def attention_weights(queries: ArrayLike, keys: ArrayLike, width: ArrayLike,
                      kernel: str | Kernel = "gaussian", *, exclude_self: bool = False,
                      on_empty: str = "nan") -> Tensor:
    r"""Attention weights :math:`a(q_j, k_i)`, a (n_q, n_k) matrix with rows summing to 1.

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

    Returns
    -------
    Tensor, shape (n_q, n_k), in the floating dtype of the inputs.
    """
    kern = get_kernel(kernel)
    s = log_scores(queries, keys, width, kern, exclude_self=exclude_self)
    return _softmax_rows(s, kern, on_empty)


def nadaraya_watson(queries: ArrayLike, keys: ArrayLike, values: ArrayLike,
                    width: ArrayLike, kernel: str | Kernel = "gaussian", *,
                    exclude_self: bool = False, on_empty: str = "nan") -> Tensor:
    r"""Nadaraya-Watson estimate :math:`f(q_j) = \sum_i a(q_j, k_i) v_i`.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d)
    keys : (n_k,) or (n_k, d)
    values : (n_k,) or (n_k, m)
    width, kernel, exclude_self, on_empty
        As in :func:`attention_weights`.

    Returns
    -------
    Tensor, shape (n_q,) for 1-D values or (n_q, m) for vector values.
    """
    v = as_float_tensor(values, "values")
    if v.ndim not in (1, 2):
        raise ValueError(f"values must have shape (n_keys,) or (n_keys, m), got shape {tuple(v.shape)}")
    n_k = as_points(keys, "keys").shape[0]
    if v.shape[0] != n_k:
        raise ValueError(f"values must have one row per key: got {v.shape[0]} values for {n_k} keys")
    w = attention_weights(queries, keys, width, kernel, exclude_self=exclude_self, on_empty=on_empty)
    same_device(weights=w, values=v)
    dt = common_dtype(w, v)
    return w.to(dt) @ v.to(dt)
