"""Self-checks for the exercises of chapter 4, When a point includes itself."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..data import running_example
from ..selection import (
    loo_predictions,
    select_width_grid,
    select_width_minimize,
    silverman_width,
)
from . import Wrong, as_array, call, close, number, pair, require_source, run_check

__all__ = [
    "loo_by_mask",
    "loo_by_rebuilding",
    "silverman",
    "best_width_on_grid",
    "widths_shrink",
]

_DATA = running_example(n_train=40, n_val=0, seed=8)
_X, _Y = _DATA.x_train, _DATA.y_train


def _loo(
    fn: Any,
    name: str,
    title: str,
    hint: str,
    kind: str,
    uses: tuple[str, ...] = (),
    avoids: tuple[str, ...] = (),
) -> None:
    def body() -> str:
        for h in (0.4, 1e-3):
            out = call(fn, name, _X.clone(), _Y.clone(), h)
            what = f"`{name}(x, y, {h})`"
            arr = as_array(out, what, (len(_X),), kind=kind)
            close(arr, loo_predictions(_X, _Y, h), what, rtol=1e-6, atol=1e-9)
        require_source(fn, name, uses=uses, avoids=avoids)
        return hint

    run_check(title, body)


def loo_by_mask(fn: Any) -> None:
    """Exercise 1: check leave-one-out predictions from one masked matrix.

    Parameters
    ----------
    fn : callable
        The learner's ``loo_by_mask(x, y, h)``: (n,) tensors and a width; returns the
        (n,) tensor of leave-one-out predictions, built in plain torch (nwlib's pooling
        and leave-one-out functions are refused), without NaN at a tiny width.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch04
    >>> def loo_by_mask(x, y, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch04.loo_by_mask(loo_by_mask)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: leave-one-out by masking the diagonal. `loo_by_mask` still has an
    empty body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch04.loo_by_mask(lambda x, y, h: y)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: leave-one-out by masking the diagonal. `loo_by_mask(x, y, 0.4)` is off by
    up to 2.13 at index (0,): expected 1.30327, got -0.825649
    """
    _loo(
        fn,
        "loo_by_mask",
        "leave-one-out by masking the diagonal",
        "One (n, n) matrix, diagonal at -inf, softmax over keys; a tiny h gives "
        "no NaN.",
        "tensor",
        avoids=(
            "nadaraya_watson",
            "loo_predictions",
            "attention_weights",
            "loo_error",
            "error_curve",
        ),
    )


def loo_by_rebuilding(fn: Any) -> None:
    """Exercise 2: check leave-one-out predictions from one key set per point.

    Parameters
    ----------
    fn : callable
        The learner's ``loo_by_rebuilding(x, y, h)``: returns the (n,) leave-one-out
        predictions, a tensor or numpy array, calling ``nadaraya_watson`` once per point
        on the other n - 1 pairs.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch04
    >>> def loo_by_rebuilding(x, y, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch04.loo_by_rebuilding(loo_by_rebuilding)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: leave-one-out by rebuilding the key set. `loo_by_rebuilding` still has
    an empty body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch04.loo_by_rebuilding(lambda x, y, h: y)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: leave-one-out by rebuilding the key set. `loo_by_rebuilding(x, y, 0.4)`
    is off by up to 2.13 at index (0,): expected 1.30327, got -0.825649
    """
    _loo(
        fn,
        "loo_by_rebuilding",
        "leave-one-out by rebuilding the key set",
        "Same numbers as the masked matrix, n times the work.",
        "array",
        uses=("nadaraya_watson",),
        avoids=("loo_predictions",),
    )


def silverman(fn: Any) -> None:
    """Exercise 3: check the learner's Silverman width.

    Parameters
    ----------
    fn : callable
        The learner's ``silverman(x)``: returns 0.9 min(sd, IQR/1.34) n^(-1/5) as a
        float; tried on the running example and on a heavy-tailed sample, where the IQR
        branch is the smaller.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch04
    >>> def silverman(x):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch04.silverman(silverman)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: Silverman's rule. `silverman` still has an empty body: write its code
    where it says YOUR CODE HERE and `return` the result
    >>> ch04.silverman(lambda x: 1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: Silverman's rule. For the running example Silverman's width is 0.614913,
    `silverman(x)` returned 1: use the sample standard deviation (x.std()), the IQR from
    torch.quantile, and 0.9 min(sd, IQR/1.34) n^(-1/5)
    """

    def body() -> str:
        g = torch.Generator().manual_seed(3)
        samples = {
            "the running example": _X.clone(),
            "a heavy-tailed sample": torch.distributions.Cauchy(0.0, 1.0).icdf(
                torch.rand(60, generator=g, dtype=torch.float64) * 0.98 + 0.01
            ),
        }
        for name, xs in samples.items():
            got = number(
                call(fn, "silverman", xs.clone()), "`silverman(x)`", kind="float"
            )
            ref = silverman_width(xs)
            if not math.isclose(got, ref, rel_tol=1e-6):
                sd, n = float(xs.std()), len(xs)
                hint = (
                    "use min(sd, IQR/1.34): on this sample the IQR branch is the "
                    "smaller"
                    if math.isclose(got, 0.9 * sd * n**-0.2, rel_tol=1e-6)
                    else "use the sample standard deviation (x.std()), the IQR from "
                    "torch.quantile, and 0.9 min(sd, IQR/1.34) n^(-1/5)"
                )
                want, mine = pair(ref, got)
                raise Wrong(
                    f"for {name} Silverman's width is {want}, `silverman(x)` "
                    f"returned {mine}: {hint}"
                )
        return "Both the standard deviation and the IQR branch of the min are right."

    run_check("Silverman's rule", body)


def best_width_on_grid(fn: Any) -> None:
    """Exercise 4: check the grid width with the smallest leave-one-out error.

    Parameters
    ----------
    fn : callable
        The learner's ``best_width_on_grid(x, y, widths)``: returns, as a float, the
        width in ``widths`` with the smallest leave-one-out mean squared error.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch04
    >>> def best_width_on_grid(x, y, widths):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch04.best_width_on_grid(best_width_on_grid)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: leave-one-out on a grid. `best_width_on_grid` still has an empty body:
    write its code where it says YOUR CODE HERE and `return` the result
    >>> ch04.best_width_on_grid(lambda x, y, widths: float(widths[0]))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: leave-one-out on a grid. The width in `widths` with the smallest
    leave-one-out error is 0.278227 (CV 0.3558); `best_width_on_grid(x, y, widths)`
    returned 0.02: compute the leave-one-out error at every width and return the one
    with the smallest
    """

    def body() -> str:
        widths = np.geomspace(0.02, 3, 60)
        what = "`best_width_on_grid(x, y, widths)`"
        got = number(
            call(
                fn,
                "best_width_on_grid",
                _X.clone(),
                _Y.clone(),
                torch.from_numpy(widths.copy()),
            ),
            what,
            kind="float",
        )
        ref = select_width_grid(_X, _Y, widths=widths)
        if not math.isclose(got, ref.width, rel_tol=1e-9):
            want, mine = pair(ref.width, got)
            raise Wrong(
                f"the width in `widths` with the smallest leave-one-out error is "
                f"{want} (CV {ref.score:.4f}); {what} returned {mine}: "
                f"compute the leave-one-out error at every width and return the one "
                f"with the smallest"
            )
        return f"h = {got:.4f}, leave-one-out error {ref.score:.4f}."

    run_check("leave-one-out on a grid", body)


def widths_shrink(h50: Any, h200: Any) -> None:
    """Exercise 5: check the leave-one-out widths for 50 and 200 points.

    Parameters
    ----------
    h50 : float
        The leave-one-out width for ``running_example(n_train=50, seed=0)`` (within 2
        %).
    h200 : float
        The same for ``running_example(n_train=200, seed=0)``.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch04
    >>> import torch
    >>> ch04.widths_shrink(None, None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: the width shrinks with n. `h50` is still None: replace it with your
    answer
    >>> ch04.widths_shrink(torch.tensor([0.5, 0.3]), 0.1)
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: the width shrinks with n. `h50` should be a single number, got a tensor
    of shape (2,)
    """

    def body() -> str:
        a, b = number(h50, "`h50`"), number(h200, "`h200`")
        d50 = running_example(n_train=50, seed=0)
        ref50 = select_width_minimize(d50.x_train, d50.y_train).width
        d200 = running_example(n_train=200, seed=0)
        ref200 = select_width_minimize(d200.x_train, d200.y_train).width
        for name, got, ref, n in (("h50", a, ref50, 50), ("h200", b, ref200, 200)):
            if not math.isclose(got, ref, rel_tol=0.02):
                raise Wrong(
                    f"`{name}` should be the leave-one-out width for "
                    f"running_example(n_train={n}, seed=0), about {ref:.4f}; you got "
                    f"{got:.4f}: minimize the leave-one-out error over the width"
                )
        return (
            f"On this draw the width shrinks by a factor {b / a:.2f} from 50 to "
            f"200 points; one draw scatters widely around the typical factor."
        )

    run_check("the width shrinks with n", body)
