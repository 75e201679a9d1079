r"""Attention pooling by similarity: the Nadaraya-Watson estimator.

For queries :math:`q_j`, keys :math:`k_i` and values :math:`v_i`,

.. math::

    a(q_j, k_i) = \frac{K(\lVert q_j - k_i\rVert / h)}
                       {\sum_l K(\lVert q_j - k_l\rVert / h)},
    \qquad f(q_j) = \sum_i a(q_j, k_i)\, v_i .

The dense definition, which every faster path must agree with
(``tests/test_engine.py`` checks :func:`nadaraya_watson` against it)::

    r2 = scaled_sq_distances(queries, keys, width)   # (n_q, n_k)
    s = kernel.log_profile(r2)                       # log K, -inf outside a support
    a = torch.softmax(s, dim=1)                      # attention_weights: rows sum to 1
    # Gaussian, width outside [1e-10, 1e10] (or data beyond 1e15):
    # s = -(r2 - r2_min) / 2, the row shift formed before dividing by h^2
    # (the nearest key gets exp(0) = 1)
    f = a @ values                                   # nadaraya_watson

Shapes are always queries x keys: ``queries`` (n_q,) or (n_q, d), ``keys``
(n_k,) or (n_k, d), ``values`` (n_k,) or (n_k, m); the weights are
(n_q, n_k), the estimate (n_q,) or (n_q, m).

The weights are a softmax over keys of the log-kernel, so a Gaussian with a
tiny width never turns into 0/0. With a compact kernel (boxcar, Epanechnikov,
triangular) a query with no key inside the support really is 0/0: its row is
NaN and a ``RuntimeWarning`` says how many queries are affected (or
``on_empty="raise"`` raises ``ValueError``).

Dtype (the module notes the functions refer to): everything is computed in the
inputs' floating dtype, promoted (float64 wins); integers, booleans and Python
numbers as float64 (float32 would round integers above 2**24), float16 and
bfloat16 in float32 (too few bits for squared distances and sums);
``dtype=torch.float32`` is the fast choice. Units: widths and distances are in
the units of the points, scaled distances and weights are unitless, the
estimate is in the units of the values. :func:`nadaraya_watson` never forms
the (n_q, n_k) matrix: it runs on the private engine (:mod:`nwlib._engine`:
blocks of queries sized by :func:`choose_block_size`, worker threads, a banded
1-D path, an exact backward pass for one Gaussian width), whose notes give the
speed and precision details.
"""

from __future__ import annotations

import torch

from ._engine import (
    DEFAULT_MEMORY_BUDGET,
    as_result,
    check_exclude_self,
    check_on_empty,
    check_p,
    choose_block_size,
    estimate,
    is_gaussian,
    ordinary,
    prepare,
    resolve_dtype,
    self_mask,
    shifted_sq_dist,
    softmax_rows,
    sq_dist,
    work_dtype,
)
from ._validate import ArrayLike, as_float_tensor, same_device
from .kernels import Kernel, get_kernel

Tensor = torch.Tensor

__all__ = [
    "scaled_sq_distances",
    "log_scores",
    "attention_weights",
    "nadaraya_watson",
    "choose_block_size",
    "DEFAULT_MEMORY_BUDGET",
]


def scaled_sq_distances(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    *,
    p: float = 2.0,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    r"""Squared scaled distances :math:`r^2_{ji} = \sum_c ((q_{jc} - k_{ic})/h_{ic})^2`.

    Differences are formed directly (not as
    :math:`\lVert q\rVert^2 + \lVert k\rVert^2 - 2q\cdot k`) and divided by the
    width before they are squared, so a large common offset costs no digits and
    scales from 1e-20 to 1e20 neither overflow nor underflow. With ``p`` other
    than 2 it is :math:`r_p^2` of the Minkowski distance.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points, in the units of the queries.
    width : float or array_like or Tensor, shape (), (d,), (n_k, 1) or (n_k, d)
        One width, one per coordinate, or one per key; > 0, in the units of the
        points.
    p : float, default 2.0
        Order of the Minkowski distance (>= 1 or ``math.inf``).
    dtype : torch.dtype or str, optional
        Compute in this dtype (a half dtype is computed in float32 and returned in
        it); default: the inputs' (see the module notes).
    device : torch.device or str, optional
        Compute on this device (default: the inputs').

    Returns
    -------
    Tensor, shape (n_q, n_k)
        Unitless (in widths), in the compute dtype.

    Raises
    ------
    ValueError
        Mismatched d, a width that is not > 0 or has no accepted shape, NaN/inf
        input, or a ``p`` below 1.
    TypeError
        For non-numeric input.

    Examples
    --------
    >>> scaled_sq_distances([0.0, 1.0], [0.0, 2.0], width=0.5)
    tensor([[ 0., 16.],
            [ 4.,  4.]], dtype=torch.float64)
    """
    p = check_p(p)
    q, k, h = prepare(queries, keys, width, dtype=dtype, device=device)
    return as_result(sq_dist(q, k, h, p), dtype)


def log_scores(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
    p: float = 2.0,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    r"""Log-kernel scores :math:`s_{ji} = \log K(r_{ji})`, queries x keys.

    ``-inf`` marks a key outside a compact kernel's support. With
    ``exclude_self=True`` (queries are the keys, in the same order) the diagonal
    is set to ``-inf``: each point is left out of its own prediction, the
    leave-one-out form. Scaled differences are squared, so the scores do not change
    when queries, keys and width are multiplied by one factor or shifted together.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points, in the units of the queries.
    width : float or array_like or Tensor, shape (), (d,), (n_k, 1) or (n_k, d)
        :math:`h > 0`, as in :func:`attention_weights`.
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.
    exclude_self : bool, default False
        Set the diagonal to ``-inf`` (queries must be the keys).
    p : float, default 2.0
        Order of the Minkowski distance (>= 1 or ``math.inf``).
    dtype : torch.dtype or str, optional
        Compute in this dtype (default: the inputs', see the module notes).
    device : torch.device or str, optional
        Compute on this device (default: the inputs').

    Returns
    -------
    Tensor, shape (n_q, n_k)
        Unitless, in the compute dtype.

    Raises
    ------
    ValueError
        As :func:`scaled_sq_distances`, an unknown kernel, and ``exclude_self``
        with queries that are not the keys.
    TypeError
        As :func:`scaled_sq_distances` (non-numeric input), a kernel that is
        neither a name nor a :class:`~nwlib.kernels.Kernel`.

    Examples
    --------
    >>> log_scores([0.0], [0.0, 1.0, 3.0], 1.5, "boxcar")  # 1{|u| < 1}: log 1 or -inf
    tensor([[0., 0., -inf]], dtype=torch.float64)
    """
    p = check_p(p)
    q, k, h = prepare(queries, keys, width, dtype=dtype, device=device)
    s = get_kernel(kernel).log_profile(
        sq_dist(q, k, h, p)
    )  # log K(r), -inf outside a support
    mask = self_mask(q, k, exclude_self)  # leave-one-out: the diagonal
    if mask is not None:
        s = s.masked_fill(mask, -torch.inf)
    return as_result(s, dtype)


def attention_weights(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
    on_empty: str = "nan",
    p: float = 2.0,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    r"""Attention weights :math:`a(q_j, k_i)`, queries x keys, each row summing to 1.

    The softmax normalizes log-scores: no weight is exponentiated before the
    normalization. This returns the whole matrix, so it needs O(n_q x n_k) memory;
    for the estimate alone use :func:`nadaraya_watson`, which works in blocks.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points, in the units of the queries.
    width : float or array_like or Tensor, shape (), (d,), (n_k, 1) or (n_k, d)
        :math:`h > 0`, in the units of the points: a scalar, one per coordinate,
        or one per key. Autograd flows through a tensor width.
    kernel : str or Kernel, default "gaussian"
        One of ``nwlib.kernels.KERNELS``, or a :class:`~nwlib.kernels.Kernel`.
    exclude_self : bool, default False
        Leave each point out of its own prediction (queries must be the keys).
    on_empty : {"nan", "raise"}, default "nan"
        What a query with no key inside a compact kernel's support gets: a row of
        NaN and a ``RuntimeWarning``, or a ``ValueError``.
    p : float, default 2.0
        Order of the Minkowski distance
        :math:`r_p = (\sum_c |q_c - k_c|^p / h_c^p)^{1/p}` (2: Euclidean, 1: city
        block, ``math.inf``: the largest coordinate); irrelevant for d = 1.
    dtype : torch.dtype or str, optional
        Compute in this dtype (default: the inputs', see the module notes); when it
        holds less precision than the inputs, an offset that dominates the keys'
        spread is first removed in their own precision.
    device : torch.device or str, optional
        Compute on this device (default: the inputs').

    Returns
    -------
    Tensor, shape (n_q, n_k)
        Unitless weights, in the compute dtype.

    Raises
    ------
    ValueError
        Mismatched d, a width that is not > 0 or has no accepted shape,
        ``exclude_self`` with queries that are not the keys, or
        (``on_empty="raise"``) a query with no key in a compact kernel's support.
    TypeError
        For non-numeric input or a kernel that is neither a name nor a Kernel.

    References
    ----------
    Nadaraya (1964); Watson (1964).

    Examples
    --------
    >>> w = attention_weights([0.0, 2.0], [0.0, 1.0, 2.0], 1.0)
    >>> w.sum(1)
    tensor([1., 1.], dtype=torch.float64)
    >>> w[0].argmax().item()  # the nearest key weighs most
    0
    """
    kern = get_kernel(kernel)
    wdt = work_dtype(resolve_dtype(dtype))
    q, k, h = prepare(queries, keys, width, dtype=wdt, device=device)
    if is_gaussian(kern) and not ordinary(q, k, h):
        # tiny or huge widths: shift each row by its nearest key before dividing by h^2
        mask = self_mask(q, k, exclude_self)
        s = -0.5 * shifted_sq_dist(q, k, h, check_p(p), mask)
        return as_result(softmax_rows(s, kern, on_empty), dtype)
    s = log_scores(
        queries,
        keys,
        width,
        kern,
        exclude_self=exclude_self,
        p=p,
        dtype=wdt,
        device=device,
    )
    return as_result(
        softmax_rows(s, kern, on_empty), dtype
    )  # normalized in the log domain


def nadaraya_watson(
    queries: ArrayLike,
    keys: ArrayLike,
    values: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
    on_empty: str = "nan",
    p: float = 2.0,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
    block_size: int | None = None,
    memory_budget: int | None = None,
    banded: bool | None = None,
) -> Tensor:
    r"""Nadaraya-Watson estimate :math:`f(q_j) = \sum_i a(q_j, k_i) v_i`, in blocks.

    ``dtype=torch.float32`` on float64 data is the fast choice: queries and keys
    are first shifted by the middle of the keys' range and the values by theirs, in
    the inputs' precision, where that middle dominates the range (time stamps,
    say), so an offset costs no digits; the fast path multiplies queries, keys and
    width by a power of 2 near 1/h (exact) before squaring differences, and the
    weighted sums are added in float64. Peak extra memory is O(block_size x n_k):
    without autograd the block is computed in place; when a gradient is needed
    each block is checkpointed (recomputed in the backward pass).

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Query points.
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Key points, in the units of the queries.
    values : Tensor or array_like, shape (n_k,) or (n_k, m)
        One value (row) per key.
    width : float or array_like or Tensor, shape (), (d,), (n_k, 1) or (n_k, d)
        :math:`h > 0`, as in :func:`attention_weights`.
    kernel : str or Kernel, default "gaussian"
        As in :func:`attention_weights`.
    exclude_self : bool, default False
        Leave each point out of its own prediction (queries must be the keys).
    on_empty : {"nan", "raise"}, default "nan"
        As in :func:`attention_weights`.
    p : float, default 2.0
        Order of the Minkowski distance, as in :func:`attention_weights`.
    dtype : torch.dtype or str, optional
        Compute (and return) in this dtype; default: the common dtype of queries,
        keys and values (see the module notes). A half dtype is computed in
        float32 and returned in it.
    device : torch.device or str, optional
        Move the inputs there (e.g. ``"cuda"``); default: where they are.
    block_size : int, optional
        Queries per block; default from ``memory_budget`` via
        :func:`choose_block_size`.
    memory_budget : int, optional
        Bytes one block's temporaries may take (default ``DEFAULT_MEMORY_BUDGET``).
    banded : bool, optional
        Use :func:`nwlib.scale.banded_nadaraya_watson` (1-D, scalar width, CPU, no
        autograd): sorted keys, only those that carry weight, exact to the dtype's
        precision. ``None`` (default) does so automatically for large problems
        (n_q x n_k >= 2^22) where it applies; ``False`` always visits every key.

    Returns
    -------
    Tensor, shape (n_q,) for 1-D values or (n_q, m) for vector values
        In the units of the values and the compute dtype; NaN rows where a query
        has no key in a compact kernel's support.

    Raises
    ------
    ValueError
        As :func:`attention_weights`, and for values without one row per key, a
        ``block_size`` that is not a positive int, a ``memory_budget`` too small
        for one query row, or ``banded=True`` where it cannot apply.
    TypeError
        For non-numeric input.

    References
    ----------
    Nadaraya (1964); Watson (1964). The leave-one-out form (``exclude_self=True``)
    is the one statsmodels' ``KernelReg(bw='cv_ls')`` scores (Seabold and Perktold
    2010).

    Examples
    --------
    >>> import torch
    >>> keys = torch.tensor([0.0, 1.0, 2.0])
    >>> values = torch.tensor([0.0, 1.0, 4.0])
    >>> q = torch.tensor([1.0])
    >>> nadaraya_watson(q, keys, values, 1e-3)  # tiny width: the nearest key's value
    tensor([1.])
    >>> nadaraya_watson(q, keys, values, 1e3)  # huge width: the mean of the values
    tensor([1.6667])
    """
    kern = get_kernel(kernel)
    check_on_empty(on_empty)
    out_dt = resolve_dtype(dtype)
    p = check_p(p)
    q, k, h = prepare(queries, keys, width, dtype=out_dt, device=device)
    v = as_float_tensor(values, "values", device=device)
    if v.ndim not in (1, 2):
        raise ValueError(
            f"values must have shape (n_keys,) or (n_keys, m), "
            f"got shape {tuple(v.shape)}"
        )
    if v.shape[0] != k.shape[0]:
        raise ValueError(
            f"values must have one row per key: got {v.shape[0]} values for "
            f"{k.shape[0]} keys"
        )
    same_device(queries=q, values=v)
    if exclude_self:
        check_exclude_self(q, k)
    return estimate(
        q,
        k,
        h,
        v,
        kern,
        exclude_self=exclude_self,
        on_empty=on_empty,
        dtype=out_dt,
        block_size=block_size,
        memory_budget=memory_budget,
        banded=banded,
        stacklevel=4,
        p=p,
    )
