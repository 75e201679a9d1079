"""Self-checks for chapter 7, Consistency: how fast the width must shrink."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..pooling import nadaraya_watson
from ..rates import PowerLaw, fit_power_law
from . import NotDone, Wrong, as_array, call, describe, is_stub, number, pair, run_check

__all__ = [
    "fit_slope",
    "edge_and_middle_bias",
    "consistent_rules",
    "points_needed",
    "RULES",
]

#: The width rules of exercise 3, h as a function of n.
RULES: dict[str, Callable[[float], float]] = {
    "h = 0.1": lambda n: 0.1,
    "h = 1/n": lambda n: 1 / n,
    "h = n^(-1/5)": lambda n: n**-0.2,
    "h = n^(-1/2)": lambda n: n**-0.5,
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
    """Exercise 1: check the least-squares slope of log(mse) on log(n).

    Parameters
    ----------
    fn : callable
        The learner's ``fit_slope(n, mse)``: numpy arrays; returns the slope as a float
        (tried on an exact and a noisy power law).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch07
    >>> def fit_slope(n, mse):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch07.fit_slope(fit_slope)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: log-log slope. `fit_slope` still has an empty body: write its code
    where it says YOUR CODE HERE and `return` the result
    >>> ch07.fit_slope(lambda n, mse: 1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: log-log slope. For an exact power law the least-squares slope of log(mse)
    on log(n) is -0.8, `fit_slope(n, mse)` for an exact power law returned 1: fit a
    straight line to (log n, log mse) and return its slope
    """

    def body() -> str:
        rng = np.random.default_rng(7)
        n = np.array([100, 200, 400, 800, 1600, 3200, 6400], dtype=np.float64)
        cases = {
            "an exact power law": 2.0 * n**-0.8,
            "noisy errors": 0.5 * n**-0.45 * np.exp(rng.normal(0, 0.15, n.size)),
        }
        for name, v in cases.items():
            what = f"`fit_slope(n, mse)` for {name}"
            out = call(fn, "fit_slope", n.copy(), v.copy())
            if np.shape(out) == (2,):
                raise Wrong(
                    f"{what} returned two numbers, {describe(out)}: "
                    f"np.polyfit(x, y, 1) returns [slope, intercept], slope first; "
                    f"return the slope as a float"
                )
            got = number(out, what, kind="float")
            ref = fit_power_law(n, v).exponent
            if abs(got - ref) > 1e-6 * max(1.0, abs(ref)):
                if abs(got - np.polyfit(n, v, 1)[0]) < 1e-9:
                    raise Wrong(
                        f"{what} returned the slope of mse against n: fit log(mse) "
                        f"against log(n)"
                    )
                want, mine = pair(ref, got)
                raise Wrong(
                    f"for {name} the least-squares slope of log(mse) on log(n) is "
                    f"{want}, {what} returned {mine}: fit a straight line to "
                    f"(log n, log mse) and return its slope"
                )
        return "The exponent of a power law is the slope of its log-log line."

    run_check("log-log slope", body)


def edge_and_middle_bias(fn: Any) -> None:
    """Exercise 2: check the NW bias at the edge and in the middle for f(x) = x.

    Parameters
    ----------
    fn : callable
        The learner's ``edge_and_middle_bias(h)``: returns the biases (estimate - truth)
        at x = 0 and x = 0.5 for f(x) = x without noise, keys 20,001 points of [0, 1], a
        tensor or numpy array of 2 numbers.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch07
    >>> import torch
    >>> def edge_and_middle_bias(h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch07.edge_and_middle_bias(edge_and_middle_bias)
    ... # doctest: +NORMALIZE_WHITESPACE
    Not done yet: bias at the edge and in the middle. `edge_and_middle_bias` still has
    an empty body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch07.edge_and_middle_bias(lambda h: torch.zeros(2))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: bias at the edge and in the middle. For h = 0.01 the biases at x = 0 and
    0.5 are 0.00796295 and -5.6e-17, `edge_and_middle_bias(0.01)` returned 0 and 0:
    estimate at the two points with the 20,001 keys as keys and values, then subtract
    the points
    """

    def body() -> str:
        ratios = []
        for h in (0.01, 0.03):
            out = call(fn, "edge_and_middle_bias", h)
            what = f"`edge_and_middle_bias({h})`"
            arr = as_array(out, what, (2,), kind="array")
            ref = (
                nadaraya_watson(
                    torch.tensor([0.0, 0.5], dtype=torch.float64), _KEYS, _KEYS, h
                )
                - torch.tensor([0.0, 0.5], dtype=torch.float64)
            ).numpy()
            if np.allclose(arr, -ref, atol=1e-9):
                raise Wrong(f"the sign of {what} is flipped: bias = estimate - truth")
            if not np.allclose(arr, ref, atol=1e-9):
                (r0, a0), (r1, a1) = pair(ref[0], arr[0]), pair(ref[1], arr[1], 2)
                raise Wrong(
                    f"for h = {h} the biases at x = 0 and 0.5 are {r0} and "
                    f"{r1}, {what} returned {a0} and {a1}: "
                    f"estimate at the two points with the 20,001 keys as keys and "
                    f"values, then subtract the points"
                )
            ratios.append(arr[0] / h)
        return (
            f"At the edge bias / h = {ratios[0]:.4f} and {ratios[1]:.4f}, close to "
            f"sqrt(2/pi) = {math.sqrt(2 / math.pi):.4f}; in the middle the line is "
            f"kept exactly."
        )

    run_check("bias at the edge and in the middle", body)


def consistent_rules(consistent_1d: Any, consistent_2d: Any) -> None:
    """Exercise 3: check which width rules give a consistent estimate.

    Parameters
    ----------
    consistent_1d : list of bool
        One entry per rule in :data:`RULES`, in order: is the estimate consistent in 1-D
        (h -> 0 and n h -> infinity)?
    consistent_2d : list of bool
        The same in 2-D (n h^2 -> infinity).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch07
    >>> ch07.consistent_rules(None, None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: which width rules are consistent. `consistent_1d` is still None: set
    it to a list of 6 True/False values
    >>> ch07.consistent_rules([True] * 5, [True] * 5)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: which width rules are consistent. `consistent_1d` should hold 6 values,
    one per rule in the order of ch07.RULES, got 5
    """

    def body() -> str:
        names = list(RULES)
        for d, answer in ((1, consistent_1d), (2, consistent_2d)):
            var = f"`consistent_{d}d`"
            if is_stub(answer):
                raise NotDone(
                    f"{var} is still {describe(answer)}: set it to a list of "
                    f"{len(names)} True/False values"
                )
            if not isinstance(answer, list):
                raise Wrong(
                    f"{var} should be a list of {len(names)} True/False values, got "
                    f"{describe(answer)}"
                )
            got = list(answer)
            if len(got) != len(names):
                raise Wrong(
                    f"{var} should hold {len(names)} values, one per rule in the order "
                    f"of ch07.RULES, got {len(got)}"
                )
            odd = [i for i, g in enumerate(got) if not isinstance(g, (bool, np.bool_))]
            if odd:
                raise Wrong(
                    f"{var}[{odd[0]}] should be True or False, got "
                    f"{describe(got[odd[0]])}"
                )
            for name, g in zip(names, got, strict=True):
                ref = _consistent(RULES[name], d)
                if bool(g) != ref:
                    why = (
                        "h does not go to 0"
                        if not _shrinks(RULES[name])
                        else f"n h^{d} does not go to infinity"
                        if not ref
                        else f"h -> 0 and n h^{d} -> infinity both hold"
                    )
                    raise Wrong(
                        f"{var}: in {d}-D the rule {name} is "
                        f"{'consistent' if ref else 'not consistent'} ({why}): change "
                        f"entry {names.index(name)} to {ref}"
                    )
        return (
            "h = n^(-1/2) is consistent in 1-D (n h = n^(1/2)) but not in 2-D "
            "(n h^2 = 1)."
        )

    run_check("which width rules are consistent", body)


def points_needed(fn: Any) -> None:
    """Exercise 4: check the n at which a power law reaches a target error.

    Parameters
    ----------
    fn : callable
        The learner's ``points_needed(exponent, prefactor, target)``: returns (a number)
        the n with prefactor n^exponent = target.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch07
    >>> def points_needed(exponent, prefactor, target):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch07.points_needed(points_needed)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: points needed for a target error. `points_needed` still has an empty
    body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch07.points_needed(lambda exponent, prefactor, target: 100.0)
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: points needed for a target error. For exponent -0.800, prefactor 2.0 and
    target 0.001, n = 13374.8; `points_needed(-0.8, 2.0, 0.001)` returned 100: solve
    prefactor n^exponent = target for n
    """

    def body() -> str:
        for a, c, t in ((-0.8, 2.0, 1e-3), (-4 / 9, 0.9, 0.02), (-2 / 3, 1.5, 5e-3)):
            what = f"`points_needed({a:.4g}, {c}, {t})`"
            got = number(call(fn, "points_needed", a, c, t), what)
            ref = PowerLaw(a, c, math.nan, 1, 1).solve(t)
            if not math.isclose(got, ref, rel_tol=1e-6):
                want, mine = pair(ref, got)
                raise Wrong(
                    f"for exponent {a:.3f}, prefactor {c} and target {t}, n = {want}; "
                    f"{what} returned {mine}: solve prefactor n^exponent = target "
                    f"for n"
                )
        return "n = (target / prefactor)^(1 / exponent)."

    run_check("points needed for a target error", body)
