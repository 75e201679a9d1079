r"""The running example: seeded synthetic data for every chapter.

:math:`y = f(x) + \varepsilon` with :math:`x \sim U[0, 5]` and
:math:`\varepsilon \sim N(0, \sigma^2)`, where

* ``"linear"`` (default): :math:`f(x) = 2\sin x + x`,
* ``"power"``: :math:`f(x) = 2\sin x + x^{0.8}` (the variant with
  :math:`\sigma = 0.5`, :math:`n = 50` of the d2l chapter).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from ._validate import as_float_tensor

Tensor = torch.Tensor

__all__ = ["true_function", "Split", "running_example", "VARIANTS"]

VARIANTS = ("linear", "power")


def true_function(x: Tensor, variant: str = "linear") -> Tensor:
    """The noise-free regression function of the running example, elementwise.

    Dtype: the input's floating dtype; integers and Python numbers as float64.
    """
    x = as_float_tensor(x, "x", allow_empty=True)  # integers as float64; no copy of a tensor
    if variant == "linear":
        return 2 * torch.sin(x) + x
    if variant == "power":
        return 2 * torch.sin(x) + x.clamp(min=0) ** 0.8
    raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")


class Split(NamedTuple):
    """Training and validation data, 1-D tensors; training inputs sorted."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor


def running_example(n_train: int = 50, n_val: int = 50, *, noise: float = 0.5,
                    variant: str = "linear", seed: int = 0,
                    dtype: torch.dtype = torch.float64) -> Split:
    r"""Draw the running example with its own seeded generator.

    Parameters
    ----------
    n_train, n_val : int
        Sizes of the training and validation sets (``n_train >= 1``, ``n_val >= 0``).
    noise : float
        Standard deviation :math:`\sigma \ge 0` of the Gaussian noise.
    variant : {"linear", "power"}
        Which :func:`true_function`.
    seed : int
        Seed of a private ``torch.Generator``: the same ``(n_train, n_val, noise,
        variant, seed)`` always gives the same data, and the global random state
        is left alone. The two sets are drawn jointly, so changing ``n_val`` also
        changes the training draw; fix both sizes when comparing experiments.

    Returns
    -------
    Split
        ``x_train`` (n_train,) sorted, ``y_train`` (n_train,), ``x_val`` (n_val,) sorted,
        ``y_val`` (n_val,).
    """
    for name, val, low in (("n_train", n_train, 1), ("n_val", n_val, 0)):
        if isinstance(val, bool) or not isinstance(val, int):
            raise TypeError(f"{name} must be an int, got {type(val).__name__}")
        if val < low:
            raise ValueError(f"{name} must be >= {low}, got {val}")
    if not (noise >= 0) or noise == float("inf"):
        raise ValueError(f"noise must be a finite number >= 0, got {noise}")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    g = torch.Generator().manual_seed(seed)
    x = 5 * torch.rand(n_train + n_val, generator=g, dtype=dtype)
    y = true_function(x, variant) + noise * torch.randn(n_train + n_val, generator=g, dtype=dtype)
    xt, yt, xv, yv = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    it, iv = torch.argsort(xt), torch.argsort(xv)
    return Split(xt[it], yt[it], xv[iv], yv[iv])
