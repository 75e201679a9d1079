r"""Local-linear pooling: the line through the attention weights.

Nadaraya-Watson is the constant :math:`a` that minimizes
:math:`\sum_i w_i(q)\,(v_i - a)^2` with the attention weights :math:`w_i(q)`
(nwlib's ``attention_weights``). Local-linear regression fits
:math:`a + b^\top (k_i - q)` with the same weights and predicts :math:`a`
(Fan 1992; Fan and Gijbels 1996; Wasserman 2006, section 5.4). Both are linear
smoothers :math:`\hat f(q) = \sum_i l_i(q)\, v_i`; with :math:`\bar k = \sum_i w_i k_i`,
the weighted covariance :math:`C = \sum_i w_i (k_i - \bar k)(k_i - \bar k)^\top` and
:math:`g = C^{-1}(q - \bar k)`, the local line's *equivalent kernel* is

.. math:: l_i(q) = w_i(q)\,\big(1 + (k_i - \bar k)^\top g\big),

which sums to 1 over the keys and can be negative. Eliminating :math:`a` from the
:math:`(d+1) \times (d+1)` weighted normal equations leaves the :math:`d \times d`
system :math:`C g = q - \bar k` (its Schur complement), formed from deviations about
:math:`\bar k` (two passes, no cancellation) and solved for all queries of a block at
once. Coordinates are divided by the width first, so :math:`C` is of order 1.

A line needs :math:`d + 1` keys in general position inside the window. With a compact
kernel and fewer keys in reach (or with collinear keys), :math:`C` is singular: the
smallest eigenvalue of :math:`C` at or below ``n_keys * eps * max(1, largest)``
(numpy's ``matrix_rank`` tolerance) marks it. Such queries get NaN and one
``RuntimeWarning`` counts them; ``on_empty="raise"`` raises ``ValueError`` instead.

Leave-one-out needs no refits: with :math:`S_{ii} = l_i(k_i)` the diagonal of the
smoother matrix, :math:`v_i - \hat f_{-i}(k_i) = (v_i - \hat f(k_i)) / (1 - S_{ii})`,
exact for any weighted least-squares fit at a point (the deleted residual). Its mean
square is :func:`nwlib.selection.loo_error` with ``degree=1``, and
:func:`nwlib.selection.select_width_minimize` with ``degree=1`` minimizes it.

Dtype: the inputs' floating dtype (float64 wins; integers and booleans as float64,
float16/bfloat16 in float32).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from ._validate import HALF_DTYPES, ArrayLike, as_float_tensor
from .kernels import Kernel, get_kernel
from .pooling import attention_weights, choose_block_size

__all__ = [
    "local_linear",
    "local_constant",
    "loo_predictions",
]

Tensor = torch.Tensor


def _tensor(x: ArrayLike, name: str) -> Tensor:
    """A floating tensor (``as_float_tensor``), half dtypes as float32."""
    t = as_float_tensor(x, name)
    return t.float() if t.dtype in HALF_DTYPES else t


def _inputs(
    queries: ArrayLike, keys: ArrayLike, values: ArrayLike, width: ArrayLike
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    q, k = _tensor(queries, "queries"), _tensor(keys, "keys")
    v = _tensor(values, "values")
    q = q.reshape(-1, 1) if q.ndim == 1 else q
    k = k.reshape(-1, 1) if k.ndim == 1 else k
    if q.ndim != 2 or k.ndim != 2 or q.shape[1] != k.shape[1]:
        raise ValueError(
            f"queries and keys must be (n,) or (n, d) with the same d, "
            f"got {tuple(q.shape)} and {tuple(k.shape)}"
        )
    if v.ndim not in (1, 2) or v.shape[0] != k.shape[0]:
        raise ValueError(
            f"values must be (n_keys,) or (n_keys, m) with n_keys = "
            f"{k.shape[0]}, got {tuple(v.shape)}"
        )
    dt = torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
    h = _tensor(width, "width").to(dt).reshape(-1)
    if h.numel() not in (1, k.shape[1]) or not bool((h > 0).all()):
        raise ValueError(
            f"width must be > 0: a scalar or one per coordinate "
            f"({k.shape[1]},), got shape {tuple(h.shape)}"
        )
    return q.to(dt), k.to(dt), v.to(dt), h


def _fit(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    h: Tensor,
    kernel: str | Kernel,
    degree: int,
    on_empty: str,
    diagonal: bool = False,
    keep_weights: bool = False,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Predictions (n_q, m), mask of bad queries, smoother diagonal or weights."""
    if degree not in (0, 1):
        raise ValueError(
            f"degree must be 0 (local constant) or 1 (local linear), got {degree!r}"
        )
    if on_empty not in ("nan", "raise"):
        raise ValueError(f"on_empty must be 'nan' or 'raise', got {on_empty!r}")
    kern = get_kernel(kernel)
    (n_q, d), n_k = q.shape, k.shape[0]
    tol = n_k * torch.finfo(q.dtype).eps
    v2 = v.reshape(n_k, -1)
    # one query's row: n_k weights and n_k x d deviations, (d + 1) n_k numbers
    step = choose_block_size(n_q, n_k * (d + 1), dtype=q.dtype, kernel=kern)
    preds, bads, extra = [], [], []
    for s in range(0, n_q, step):  # blocks of queries, each block vectorized
        qb = q[s : s + step]
        with warnings.catch_warnings():  # empty windows: reported once, below
            warnings.simplefilter("ignore", RuntimeWarning)
            w = attention_weights(qb, k, h, kern, on_empty="nan")
        bad = torch.isnan(w[:, 0])  # an empty window's row is all NaN
        if bool(bad.any()):
            w[bad] = 0.0
        fit = w @ v2  # the local constant (Nadaraya-Watson)
        if degree == 1:
            kbar = w @ k
            dev = (k.unsqueeze(0) - kbar.unsqueeze(1)) / h  # (B, n_k, d), width units
            wdev_t = (w.unsqueeze(2) * dev).transpose(1, 2)  # (B, d, n_k)
            cov = wdev_t @ dev  # (B, d, d)
            eig = torch.linalg.eigvalsh(cov)
            bad |= eig[:, 0] <= tol * eig[:, -1].clamp(min=1.0)
            eye = torch.eye(d, dtype=cov.dtype).expand_as(cov)
            cov = torch.where(bad[:, None, None], eye, cov)
            g = torch.linalg.solve(cov, ((qb - kbar) / h).unsqueeze(2))  # (B, d, 1)
            fit = fit + ((wdev_t @ v2) * g).sum(1)  # a = mean + g . (sum w dev v)
            if keep_weights or diagonal:  # the equivalent kernel l_i(q)
                w = w * (1 + (dev @ g).squeeze(2)) if keep_weights else w
                if diagonal:
                    i = torch.arange(len(qb))
                    corr = 1 + (dev[i, s + i] * g[:, :, 0]).sum(1)
        fit[bad] = math.nan
        preds.append(fit)
        bads.append(bad)
        if diagonal:
            sii = w.diagonal(s) * (corr if degree == 1 else 1)
            extra.append(sii.masked_fill(bad, math.nan))
        elif keep_weights:
            extra.append(w.masked_fill(bad[:, None], math.nan))
    bad = torch.cat(bads)
    if bool(bad.any()):
        need = f"fewer than {d + 1} keys in general position" if degree else "no key"
        msg = (
            f"{int(bad.sum())} of {n_q} queries have {need} inside the window "
            f"(a singular local fit)"
        )
        if on_empty == "raise":
            raise ValueError(msg)
        warnings.warn(msg + ": their predictions are NaN", RuntimeWarning, stacklevel=3)
    out, extra = torch.cat(preds), (torch.cat(extra) if extra else None)
    return (out if v.ndim == 2 else out[:, 0]), bad, extra


def local_linear(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    degree: int = 1,
    return_weights: bool = False,
    on_empty: str = "nan",
) -> Tensor | tuple[Tensor, Tensor]:
    r"""Local-linear (``degree=1``) or local-constant (``degree=0``: NW) pooling.

    Parameters
    ----------
    queries : (n_q,) or (n_q, d)
        Where the estimate is wanted: an array or tensor of real numbers.
    keys : (n_k,) or (n_k, d)
        The training inputs, in the queries' dimension d.
    values : (n_k,) or (n_k, m)
        The training outputs, one (or one row of m) per key.
    width : float or (d,)
        :math:`h > 0`, one or one per coordinate, as in ``attention_weights``.
    kernel : str or Kernel
        A name of ``nwlib.KERNELS`` or a Kernel; its weights come from
        ``attention_weights``.
    degree : {1, 0}
        1 fits a local line, 0 a local constant (the Nadaraya-Watson estimate).
    return_weights : bool
        Also return the equivalent-kernel weights :math:`l_i(q)`, (n_q, n_k), queries x
        keys: rows sum to 1, entries may be negative.
    on_empty : {"nan", "raise"}
        A query whose window holds fewer than :math:`d + 1` keys in general position
        (:math:`C` singular): NaN and a ``RuntimeWarning``, or ``ValueError``.

    Returns
    -------
    Tensor (n_q,) or (n_q, m), and with ``return_weights`` the (n_q, n_k) weights.
    Dtype: the inputs' floating dtype; integers as float64.

    Raises
    ------
    TypeError, ValueError
        Non-numeric, empty, non-finite or mis-shaped input, a width that is not > 0,
        an unknown kernel, degree or ``on_empty``.

    Sources: Fan (1992), JASA 87(420):998-1004; Fan and Gijbels (1996), *Local
    Polynomial Modelling and Its Applications*; Wasserman (2006), section 5.4.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    >>> f = local_linear([0.0, 1.5], x, 2 * x + 1, 0.8)  # a line is kept exactly
    >>> [f"{v:.12f}" for v in f]
    ['1.000000000000', '4.000000000000']
    >>> f, l = local_linear([0.0], x, 2 * x + 1, 0.8, return_weights=True)
    >>> l.shape, bool(l.min() < 0), f"{float(l.sum()):.12f}"
    (torch.Size([1, 4]), True, '1.000000000000')
    """
    q, k, v, h = _inputs(queries, keys, values, width)
    out, _, w = _fit(q, k, v, h, kernel, degree, on_empty, keep_weights=return_weights)
    return (out, w) if return_weights else out


def local_constant(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    **kwargs: Any,
) -> Tensor | tuple[Tensor, Tensor]:
    """:func:`local_linear` with ``degree=0``: the Nadaraya-Watson estimate.

    Dtype and errors as :func:`local_linear`.

    Parameters
    ----------
    queries, keys, values, width, kernel
        As :func:`local_linear`.
    **kwargs
        ``return_weights`` and ``on_empty`` of :func:`local_linear`.

    Returns
    -------
    Tensor (n_q,) or (n_q, m)
        The weighted mean of the values at each query; with ``return_weights``
        also the (n_q, n_k) weights, the attention weights themselves.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    >>> [f"{v:.4f}" for v in local_constant([1.0], x, x**2, 1e3)]  # the mean
    ['1.6667']
    """
    return local_linear(queries, keys, values, width, kernel, degree=0, **kwargs)


def loo_predictions(
    keys: ArrayLike,
    values: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    degree: int = 1,
    on_empty: str = "nan",
) -> Tensor:
    r"""Leave-one-out predictions :math:`\hat f_{-i}(k_i)`, (n,) or (n, m), one fit.

    :math:`\hat f_{-i}(k_i) = (\hat f(k_i) - S_{ii} v_i) / (1 - S_{ii})` with
    :math:`S_{ii} = l_i(k_i)`, equal to refitting without pair :math:`i`. Where that
    refit is singular (:math:`S_{ii} = 1`: too few other keys in the window of
    :math:`k_i`) the prediction is NaN with a ``RuntimeWarning``
    (``on_empty="raise"``: ValueError). :func:`nwlib.selection.loo_predictions` with
    ``degree=1`` calls this.

    Parameters
    ----------
    keys : (n,) or (n, d)
        The training inputs (each key is also a query).
    values : (n,) or (n, m)
        The training outputs, one (or one row of m) per key.
    width, kernel, degree, on_empty
        As :func:`local_linear`.

    Returns
    -------
    Tensor, (n,) or (n, m), the inputs' floating dtype (integers as float64).

    Raises
    ------
    TypeError, ValueError
        As :func:`local_linear`; ValueError with ``on_empty="raise"`` where a
        refit is singular.

    Source: the deleted residual of weighted least squares; Wasserman (2006), ch. 5.

    Examples
    --------
    >>> x = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    >>> [f"{v:.9f}" for v in loo_predictions(x, 2 * x + 1, 1.0)]
    ['1.000000000', '3.000000000', '5.000000000', '7.000000000', '9.000000000']
    """
    k, _, v, h = _inputs(keys, keys, values, width)
    fit, bad, s = _fit(k, k, v, h, kernel, degree, on_empty, diagonal=True)
    s = s if v.ndim == 1 else s.unsqueeze(1)
    single = (1 - s).abs() <= 64 * torch.finfo(k.dtype).eps
    sv = s * v
    out = (fit - sv) / torch.where(single, torch.ones_like(s), 1 - s)
    lone = (single.reshape(len(k), -1).any(1)) & ~bad
    if bool(lone.any()):
        msg = (
            f"{int(lone.sum())} of {len(k)} points leave too few keys in their "
            f"window when left out (S_ii = 1)"
        )
        if on_empty == "raise":
            raise ValueError(msg)
        warnings.warn(msg + ": their predictions are NaN", RuntimeWarning, stacklevel=2)
    out[lone] = math.nan
    return out
