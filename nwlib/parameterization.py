r"""How a positive width is written as an unconstrained, trainable parameter.

=====================  ============================  ==================================
parameterization       width                         kernel it writes (Gaussian)
=====================  ============================  ==================================
``"log"``              :math:`h = e^{s}`             :math:`\exp(-(q-k)^2 / (2e^{2s}))`
``"inverse"``          :math:`h = 1/|w|`             :math:`\exp(-((q-k)w)^2/2)`
``"inverse_squared"``  :math:`h = 1/\sqrt{v}`        :math:`\exp(-v(q-k)^2/2)`
=====================  ============================  ==================================

All three describe the same family of kernels; they differ in where gradient
descent starts and how fast it moves the width. Only ``"log"`` keeps every value
of the parameter valid: ``w = 0`` is an infinitely wide kernel (and the sign of
``w`` cannot be identified), and ``v <= 0`` is no kernel at all.
:class:`nwlib.learn.LearnedWidthNW` trains the parameter.
"""

from __future__ import annotations

import torch

from ._validate import ArrayLike, as_float_tensor

Tensor = torch.Tensor

__all__ = ["PARAMETERIZATIONS", "raw_to_width", "width_to_raw"]

#: The names of the parameterizations, in the order of the table above.
PARAMETERIZATIONS = ("log", "inverse", "inverse_squared")


def _as_tensor(x: ArrayLike, name: str) -> Tensor:
    """A tensor as is (graph kept); arrays, lists and numbers as float tensors."""
    if isinstance(x, torch.Tensor):
        return x if x.is_floating_point() else x.to(torch.float64)
    if isinstance(x, bool):
        raise TypeError(f"{name} must be a number or array of numbers, got bool")
    return as_float_tensor(x, name, finite=False)


def raw_to_width(raw: ArrayLike, parameterization: str = "log") -> Tensor:
    r"""The width :math:`h` from the trainable parameter (differentiable).

    ``"log"``: :math:`h = e^s`; ``"inverse"``: :math:`h = 1/|w|`;
    ``"inverse_squared"``: :math:`h = 1/\sqrt{v}` (NaN for :math:`v < 0`). Invalid
    parameters give invalid widths (NaN, 0 or inf) rather than an error, so that
    training can detect them (:class:`~nwlib.learn.DivergenceError`).

    Parameters
    ----------
    raw : float or array_like or Tensor, any shape
        The parameter. A tensor keeps its graph and floating dtype; a numpy array,
        a list or a Python number becomes float64.
    parameterization : {"log", "inverse", "inverse_squared"}, default "log"
        How the width is written.

    Returns
    -------
    Tensor, the shape of ``raw``
        The width, in the units of the data; the dtype of ``raw``.

    Raises
    ------
    ValueError
        For an unknown ``parameterization``.
    TypeError
        For a bool or non-numeric ``raw``.

    Examples
    --------
    >>> float(raw_to_width(0.0))
    1.0
    >>> float(raw_to_width(4.0, "inverse_squared"))
    0.5
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"parameterization must be one of {PARAMETERIZATIONS}, "
            f"got {parameterization!r}"
        )
    raw = _as_tensor(raw, "raw")
    if parameterization == "log":
        return raw.exp()
    if parameterization == "inverse":
        return raw.abs().reciprocal()
    return raw.rsqrt()


def width_to_raw(
    width: ArrayLike, parameterization: str = "log", *, dtype: torch.dtype | None = None
) -> Tensor:
    r"""The trainable parameter of a width :math:`h > 0`: the inverse of raw_to_width.

    Parameters
    ----------
    width : float or array_like or Tensor, any shape
        Width(s) :math:`h > 0`, in the units of the data. A tensor keeps its graph;
        a numpy array, a list or a Python number becomes float64.
    parameterization : {"log", "inverse", "inverse_squared"}, default "log"
        How the width is written.
    dtype : torch.dtype, optional
        Cast the width to this dtype first (default: its own floating dtype).

    Returns
    -------
    Tensor, the shape of ``width``
        :math:`\log h`, :math:`1/h` or :math:`h^{-2}`, in the (cast) width's dtype.

    Raises
    ------
    ValueError
        Naming ``width``: an entry that is not finite and > 0, or one that the
        parameterization cannot hold in the dtype: the width rounds to 0 or inf
        there, or its parameter does (``"inverse_squared"`` holds
        :math:`v = h^{-2}`, which overflows for :math:`h` below about 1e-19 in
        float32 and 1e-154 in float64, and underflows above the reciprocals).
        ``"log"`` holds every positive normal width of the dtype. Also for an
        unknown ``parameterization``.
    TypeError
        For a bool or non-numeric ``width``.

    Examples
    --------
    >>> float(width_to_raw(1.0))
    0.0
    >>> float(width_to_raw(0.5, "inverse_squared"))
    4.0
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"parameterization must be one of {PARAMETERIZATIONS}, "
            f"got {parameterization!r}"
        )
    h = _as_tensor(width, "width")
    hd = h.detach()
    if not bool(torch.isfinite(hd).all()) or bool((hd <= 0).any()):
        bad = hd[~torch.isfinite(hd) | (hd <= 0)].reshape(-1)[0]
        raise ValueError(
            f"width must be finite and > 0 everywhere, got a value of {float(bad):g}"
        )
    if dtype is not None and h.dtype != dtype:
        low = h.to(dtype)
        bad = ~torch.isfinite(low.detach()) | (low.detach() <= 0)
        if bool(bad.any()):
            w = float(hd[bad].reshape(-1)[0])
            raise ValueError(
                f"width = {w:g} is not representable in {dtype}: it rounds to "
                f"{float(low.detach()[bad].reshape(-1)[0]):g}; rescale the data "
                f"(NW is scale equivariant) or compute in float64"
            )
        h = low
    if parameterization == "log":
        raw = h.log()
    elif parameterization == "inverse":
        raw = h.reciprocal()
    else:
        raw = h.pow(-2)
    back = raw_to_width(raw.detach(), parameterization)
    bad = ~torch.isfinite(raw.detach()) | ~torch.isfinite(back) | (back <= 0)
    if bool(bad.any()):
        w = float(h.detach()[bad].reshape(-1)[0])
        raise ValueError(
            f"width = {w:g} cannot be held by the {parameterization!r} "
            f"parameterization in {h.dtype}: its parameter is "
            f"{float(raw.detach()[bad].reshape(-1)[0]):g}. Use parameterization='log' "
            f"or rescale the data (NW is scale equivariant)"
        )
    return raw
