"""Self-checks for the exercises of chapter 9, Local-linear pooling at the boundary."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..data import running_example
from ..local_linear import local_constant, local_linear, loo_predictions
from . import Wrong, as_array, call, close, number, run_check

__all__ = ["ll_at", "equivalent_weights", "edge_bias", "loo_ll", "EDGE_KEYS"]

_DATA = running_example(n_train=40, n_val=0, seed=9)
_X, _Y = _DATA.x_train, _DATA.y_train
#: Exercise 3: the noise-free keys on [0, 1] and f(x) = exp(x).
EDGE_KEYS = torch.linspace(0, 1, 2001, dtype=torch.float64)


def ll_at(fn: Any) -> None:
    """Exercise 1: check the local-linear estimate at one query.

    Parameters
    ----------
    fn : callable
        The learner's ``ll_at(q, x, y, h)``: a float query, (n,) tensors and a width;
        returns, as a float, the height at q of the weighted least-squares line with
        Gaussian weights.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch09
    >>> def ll_at(q, x, y, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch09.ll_at(ll_at)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: local linear at one query. `ll_at` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch09.ll_at(lambda q, x, y, h: 0.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: local linear at one query. `ll_at(0.0, x, y, 0.4)` should be 0.427490,
    got 0.000000: compute the weights, the weighted means of x and y, the weighted
    slope, and return mean_y + slope (q - mean_x)
    """

    def body() -> str:
        for q in (0.0, 2.5, 4.9):
            what = f"`ll_at({q}, x, y, 0.4)`"
            got = number(
                call(fn, "ll_at", q, _X.clone(), _Y.clone(), 0.4), what, kind="float"
            )
            ref = float(local_linear([q], _X, _Y, 0.4)[0])
            if not math.isclose(got, ref, rel_tol=1e-6, abs_tol=1e-8):
                nw = float(local_constant([q], _X, _Y, 0.4)[0])
                hint = (
                    "that is the Nadaraya-Watson estimate (the weighted mean): "
                    "add the slope times (q - weighted mean of x)"
                    if math.isclose(got, nw, rel_tol=1e-6)
                    else "compute the weights, the weighted means of x and y, the "
                    "weighted slope, and return mean_y + slope (q - mean_x)"
                )
                raise Wrong(f"{what} should be {ref:.6f}, got {got:.6f}: {hint}")
        return "The line's height at the query: the weighted mean plus a correction."

    run_check("local linear at one query", body)


def equivalent_weights(fn: Any) -> None:
    """Exercise 2: check the equivalent weights l_i(q) of the local line.

    Parameters
    ----------
    fn : callable
        The learner's ``equivalent_weights(q, x, h)``: a float query, (n,) inputs and a
        width; returns the (n,) tensor of weights l_i(q) with estimate sum_i l_i(q) y_i.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch09
    >>> import torch
    >>> def equivalent_weights(q, x, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch09.equivalent_weights(equivalent_weights)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: the equivalent kernel. `equivalent_weights` still has an empty body:
    write its code where it says YOUR CODE HERE and `return` the result
    >>> ch09.equivalent_weights(lambda q, x, h: torch.ones_like(x))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: the equivalent kernel. `equivalent_weights(2.5, x, 0.4)` sums to
    40.000000: the weights of a local line sum to 1
    """

    def body() -> str:
        lows = []
        for q in (2.5, 0.0):
            what = f"`equivalent_weights({q}, x, 0.4)`"
            out = call(fn, "equivalent_weights", q, _X.clone(), 0.4)
            ref = local_linear([q], _X, _Y, 0.4, return_weights=True)[1][0]
            arr = as_array(out, what, (len(_X),), kind="tensor")
            if abs(arr.sum() - 1) > 1e-6:
                raise Wrong(
                    f"{what} sums to {arr.sum():.6f}: the weights of a local "
                    f"line sum to 1"
                )
            close(arr, ref, what, rtol=1e-6, atol=1e-9)
            lows.append(float(arr.min()))
        return (
            f"They sum to 1; at q = 0 the lowest is {lows[1]:.4f}: negative "
            f"weights on far keys extrapolate the trend."
        )

    run_check("the equivalent kernel", body)


def _edge_biases(h: float) -> np.ndarray:
    f = torch.exp(EDGE_KEYS)
    return np.array(
        [
            float(local_constant([0.0], EDGE_KEYS, f, h)[0]) - 1.0,
            float(local_linear([0.0], EDGE_KEYS, f, h)[0]) - 1.0,
        ]
    )


def edge_bias(fn: Any) -> None:
    """Exercise 3: check the NW and local-linear biases at the edge x = 0.

    Parameters
    ----------
    fn : callable
        The learner's ``edge_bias(h)``: returns (NW bias, local-linear bias) at x = 0
        for f(x) = exp(x) on the keys :data:`EDGE_KEYS` without noise, a tensor or numpy
        array of 2.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch09
    >>> import torch
    >>> def edge_bias(h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch09.edge_bias(edge_bias)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: bias at the edge. `edge_bias` still has an empty body: write its code
    where it says YOUR CODE HERE and `return` the result
    >>> ch09.edge_bias(lambda h: torch.zeros(2))  # doctest: +NORMALIZE_WHITESPACE
    Not quite: bias at the edge. For h = 0.01 the biases at x = 0 are 0.007870 (NW) and
    -3.593e-05 (local linear); `edge_bias(0.01)` returned 0.000000 and 0.000e+00:
    estimate at 0 with the keys EDGE_KEYS and values exp(keys), then subtract exp(0) = 1
    """

    def body() -> str:
        ratios = []
        for h in (0.01, 0.04):
            what = f"`edge_bias({h})`"
            arr = as_array(call(fn, "edge_bias", h), what, (2,), kind="array")
            ref = _edge_biases(h)
            if np.allclose(arr, -ref, rtol=1e-5, atol=1e-10):
                raise Wrong(f"the sign of {what} is flipped: bias = estimate - truth")
            if np.allclose(arr[::-1], ref, rtol=1e-5, atol=1e-10):
                raise Wrong(f"{what} has the two biases swapped: Nadaraya-Watson first")
            if not np.allclose(arr, ref, rtol=1e-5, atol=1e-10):
                raise Wrong(
                    f"for h = {h} the biases at x = 0 are {ref[0]:.6f} (NW) "
                    f"and {ref[1]:.3e} (local linear); {what} returned "
                    f"{arr[0]:.6f} and {arr[1]:.3e}: estimate at 0 with the "
                    f"keys EDGE_KEYS and values exp(keys), then subtract "
                    f"exp(0) = 1"
                )
            ratios.append((arr[0] / h, arr[1] / h**2))
        return (
            f"NW bias / h = {ratios[0][0]:.3f}, {ratios[1][0]:.3f} (order h); "
            f"local linear bias / h^2 = {ratios[0][1]:.3f}, {ratios[1][1]:.3f} "
            f"(order h^2)."
        )

    run_check("bias at the edge", body)


def loo_ll(fn: Any) -> None:
    """Exercise 4: check local-linear leave-one-out from the smoother diagonal.

    Parameters
    ----------
    fn : callable
        The learner's ``loo_ll(x, y, h)``: (n,) tensors and a width; returns the (n,)
        tensor of leave-one-out predictions (f(x_i) - S_ii y_i) / (1 - S_ii).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch09
    >>> def loo_ll(x, y, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch09.loo_ll(loo_ll)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: leave-one-out from the smoother diagonal. `loo_ll` still has an empty
    body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch09.loo_ll(lambda x, y, h: y)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: leave-one-out from the smoother diagonal. `loo_ll(x, y, 0.3)` is off by
    up to 1.27 at index (11,): expected 2.81798, got 1.54365
    """

    def body() -> str:
        for h in (0.3, 1.0):
            what = f"`loo_ll(x, y, {h})`"
            out = call(fn, "loo_ll", _X.clone(), _Y.clone(), h)
            arr = as_array(out, what, (len(_X),), kind="tensor")
            ref = loo_predictions(_X, _Y, h)
            fitted = local_linear(_X, _X, _Y, h)
            if np.allclose(arr, fitted.numpy(), rtol=1e-6, atol=1e-9):
                raise Wrong(
                    f"{what} returned the fitted values, each point still in "
                    f"its own fit: use (f(x_i) - S_ii y_i) / (1 - S_ii)"
                )
            close(arr, ref, what, rtol=1e-6, atol=1e-9)
        return "One fit and its diagonal give all n leave-one-out predictions."

    run_check("leave-one-out from the smoother diagonal", body)
