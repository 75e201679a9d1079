"""Class labels for the Parzen and NW classifiers, compared exactly (private).

Floating labels are compared in their own dtype, integers as float64 when float64
holds them exactly (magnitudes up to 2**53) and as integers beyond, so 2**53 and
2**53 + 1 stay two classes. Used by :mod:`nwlib.parzen_classifier` and
:mod:`nwlib.nw_classifier`; the public :func:`class_labels` is re-exported there
and from :mod:`nwlib.parzen`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._validate import ArrayLike, as_float_tensor

Tensor = torch.Tensor

__all__ = ["class_labels"]


def as_labels(labels: ArrayLike, n: int, name: str = "labels") -> Tensor:
    y = as_float_tensor(labels, name)
    if y.ndim == 2 and y.shape[1] == 1:  # a column (a one-column DataFrame, say)
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{name} must have shape (n,), one label per point, "
            f"got shape {tuple(y.shape)}"
        )
    if y.shape[0] != n:
        raise ValueError(
            f"{name} must have one entry per data point: "
            f"got {y.shape[0]} for {n} points"
        )
    return y


def binary_labels(y: ArrayLike, n: int, name: str = "labels") -> Tensor:
    t = as_labels(y, n, name)
    if not ((t == 1) | (t == -1)).all():
        bad = sorted({float(v) for v in t[(t != 1) & (t != -1)].unique()[:5]})
        raise ValueError(f"{name} must contain only the labels -1 and +1, found {bad}")
    return t


EXACT = 2**53  # float64 holds every integer of magnitude up to this, exactly


def int_array(x: ArrayLike) -> np.ndarray | None:
    """``x`` as a numpy integer array when it is integer-valued input (else None)."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
            return None
        return x.detach().cpu().numpy()
    if isinstance(x, (str, bytes)) or x is None:
        return None
    try:
        arr = np.asarray(x)
    except Exception:
        return None
    return arr if arr.dtype.kind in "iu" else None


def beyond_float64(arr: np.ndarray | None) -> bool:
    """True for integers that float64 would round (some magnitude above 2**53)."""
    if arr is None or arr.size == 0:
        return False
    return int(arr.max()) > EXACT or int(arr.min()) < -EXACT


def exact_classes(
    labels: ArrayLike, n: int, classes: ArrayLike | None, device: torch.device
) -> tuple[Tensor, Tensor] | None:
    """Membership (C, n) and the classes as an exact integer tensor, for integer labels
    (or classes) beyond 2**53; None when float64 holds every label exactly.

    Labels are compared as integers (never through a float), so 2**53 and 2**53 + 1
    stay two classes; the classes come back as int64 (uint64 above 2**63 - 1).
    """
    y = int_array(labels)
    c = None if classes is None else int_array(classes)
    if not (beyond_float64(y) or beyond_float64(c)):
        return None
    if y is None:
        raise TypeError(
            "labels must be integers when classes holds integers beyond 2**53 "
            "(float64 cannot tell such labels apart)"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"labels must have shape (n,), one label per point, got shape {y.shape}"
        )
    if y.shape[0] != n:
        raise ValueError(
            f"labels must have one entry per data point: "
            f"got {y.shape[0]} for {n} points"
        )
    if classes is None:
        cls = np.unique(y)
    else:
        if c is None:
            raise TypeError(
                "classes must be integers when labels holds integers beyond 2**53 "
                "(float64 cannot tell such labels apart)"
            )
        cls = c.reshape(-1)
        if np.unique(cls).size != cls.size:
            raise ValueError("classes must not repeat a label")
    # exact comparison whatever the integer dtypes: as Python ints where they differ
    if y.dtype != cls.dtype:
        y, cls = y.astype(object), cls.astype(object)
    member = torch.from_numpy(np.ascontiguousarray(y[None, :] == cls[:, None])).to(
        device
    )
    return member, int_tensor(cls).to(device)


def int_tensor(cls: np.ndarray) -> Tensor:
    """Integer classes as an exact torch tensor: int64, or uint64 above 2**63 - 1."""
    if cls.size and int(cls.max()) > np.iinfo(np.int64).max:
        if int(cls.min()) < 0:
            raise ValueError(
                "labels mix negative integers with integers above 2**63 - 1: "
                "no integer dtype holds both"
            )
        return torch.from_numpy(np.ascontiguousarray(cls.astype(np.uint64)))
    return torch.from_numpy(np.ascontiguousarray(cls.astype(np.int64)))


def class_members(
    labels: ArrayLike, n: int, classes: ArrayLike | None, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Membership matrix (C, n) of the labels in the classes, and the classes (C,).

    Labels that float64 holds exactly (floating labels; integers up to 2**53) are
    compared in their own floating dtype (integers as float64); larger integers
    exactly as integers (see :func:`exact_classes`).
    """
    exact = exact_classes(labels, n, classes, device)
    if exact is not None:
        return exact
    y = as_labels(labels, n).to(device)
    cls = classes_of(y, classes)
    return y.unsqueeze(0) == cls.unsqueeze(1), cls


def class_labels(labels: ArrayLike) -> Tensor:
    r"""The distinct labels in increasing order: the column order of the classifiers.

    Parameters
    ----------
    labels : Tensor or array_like, any shape
        Class labels (numbers; flattened).

    Returns
    -------
    Tensor, shape (C,)
        Floating labels in their own dtype; integer labels as float64 when float64
        holds them exactly (magnitudes up to 2**53), else as exact int64 (uint64
        above 2**63 - 1), so that 2**53 and 2**53 + 1 stay two classes.

    Raises
    ------
    TypeError
        For non-numeric labels.
    ValueError
        For NaN/inf or empty labels.

    Examples
    --------
    >>> class_labels([2, 0, 2]).tolist()
    [0.0, 2.0]
    >>> class_labels([2**53, 2**53 + 1]).tolist()
    [9007199254740992, 9007199254740993]
    """
    y = int_array(labels)
    if beyond_float64(y):
        return int_tensor(np.unique(y.reshape(-1)))
    return torch.unique(as_float_tensor(labels, "labels").reshape(-1))


def classes_of(labels: Tensor, classes: ArrayLike | None) -> Tensor:
    if classes is None:
        return torch.unique(labels)
    c = as_float_tensor(classes, "classes").reshape(-1).to(labels.dtype)
    if torch.unique(c).numel() != c.numel():
        raise ValueError("classes must not repeat a label")
    return c


def argmax_labels(scores: Tensor, cls: Tensor, undefined: Tensor) -> Tensor:
    """The label of each row's largest score, exact; NaN where undefined."""
    scores = torch.where(scores.isnan(), -math.inf, scores)
    pred = cls[scores.argmax(dim=1)]
    if not cls.is_floating_point():
        if bool(undefined.any()):
            raise ValueError(
                f"{int(undefined.sum())} of {undefined.numel()} points have no "
                f"decision (no training point inside the kernel's support), and "
                f"labels beyond 2**53 are returned as exact integers, which have no "
                f"NaN to mark them: use a wider "
                f"width or the 'gaussian' kernel"
            )
        return pred
    return pred.masked_fill(undefined, torch.nan)
