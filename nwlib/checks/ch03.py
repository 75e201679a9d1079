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

_DATA = running_example(n_train=30, n_val=0, seed=7)
_X, _Y = _DATA.x_train, _DATA.y_train


def self_weights(fn: Any) -> None:
    """Exercise 1: ``self_weights(x, h)`` returns the (n,) tensor of weights a_ii each point
    gives itself."""

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
    """Exercise 2: ``train_log_width(x, y, h0, steps, lr)`` trains s = log h by SGD on the
    leave-one-out loss and returns the final width as a Python float."""

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
    """Exercise 3: ``step_in_width(h, dL_dh, lr, parameterization)`` returns (a number) one
    SGD step's first-order change of h."""

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
    """Exercise 4: ``penalized_width(x, y, lam, widths)`` returns, as a float, the grid width
    minimizing E_in + lam sqrt(1/h)."""

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
        return f"lambda = 0.03 gives h = {found[0]:.4f}, lambda = 0.3 gives h = {found[1]:.4f}."

    run_check("penalized width", body)


def predict_per_key(fn: Any) -> None:
    """Exercise 5: ``predict_per_key(queries, keys, values, widths)`` returns the (n_q,)
    estimate (a tensor or numpy array) with one width per key."""

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
