"""Self-checks for the exercises of chapter 7, Consistency: how fast the width must shrink."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from ..pooling import nadaraya_watson
from ..rates import PowerLaw, fit_power_law
from . import Wrong, as_array, call, is_stub, NotDone, number, run_check

#: The width rules of exercise 3, h as a function of n.
RULES: dict[str, Callable[[float], float]] = {
    "h = 0.1": lambda n: 0.1,
    "h = 1/n": lambda n: 1 / n,
    "h = n^(-1/5)": lambda n: n ** -0.2,
    "h = n^(-1/2)": lambda n: n ** -0.5,
    "h = log(n)/n": lambda n: math.log(n) / n,
    "h = 1/log(n)": lambda n: 1 / math.log(n),
}

_KEYS = torch.linspace(0, 1, 20001, dtype=torch.float64)


def _shrinks(rule: Callable[[float], float]) -> bool:
    """h -> 0, read off far out: h at n = 1e60 is well below h at n = 1e30."""
    return rule(1e60) < 0.75 * rule(1e30)


def _consistent(rule: Callable[[float], float], d: int) -> bool:
    """h -> 0 and n h^d -> infinity (n h^d keeps growing from n = 1e30 to 1e60)."""
    return _shrinks(rule) and 1e60 * rule(1e60) ** d > 1.5 * 1e30 * rule(1e30) ** d


def fit_slope(fn: Any) -> None:
    """Exercise 1: ``fn(n, mse)`` returns the least-squares slope of log(mse) on log(n)."""
    def body() -> str:
        rng = np.random.default_rng(7)
        n = np.array([100, 200, 400, 800, 1600, 3200, 6400], dtype=np.float64)
        cases = {"an exact power law": 2.0 * n ** -0.8,
                 "noisy errors": 0.5 * n ** -0.45 * np.exp(rng.normal(0, 0.15, n.size))}
        for name, v in cases.items():
            got = number(call(fn, "your fit_slope function", n.copy(), v.copy()), f"your slope for {name}")
            ref = fit_power_law(n, v).exponent
            if abs(got - ref) > 1e-6 * max(1.0, abs(ref)):
                if abs(got - np.polyfit(n, v, 1)[0]) < 1e-9:
                    raise Wrong("that is the slope of mse against n: fit log(mse) against log(n)")
                raise Wrong(f"for {name} the least-squares slope of log(mse) on log(n) is "
                            f"{ref:.4f}, you got {got:.4f}")
        return "The exponent of a power law is the slope of its log-log line."
    run_check("log-log slope", body)


def edge_and_middle_bias(fn: Any) -> None:
    """Exercise 2: ``fn(h)`` returns (bias at x = 0, bias at x = 0.5) for f(x) = x, no noise."""
    def body() -> str:
        ratios = []
        for h in (0.01, 0.03):
            out = call(fn, "your edge_and_middle_bias function", h)
            arr = as_array(out, f"your two biases for h = {h}", (2,))
            ref = (nadaraya_watson(torch.tensor([0.0, 0.5], dtype=torch.float64), _KEYS, _KEYS, h)
                   - torch.tensor([0.0, 0.5], dtype=torch.float64)).numpy()
            if np.allclose(arr, -ref, atol=1e-9):
                raise Wrong("the sign is flipped: bias = estimate - truth")
            if not np.allclose(arr, ref, atol=1e-9):
                raise Wrong(f"for h = {h} the biases at x = 0 and 0.5 are {ref[0]:.6f} and "
                            f"{ref[1]:.1e}, you got {arr[0]:.6f} and {arr[1]:.1e}")
            ratios.append(arr[0] / h)
        return (f"At the edge bias / h = {ratios[0]:.4f} and {ratios[1]:.4f}, close to "
                f"sqrt(2/pi) = {math.sqrt(2 / math.pi):.4f}; in the middle the line is kept exactly.")
    run_check("bias at the edge and in the middle", body)


def consistent_rules(consistent_1d: Any, consistent_2d: Any) -> None:
    """Exercise 3: for each rule in RULES (in order), is the estimate consistent in 1-D and 2-D?"""
    def body() -> str:
        names = list(RULES)
        for d, answer in ((1, consistent_1d), (2, consistent_2d)):
            if is_stub(answer):
                raise NotDone(f"consistent_{d}d is still a placeholder")
            if isinstance(answer, (str, bytes, dict)) or not hasattr(answer, "__len__"):
                raise Wrong(f"consistent_{d}d should be a list of {len(names)} True/False values")
            got = list(answer)
            if len(got) != len(names) or not all(isinstance(g, (bool, np.bool_)) for g in got):
                raise Wrong(f"consistent_{d}d should be a list of {len(names)} True/False values, "
                            f"one per rule, in the order of RULES")
            for name, g in zip(names, got):
                ref = _consistent(RULES[name], d)
                if bool(g) != ref:
                    why = ("h does not go to 0" if not _shrinks(RULES[name]) else
                           f"n h^{d} does not go to infinity" if not ref else
                           f"h -> 0 and n h^{d} -> infinity both hold")
                    raise Wrong(f"in {d}-D, {name}: {why}")
        return "h = n^(-1/2) is consistent in 1-D (n h = n^(1/2)) but not in 2-D (n h^2 = 1)."
    run_check("which width rules are consistent", body)


def points_needed(fn: Any) -> None:
    """Exercise 4: ``fn(exponent, prefactor, target)`` returns n with prefactor n^exponent = target."""
    def body() -> str:
        for a, c, t in ((-0.8, 2.0, 1e-3), (-4 / 9, 0.9, 0.02), (-2 / 3, 1.5, 5e-3)):
            got = number(call(fn, "your points_needed function", a, c, t), "your n")
            ref = PowerLaw(a, c, math.nan, 1, 1).solve(t)
            if not math.isclose(got, ref, rel_tol=1e-6):
                raise Wrong(f"for exponent {a:.3f}, prefactor {c} and target {t}, n = {ref:.6g}; "
                            f"you got {got:.6g}")
        return "n = (target / prefactor)^(1 / exponent)."
    run_check("points needed for a target error", body)
