"""Self-checks for the exercises of chapter 1, Similarity kernels."""

from __future__ import annotations

import math
from typing import Any

import torch

from ..kernels import get_kernel
from . import Wrong, agrees, call, close, number, pair, run_check

_U = torch.linspace(-2, 2, 81, dtype=torch.float64)


def _profile(fn: Any, name: str) -> str:
    out = call(fn, name, _U.clone())
    close(
        out,
        get_kernel(name)(_U),
        f"`{name}(u)` for u in [-2, 2]",
        rtol=1e-6,
        atol=1e-9,
        kind="tensor",
    )
    return f"It matches nwlib's {name} profile on 81 points of [-2, 2]."


def epanechnikov(fn: Any) -> None:
    """Exercise 1: ``epanechnikov(u)`` returns a tensor of u's shape: 3/4 (1 - u^2) on
    |u| <= 1, else 0."""
    run_check("Epanechnikov profile", lambda: _profile(fn, "epanechnikov"))


def triangular(fn: Any) -> None:
    """Exercise 2, first part: ``triangular(u)`` returns a tensor of u's shape, max(0, 1 - |u|)."""
    run_check("triangular profile", lambda: _profile(fn, "triangular"))


def largest_gap(gap: Any, where: Any) -> None:
    """Exercise 2, second part: the numbers ``gap`` (largest |Epanechnikov - triangular| on
    [-1, 1]) and ``where`` (a |u| at which it is attained)."""

    def body() -> str:
        u = torch.linspace(-1, 1, 200_001, dtype=torch.float64)
        diff = (get_kernel("epanechnikov")(u) - get_kernel("triangular")(u)).abs()
        g, w = number(gap, "`gap`"), abs(number(where, "`where`"))
        if abs(g - float(diff.max())) > 1e-3:
            raise Wrong(
                f"`gap` = {g:.4f} is not the largest absolute difference; evaluate both "
                f"profiles on a fine grid of [-1, 1] and take the maximum of |difference|"
            )
        at = float(
            get_kernel("epanechnikov")(torch.tensor(w))
            - get_kernel("triangular")(torch.tensor(w))
        )
        if abs(abs(at) - float(diff.max())) > 1e-3:
            raise Wrong(
                f"at |u| = `where` = {w:.4f} the gap is {abs(at):.4f}, not the largest one "
                f"({g:.4f}); set `where` to the |u| of the grid point where it is largest"
            )
        return f"The gap {g:.4f} is attained at |u| = {w:.4f}."

    run_check("largest gap", body)


def half_height_width(h: Any) -> None:
    """Exercise 3: the number ``h``, the Gaussian width with K(1/h) = K(0)/2."""

    def body() -> str:
        val = number(h, "`h`")
        if val <= 0:
            raise Wrong(f"`h` = {val:.4g}, but a width must be positive")
        ratio = math.exp(-0.5 / val**2)
        if abs(ratio - 0.5) > 1e-6 and not agrees(val, 1 / math.sqrt(2 * math.log(2))):
            raise Wrong(
                f"with `h` = {val:.6g} the key at distance 1 gets {pair(ratio, 0.5)[0]} "
                f"of the weight of the key at distance 0, not 0.5: solve "
                f"exp(-1/(2 h^2)) = 1/2 for h"
            )
        return f"With h = {val:.6f} the key at distance 1 gets half the weight."

    run_check("half-height width", body)


def normalizing_constants(c_gauss: Any, c_box: Any) -> None:
    """Exercise 4: the numbers ``c_gauss`` and ``c_box`` with integral of c K(u) du = 1."""

    def body() -> str:
        cg, cb = number(c_gauss, "`c_gauss`"), number(c_box, "`c_box`")
        for name, got, exact, rtol in (
            ("c_gauss", cg, 1 / math.sqrt(2 * math.pi), 1e-4),
            ("c_box", cb, 0.5, 1e-3),
        ):
            if not agrees(got, exact, rtol=rtol):
                hint = (
                    ": that is the integral of the profile itself, and c is one over it"
                    if math.isclose(got, 1 / exact, rel_tol=1e-3)
                    else ": change it so that c times the profile's integral is 1"
                )
                raise Wrong(
                    f"with `{name}` = {got:.6g}, c K(u) integrates to "
                    f"{pair(got / exact, 1.0)[0]}, not 1{hint}"
                )
        return "Both constants make the kernels integrate to 1."

    run_check("normalizing constants", body)
