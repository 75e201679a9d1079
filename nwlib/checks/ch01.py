"""Self-checks for the exercises of chapter 1, Similarity kernels."""
from __future__ import annotations

import math
from typing import Any

import torch

from ..kernels import get_kernel
from . import Wrong, call, close, number, run_check

_U = torch.linspace(-2, 2, 81, dtype=torch.float64)


def _profile(fn: Any, name: str) -> str:
    out = call(fn, f"your {name} function", _U.clone())
    close(out, get_kernel(name)(_U), f"your {name}(u) on u in [-2, 2]", rtol=1e-6, atol=1e-9)
    return f"It matches nwlib's {name} profile on 81 points of [-2, 2]."


def epanechnikov(fn: Any) -> None:
    """Exercise 1: ``fn(u)`` must be 3/4 (1 - u^2) on |u| <= 1 and 0 elsewhere."""
    run_check("Epanechnikov profile", lambda: _profile(fn, "epanechnikov"))


def triangular(fn: Any) -> None:
    """Exercise 2, first part: ``fn(u)`` must be max(0, 1 - |u|)."""
    run_check("triangular profile", lambda: _profile(fn, "triangular"))


def largest_gap(gap: Any, where: Any) -> None:
    """Exercise 2, second part: the largest |Epanechnikov - triangular| and one |u| where it occurs."""
    def body() -> str:
        u = torch.linspace(-1, 1, 200_001, dtype=torch.float64)
        diff = (get_kernel("epanechnikov")(u) - get_kernel("triangular")(u)).abs()
        g, w = number(gap, "gap"), abs(number(where, "where"))
        if abs(g - float(diff.max())) > 1e-3:
            raise Wrong(f"the largest gap is not {g:.4f}; evaluate both kernels on a fine grid of [-1, 1]")
        at = float(get_kernel("epanechnikov")(torch.tensor(w)) - get_kernel("triangular")(torch.tensor(w)))
        if abs(abs(at) - float(diff.max())) > 1e-3:
            raise Wrong(f"at |u| = {w:.4f} the gap is {abs(at):.4f}, not the largest one")
        return f"The gap {g:.4f} is attained at |u| = {w:.4f}."
    run_check("largest gap", body)


def half_height_width(h: Any) -> None:
    """Exercise 3: the Gaussian width with K(1/h) = K(0)/2."""
    def body() -> str:
        val = number(h, "h")
        if val <= 0:
            raise Wrong("a width must be positive")
        ratio = math.exp(-0.5 / val ** 2)
        if abs(ratio - 0.5) > 1e-6:
            raise Wrong(f"with h = {val:.6f} the key at distance 1 gets {ratio:.4f} of the "
                        f"self-weight, not 0.5; solve exp(-1/(2 h^2)) = 1/2 for h")
        return f"With h = {val:.6f} the key at distance 1 gets half the weight."
    run_check("half-height width", body)


def normalizing_constants(c_gauss: Any, c_box: Any) -> None:
    """Exercise 4: constants c with integral of c K(u) du = 1."""
    def body() -> str:
        close(c_gauss, 1 / math.sqrt(2 * math.pi), "the Gaussian constant", rtol=1e-4)
        close(c_box, 0.5, "the boxcar constant", rtol=1e-3)
        return "Both constants make the kernels integrate to 1."
    run_check("normalizing constants", body)
