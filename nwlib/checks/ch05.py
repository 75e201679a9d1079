"""Self-checks for chapter 5, The unit sphere and dot-product attention."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..sphere import (
    dot_product_weights,
    gaussian_weights,
    normalize,
    vaswani_temperature,
)
from . import Wrong, agrees, as_array, call, close, number, run_check

__all__ = ["project", "dot_attention", "temperature", "key_bias", "scale"]

_GEN = torch.Generator().manual_seed(55)
_X = torch.randn(6, 3, generator=_GEN, dtype=torch.float64)
_XB = torch.randn(2, 4, 3, generator=_GEN, dtype=torch.float64)
_Q = torch.randn(5, 4, generator=_GEN, dtype=torch.float64)
_K = torch.randn(7, 4, generator=_GEN, dtype=torch.float64)
_H_EX3 = 0.4


def project(fn: Any) -> None:
    """Exercise 1: check the projection onto the unit sphere.

    Parameters
    ----------
    fn : callable
        The learner's ``project(x)``: returns x with every vector along the last axis
        scaled to length 1, a tensor or numpy array of x's shape (any leading
        dimensions).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch05
    >>> def project(x):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch05.project(project)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: projection onto the unit sphere. `project` still has an empty body:
    write its code where it says YOUR CODE HERE and `return` the result
    >>> ch05.project(lambda x: x)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: projection onto the unit sphere. Every vector of `project(x)` for x of
    shape (6, 3) should have length 1 along the last axis (dim=-1, keepdim=True);
    lengths range over [1.115, 3.185]
    """

    def body() -> str:
        for x in (_X, _XB):
            out = call(fn, "project", x.clone())
            what = f"`project(x)` for x of shape {tuple(x.shape)}"
            arr = as_array(out, what, tuple(x.shape), kind="array")
            norms = np.linalg.norm(arr, axis=-1)
            if np.abs(norms - 1).max() > 1e-6:
                raise Wrong(
                    f"every vector of {what} should have length 1 along the last axis "
                    f"(dim=-1, keepdim=True); lengths range over "
                    f"[{norms.min():.4g}, {norms.max():.4g}]"
                )
            close(arr, normalize(x), what)
        return (
            "Unit length along the last axis, same direction, any leading dimensions."
        )

    run_check("projection onto the unit sphere", body)


def dot_attention(fn: Any) -> None:
    """Exercise 2: check scaled dot-product attention weights.

    Parameters
    ----------
    fn : callable
        The learner's ``dot_attention(q, k, t)``: (n_q, d) queries, (n_k, d) keys, a
        temperature; returns softmax(q k^T / t) over keys, shape (n_q, n_k), a tensor or
        numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch05
    >>> import torch
    >>> def dot_attention(q, k, t):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch05.dot_attention(dot_attention)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: scaled dot-product attention weights. `dot_attention` still has an
    empty body: write its code where it says YOUR CODE HERE and `return` the result
    >>> ch05.dot_attention(lambda q, k, t: torch.ones(len(q), len(k)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: scaled dot-product attention weights. Each query's weights in
    `dot_attention(q, k, 0.5)` should sum to 1 (a softmax over keys, dim=1); the row
    sums are [7.0, 7.0, 7.0, 7.0, 7.0]
    """

    def body() -> str:
        for t in (0.5, 2.0, 0.01):
            out = call(fn, "dot_attention", _Q.clone(), _K.clone(), t)
            what = f"`dot_attention(q, k, {t})`"
            arr = as_array(out, what, (5, 7), kind="array")
            if np.abs(arr.sum(1) - 1).max() > 1e-6:
                raise Wrong(
                    f"each query's weights in {what} should sum to 1 (a softmax over "
                    f"keys, dim=1); the row sums are {np.round(arr.sum(1), 4).tolist()}"
                )
            close(arr, dot_product_weights(_Q, _K, temperature=t), what)
        return (
            "Shape (queries, keys), rows sum to 1, and a low temperature gives no NaN."
        )

    run_check("scaled dot-product attention weights", body)


def temperature(t: Any) -> None:
    """Exercise 3: check the temperature that gives Gaussian weights of width 0.4.

    Parameters
    ----------
    t : float
        The temperature at which dot-product weights of unit vectors equal Gaussian
        weights of width 0.4.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch05
    >>> ch05.temperature(None)
    Not done yet: width as temperature. `t` is still None: replace it with your answer
    >>> ch05.temperature(1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: width as temperature. With `t` = 1 the dot-product weights differ from
    the Gaussian weights of width 0.4 by up to 0.655; look at the exponent in the
    softmax form of the Gaussian weights
    """

    def body() -> str:
        tv = number(t, "`t`")
        if tv <= 0:
            raise Wrong(f"`t` = {tv:.4g}, but a temperature must be positive")
        q, k = normalize(_Q), normalize(_K)
        gauss = gaussian_weights(q, k, _H_EX3)
        dot = dot_product_weights(q, k, temperature=tv)
        gap = float((gauss - dot).abs().max())
        if gap > 1e-9 and not agrees(tv, _H_EX3**2):
            raise Wrong(
                f"with `t` = {tv:.6g} the dot-product weights differ from the Gaussian "
                f"weights of width {_H_EX3} by up to {gap:.3g}; look at the exponent "
                f"in the softmax form of the Gaussian weights"
            )
        return (
            f"t = {tv:.4g}: the squared width, so the weights agree "
            f"(to {max(gap, 1e-16):.1g})."
        )

    run_check("width as temperature", body)


def key_bias(fn: Any) -> None:
    """Exercise 4: check the per-key bias that restores Gaussian weights.

    Parameters
    ----------
    fn : callable
        The learner's ``key_bias(keys, h)``: (n_k, d) keys and a width; returns the
        (n_k,) bias b with softmax(q.k/h^2 + b) the Gaussian weights off the sphere, a
        tensor or numpy array.

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch05
    >>> import torch
    >>> def key_bias(keys, h):
    ...     # YOUR CODE HERE
    ...     ...
    >>> ch05.key_bias(key_bias)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: the per-key bias. `key_bias` still has an empty body: write its code
    where it says YOUR CODE HERE and `return` the result
    >>> ch05.key_bias(lambda keys, h: torch.zeros(len(keys)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: the per-key bias. softmax(q.k/h^2 + `key_bias(keys, 0.8)`), compared with
    the Gaussian weights, is off by up to 0.714 at index (2, 1): expected 0.744463, got
    0.0308216
    """

    def body() -> str:
        q, k = 2 * _Q, 2 * _K  # well off the unit sphere
        for h in (0.8, 2.5):
            out = call(fn, "key_bias", k.clone(), h)
            what = f"`key_bias(keys, {h})`"
            bias = torch.as_tensor(as_array(out, what, (7,), kind="array"))
            repaired = torch.softmax(q @ k.T / h**2 + bias, dim=1)
            close(
                repaired,
                gaussian_weights(q, k, h),
                f"softmax(q.k/h^2 + {what}), compared with the Gaussian weights,",
            )
        return (
            "softmax(q.k/h^2 - ||k||^2/(2h^2)) is the Gaussian kernel off the sphere."
        )

    run_check("the per-key bias", body)


def scale(scale: Any) -> None:
    """Exercise 5: check the factor that gives q.k unit standard deviation.

    Parameters
    ----------
    scale : float
        The positive factor with ``scale * q.k`` of standard deviation 1 for independent
        standard normal q, k in d = 256 (within 3 %).

    Returns
    -------
    None
        The verdict is printed, one line: ``Correct: ...``, ``Not done yet: ...`` or
        ``Not quite: ...``, naming the learner's variable and what to change. Never
        raises.

    Examples
    --------
    >>> from nwlib.checks import ch05
    >>> ch05.scale(None)  # doctest: +NORMALIZE_WHITESPACE
    Not done yet: the 1/sqrt(d) factor. `scale` is still None: replace it with your
    answer
    >>> ch05.scale(-1.0)  # doctest: +NORMALIZE_WHITESPACE
    Not quite: the 1/sqrt(d) factor. `scale` = -1: use a positive factor (a negative one
    would also flip every score)
    """

    def body() -> str:
        sv = number(scale, "`scale`")
        if sv <= 0:
            raise Wrong(
                f"`scale` = {sv:.4g}: use a positive factor (a negative one would also "
                f"flip every score)"
            )
        exact = 1 / vaswani_temperature(256)
        if abs(sv / exact - 1) > 0.03:
            gen = torch.Generator().manual_seed(0)
            q = torch.randn(4000, 256, generator=gen, dtype=torch.float64)
            k = torch.randn(4000, 256, generator=gen, dtype=torch.float64)
            sd = float((sv * (q * k).sum(1)).std())
            raise Wrong(
                f"with `scale` = {sv:.4g} the scores have standard deviation about "
                f"{sd:.3g}, not 1; what is the variance of a sum of d independent "
                f"products?"
            )
        return f"{sv:.4g}: 1/sqrt(d), since q.k has variance d (exactly {exact:.4g})."

    run_check("the 1/sqrt(d) factor", body)
