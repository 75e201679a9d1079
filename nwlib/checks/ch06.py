"""Self-checks for the exercises of chapter 6, Parzen windows and NW classification."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..parzen import kernel_integral, parzen_classify, parzen_density, parzen_difference
from . import (
    NotDone,
    Wrong,
    agrees,
    as_array,
    boolean,
    call,
    close,
    is_stub,
    number,
    pair,
    run_check,
)

__all__ = [
    "gaussian_parzen",
    "epanechnikov_constant",
    "difference",
    "ratio",
    "iris_loo",
    "empty_region",
]

_GEN = torch.Generator().manual_seed(66)
_X1 = torch.linspace(-2.0, 5.0, 15, dtype=torch.float64)
_D1 = 3 * torch.rand(12, generator=_GEN, dtype=torch.float64)
_D2 = torch.randn(30, 2, generator=_GEN, dtype=torch.float64)
_Y2 = torch.where(
    _D2[:, 0] + 0.5 * torch.randn(30, generator=_GEN, dtype=torch.float64) > 0,
    1.0,
    -1.0,
).to(torch.float64)
_X2 = torch.cartesian_prod(
    torch.linspace(-2, 2, 5, dtype=torch.float64),
    torch.linspace(-2, 2, 5, dtype=torch.float64),
)


def gaussian_parzen(fn: Any) -> None:
    """Exercise 1: check the learner's Gaussian Parzen density.

    Parameters
    ----------
    fn : callable
        The learner's ``parzen(x, data, h)``: 1-D tensors of queries and samples and a
        width; returns the (n_x,) density, a tensor or numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch06
    >>> import torch
    >>> def parzen(x, data, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch06.gaussian_parzen(parzen)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: Gaussian Parzen density. `parzen` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch06.gaussian_parzen(lambda x, data, h: torch.ones_like(x))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: Gaussian Parzen density. `parzen(x, data, 0.3)` is off by up to 1 at
    index (14,): expected 1.7486e-11, got 1
    """

    def body() -> str:
        for h in (0.3, 1.2):
            out = call(fn, "parzen", _X1.clone(), _D1.clone(), h)
            what = f"`parzen(x, data, {h})`"
            arr = as_array(out, what, (len(_X1),), kind="array")
            ref = parzen_density(_X1, _D1, h)
            if np.allclose(
                arr * math.sqrt(2 * math.pi), ref.numpy(), rtol=1e-6, atol=1e-12
            ):
                raise Wrong(
                    f"{what} is off by the factor sqrt(2 pi): the Gaussian profile "
                    f"exp(-u^2/2) integrates to sqrt(2 pi), so divide by it"
                )
            if np.allclose(arr / h, ref.numpy(), rtol=1e-6, atol=1e-12):
                raise Wrong(
                    f"{what} is off by a factor h: K_h(z) has 1/h in front, for the "
                    f"change of variable u = z/h"
                )
            close(arr, ref, what, atol=1e-10)
        return "Normalized bumps of mass 1/n, one per sample."

    run_check("Gaussian Parzen density", body)


def epanechnikov_constant(c: Any) -> None:
    """Exercise 2: check the integral of 3/4 (1 - ||u||^2) over the unit disc.

    Parameters
    ----------
    c : float
        The learner's ``c2`` (within 0.1 %).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch06
    >>> ch06.epanechnikov_constant(None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: Epanechnikov constant in 2-D. `c2` is still None: replace it with your
    answer
    >>> ch06.epanechnikov_constant(2.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: Epanechnikov constant in 2-D. `c2` = 2 is not the integral of the profile
    over the plane. Integrate in polar coordinates: the area element is r dr dtheta.
    """

    def body() -> str:
        cv = number(c, "`c2`")  # 1e-3 relative: 4 decimals typed back pass
        exact = kernel_integral("epanechnikov", 2)
        if abs(cv / exact - 1) > 1e-3:
            hint = (
                " That is the 1-D value."
                if abs(cv - 1) < 1e-3
                else " Integrate in polar coordinates: the area element is r dr dtheta."
            )
            raise Wrong(
                f"`c2` = {cv:.6g} is not the integral of the profile over the "
                f"plane.{hint}"
            )
        return f"c2 = {cv:.6f} (exactly 3 pi / 8 = {exact:.6f})."

    run_check("Epanechnikov constant in 2-D", body)


def difference(fn: Any) -> None:
    """Exercise 3: check the 2-D Gaussian difference p(x, +1) - p(x, -1).

    Parameters
    ----------
    fn : callable
        The learner's ``difference(x, data, y, h)``: (n_x, 2) queries, (n, 2) samples,
        (n,) labels +1/-1 and a width; returns the (n_x,) difference (1/n) sum_i y_i
        K_h(x - x_i), a tensor or numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch06
    >>> import torch
    >>> def difference(x, data, y, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch06.difference(difference)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: Parzen difference. `difference` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch06.difference(lambda x, data, y, h: torch.zeros(len(x)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: Parzen difference. `difference(x, data, y, 0.5)` is off by up to 0.144 at
    index (7,): expected -0.143591, got 0
    """

    def body() -> str:
        for h in (0.5, 1.0):
            out = call(fn, "difference", _X2.clone(), _D2.clone(), _Y2.clone(), h)
            what = f"`difference(x, data, y, {h})`"
            arr = as_array(out, what, (len(_X2),), kind="array")
            ref = parzen_difference(_X2, _D2, _Y2, h)
            if np.allclose(
                arr * 2 * math.pi * h * h, ref.numpy(), rtol=1e-6, atol=1e-12
            ):
                raise Wrong(
                    f"{what} is off by the factor 2 pi h^2: in 2-D the Gaussian K_h "
                    f"has 1 / (2 pi h^2) in front"
                )
            close(arr, ref, what, atol=1e-10)
        return "(1/n) sum_i y_i K_h(x - x_i): one bump per sample, signed by its label."

    run_check("Parzen difference", body)


def ratio(fn: Any) -> None:
    """Exercise 4: check that the difference over the NW output is p(x).

    Parameters
    ----------
    fn : callable
        The learner's ``ratio(x, data, y, h)``: returns the Parzen difference divided by
        the NW output, (n_x,), a tensor or numpy array; it should be the density p(x).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch06
    >>> import torch
    >>> def ratio(x, data, y, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch06.ratio(ratio)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: the ratio is the density. `ratio` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch06.ratio(lambda x, data, y, h: torch.zeros(len(x)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: the ratio is the density. `ratio(x, data, y, 0.7)`, compared with the
    Parzen density p(x), is off by up to 0.123 at index (7,): expected 0.123358, got 0
    """

    def body() -> str:
        out = call(fn, "ratio", _X2.clone(), _D2.clone(), _Y2.clone(), 0.7)
        what = "`ratio(x, data, y, 0.7)`"
        arr = as_array(out, what, (len(_X2),), kind="array")
        dens = parzen_density(_X2, _D2, 0.7)
        if np.allclose(arr, 1.0):
            raise Wrong(
                f"{what} is 1 everywhere, which would mean the two are equal: they are "
                f"not; divide your `difference` by nw_binary_output(x, data, y, h)"
            )
        close(
            arr,
            dens,
            f"{what}, compared with the Parzen density p(x),",
            rtol=1e-6,
            atol=1e-10,
        )
        return (
            f"The ratio is the density p(x), from {float(dens.min()):.3g} to "
            f"{float(dens.max()):.3g}: positive, so the difference and the NW output "
            f"have the same sign, but they are not the same number."
        )

    run_check("the ratio is the density", body)


def _standardized_iris() -> list[torch.Tensor]:
    from sklearn.datasets import load_iris

    x = torch.tensor(load_iris().data)
    return [(x - x.mean(0)) / x.std(0, correction=c) for c in (1, 0)]


def iris_loo(accuracy: Any, h: Any) -> None:
    """Exercise 5: check the leave-one-out accuracy on standardized iris.

    Parameters
    ----------
    accuracy : float
        The leave-one-out accuracy of the Gaussian Parzen classifier on the standardized
        iris features (a fraction of 150).
    h : float
        The width used.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch06
    >>> ch06.iris_loo(None, None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: iris leave-one-out accuracy. `accuracy` and `h` are still a
    placeholder: set both `accuracy` and `h`
    >>> ch06.iris_loo(95.3, 0.5)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: iris leave-one-out accuracy. `accuracy` should be a fraction between 0
    and 1 (correct / 150), got 95.3
    """

    def body() -> str:
        if is_stub(accuracy) or is_stub(h):
            missing = [n for n, v in (("accuracy", accuracy), ("h", h)) if is_stub(v)]
            raise NotDone(
                " and ".join(f"`{n}`" for n in missing)
                + (" is" if len(missing) == 1 else " are")
                + " still a placeholder: "
                "set both `accuracy` and `h`"
            )
        hv, acc = number(h, "`h`"), number(accuracy, "`accuracy`")
        if hv <= 0:
            raise Wrong(f"`h` = {hv:.4g}, but a width must be positive")
        if not 0 <= acc <= 1:
            raise Wrong(
                f"`accuracy` should be a fraction between 0 and 1 (correct / 150), "
                f"got {acc:.4g}"
            )
        from sklearn.datasets import load_iris

        labels = torch.tensor(load_iris().target, dtype=torch.float64)
        refs, included = [], []
        for feats in _standardized_iris():
            for exclude, out in ((True, refs), (False, included)):
                pred = parzen_classify(feats, feats, labels, hv, exclude_self=exclude)
                out.append(float((pred == labels).double().mean()))
        if not any(agrees(acc, r, rtol=0, atol=1e-9) for r in refs):
            want, got = pair(refs[0], acc)
            hint = (
                "that is the accuracy with each flower in its own prediction: leave "
                "it out (exclude_self=True)"
                if any(agrees(acc, r, rtol=0, atol=1e-9) for r in included)
                else "count the flowers `parzen_classify(..., exclude_self=True)` "
                "labels correctly at your `h` and divide by 150"
            )
            raise Wrong(
                f"at `h` = {hv:.4g} the leave-one-out accuracy is {want}, but "
                f"`accuracy` is {got}: {hint}"
            )
        return f"h = {hv:.4g}: leave-one-out accuracy {acc:.4f}."

    run_check("iris leave-one-out accuracy", body)


def empty_region(parzen_value: Any, nw_is_nan: Any) -> None:
    """Exercise 6: check the Parzen difference and NW output far from the data.

    Parameters
    ----------
    parzen_value : float
        The Parzen difference with the boxcar kernel where no sample is within the
        width.
    nw_is_nan : bool
        Whether the NW output there is NaN.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch06
    >>> ch06.empty_region(None, None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: where p(x) = 0. `parzen_value` and `nw_is_nan` are still a
    placeholder: set both `parzen_value` and `nw_is_nan`
    >>> ch06.empty_region(0.5, "yes")
    Not quite: where p(x) = 0. `nw_is_nan` should be True or False, got the text 'yes'
    """

    def body() -> str:
        if is_stub(parzen_value) or is_stub(nw_is_nan):
            missing = [
                n
                for n, v in (("parzen_value", parzen_value), ("nw_is_nan", nw_is_nan))
                if is_stub(v)
            ]
            raise NotDone(
                " and ".join(f"`{n}`" for n in missing)
                + (" is" if len(missing) == 1 else " are")
                + " still a placeholder: "
                "set both `parzen_value` and `nw_is_nan`"
            )
        pv = number(parzen_value, "`parzen_value`")
        nan = boolean(nw_is_nan, "`nw_is_nan`")
        if pv != 0.0:
            raise Wrong(
                f"`parzen_value` = {pv:.4g}, but no sample is inside the kernel's "
                f"support, so both joint densities are 0: the difference is exactly 0"
            )
        if not nan:
            raise Wrong(
                "`nw_is_nan` is False, but the NW output there is 0/0: it is undefined "
                "(NaN in nwlib)"
            )
        return (
            "The Parzen difference is 0 (no decision); the NW output is 0/0, undefined."
        )

    run_check("where p(x) = 0", body)
