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
from . import Wrong, as_array, call, close, number, run_check

_DATA = running_example(n_train=30, n_val=0, seed=7)
_X, _Y = _DATA.x_train, _DATA.y_train


def self_weights(fn: Any) -> None:
    """Exercise 1: ``fn(x, h)`` returns the (n,) weights a_ii each point gives itself."""
    def body() -> str:
        for h in (1.0, 0.1, 1e-3):
            out = call(fn, "your self_weights function", _X.clone(), h)
            arr = as_array(out, f"the self-weights for h = {h}", (len(_X),))
            close(arr, torch.diagonal(attention_weights(_X, _X, h)), f"the self-weights for h = {h}",
                  rtol=1e-6, atol=1e-9)
        return "The diagonal of the attention matrix, and it tends to 1 as h shrinks."
    run_check("self-weights", body)


def train_log_width(fn: Any) -> None:
    """Exercise 2: ``fn(x, y, h0, steps, lr)`` trains s = log h by SGD on the LOO loss."""
    def body() -> str:
        got = number(call(fn, "your train_log_width function", _X.clone(), _Y.clone(), 1.0, 60, 0.5),
                     "the learned width")
        if not got > 0:
            raise Wrong(f"a width must be positive, got {got:.4g}")
        ref = LearnedWidthNW(_X, _Y, 1.0)
        ref.fit(60, lr=0.5, optimizer="sgd", progress=False)
        greedy = LearnedWidthNW(_X, _Y, 1.0)
        greedy.fit(60, lr=0.5, optimizer="sgd", exclude_self=False, progress=False)
        h_ref, h_greedy = float(ref.width), float(greedy.width)
        if abs(got / h_greedy - 1) < 1e-4 and abs(h_greedy / h_ref - 1) > 1e-3:
            raise Wrong(f"you got {got:.4f}, the width learned with each point included in its "
                        f"own prediction; leave it out (exclude_self=True)")
        if abs(got / h_ref - 1) > 1e-4:
            raise Wrong(f"after 60 SGD steps with lr = 0.5 from h = 1 the width should be "
                        f"{h_ref:.6f}, you got {got:.6f}. Train s = log h, not h itself")
        return f"60 steps of SGD on s = log h reach h = {got:.4f}."
    run_check("training loop on log h", body)


def step_in_width(fn: Any) -> None:
    """Exercise 3: ``fn(h, dL_dh, lr, parameterization)`` predicts one SGD step's change of h."""
    def body() -> str:
        lr = 1e-5
        for param in PARAMETERIZATIONS:
            for h in (0.3, 2.0):
                t = torch.tensor(h, dtype=torch.float64, requires_grad=True)
                loo_error(_X, _Y, t).backward()
                dL_dh = float(t.grad)
                pred = number(call(fn, "your step_in_width function", h, dL_dh, lr, param),
                              f"the change of h ({param}, h = {h})")
                m = LearnedWidthNW(_X, _Y, h, parameterization=param)
                m.fit(1, lr=lr, optimizer="sgd", progress=False)
                actual = float(m.width) - h
                if not math.isclose(pred, actual, rel_tol=1e-3, abs_tol=1e-12):
                    raise Wrong(f"for {param} at h = {h} one SGD step changes h by {actual:.4e}, "
                                f"you predicted {pred:.4e}")
        return "Steps in h scale like h^2, h^4 and h^6/4 times lr L'(h)."
    run_check("one SGD step in each parameterization", body)


def penalized_width(fn: Any) -> None:
    """Exercise 4: ``fn(x, y, lam, widths)`` returns the grid width minimizing E_in + lam sqrt(1/h)."""
    def body() -> str:
        widths = np.geomspace(2e-3, 5, 150)
        train = error_curve(_X, _Y, widths, exclude_self=False)
        found = []
        for lam in (0.03, 0.3):
            got = number(call(fn, "your penalized_width function", _X.clone(), _Y.clone(), lam,
                              widths.copy()), f"the width for lambda = {lam}")
            best = float(widths[np.argmin(train + lam / np.sqrt(widths))])
            if not math.isclose(got, best, rel_tol=1e-9):
                raise Wrong(f"for lambda = {lam} the best grid width is {best:.4f}, you got {got:.4f}")
            found.append(got)
        return f"lambda = 0.03 gives h = {found[0]:.4f}, lambda = 0.3 gives h = {found[1]:.4f}."
    run_check("penalized width", body)


def predict_per_key(fn: Any) -> None:
    """Exercise 5: ``fn(queries, keys, values, widths)`` predicts with one width per key."""
    def body() -> str:
        q = torch.linspace(-0.5, 5.5, 13, dtype=torch.float64)
        widths = torch.linspace(0.05, 0.8, len(_X), dtype=torch.float64)
        out = call(fn, "your predict_per_key function", q.clone(), _X.clone(), _Y.clone(), widths.clone())
        close(as_array(out, "your predictions", (13,)), nadaraya_watson(q, _X, _Y, widths[:, None]),
              "your predictions", rtol=1e-6, atol=1e-9)
        return "Key i is measured in units of its own width h_i."
    run_check("per-key widths", body)
