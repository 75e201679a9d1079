r"""The running example: seeded synthetic data for every chapter.

:math:`y = f(x) + \varepsilon` with :math:`x \sim U[0, 5]` and
:math:`\varepsilon \sim N(0, \sigma^2)`, where

* ``"linear"`` (default): :math:`f(x) = 2\sin x + x`,
* ``"power"``: :math:`f(x) = 2\sin x + x^{0.8}`, the function of the earlier
  edition of *Dive into Deep Learning*, section "Attention Pooling: Nadaraya-Watson
  Kernel Regression" (source ``chapter_attention-mechanisms/nadaraya-waston.md`` in
  d2l-ai/d2l-en, references.bib ``zhang2021d2l``), which uses :math:`\sigma = 0.5` and
  50 training and 50 test pairs. The 2023 edition's section 11.2, "Attention Pooling by
  Similarity" (``zhang2023d2l``), uses :math:`2\sin x + x` with 40 pairs and noise of
  standard deviation 1 instead.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import torch

from ._validate import as_float_tensor

Tensor = torch.Tensor

__all__ = ["true_function", "Split", "running_example", "VARIANTS"]

VARIANTS = ("linear", "power")


def true_function(x: Tensor, variant: str = "linear") -> Tensor:
    """The noise-free regression function of the running example, elementwise.

    Parameters
    ----------
    x : Tensor or array_like, any shape
        Inputs (unitless). Floating input keeps its dtype (a tensor is not copied);
        integers and Python numbers are computed in float64.
    variant : {"linear", "power"}, default "linear"
        :math:`2\\sin x + x` (Zhang et al. 2023) or :math:`2\\sin x + x^{0.8}`
        (Zhang et al. 2021; :math:`x^{0.8}` of negative ``x`` is taken as 0).

    Returns
    -------
    Tensor
        :math:`f(x)`, the shape and dtype of ``x``.

    Raises
    ------
    ValueError
        For an unknown ``variant``, or NaN/inf in ``x``.
    TypeError
        For non-numeric ``x``.

    References
    ----------
    zhang2023d2l (section 11.2), zhang2021d2l (Nadaraya-Watson kernel regression).

    Examples
    --------
    >>> print(", ".join(f"{v:.4f}" for v in true_function([0, 1, 2]).tolist()))
    0.0000, 2.6829, 3.8186
    """
    x = as_float_tensor(
        x, "x", allow_empty=True
    )  # integers as float64; no copy of a tensor
    if variant == "linear":
        return 2 * torch.sin(x) + x
    if variant == "power":
        return 2 * torch.sin(x) + x.clamp(min=0) ** 0.8
    raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")


class Split(NamedTuple):
    """Training and validation data of :func:`running_example`, 1-D tensors.

    Parameters
    ----------
    x_train : Tensor, shape (n_train,)
        Training inputs (the keys), sorted.
    y_train : Tensor, shape (n_train,)
        Training outputs (the values).
    x_val : Tensor, shape (n_val,)
        Validation inputs, sorted.
    y_val : Tensor, shape (n_val,)
        Validation outputs.

    Examples
    --------
    >>> split = running_example(3, 2)
    >>> [tuple(t.shape) for t in split]
    [(3,), (3,), (2,), (2,)]
    """

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor


def running_example(
    n_train: int = 50,
    n_val: int = 50,
    *,
    noise: float = 0.5,
    variant: str = "linear",
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> Split:
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
        is left alone. The two sets are drawn jointly: all ``n_train + n_val``
        inputs first, then all the noise. The training inputs therefore depend only
        on ``(n_train, seed)``, but the training *outputs* change with ``n_val``
        (their noise is drawn after all the inputs). Fix both sizes when comparing
        experiments. The chapters use
        ``(50, 50, seed=0)`` (chapters 2 and 5), ``(50, 1000, seed=0)`` (chapter 3
        and the learners' questions: same inputs as chapter 2, other noise, so its
        widths and errors are not chapter 2's), ``(100, 2000, seed=1)`` (chapter 4)
        and ``n_val = 0`` draws for the size studies (chapter 4, the appendix);
        each solution notebook names its draws in its first cells. This is kept, not
        changed, because the book's stored numbers are computed on these draws.

    dtype : torch.dtype, default torch.float64
        Dtype of the four tensors (the draws are made in it).

    Returns
    -------
    Split
        ``x_train`` (n_train,) sorted, ``y_train`` (n_train,), ``x_val`` (n_val,)
        sorted, ``y_val`` (n_val,).

    Raises
    ------
    TypeError
        If ``n_train``, ``n_val`` or ``seed`` is not an int.
    ValueError
        If ``n_train < 1``, ``n_val < 0``, ``noise`` is negative, NaN or inf, or
        ``variant`` is unknown.

    References
    ----------
    zhang2023d2l, section 11.2 (:math:`2\sin x + x`, noise sd 1, 40 pairs);
    zhang2021d2l (:math:`2\sin x + x^{0.8}`, noise sd 0.5, 50 and 50 pairs).

    Examples
    --------
    >>> split = running_example(50, 50, seed=0)
    >>> print(f"{split.x_train[0]:.4f} {split.y_train.mean():.4f}")
    0.2053 3.0615
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
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    g = torch.Generator().manual_seed(int(seed))
    x = 5 * torch.rand(n_train + n_val, generator=g, dtype=dtype)
    y = true_function(x, variant) + noise * torch.randn(
        n_train + n_val, generator=g, dtype=dtype
    )
    xt, yt, xv, yv = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    it, iv = torch.argsort(xt), torch.argsort(xv)
    return Split(xt[it], yt[it], xv[iv], yv[iv])
