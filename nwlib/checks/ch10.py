"""Self-checks for chapter 10, Linear-time attention from random features."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from . import Wrong, as_array, call, close, number, run_check

__all__ = [
    "fourier_phi",
    "positive_phi",
    "linear_pool",
    "causal_pool",
    "features_needed",
]

_GEN = torch.Generator().manual_seed(1010)
_X = torch.randn(7, 3, generator=_GEN, dtype=torch.float64)
_W = torch.randn(5, 3, generator=_GEN, dtype=torch.float64)
_B = 2 * math.pi * torch.rand(5, generator=_GEN, dtype=torch.float64)
_FQ = torch.rand(6, 4, generator=_GEN, dtype=torch.float64) + 0.1
_FK = torch.rand(9, 4, generator=_GEN, dtype=torch.float64) + 0.1
_V = torch.randn(9, 2, generator=_GEN, dtype=torch.float64)
_H_EX5 = 0.5


def fourier_phi(fn: Any) -> None:
    """Exercise 1: check the random Fourier features.

    Parameters
    ----------
    fn : callable
        The learner's ``fourier_phi(x, w, b)``: (n, d) inputs, (D, d) frequencies, (D,)
        phases; returns sqrt(2/D) cos(x w^T + b), shape (n, D), a tensor or numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch10
    >>> import torch
    >>> def fourier_phi(x, w, b):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch10.fourier_phi(fourier_phi)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: random Fourier features. `fourier_phi` still has an empty body: write
    its code where it says YOUR CODE HERE and `return` the result
    >>> ch10.fourier_phi(lambda x, w, b: torch.ones(len(x), len(w)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: random Fourier features. `fourier_phi(x, w, b)` for x (7, 3), w (5, 3), b
    (5,) is off by up to 1.63 at index (2, 3): expected -0.631824, got 1
    """

    def body() -> str:
        out = call(fn, "fourier_phi", _X.clone(), _W.clone(), _B.clone())
        what = "`fourier_phi(x, w, b)` for x (7, 3), w (5, 3), b (5,)"
        arr = as_array(out, what, (7, 5), kind="array")
        expected = math.sqrt(2 / 5) * torch.cos(_X @ _W.T + _B)
        if np.allclose(arr, torch.cos(_X @ _W.T + _B).numpy()):
            raise Wrong(
                f"{what} has the cosines right but not the factor: multiply by "
                f"sqrt(2/D), D = w.shape[0], so that phi(q).phi(k) averages D terms"
            )
        close(arr, expected, what)
        return "sqrt(2/D) cos(x w^T + b): one row of D features per point."

    run_check("random Fourier features", body)


def positive_phi(fn: Any) -> None:
    """Exercise 2: check the positive random features.

    Parameters
    ----------
    fn : callable
        The learner's ``positive_phi(x, w)``: (n, d) inputs and (D, d) frequencies;
        returns exp(x w^T - |x|^2/2) / sqrt(D), shape (n, D), a tensor or numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch10
    >>> import torch
    >>> def positive_phi(x, w):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch10.positive_phi(positive_phi)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: positive random features. `positive_phi` still has an empty body:
    write its code where it says YOUR CODE HERE and `return` the result
    >>> ch10.positive_phi(lambda x, w: torch.ones(len(x), len(w)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: positive random features. `positive_phi(x, w)` for x (7, 3), w (5, 3) is
    off by up to 1.87 at index (6, 3): expected 2.87437, got 1
    """

    def body() -> str:
        out = call(fn, "positive_phi", _X.clone(), _W.clone())
        what = "`positive_phi(x, w)` for x (7, 3), w (5, 3)"
        arr = as_array(out, what, (7, 5), kind="array")
        if (arr <= 0).any():
            raise Wrong(f"{what} has entries <= 0; positive features are exponentials")
        sq = (_X**2).sum(1, keepdim=True)
        expected = torch.exp(_X @ _W.T - sq / 2) / math.sqrt(5)
        if np.allclose(arr, (torch.exp(_X @ _W.T - sq) / math.sqrt(5)).numpy()):
            raise Wrong(
                f"{what} subtracts |x|^2; for the softmax kernel exp(q.k) subtract "
                f"half of it, |x|^2/2"
            )
        close(arr, expected, what)
        return "exp(x w^T - |x|^2/2)/sqrt(D): positive, unbiased for exp(q.k)."

    run_check("positive random features", body)


def linear_pool(fn: Any) -> None:
    """Exercise 3: check linear-time pooling from features.

    Parameters
    ----------
    fn : callable
        The learner's ``linear_pool(fq, fk, v)``: (n_q, D) and (n_k, D) features, (n_k,
        m) values; returns fq (fk^T v) / fq (fk^T 1), shape (n_q, m), a tensor or numpy
        array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch10
    >>> def linear_pool(fq, fk, v):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch10.linear_pool(linear_pool)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: pooling through a key-value summary. `linear_pool` still has an empty
    body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch10.linear_pool(lambda fq, fk, v: v)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: pooling through a key-value summary. `linear_pool(fq, fk, v)` for fq (6,
    4), fk (9, 4), v (9, 2) should have shape (6, 2), got (9, 2)
    """

    def body() -> str:
        out = call(fn, "linear_pool", _FQ.clone(), _FK.clone(), _V.clone())
        what = "`linear_pool(fq, fk, v)` for fq (6, 4), fk (9, 4), v (9, 2)"
        arr = as_array(out, what, (6, 2), kind="array")
        num = _FQ @ (_FK.T @ _V)
        if np.allclose(arr, num.numpy()):
            raise Wrong(
                f"{what} is the numerator only: divide each row by "
                f"fq @ fk.sum(0), the approximate sum of the weights"
            )
        close(arr, num / (_FQ @ _FK.sum(0))[:, None], what)
        return "The key summary fk^T v (D x m) is built once; each query costs O(D m)."

    run_check("pooling through a key-value summary", body)


def causal_pool(fn: Any) -> None:
    """Exercise 4: check causal linear-time pooling.

    Parameters
    ----------
    fn : callable
        The learner's ``causal_pool(fq, fk, v)``: (n, D) features of queries and keys,
        (n, m) values; row j pools keys 0..j only; returns shape (n, m), a tensor or
        numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch10
    >>> def causal_pool(fq, fk, v):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch10.causal_pool(causal_pool)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: causal attention as running sums. `causal_pool` still has an empty
    body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch10.causal_pool(lambda fq, fk, v: v)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: causal attention as running sums. `causal_pool(fq, fk, v)` for fq, fk (9,
    4), v (9, 2) is off by up to 2.09 at index (6, 0): expected -0.40935, got 1.68004
    """

    def body() -> str:
        fq, fk, v = _FK.flip(0), _FK, _V
        out = call(fn, "causal_pool", fq.clone(), fk.clone(), v.clone())
        what = "`causal_pool(fq, fk, v)` for fq, fk (9, 4), v (9, 2)"
        arr = as_array(out, what, (9, 2), kind="array")
        full = (fq @ (fk.T @ v)) / (fq @ fk.sum(0))[:, None]
        if np.allclose(arr, full.numpy()):
            raise Wrong(
                f"{what} lets every query see every key: row j should use keys "
                f"0..j only (torch.cumsum over the keys)"
            )
        rows = [
            (fq[j] @ (fk[: j + 1].T @ v[: j + 1])) / (fq[j] @ fk[: j + 1].sum(0))
            for j in range(9)
        ]
        close(arr, torch.stack(rows), what)
        return "Running sums S_j, z_j: the same as pooling each prefix, in one pass."

    run_check("causal attention as running sums", body)


def features_needed(features: Any) -> None:
    """Exercise 5: check the number of features for a 10 % relative error.

    Parameters
    ----------
    features : float
        The number D of positive random features that gives a relative standard
        deviation of 0.1 for q = k on the unit sphere at width 0.5 (within 2 %).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch10
    >>> ch10.features_needed(None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: features needed at a small width. `features` is still None: replace it
    with your answer
    >>> ch10.features_needed(100.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: features needed at a small width. `features` = 100 is not the D that
    makes the relative standard deviation 0.1; solve (exp(|z_q + z_k|^2) - 1)/D = 0.1^2
    for D, z = x/h
    """

    def body() -> str:
        dv = number(features, "`features`")
        exact = math.expm1(4 / _H_EX5**2) / 0.1**2
        if dv <= 0:
            raise Wrong(f"`features` = {dv:.4g}: a number of features is positive")
        if abs(dv / exact - 1) > 0.02:
            close_to = math.expm1(2 / _H_EX5**2) / 0.01
            hint = (
                " (you used |z_q + z_k|^2 = 2/h^2; with z_q = z_k the length of "
                "z_q + z_k is 2/h, so its square is 4/h^2)"
                if abs(dv / close_to - 1) < 0.02
                else "; solve (exp(|z_q + z_k|^2) - 1)/D = 0.1^2 for D, z = x/h"
            )
            raise Wrong(
                f"`features` = {dv:.4g} is not the D that makes the relative "
                f"standard deviation 0.1{hint}"
            )
        return f"D = (e^16 - 1)/0.01 = {exact:.3g}: sharp attention is out of reach."

    run_check("features needed at a small width", body)
