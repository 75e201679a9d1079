"""Self-checks for the exercises of chapter 2, Attention pooling by similarity."""
from __future__ import annotations

from typing import Any

import torch

from ..data import running_example
from ..pooling import attention_weights, nadaraya_watson
from . import Wrong, as_array, call, close, number, run_check

_Q = torch.tensor([0.3, 1.7, 2.2, 4.9], dtype=torch.float64)
_K = torch.tensor([0.0, 1.0, 1.5, 3.0, 4.0], dtype=torch.float64)
_V = torch.tensor([1.0, -2.0, 0.5, 3.0, 2.0], dtype=torch.float64)


def gaussian_weights(fn: Any) -> None:
    """Exercise 1: ``fn(queries, keys, h)`` returns (n_q, n_k) Gaussian attention weights."""
    def body() -> str:
        for h in (0.3, 1.0):
            out = call(fn, "your weights function", _Q.clone(), _K.clone(), h)
            arr = as_array(out, f"the weights for h = {h}", (4, 5))
            if abs(arr.sum(1) - 1).max() > 1e-6:
                raise Wrong(f"each query's weights should sum to 1; row sums are {arr.sum(1).round(4)}")
            close(arr, attention_weights(_Q, _K, h), f"the weights for h = {h}")
        out = as_array(call(fn, "your weights function", _Q.clone(), _K.clone(), 1e-3),
                       "the weights for h = 0.001 (tiny width)", (4, 5))
        close(out, attention_weights(_Q, _K, 1e-3), "the weights for h = 0.001")
        return "Shape (queries, keys), rows sum to 1, and a tiny width gives no NaN."
    run_check("Gaussian attention weights", body)


def estimate(fn: Any) -> None:
    """Exercise 2: ``fn(weights, values)`` returns the (n_q,) estimate."""
    def body() -> str:
        w = attention_weights(_Q, _K, 0.7)
        out = call(fn, "your estimate function", w.clone(), _V.clone())
        close(out, nadaraya_watson(_Q, _K, _V, 0.7), "the estimate")
        return "The estimate is the weights times the values."
    run_check("NW estimate", body)


def constant_kernel(predictions: Any, mean: Any) -> None:
    """Exercise 3: constant-kernel predictions (any shape) all equal the mean of y."""
    def body() -> str:
        s = running_example()
        m = number(mean, "mean")
        close(m, s.y_train.mean(), "the mean of y_train")
        arr = as_array(predictions, "predictions")
        if arr.size < 2:
            raise Wrong("predict at several queries to show it holds everywhere")
        close(arr, torch.full(arr.shape, m), "every constant-kernel prediction")
        return f"All {arr.size} predictions equal the mean {m:.4f}."
    run_check("constant kernel", body)


def best_width(h: Any, mse: Any) -> None:
    """Exercise 4: a grid-optimal Gaussian width for ``running_example()`` and its validation MSE."""
    def body() -> str:
        s = running_example()
        hv, mv = number(h, "h"), number(mse, "mse")
        if hv <= 0:
            raise Wrong("a width must be positive")
        actual = float(((nadaraya_watson(s.x_val, s.x_train, s.y_train, hv) - s.y_val) ** 2).mean())
        if abs(actual - mv) > 1e-6:
            raise Wrong(f"at h = {hv:.4f} the validation MSE is {actual:.4f}, not {mv:.4f}")
        grid = torch.logspace(-1.7, 0.7, 241, dtype=torch.float64)  # 0.02 .. 5
        best = min(float(((nadaraya_watson(s.x_val, s.x_train, s.y_train, float(g)) - s.y_val) ** 2)
                         .mean()) for g in grid)
        if actual > best * 1.02 + 1e-9:
            raise Wrong(f"a width with a validation MSE of {best:.4f} exists; refine your grid")
        return f"h = {hv:.4f} gives validation MSE {actual:.4f} (best on a fine grid: {best:.4f})."
    run_check("best width", body)
