"""Self-checks for the exercises of chapter 8, Inputs with many dimensions."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from ..multidim import fit_coordinate_widths, minkowski_distances
from ..pooling import nadaraya_watson
from . import Wrong, as_array, call, close, number, require_source, run_check

__all__ = [
    "minkowski",
    "pairwise_differences",
    "nw_by_rescaling",
    "noise_feature",
    "FEATURE_X",
    "FEATURE_Y",
]

_GEN = torch.Generator().manual_seed(88)
_Q = torch.randn(4, 3, generator=_GEN, dtype=torch.float64)
_K = torch.randn(6, 3, generator=_GEN, dtype=torch.float64)
_V = torch.randn(6, generator=_GEN, dtype=torch.float64)


def _feature_data(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The data of exercise 4: ``x`` (n, 4) uniform on [0, 1)^4 and
    :math:`y = \sin(2\pi x_0) + 2 x_2 + x_3 + 0.2\,\varepsilon`."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 4, generator=g, dtype=torch.float64)
    y = (
        torch.sin(2 * math.pi * x[:, 0])
        + 2 * x[:, 2]
        + x[:, 3]
        + 0.2 * torch.randn(n, generator=g, dtype=torch.float64)
    )
    return x, y


#: Exercise 4's data: 200 inputs in [0, 1)^4 and their outputs (one feature unused).
FEATURE_X, FEATURE_Y = _feature_data()


@lru_cache(maxsize=1)
def _learned_widths() -> np.ndarray:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fit_coordinate_widths(
            FEATURE_X, FEATURE_Y, width=0.3, steps=100, lr=0.1
        ).width
    finally:
        torch.set_num_threads(threads)


def minkowski(fn: Any) -> None:
    """Exercise 1: check the learner's Minkowski distances.

    Parameters
    ----------
    fn : callable
        The learner's ``minkowski(q, k, p)``: (n_q, d) queries, (n_k, d) keys, p >= 1 or
        ``math.inf``; returns the (n_q, n_k) distances, a tensor or numpy array, by
        broadcasting (no Python loop).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch08
    >>> import torch
    >>> def minkowski(q, k, p):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch08.minkowski(minkowski)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: Minkowski distances. `minkowski` still has an empty body: write its
    code where it says YOUR CODE HERE and `return` the result
    >>> ch08.minkowski(lambda q, k, p: torch.zeros(len(q), len(k)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: Minkowski distances. `minkowski(q, k, 1.0)` is off by up to 6.26 at index
    (0, 3): expected 6.26331, got 0
    """

    def body() -> str:
        for p in (1.0, 1.5, 2.0, 3.0, math.inf):
            out = call(fn, "minkowski", _Q.clone(), _K.clone(), p)
            what = f"`minkowski(q, k, {'math.inf' if math.isinf(p) else p})`"
            arr = as_array(out, what, (len(_Q), len(_K)), kind="array")
            if math.isinf(p) and np.allclose(
                arr, minkowski_distances(_Q, _K, 1.0, 1.0).numpy()
            ):
                raise Wrong(
                    f"{what} is the sum of the absolute differences: for p = inf take "
                    f"the largest one (amax over the last axis)"
                )
            close(arr, minkowski_distances(_Q, _K, 1.0, p), what, rtol=1e-9, atol=1e-12)
        require_source(
            fn, "minkowski", avoids=("loop",)
        )  # the prompt: broadcasting, no loops
        return "Diamonds for p = 1, circles for p = 2, squares for p = inf."

    run_check("Minkowski distances", body)


def pairwise_differences(fn: Any) -> None:
    """Exercise 2: check the (n_q, n_k, d) tensor of differences q_j - k_i.

    Parameters
    ----------
    fn : callable
        The learner's ``pairwise_differences(q, k)``: (n_q, d) queries and (n_k, d)
        keys; returns the differences, a tensor, built with ``repeat_interleave`` as the
        prompt asks (no indexing with ``None``).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch08
    >>> def pairwise_differences(q, k):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch08.pairwise_differences(pairwise_differences)
    ... # doctest: +NORMALIZE_WHITESPACE
    Not done yet: pairwise differences by repeat_interleave. `pairwise_differences`
    still has an empty body: write its code where it says YOUR CODE HERE and `return`
    the result
    >>> ch08.pairwise_differences(lambda q, k: q)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: pairwise differences by repeat_interleave. `pairwise_differences(q, k)`
    for 4 queries and 3 keys in 2-D should have shape (4, 3, 2), got (4, 2)
    """

    def body() -> str:
        for nq, nk, d in ((4, 3, 2), (2, 5, 3), (3, 3, 1)):
            q = torch.arange(nq * d, dtype=torch.float64).reshape(nq, d)
            k = 100 * torch.arange(1, nk * d + 1, dtype=torch.float64).reshape(nk, d)
            out = call(fn, "pairwise_differences", q.clone(), k.clone())
            what = (
                f"`pairwise_differences(q, k)` for {nq} queries and {nk} keys in {d}-D"
            )
            arr = as_array(out, what, (nq, nk, d), kind="tensor")
            ref = (q.unsqueeze(1) - k.unsqueeze(0)).numpy()
            if not np.allclose(arr, ref):
                if np.allclose(np.sort(arr.ravel()), np.sort(ref.ravel())):
                    raise Wrong(
                        f"{what} has the right numbers in the wrong places: repeat "
                        f"each query n_k times along dim 0 "
                        f"(repeat_interleave(..., dim=0), not repeat)"
                    )
                raise Wrong(
                    f"entry [j, i] of {what} must be q[j] - k[i]; the first row should "
                    f"be {ref[0].tolist()}"
                )
        # the prompt asks for copies, not broadcasting: read the function's source
        if require_source(
            fn,
            "pairwise_differences",
            uses=("repeat_interleave",),
            avoids=("unsqueeze", "unsqueeze_", "None-index", "newaxis"),
        ):
            return "Same as q.unsqueeze(1) - k.unsqueeze(0), built from copies."
        return (
            "Same as q.unsqueeze(1) - k.unsqueeze(0) (its source could not be read, so "
            "how it was built was not checked)."
        )

    run_check("pairwise differences by repeat_interleave", body)


def nw_by_rescaling(fn: Any) -> None:
    """Exercise 3: check the estimate with per-coordinate widths by rescaling.

    Parameters
    ----------
    fn : callable
        The learner's ``nw_by_rescaling(q, k, v, widths)``: (n_q, d) queries, (n_k, d)
        keys, (n_k,) values, (d,) widths; returns the (n_q,) estimate, a tensor or numpy
        array, from ``nadaraya_watson`` with width 1 on rescaled inputs.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch08
    >>> import torch
    >>> def nw_by_rescaling(q, k, v, widths):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch08.nw_by_rescaling(nw_by_rescaling)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: per-coordinate widths by rescaling. `nw_by_rescaling` still has an
    empty body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch08.nw_by_rescaling(lambda q, k, v, widths: torch.zeros(len(q)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: per-coordinate widths by rescaling. `nw_by_rescaling(q, k, v, widths)`
    for widths [0.5, 1.0, 2.0] is off by up to 1.09 at index (0,): expected -1.08647,
    got 0
    """

    def body() -> str:
        for widths in ([0.5, 1.0, 2.0], [3.0, 0.2, 0.7]):
            h = torch.tensor(widths, dtype=torch.float64)
            out = call(
                fn, "nw_by_rescaling", _Q.clone(), _K.clone(), _V.clone(), h.clone()
            )
            what = f"`nw_by_rescaling(q, k, v, widths)` for widths {widths}"
            arr = as_array(out, what, (len(_Q),), kind="array")
            ref = nadaraya_watson(_Q, _K, _V, h)
            if np.allclose(
                arr, nadaraya_watson(_Q * h, _K * h, _V, 1.0).numpy(), rtol=1e-9
            ):
                raise Wrong(
                    f"{what} multiplies the inputs by the widths: divide them instead"
                )
            close(arr, ref, what, rtol=1e-9, atol=1e-12)
        require_source(fn, "nw_by_rescaling", uses=("nadaraya_watson",))
        return "A width per coordinate is a change of units."

    run_check("per-coordinate widths by rescaling", body)


def noise_feature(index: Any) -> None:
    """Exercise 4: check the index of the feature the target does not use.

    Parameters
    ----------
    index : int
        The learner's ``noise_feature``: the index (0-3) of the column of ``FEATURE_X``
        that ``FEATURE_Y`` does not depend on, read off the learned per-feature widths.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch08
    >>> ch08.noise_feature(None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: the feature y does not use. `noise_feature` is still None: replace it
    with your answer
    >>> ch08.noise_feature(0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: the feature y does not use. `noise_feature` = 0, but feature 0 gets a
    learned width of 0.0557; one feature's width grows much larger than the others: set
    `noise_feature` to its index
    """

    def body() -> str:
        i = number(index, "`noise_feature`")
        if i != int(i) or not 0 <= i <= 3:
            raise Wrong(
                f"`noise_feature` should be a feature index 0, 1, 2 or 3, got {i:g}: "
                f"take the argmax of the final widths `.width` (one per feature), not "
                f"of the history `.widths`"
            )
        widths = _learned_widths()
        ref = int(np.argmax(widths))
        if int(i) != ref:
            raise Wrong(
                f"`noise_feature` = {int(i)}, but feature {int(i)} gets a learned "
                f"width of {widths[int(i)]:.3g}; one feature's width grows much "
                f"larger than the others: set `noise_feature` to its index"
            )
        return (
            f"Learned widths {np.round(widths, 2).tolist()}: feature {ref} is "
            f"switched off."
        )

    run_check("the feature y does not use", body)
