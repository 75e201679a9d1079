"""Self-checks for the exercises of chapter 5, The unit sphere and dot-product attention."""

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

_GEN = torch.Generator().manual_seed(55)
_X = torch.randn(6, 3, generator=_GEN, dtype=torch.float64)
_XB = torch.randn(2, 4, 3, generator=_GEN, dtype=torch.float64)
_Q = torch.randn(5, 4, generator=_GEN, dtype=torch.float64)
_K = torch.randn(7, 4, generator=_GEN, dtype=torch.float64)
_H_EX3 = 0.4


def project(fn: Any) -> None:
    """Exercise 1: ``project(x)`` puts every vector along the last axis on the unit sphere
    (a tensor or numpy array of x's shape)."""

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
    """Exercise 2: ``dot_attention(q, k, t)`` returns softmax(q k^T / t), shape (n_q, n_k)
    (a tensor or numpy array)."""

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
    """Exercise 3: the number ``t``, the temperature reproducing Gaussian weights of width 0.4
    on the sphere."""

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
        return f"t = {tv:.4g}: the squared width, so the weights agree (to {max(gap, 1e-16):.1g})."

    run_check("width as temperature", body)


def key_bias(fn: Any) -> None:
    """Exercise 4: ``key_bias(keys, h)`` returns the (n_k,) per-key bias (a tensor or numpy
    array) that restores Gaussian weights."""

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
    """Exercise 5: the number ``scale``, the positive factor giving ``scale * q.k``
    unit standard deviation in d = 256."""

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
