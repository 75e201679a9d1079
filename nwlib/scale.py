r"""Scaling up: banded 1-D evaluation, visiting only the keys that matter.

Nadaraya-Watson costs one kernel evaluation per (query, key) pair. For 1-D
inputs with a scalar width most of those pairs contribute nothing a float can
hold, and sorting the keys lets us skip them:

* compact kernels (boxcar, Epanechnikov, triangular) are exactly 0 beyond
  :math:`|q - k| = h`: only keys within :math:`h` are visited, with no error;
* the Gaussian is truncated per query at

  .. math:: |q - k| \le h \sqrt{r_{\min}^2 + c^2}, \qquad c^2 = 2 \log(n_k / u),
     :label: eq-truncation

  where :math:`r_{\min}` is the scaled distance to the nearest key and
  :math:`u` the unit roundoff of the dtype (:math:`2^{-24}` in float32,
  :math:`2^{-53}` in float64). Relative to the nearest key (shifted weight 1)
  every dropped key has weight below :math:`e^{-c^2/2} = u / n_k`, so all of
  them together carry less than :math:`u` of the total weight and the estimate
  moves by at most :math:`u \cdot (\max v - \min v)`: exact to the dtype's
  precision.

The leave-one-out score :func:`nwlib.selection.loo_error` uses this banded
evaluation for 1-D inputs with a scalar width (the diagonal of each block is
masked: no n masked copies), so the width searches of :mod:`nwlib.selection`
scale to large n.

Dtype: :func:`banded_nadaraya_watson` computes in the inputs' dtype unless
``dtype`` is given (float64 in, float64 out).
"""

from __future__ import annotations

import torch

from ._engine import (
    banded_estimate,
    check_exclude_self,
    check_on_empty,
    resolve_dtype,
    truncation_radius,
)
from ._validate import (
    ArrayLike,
    as_float_tensor,
    as_points,
    as_width,
)
from .kernels import Kernel, get_kernel

Tensor = torch.Tensor

__all__ = [
    "truncation_radius",
    "banded_nadaraya_watson",
]


def banded_nadaraya_watson(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: float,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
    on_empty: str = "nan",
    dtype: torch.dtype | str | None = None,
    block_size: int | None = None,
    memory_budget: int | None = None,
) -> Tensor:
    r"""1-D Nadaraya-Watson that visits only the keys that matter.

    Keys are sorted once; each block of sorted queries visits the contiguous slab
    of keys inside its window (:eq:`eq-truncation` for the Gaussian, the support
    for compact kernels, every key for the constant kernel). Same results as
    :func:`nwlib.pooling.nadaraya_watson` to the dtype's precision.

    Dtype: as :func:`nwlib.pooling.nadaraya_watson` (integers as float64, half
    dtypes in float32, ``dtype`` overrides, a lower ``dtype`` centres the data first
    in the inputs' precision).

    Parameters
    ----------
    queries : (n_q,) or (n_q, 1)
        One-dimensional queries, real numbers.
    keys : (n_k,) or (n_k, 1)
        One-dimensional keys, real numbers, in any order.
    values : (n_k,) or (n_k, m)
        One value (or row of m values) per key.
    width : float
        A scalar width > 0 (for per-coordinate or per-key widths, and for autograd,
        use :func:`nwlib.pooling.nadaraya_watson`).
    kernel, exclude_self, on_empty, dtype, block_size, memory_budget
        As in :func:`nwlib.pooling.nadaraya_watson`.

    Returns
    -------
    Tensor, (n_q,) or (n_q, m)
        NaN (with a ``RuntimeWarning``) for a query with no key inside a compact
        kernel's support, unless ``on_empty="raise"``.

    Raises
    ------
    ValueError
        Inputs with d > 1, a width that is not a scalar > 0, values without one
        row per key, ``exclude_self`` with queries that are not the keys.

    Examples
    --------
    >>> keys = torch.linspace(0, 10, 1001, dtype=torch.float64)
    >>> f = banded_nadaraya_watson([2.0, 7.5], keys, keys**2, 0.05)
    >>> [f"{v:.4f}" for v in f]  # x^2 smoothed: x^2 + h^2 inside the data
    ['4.0025', '56.2525']
    """
    kern = get_kernel(kernel)
    check_on_empty(on_empty)
    dtype = resolve_dtype(dtype)
    q = as_points(queries, "queries").detach()
    k = as_points(keys, "keys").detach()
    v = as_float_tensor(values, "values").detach()
    if q.shape[1] != 1 or k.shape[1] != 1:
        raise ValueError(
            f"banded_nadaraya_watson is for 1-D inputs, got queries with "
            f"d={q.shape[1]} and keys with d={k.shape[1]}"
        )
    hw = as_width(width)
    if hw.numel() != 1:
        raise ValueError(f"width must be a scalar here, got shape {tuple(hw.shape)}")
    if v.ndim not in (1, 2) or v.shape[0] != k.shape[0]:
        raise ValueError(
            f"values must have shape (n_keys,) or (n_keys, m) with "
            f"n_keys={k.shape[0]}, got shape {tuple(v.shape)}"
        )
    if exclude_self:
        check_exclude_self(q, k)
    return banded_estimate(
        q,
        k,
        v,
        hw,
        kern,
        exclude_self=exclude_self,
        on_empty=on_empty,
        dtype=dtype,
        block_size=block_size,
        memory_budget=memory_budget,
        stacklevel=4,
    )
