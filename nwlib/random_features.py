r"""Linear-time attention pooling from random features.

If a kernel is an average over random features,
:math:`K(q, k) = E_w[\phi_w(q)\,\phi_w(k)]`, then ``D`` draws give
:math:`K(q, k) \approx \phi(q)\cdot\phi(k)` and

.. math::

    \sum_i K(q, k_i)\, v_i \approx \phi(q)^\top \Big(\sum_i \phi(k_i)\, v_i^\top\Big):

the key-value summary (D x m) is built in one pass over the keys and each query
then costs O(D m), so pooling costs O((n_q + n_k) D (d + m)) instead of
O(n_q n_k (d + m)).

* :func:`fourier_features` (Rahimi and Recht 2007), the Gaussian kernel of width
  ``h``: :math:`\sqrt{2/D}\cos(Wx + b)`, ``W ~ N(0, I/h^2)``, ``b ~ U(0, 2 pi)``.
  Unbiased, but a feature product can be negative, so an NW denominator built
  from them can cross zero.
* :func:`positive_features` (Choromanski et al. 2021), the softmax kernel
  :math:`\exp(q\cdot k)`: :math:`\exp(Wx - \lVert x\rVert^2/2)/\sqrt D`,
  ``W ~ N(0, I)``, every product positive; ``orthogonal=True`` draws blocks of
  orthogonal rows with chi-distributed lengths, which lowers the variance.
  ``kernel="gaussian"`` gives :math:`\exp(-\lVert q-k\rVert^2/2h^2)` with the same
  draws (subtract :math:`\lVert x\rVert^2` instead of half of it).
* :func:`linear_attention`: :math:`\phi(Q)(\phi(K)^\top V) / \phi(Q)(\phi(K)^\top 1)`,
  and its causal form (query ``j`` sees keys ``0..j``) as running sums, the
  recurrent view of Katharopoulos et al. (2020).

Stability: positive features are computed in the log domain and shifted before
``exp``, as Performers do: each query's row by its own maximum and all keys by
one global maximum. Both factors cancel between numerator and denominator of
:func:`linear_attention`, so the result is unchanged while nothing overflows.

Shapes: ``queries`` (n_q, d), ``keys`` (n_k, d) (1-D input: d = 1), ``values``
(n_k,) or (n_k, m). Integer, boolean and Python-number input is computed in
float64, floating input in its own dtype. Feature draws are made in float64 from
a seeded ``torch.Generator`` and cast, so a seed gives the same features in any
dtype.
The feature maps live in :mod:`nwlib.feature_maps` and are re-exported here.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .feature_maps import (
    FeatureMap,
    as_points,
    fourier_features,
    orthogonal_gaussian,
    positive_features,
)

Tensor = torch.Tensor

__all__ = [
    "FeatureMap",
    "fourier_features",
    "positive_features",
    "orthogonal_gaussian",
    "kernel_estimate",
    "linear_attention",
]


#: Rows of queries or keys whose features are held at once (bounds the memory).
_CHUNK = 1 << 13


def _summary(k: Tensor, v: Tensor, fm: FeatureMap) -> tuple[Tensor, Tensor]:
    """phi(K)^T V and phi(K)^T 1 in chunks of keys. Positive features are shifted by
    the largest log-feature seen so far; when a later chunk has a larger one, the sums
    are rescaled (the online form of the global shift: the same result)."""
    kv = ks = None
    top = -math.inf
    for i in range(0, len(k), _CHUNK):
        kc, vc = k[i : i + _CHUNK], v[i : i + _CHUNK]
        if fm.kind == "positive":
            log = fm.log_features(kc)
            new_top = max(top, float(log.max()))
            if kv is not None and new_top > top:
                kv, ks = kv * math.exp(top - new_top), ks * math.exp(top - new_top)
            top = new_top
            f = (log - top).exp()
        else:
            f = fm(kc)
        kv = f.T @ vc if kv is None else kv + f.T @ vc
        ks = f.sum(0) if ks is None else ks + f.sum(0)
    return kv, ks


def kernel_estimate(queries, keys, feature_map: FeatureMap) -> Tensor:
    r"""The approximate kernel matrix :math:`\phi(Q)\,\phi(K)^\top`, queries x keys.

    Quadratic in the number of points: for measuring the approximation, not for
    pooling (use :func:`linear_attention`).

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points.
    feature_map : FeatureMap
        From :func:`fourier_features` or :func:`positive_features`.

    Returns
    -------
    Tensor, shape (n_q, n_k)
        Estimated kernel values, in the points' floating dtype (float64 for
        integers).

    Raises
    ------
    ValueError
        For points whose d differs from the feature map's, NaN/inf or bad shapes.
    TypeError
        For non-numeric points.

    References
    ----------
    Rahimi and Recht (2007); Choromanski et al. (2021).

    Examples
    --------
    >>> phi = positive_features(1, 8, seed=0)
    >>> kernel_estimate([0.0, 1.0], [0.5], phi).shape
    torch.Size([2, 1])
    """
    return feature_map(queries) @ feature_map(keys).T


def linear_attention(
    queries, keys, values, feature_map: FeatureMap, *, causal: bool = False
) -> Tensor:
    r"""Attention pooling through random features, in time linear in the points.

    :math:`\phi(Q)(\phi(K)^\top V) / \phi(Q)(\phi(K)^\top 1)`.

    Cost O((n_q + n_k) D (d + m)) time and O(D (m + 8192)) extra memory (causal:
    O(n D m) for the running sums). Positive features are shifted in the log
    domain (queries by row, keys globally; see the module notes). Where a
    denominator is not positive (random Fourier features can make it negative or
    zero; positive features only when it underflows) the estimate is NaN and a
    ``RuntimeWarning`` says for how many queries: never a number divided by a tiny
    or negative normalizer.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points, in the units of the queries.
    values : Tensor or array_like, shape (n_k,) or (n_k, m)
        One value (row) per key.
    feature_map : FeatureMap
        From :func:`fourier_features` or :func:`positive_features`.
    causal : bool, default False
        Query ``j`` pools keys ``0..j`` only (requires n_q == n_k): running sums
        :math:`S_j = S_{j-1} + \phi(k_j) v_j^\top`, :math:`z_j = z_{j-1} + \phi(k_j)`,
        output :math:`\phi(q_j) S_j / \phi(q_j) z_j`, the recurrent view of
        Katharopoulos et al. (2020).

    Returns
    -------
    Tensor, shape (n_q,) for 1-D values, (n_q, m) otherwise
        In the promoted floating dtype of queries, keys, values (float64 for
        integers).

    Raises
    ------
    ValueError
        For bad shapes, NaN/inf input, mismatched lengths or d, or ``causal`` with
        n_q != n_k.
    TypeError
        For non-numeric input or a ``feature_map`` that is not a
        :class:`FeatureMap`.

    References
    ----------
    Katharopoulos et al. (2020); Choromanski et al. (2021); Rahimi and Recht (2007).

    Examples
    --------
    >>> phi = positive_features(1, 64, seed=0)
    >>> linear_attention([0.0, 1.0], [0.0, 1.0, 2.0], [1, 2, 3], phi).shape
    torch.Size([2])
    >>> out = linear_attention([0.0, 1.0], [0.0, 1.0], [5.0, 7.0], phi, causal=True)
    >>> print(f"{float(out[0]):.4f}")  # the first query sees the first key only
    5.0000
    """
    if not isinstance(feature_map, FeatureMap):
        raise TypeError(
            "feature_map must be a FeatureMap (from fourier_features or "
            f"positive_features), got {type(feature_map).__name__}"
        )
    q, k = as_points(queries, "queries"), as_points(keys, "keys")
    v = as_points(values, "values")
    vector = (
        torch.as_tensor(
            np.asarray(values) if not isinstance(values, Tensor) else values
        ).ndim
        == 2
    )
    if v.shape[0] != k.shape[0]:
        raise ValueError(f"values has {v.shape[0]} rows but keys has {k.shape[0]}")
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"queries have d = {q.shape[1]} but keys d = {k.shape[1]}")
    if causal and q.shape[0] != k.shape[0]:
        raise ValueError(
            f"causal attention needs as many queries as keys, got "
            f"{q.shape[0]} and {k.shape[0]}"
        )
    dt = torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
    q, k, v = q.to(dt), k.to(dt), v.to(dt)
    positive = feature_map.kind == "positive"
    if causal:
        fq = feature_map(q, shift="row" if positive else None)
        fk = feature_map(k, shift="global" if positive else None)
        summary = torch.cumsum(fk[:, :, None] * v[:, None, :], dim=0)  # (n, D, m)
        num = torch.einsum("nD,nDm->nm", fq, summary)
        den = (fq * torch.cumsum(fk, dim=0)).sum(1)
    else:
        kv, ks = _summary(k, v, feature_map)  # (D, m), (D,)
        parts = [
            (f @ kv, f @ ks)
            for f in (
                feature_map(q[i : i + _CHUNK], shift="row" if positive else None)
                for i in range(0, len(q), _CHUNK)
            )
        ]
        num = torch.cat([p[0] for p in parts])
        den = torch.cat([p[1] for p in parts])
    bad = ~(den > 0)
    if bad.any():
        warnings.warn(
            f"linear_attention: {int(bad.sum())} of {len(den)} queries have a "
            "denominator <= 0 (random Fourier features can make it negative); "
            "their estimate is NaN",
            RuntimeWarning,
            stacklevel=2,
        )
    out = num / den.where(~bad, torch.nan)[:, None]
    return out if vector else out[:, 0]
