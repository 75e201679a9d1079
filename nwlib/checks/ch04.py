"""Self-checks for the exercises of chapter 4, When a point includes itself."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..data import running_example
from ..selection import loo_predictions, select_width_grid, select_width_minimize, silverman_width
from . import Wrong, as_array, call, close, number, run_check

_DATA = running_example(n_train=40, n_val=0, seed=8)
_X, _Y = _DATA.x_train, _DATA.y_train


def _loo(fn: Any, what: str, title: str, hint: str) -> None:
    def body() -> str:
        for h in (0.4, 1e-3):
            out = call(fn, what, _X.clone(), _Y.clone(), h)
            arr = as_array(out, f"your leave-one-out predictions for h = {h}", (len(_X),))
            close(arr, loo_predictions(_X, _Y, h), f"your leave-one-out predictions for h = {h}",
                  rtol=1e-6, atol=1e-9)
        return hint
    run_check(title, body)


def loo_by_mask(fn: Any) -> None:
    """Exercise 1: ``fn(x, y, h)`` returns (n,) LOO predictions from one masked matrix."""
    _loo(fn, "your loo_by_mask function", "leave-one-out by masking the diagonal",
         "One (n, n) matrix, diagonal at -inf, softmax over keys; a tiny h gives no NaN.")


def loo_by_rebuilding(fn: Any) -> None:
    """Exercise 2: ``fn(x, y, h)`` returns (n,) LOO predictions, one key set per point."""
    _loo(fn, "your loo_by_rebuilding function", "leave-one-out by rebuilding the key set",
         "Same numbers as the masked matrix, n times the work.")


def silverman(fn: Any) -> None:
    """Exercise 3: ``fn(x)`` returns Silverman's width 0.9 min(sd, IQR/1.34) n^(-1/5)."""
    def body() -> str:
        g = torch.Generator().manual_seed(3)
        samples = {"the running example": _X.clone(),
                   "a heavy-tailed sample": torch.distributions.Cauchy(0.0, 1.0).icdf(
                       torch.rand(60, generator=g, dtype=torch.float64) * 0.98 + 0.01)}
        for name, xs in samples.items():
            got = number(call(fn, "your silverman function", xs.clone()), f"your width for {name}")
            ref = silverman_width(xs)
            if not math.isclose(got, ref, rel_tol=1e-6):
                sd, n = float(xs.std()), len(xs)
                hint = (" (use the sample standard deviation and min(sd, IQR/1.34))"
                        if math.isclose(got, 0.9 * sd * n ** -0.2, rel_tol=1e-6) else "")
                raise Wrong(f"for {name} Silverman's width is {ref:.5f}, you got {got:.5f}{hint}")
        return "Both the standard deviation and the IQR branch of the min are right."
    run_check("Silverman's rule", body)


def best_width_on_grid(fn: Any) -> None:
    """Exercise 4: ``fn(x, y, widths)`` returns the grid width with the smallest LOO error."""
    def body() -> str:
        widths = np.geomspace(0.02, 3, 60)
        got = number(call(fn, "your best_width_on_grid function", _X.clone(), _Y.clone(),
                          torch.from_numpy(widths.copy())), "your width")
        ref = select_width_grid(_X, _Y, widths)
        if not math.isclose(got, ref.width, rel_tol=1e-9):
            raise Wrong(f"the grid width with the smallest leave-one-out error is {ref.width:.4f} "
                        f"(CV {ref.loo_error:.4f}); you got {got:.4f}")
        return f"h = {got:.4f}, leave-one-out error {ref.loo_error:.4f}."
    run_check("leave-one-out on a grid", body)


def widths_shrink(h50: Any, h200: Any) -> None:
    """Exercise 5: LOO widths for running_example(n_train=50) and (n_train=200), seed 0."""
    def body() -> str:
        a, b = number(h50, "h50"), number(h200, "h200")
        ref50 = select_width_minimize(running_example(n_train=50, seed=0).x_train,
                                      running_example(n_train=50, seed=0).y_train).width
        d = running_example(n_train=200, seed=0)
        ref200 = select_width_minimize(d.x_train, d.y_train).width
        for name, got, ref in (("h50", a, ref50), ("h200", b, ref200)):
            if not math.isclose(got, ref, rel_tol=0.02):
                raise Wrong(f"{name} should be the leave-one-out width, about {ref:.4f}; you got {got:.4f}")
        return f"The width shrinks by a factor {b / a:.2f} from 50 to 200 points."
    run_check("the width shrinks with n", body)
