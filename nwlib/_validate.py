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


def as_float_tensor(x: ArrayLike, name: str, *, dtype: torch.dtype | None = None,
                    device: torch.device | str | None = None,
                    allow_empty: bool = False) -> torch.Tensor:
    """Convert ``x`` to a floating torch tensor, checking type, emptiness and finiteness.

    Torch tensors keep their graph (autograd flows through) and their device;
    numpy arrays and lists become tensors. Integer and boolean inputs become
    floating; strings, objects and complex numbers are refused.
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
            raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.is_complex():
        raise TypeError(f"{name} must be real, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    if dtype is not None or device is not None:
        t = t.to(dtype=dtype or t.dtype, device=device if device is not None else t.device)
    if not allow_empty and t.numel() == 0:
        raise ValueError(f"{name} is empty: at least one element is needed")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf; every entry must be finite")
    return t


def as_points(x: ArrayLike, name: str, **kw: Any) -> torch.Tensor:
    """Points as a (n, d) tensor: a 1-D input of length n becomes (n, 1)."""
    t = as_float_tensor(x, name, **kw)
    if t.ndim == 0:
        t = t.reshape(1, 1)
    elif t.ndim == 1:
        t = t.unsqueeze(1)
    elif t.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, d), got shape {tuple(t.shape)}")
    return t


def common_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The floating dtype that holds every input without loss (float64 wins)."""
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = torch.promote_types(dt, t.dtype)
    return dt


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
