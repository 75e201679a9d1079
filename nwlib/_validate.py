"""Input validation shared by every nwlib module.

Each helper raises ``TypeError`` or ``ValueError`` with a message that names the
argument and says what was expected, in the spirit of scikit-learn's
``check_array``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

ArrayLike = Any  # numpy array, torch tensor, list of numbers or a Python number


#: Half-precision dtypes: accepted, computed in float32 (see :func:`compute_dtype`).
HALF_DTYPES = (torch.float16, torch.bfloat16)


def as_float_tensor(
    x: ArrayLike,
    name: str,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    allow_empty: bool = False,
    finite: bool = True,
) -> torch.Tensor:
    """Convert ``x`` to a floating torch tensor; check type, emptiness and finiteness.

    Torch tensors keep their graph (autograd flows through), their device and
    their floating dtype. numpy arrays (writable or not: a read-only array, such
    as pandas hands out under copy-on-write or a memory map gives, is copied so
    that torch has nothing to warn about), pandas Series and DataFrames, lists
    and Python numbers become tensors of their numpy dtype. Integer and boolean
    inputs become float64, as in numpy and scikit-learn: float32 would round
    integers above 2**24 (Unix time stamps in seconds, for example). Strings,
    objects and complex numbers are refused.
    """
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} must be an array of numbers: {exc}") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"{name} must be an array of real numbers, got dtype {arr.dtype}"
            )
        if arr.dtype.kind in "biu":
            arr = arr.astype(np.float64)  # a new, writable array
        elif (
            not arr.flags.writeable
            or not arr.flags.c_contiguous
            or not arr.dtype.isnative
        ):
            arr = np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C", copy=True)
        t = torch.from_numpy(arr)
    if t.is_complex():
        raise TypeError(f"{name} must be real, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.float64)
    if dtype is not None or device is not None:
        t = t.to(
            dtype=dtype or t.dtype, device=device if device is not None else t.device
        )
    if not allow_empty and t.numel() == 0:
        raise ValueError(f"{name} is empty: at least one element is needed")
    if finite and not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf; every entry must be finite")
    return t


def compute_dtype(*dtypes: torch.dtype | torch.Tensor) -> torch.dtype:
    """The dtype nwlib computes in for inputs of these dtypes (tensors or dtypes).

    The promotion of the inputs' dtypes (float64 wins; integers were already made
    float64 by :func:`as_float_tensor`), except that float16 and bfloat16 are
    computed in float32: with 11 and 8 significant bits they cannot hold squared
    distances, log-weights or sums over many keys (bfloat16 rounds 300.0 to 300
    but 301.0 to 302). Nothing is ever computed in less precision than it was given.
    """
    dt = None
    for x in dtypes:
        d = x.dtype if isinstance(x, torch.Tensor) else x
        dt = d if dt is None else torch.promote_types(dt, d)
    if dt is None or not dt.is_floating_point:
        return torch.float64
    return torch.float32 if dt in HALF_DTYPES else dt


def precision(dtype: torch.dtype) -> float:
    """Machine epsilon of a floating dtype (a smaller number means more precision)."""
    return torch.finfo(dtype).eps


def as_points(x: ArrayLike, name: str, **kw: Any) -> torch.Tensor:
    """Points as a (n, d) tensor: a 1-D input of length n becomes (n, 1)."""
    t = as_float_tensor(x, name, **kw)
    if t.ndim == 0:
        t = t.reshape(1, 1)
    elif t.ndim == 1:
        t = t.unsqueeze(1)
    elif t.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n,) or (n, d), got shape {tuple(t.shape)}"
        )
    return t


def common_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The dtype to compute in for these tensors: :func:`compute_dtype` of theirs."""
    return compute_dtype(*tensors)


def same_device(**tensors: torch.Tensor) -> torch.device:
    """Check that every tensor lives on one device and return it."""
    devices = {name: t.device for name, t in tensors.items()}
    if len(set(devices.values())) > 1:
        listed = ", ".join(f"{n} on {d}" for n, d in devices.items())
        raise ValueError(f"inputs must be on one device, got {listed}")
    return next(iter(devices.values()))


def as_width(width: ArrayLike, name: str = "width") -> torch.Tensor:
    """A strictly positive, finite width (tensor; graph kept for autograd)."""
    if isinstance(width, bool):
        raise TypeError(f"{name} must be a positive number or array, got bool")
    if isinstance(width, numbers.Number) and not isinstance(width, numbers.Real):
        raise TypeError(f"{name} must be real, got {type(width).__name__}")
    w = as_float_tensor(width, name)
    if (w <= 0).any():
        bad = float(w.detach().min())
        raise ValueError(f"{name} must be > 0 everywhere, got a value of {bad:g}")
    return w


def as_real(value: object, name: str, low: float = 0.0) -> float:
    """A finite real number (numpy scalars included) > ``low``, as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (np.isfinite(value) and value > low):
        raise ValueError(f"{name} must be a finite number > {low:g}, got {value!r}")
    return float(value)


def as_count(value: object, name: str, low: int) -> int:
    """An int (numpy integers included) >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)
