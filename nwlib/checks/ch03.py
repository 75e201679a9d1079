"""Self-checks for the exercises of chapter 3, Learning the width."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..data import running_example
from ..learn import PARAMETERIZATIONS, LearnedWidthNW
from ..pooling import attention_weights, nadaraya_watson
from ..selection import error_curve, loo_error
from . import Wrong, as_array, call, close, number, pair, require_source, run_check

__all__ = [
    "self_weights",
    "train_log_width",
    "step_in_width",
    "penalized_width",
    "predict_per_key",
]

_DATA = running_example(n_train=30, n_val=0, seed=7)
_X, _Y = _DATA.x_train, _DATA.y_train


def self_weights(fn: Any) -> None:
    """Exercise 1: check the weights a_ii each point gives itself.

    Parameters
    ----------
    fn : callable
        The learner's ``self_weights(x, h)``: (n,) inputs and a width; returns the (n,)
        tensor of the Gaussian weights a_ii each point gives itself when it is in its
        own prediction.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch03
    >>> import torch
    >>> def self_weights(x, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch03.self_weights(self_weights)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: self-weights. `self_weights` still has an empty body: write its code
    where it says YOUR CODE HERE and `return` the result
    >>> ch03.self_weights(lambda x, h: torch.ones_like(x))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: self-weights. `self_weights(x, 1.0)` is off by up to 0.936 at index
    (19,): expected 0.0640836, got 1
    """

    def body() -> str:
        for h in (1.0, 0.1, 1e-3):
            out = call(fn, "self_weights", _X.clone(), h)
            what = f"`self_weights(x, {h})`"
            arr = as_array(out, what, (len(_X),), kind="tensor")
            close(
                arr,
                torch.diagonal(attention_weights(_X, _X, h)),
                what,
                rtol=1e-6,
                atol=1e-9,
            )
        return "The diagonal of the attention matrix, and it tends to 1 as h shrinks."

    run_check("self-weights", body)


def train_log_width(fn: Any) -> None:
    """Exercise 2: check the learner's SGD loop on s = log h.

    Parameters
    ----------
    fn : callable
        The learner's ``train_log_width(x, y, h0, steps, lr)``: trains s = log h with
        ``torch.optim.SGD`` on the leave-one-out mean squared error from h0 and returns
        the final width as a Python float.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch03
    >>> def train_log_width(x, y, h0, steps, lr):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch03.train_log_width(train_log_width)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: training loop on log h. `train_log_width` still has an empty body:
    write its code where it says YOUR CODE HERE and `return` the result
    >>> ch03.train_log_width(lambda x, y, h0, steps, lr: h0)
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: training loop on log h. After 60 SGD steps with lr = 0.5 from h = 1 the
    width should be 0.305675, `train_log_width` returned 1: train s = log h (not h
    itself) on the leave-one-out mean squared error
    """

    def body() -> str:
        out = call(fn, "train_log_width", _X.clone(), _Y.clone(), 1.0, 60, 0.5)
        got = number(out, "`train_log_width(x, y, 1.0, 60, 0.5)`", kind="float")
        if not got > 0:
            raise Wrong(
                f"`train_log_width` returned the width {got:.4g}, but a width must be "
                f"positive: return h = exp(s)"
            )
        ref = LearnedWidthNW(_X, _Y, 1.0)
        ref.fit(60, lr=0.5, optimizer="sgd", progress=False)
        greedy = LearnedWidthNW(_X, _Y, 1.0)
        greedy.fit(60, lr=0.5, optimizer="sgd", exclude_self=False, progress=False)
        h_ref, h_greedy = float(ref.width), float(greedy.width)
        if abs(got / h_greedy - 1) < 1e-4 and abs(h_greedy / h_ref - 1) > 1e-3:
            raise Wrong(
                f"`train_log_width` returned {got:.4f}, the width learned with each "
                f"point included in its own prediction; leave it out "
                f"(exclude_self=True)"
            )
        if abs(got / h_ref - 1) > 1e-4:
            want, mine = pair(h_ref, got)
            raise Wrong(
                f"after 60 SGD steps with lr = 0.5 from h = 1 the width should be "
                f"{want}, `train_log_width` returned {mine}: train s = log h "
                f"(not h itself) on the leave-one-out mean squared error"
            )
        require_source(fn, "train_log_width", uses=("SGD",))
        return f"60 steps of SGD on s = log h reach h = {got:.4f}."

    run_check("training loop on log h", body)


def step_in_width(fn: Any) -> None:
    """Exercise 3: check one SGD step's change of h in each parameterization.

    Parameters
    ----------
    fn : callable
        The learner's ``step_in_width(h, dL_dh, lr, parameterization)``: returns (a
        number) the first-order change of h in one SGD step on theta = log h, 1/h or
        1/h^2 (``"log"``, ``"inverse"``, ``"inverse_squared"``).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch03
    >>> def step_in_width(h, dL_dh, lr, parameterization):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch03.step_in_width(step_in_width)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: one SGD step in each parameterization. `step_in_width` still has an
    empty body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch03.step_in_width(lambda h, dL_dh, lr, parameterization: 0.0)
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: one SGD step in each parameterization. For 'log' at h = 0.3 one SGD step
    changes h by 1.662e-08, but `step_in_width(0.3, dL_dh, lr, 'log')` returned 0: use
    the chain rule through dh/dtheta twice
    """

    def body() -> str:
        lr = 1e-5
        for param in PARAMETERIZATIONS:
            for h in (0.3, 2.0):
                t = torch.tensor(h, dtype=torch.float64, requires_grad=True)
                loo_error(_X, _Y, t).backward()
                dL_dh = float(t.grad)
                what = f"`step_in_width({h}, dL_dh, lr, {param!r})`"
                pred = number(call(fn, "step_in_width", h, dL_dh, lr, param), what)
                m = LearnedWidthNW(_X, _Y, h, parameterization=param)
                m.fit(1, lr=lr, optimizer="sgd", progress=False)
                actual = float(m.width) - h
                if not math.isclose(pred, actual, rel_tol=1e-3, abs_tol=1e-12):
                    want, got = pair(actual, pred, 5)
                    raise Wrong(
                        f"for {param!r} at h = {h} one SGD step changes h by "
                        f"{want}, but {what} returned {got}: use the "
                        f"chain rule through dh/dtheta twice"
                    )
        return "Steps in h scale like h^2, h^4 and h^6/4 times lr L'(h)."

    run_check("one SGD step in each parameterization", body)


def penalized_width(fn: Any) -> None:
    """Exercise 4: check the grid width minimizing E_in + lam sqrt(1/h).

    Parameters
    ----------
    fn : callable
        The learner's ``penalized_width(x, y, lam, widths)``: returns, as a float, the
        width in ``widths`` minimizing the in-sample mean squared error (each point
        included) plus lam sqrt(1/h).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch03
    >>> def penalized_width(x, y, lam, widths):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch03.penalized_width(penalized_width)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: penalized width. `penalized_width` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch03.penalized_width(lambda x, y, lam, widths: float(widths[0]))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: penalized width. For lambda = 0.03 the best width in `widths` is
    0.067447, `penalized_width(x, y, 0.03, widths)` returned 0.002: minimize the
    in-sample mean squared error (each point included) plus lam * sqrt(1/h)
    """

    def body() -> str:
        widths = np.geomspace(2e-3, 5, 150)
        train = error_curve(_X, _Y, widths, exclude_self=False)
        found = []
        for lam in (0.03, 0.3):
            what = f"`penalized_width(x, y, {lam}, widths)`"
            got = number(
                call(fn, "penalized_width", _X.clone(), _Y.clone(), lam, widths.copy()),
                what,
                kind="float",
            )
            best = float(widths[np.argmin(train + lam / np.sqrt(widths))])
            if not math.isclose(got, best, rel_tol=1e-9):
                want, mine = pair(best, got)
                raise Wrong(
                    f"for lambda = {lam} the best width in `widths` is {want}, "
                    f"{what} returned {mine}: minimize the in-sample mean squared "
                    f"error (each point included) plus lam * sqrt(1/h)"
                )
            found.append(got)
        return (
            f"lambda = 0.03 gives h = {found[0]:.4f}, lambda = 0.3 gives "
            f"h = {found[1]:.4f}."
        )

    run_check("penalized width", body)


def predict_per_key(fn: Any) -> None:
    """Exercise 5: check the estimate with one width per key.

    Parameters
    ----------
    fn : callable
        The learner's ``predict_per_key(queries, keys, values, widths)``: 1-D tensors,
        ``widths`` (n_k,); returns the (n_q,) estimate, a tensor or numpy array, key i
        measured in units of its width h_i.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch03
    >>> import torch
    >>> def predict_per_key(queries, keys, values, widths):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch03.predict_per_key(predict_per_key)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: per-key widths. `predict_per_key` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch03.predict_per_key(
    ...     lambda queries, keys, values, widths: torch.zeros_like(queries))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: per-key widths. `predict_per_key(queries, keys, values, widths)` is off
    by up to 3.74 at index (5,): expected 3.7435, got 0
    """

    def body() -> str:
        q = torch.linspace(-0.5, 5.5, 13, dtype=torch.float64)
        widths = torch.linspace(0.05, 0.8, len(_X), dtype=torch.float64)
        out = call(
            fn, "predict_per_key", q.clone(), _X.clone(), _Y.clone(), widths.clone()
        )
        what = "`predict_per_key(queries, keys, values, widths)`"
        close(
            as_array(out, what, (13,), kind="array"),
            nadaraya_watson(q, _X, _Y, widths[:, None]),
            what,
            rtol=1e-6,
            atol=1e-9,
        )
        return "Key i is measured in units of its own width h_i."

    run_check("per-key widths", body)
