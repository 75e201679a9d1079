"""Self-checks for the exercises of chapter 1, Similarity kernels."""

from __future__ import annotations

import math
from typing import Any

import torch

from ..kernels import get_kernel
from . import Wrong, agrees, call, close, number, pair, run_check

__all__ = [
    "epanechnikov",
    "triangular",
    "largest_gap",
    "half_height_width",
    "normalizing_constants",
]

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
    """Exercise 1: check the learner's Epanechnikov profile.

    Parameters
    ----------
    fn : callable
        The learner's ``epanechnikov(u)``: returns a tensor of u's shape, 3/4 (1 - u^2)
        where |u| <= 1, else 0. It is compared with nwlib's profile on 81 points of [-2,
        2].

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch01
    >>> import torch
    >>> def epanechnikov(u):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch01.epanechnikov(epanechnikov)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: Epanechnikov profile. `epanechnikov` still has an empty body: write
    its code where it says YOUR CODE HERE and `return` the result
    >>> ch01.epanechnikov(lambda u: torch.ones_like(u))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: Epanechnikov profile. `epanechnikov(u)` for u in [-2, 2] is off by up to
    1 at index (0,): expected 0, got 1
    """
    run_check("Epanechnikov profile", lambda: _profile(fn, "epanechnikov"))


def triangular(fn: Any) -> None:
    """Exercise 2, first part: check the learner's triangular profile.

    Parameters
    ----------
    fn : callable
        The learner's ``triangular(u)``: returns a tensor of u's shape, max(0, 1 - |u|).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch01
    >>> import torch
    >>> def triangular(u):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch01.triangular(triangular)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: triangular profile. `triangular` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch01.triangular(lambda u: torch.ones_like(u))  # doctest: +NORMALIZE_WHITESPACE
    Not quite: triangular profile. `triangular(u)` for u in [-2, 2] is off by up to 1 at
    index (0,): expected 0, got 1
    """
    run_check("triangular profile", lambda: _profile(fn, "triangular"))


def largest_gap(gap: Any, where: Any) -> None:
    """Exercise 2, second part: check the largest Epanechnikov-triangular gap.

    Parameters
    ----------
    gap : float
        The largest |Epanechnikov - triangular| on [-1, 1].
    where : float
        A |u| at which it is attained.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch01
    >>> ch01.largest_gap(None, None)
    Not done yet: largest gap. `gap` is still None: replace it with your answer
    >>> ch01.largest_gap(0.1, 1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: largest gap. `gap` = 0.1000 is not the largest absolute difference;
    evaluate both profiles on a fine grid of [-1, 1] and take the maximum of
    |difference|
    """

    def body() -> str:
        u = torch.linspace(-1, 1, 200_001, dtype=torch.float64)
        diff = (get_kernel("epanechnikov")(u) - get_kernel("triangular")(u)).abs()
        g, w = number(gap, "`gap`"), abs(number(where, "`where`"))
        if abs(g - float(diff.max())) > 1e-3:
            raise Wrong(
                f"`gap` = {g:.4f} is not the largest absolute difference; evaluate "
                f"both profiles on a fine grid of [-1, 1] and take the maximum of "
                f"|difference|"
            )
        at = float(
            get_kernel("epanechnikov")(torch.tensor(w))
            - get_kernel("triangular")(torch.tensor(w))
        )
        if abs(abs(at) - float(diff.max())) > 1e-3:
            raise Wrong(
                f"at |u| = `where` = {w:.4f} the gap is {abs(at):.4f}, not the "
                f"largest one ({g:.4f}); set `where` to the |u| of the grid point "
                f"where it is largest"
            )
        return f"The gap {g:.4f} is attained at |u| = {w:.4f}."

    run_check("largest gap", body)


def half_height_width(h: Any) -> None:
    """Exercise 3: check the Gaussian width at which K(1/h) = K(0)/2.

    Parameters
    ----------
    h : float
        The learner's width (typed back to 4 decimals passes).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch01
    >>> ch01.half_height_width(None)
    Not done yet: half-height width. `h` is still None: replace it with your answer
    >>> ch01.half_height_width(1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: half-height width. With `h` = 1 the key at distance 1 gets 0.606531 of
    the weight of the key at distance 0, not 0.5: solve exp(-1/(2 h^2)) = 1/2 for h
    """

    def body() -> str:
        val = number(h, "`h`")
        if val <= 0:
            raise Wrong(f"`h` = {val:.4g}, but a width must be positive")
        ratio = math.exp(-0.5 / val**2)
        if abs(ratio - 0.5) > 1e-6 and not agrees(val, 1 / math.sqrt(2 * math.log(2))):
            raise Wrong(
                f"with `h` = {val:.6g} the key at distance 1 gets "
                f"{pair(ratio, 0.5)[0]} "
                f"of the weight of the key at distance 0, not 0.5: solve "
                f"exp(-1/(2 h^2)) = 1/2 for h"
            )
        return f"With h = {val:.6f} the key at distance 1 gets half the weight."

    run_check("half-height width", body)


def normalizing_constants(c_gauss: Any, c_box: Any) -> None:
    """Exercise 4: check the constants that make the kernels integrate to 1.

    Parameters
    ----------
    c_gauss : float
        c with c exp(-u^2/2) integrating to 1.
    c_box : float
        c with c 1(|u| <= 1) integrating to 1.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch01
    >>> import torch
    >>> ch01.normalizing_constants(None, None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: normalizing constants. `c_gauss` is still None: replace it with your
    answer
    >>> ch01.normalizing_constants(torch.ones(5), 1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: normalizing constants. `c_gauss` should be a single number, got a tensor
    of shape (5,)
    """

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
