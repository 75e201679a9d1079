"""Self-checks for the exercises of chapter 2, Attention pooling by similarity."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data import running_example
from ..pooling import attention_weights, nadaraya_watson
from . import Wrong, agrees, as_array, call, close, number, pair, run_check

__all__ = ["gaussian_weights", "estimate", "constant_kernel", "best_width"]

_Q = torch.tensor([0.3, 1.7, 2.2, 4.9], dtype=torch.float64)
_K = torch.tensor([0.0, 1.0, 1.5, 3.0, 4.0], dtype=torch.float64)
_V = torch.tensor([1.0, -2.0, 0.5, 3.0, 2.0], dtype=torch.float64)


def gaussian_weights(fn: Any) -> None:
    """Exercise 1: check the learner's Gaussian attention weights.

    Parameters
    ----------
    fn : callable
        The learner's ``weights(queries, keys, h)``: 1-D tensors ``queries`` (n_q,) and
        ``keys`` (n_k,) and a width; returns the (n_q, n_k) weights, a tensor or numpy
        array, rows summing to 1, without NaN at a tiny width.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch02
    >>> import torch
    >>> def weights(queries, keys, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch02.gaussian_weights(weights)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: Gaussian attention weights. `weights` still has an empty body: write
    its code where it says YOUR CODE HERE and `return` the result
    >>> ch02.gaussian_weights(
    ...     lambda queries, keys, h: torch.ones(len(queries), len(keys)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: Gaussian attention weights. Each query's weights in `weights(queries,
    keys, 0.3)` should sum to 1 (normalize over keys, dim=1); the row sums are [5.0,
    5.0, 5.0, 5.0]
    """

    def body() -> str:
        for h in (0.3, 1.0, 1e-3):
            what = f"`weights(queries, keys, {h})`"
            out = call(fn, "weights", _Q.clone(), _K.clone(), h)
            arr = (
                np.asarray(out.detach() if isinstance(out, torch.Tensor) else out)
                if isinstance(out, (torch.Tensor, np.ndarray))
                else None
            )
            if (
                arr is not None
                and arr.shape == (4, 5)
                and arr.dtype.kind in "biuf"
                and not np.all(np.isfinite(arr))
            ):
                raise Wrong(
                    f"{what} contains NaN or inf: with a tiny width every exp() "
                    f"underflows to 0 and the ratio is 0/0; take torch.softmax of the "
                    f"scores over keys (dim=1) instead of dividing exponentials"
                )
            arr = as_array(out, what, (4, 5), kind="array")
            if abs(arr.sum(1) - 1).max() > 1e-6:
                raise Wrong(
                    f"each query's weights in {what} should sum to 1 (normalize over "
                    f"keys, dim=1); the row sums are {arr.sum(1).round(4).tolist()}"
                )
            close(arr, attention_weights(_Q, _K, h), what)
        return "Shape (queries, keys), rows sum to 1, and a tiny width gives no NaN."

    run_check("Gaussian attention weights", body)


def estimate(fn: Any) -> None:
    """Exercise 2: check the learner's estimate from weights and values.

    Parameters
    ----------
    fn : callable
        The learner's ``estimate(w, values)``: (n_q, n_k) weights and (n_k,) values;
        returns the (n_q,) estimate, a tensor or numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch02
    >>> def estimate(w, values):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch02.estimate(estimate)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: NW estimate. `estimate` still has an empty body: write its code where
    it says YOUR CODE HERE and `return` the result
    >>> ch02.estimate(lambda w, values: w[:, 0])  # doctest: +NORMALIZE_WHITESPACE
    Not quite: NW estimate. `estimate(w, values)` is off by up to 2.05 at index (3,):
    expected 2.05429, got 4.94861e-11
    """

    def body() -> str:
        w = attention_weights(_Q, _K, 0.7)
        out = call(fn, "estimate", w.clone(), _V.clone())
        what = "`estimate(w, values)`"
        arr = as_array(out, what, kind="array")
        if arr.shape != (4,):
            raise Wrong(
                f"{what} should have shape (4,) for 4 queries and 5 keys, got "
                f"{arr.shape}: sum the values weighted by each query's row, w @ values"
            )
        close(arr, nadaraya_watson(_Q, _K, _V, 0.7), what)
        return "The estimate is the weights times the values."

    run_check("NW estimate", body)


def constant_kernel(predictions: Any, mean: Any) -> None:
    """Exercise 3: check that a constant kernel predicts the mean.

    Parameters
    ----------
    predictions : tensor or numpy array
        The predictions at 20 queries with the constant kernel.
    mean : float
        The mean of ``running_example().y_train``.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch02
    >>> ch02.constant_kernel(None, None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: constant kernel. `predictions` is still None: replace it with your
    answer
    >>> ch02.constant_kernel([0.0] * 20, 0.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: constant kernel. `predictions` should be a tensor (or numpy array), got a
    list of 20 items: torch.stack or torch.tensor turns a list into a tensor
    """

    def body() -> str:
        s = running_example()
        arr = as_array(predictions, "`predictions`", kind="array")
        m = number(mean, "`mean`")
        true_mean = float(s.y_train.mean())
        if not agrees(m, true_mean, rtol=1e-6, atol=1e-6):
            got, want = pair(m, true_mean)
            raise Wrong(
                f"`mean` = {got} is not the mean of data.y_train ({want}): compute "
                f"data.y_train.mean()"
            )
        if arr.size != 20:
            raise Wrong(
                f"`predictions` should hold 20 predictions, one per query, got "
                f"{arr.size}: predict at 20 queries"
            )
        close(
            arr.reshape(-1),
            np.full(20, true_mean),
            "`predictions`, compared with the mean,",
        )
        return f"All {arr.size} predictions equal the mean {true_mean:.4f}."

    run_check("constant kernel", body)


def best_width(h: Any, mse: Any) -> None:
    """Exercise 4: check a grid-optimal width and its validation error.

    Parameters
    ----------
    h : float
        A Gaussian width for ``running_example()`` whose validation mean squared error
        is within 2 % of the best on a fine grid.
    mse : float
        Its validation mean squared error.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch02
    >>> ch02.best_width(None, None)
    Not done yet: best width. `h` is still None: replace it with your answer
    >>> ch02.best_width(1.0, 1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: best width. At `h` = 1 the validation MSE is 0.826444, but `mse` is 1:
    set `mse` to the validation error of the width you report
    """

    def body() -> str:
        s = running_example()
        hv, mv = number(h, "`h`"), number(mse, "`mse`")
        if hv <= 0:
            raise Wrong(f"`h` = {hv:.4g}, but a width must be positive")
        actual = float(
            ((nadaraya_watson(s.x_val, s.x_train, s.y_train, hv) - s.y_val) ** 2).mean()
        )
        if not agrees(mv, actual, rtol=1e-6, atol=1e-6):
            want, got = pair(actual, mv)
            raise Wrong(
                f"at `h` = {hv:.6g} the validation MSE is {want}, but `mse` is "
                f"{got}: set `mse` to the validation error of the width you report"
            )
        grid = torch.logspace(-1.7, 0.7, 241, dtype=torch.float64)  # 0.02 .. 5
        best = min(
            float(
                (
                    (nadaraya_watson(s.x_val, s.x_train, s.y_train, float(g)) - s.y_val)
                    ** 2
                ).mean()
            )
            for g in grid
        )
        if actual > best * 1.02 + 1e-9:
            raise Wrong(
                f"a width with a validation MSE of {best:.4f} exists, lower than your "
                f"{actual:.4f}: use a finer or wider grid and take the width with "
                f"the smallest error"
            )
        return (
            f"h = {hv:.4f} gives validation MSE {actual:.4f} (best on a fine grid: "
            f"{best:.4f})."
        )

    run_check("best width", body)
