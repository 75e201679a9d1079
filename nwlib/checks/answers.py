"""Reading a learner's answer: a number, a bool, an array.

Each helper returns the answer in a form a check can compare (a float, a bool, a
float64 numpy array, the function's result) or raises
:class:`~nwlib.checks.verdicts.NotDone` (still the placeholder) or
:class:`~nwlib.checks.verdicts.Wrong` (with the words to fix it), naming the
learner's own variable.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
import torch

from .verdicts import NotDone, Wrong, describe, is_stub, pair

__all__ = ["as_array", "boolean", "close", "number"]


def as_array(
    answer: Any, what: str, shape: tuple[int, ...] | None = None, *, kind: str = "any"
) -> np.ndarray:
    """Turn an answer into a float64 numpy array, or raise ``NotDone``/``Wrong``.

    ``what`` names the learner's variable or call (``"`weights(q, k, 0.3)`"``).
    ``kind`` is what the prompt asks for: ``"tensor"`` (a ``torch.Tensor``),
    ``"array"`` (a tensor or a numpy array, not a list) or ``"any"`` (anything
    numpy can read as numbers).

    Parameters
    ----------
    answer : object
        The learner's answer.
    what : str
        How messages name it.
    shape : tuple of int, optional
        The shape it must have.
    kind : {"any", "array", "tensor"}, default "any"
        What the prompt asks for.

    Returns
    -------
    numpy.ndarray
        float64 (bool for a bool tensor), finite, of ``shape`` when given.

    Raises
    ------
    NotDone
        When ``answer`` is a placeholder (``None``, ``...``).
    Wrong
        When it is of the wrong kind, not numbers, complex, of another shape,
        or holds NaN or inf.

    Examples
    --------
    >>> from nwlib.checks import run_check
    >>> import torch
    >>> as_array(torch.tensor([1, 2]), "`w`", (2,), kind="tensor")
    array([1., 2.])
    >>> _ = run_check("weights", lambda: as_array([0.5, 0.5], "`w`", kind="tensor"))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: weights. `w` should be a torch tensor, got a list of 2 items: build
    it with torch operations (torch.stack joins a list of tensors)
    """
    if is_stub(answer):
        raise NotDone(
            f"{what} is still {describe(answer)}: replace it with your answer"
        )
    want = {"tensor": "a torch tensor", "array": "a tensor (or numpy array)"}.get(kind)
    shape_txt = f" of shape {tuple(shape)}" if shape is not None else ""
    if kind == "tensor" and not isinstance(answer, torch.Tensor):
        raise Wrong(
            f"{what} should be {want}{shape_txt}, got {describe(answer)}"
            + (
                ": build it with torch operations (torch.stack joins a list of tensors)"
                if isinstance(answer, (list, tuple, np.ndarray))
                else ""
            )
        )
    if kind == "array" and not isinstance(answer, (torch.Tensor, np.ndarray)):
        raise Wrong(
            f"{what} should be {want}{shape_txt}, got {describe(answer)}"
            + (
                ": torch.stack or torch.tensor turns a list into a tensor"
                if isinstance(answer, (list, tuple))
                else ""
            )
        )
    if isinstance(answer, torch.Tensor):
        if answer.is_complex():
            raise Wrong(f"{what} should hold real numbers, got a complex tensor")
        arr = (
            answer.detach().cpu().to(torch.float64).numpy()
            if answer.dtype != torch.bool
            else answer.detach().cpu().numpy()
        )
    elif isinstance(answer, (str, bytes)):
        raise Wrong(f"{what} should hold numbers, got {describe(answer)}")
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.asarray(answer)
        except Exception:
            raise Wrong(
                f"{what} should be an array of numbers, got {describe(answer)}"
            ) from None
    if arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "O" and arr.ndim == 0:  # one object that is not a number
            raise Wrong(f"{what} should hold numbers, got {describe(answer)}")
        raise Wrong(
            f"{what} should be an array of numbers, got {describe(answer)}"
            f" with dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64)
    if shape is not None and arr.shape != tuple(shape):
        raise Wrong(f"{what} should have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise Wrong(f"{what} contains NaN or inf ({bad} of {arr.size} entries)")
    return arr


def close(
    answer: Any,
    expected: Any,
    what: str,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    kind: str = "any",
) -> np.ndarray:
    """Check ``answer`` against ``expected`` (same shape, close values) or raise.

    Parameters
    ----------
    answer : object
        The learner's answer (read by :func:`as_array` with ``kind``).
    expected : array-like or torch.Tensor
        The right values; their shape is the shape required.
    what : str
        How messages name the answer.
    rtol, atol : float
        Tolerances of ``numpy.allclose``.
    kind : {"any", "array", "tensor"}, default "any"
        What the prompt asks for.

    Returns
    -------
    numpy.ndarray
        The answer as float64.

    Raises
    ------
    NotDone, Wrong
        As :func:`as_array`; ``Wrong`` also when a value is off, naming the
        largest error, where it is, and both numbers.

    Examples
    --------
    >>> from nwlib.checks import run_check
    >>> close([1.0, 2.0], [1.0, 2.0], "`y`")
    array([1., 2.])
    >>> _ = run_check("values", lambda: close([1.0, 2.5], [1.0, 2.0], "`y`"))
    Not quite: values. `y` is off by up to 0.5 at index (1,): expected 2, got 2.5
    """
    exp = np.asarray(
        expected.detach().cpu() if isinstance(expected, torch.Tensor) else expected,
        dtype=np.float64,
    )
    arr = as_array(answer, what, exp.shape, kind=kind)
    if not np.allclose(arr, exp, rtol=rtol, atol=atol):
        err = np.max(np.abs(arr - exp))
        i = (
            np.unravel_index(np.argmax(np.abs(arr - exp)), exp.shape)
            if exp.ndim
            else ()
        )
        where = f" at index {tuple(int(j) for j in i)}" if exp.ndim else ""
        want, got = pair(float(exp[i]), float(arr[i]))
        raise Wrong(
            f"{what} is off by up to {err:.3g}{where}: expected {want}, got {got}"
        )
    return arr


def number(answer: Any, what: str, *, kind: str = "number") -> float:
    """A single finite real number, or raise ``NotDone``/``Wrong``.

    ``kind="number"`` takes a Python or numpy number or a one-element tensor or
    array; ``kind="float"`` (the prompt says "as a float") takes a Python or numpy
    number only and refuses a tensor; ``kind="int"`` wants a whole number
    (Python or numpy integer, or an integer-valued number).

    Parameters
    ----------
    answer : object
        The learner's answer.
    what : str
        How messages name it.
    kind : {"number", "float", "int"}, default "number"
        What the prompt asks for.

    Returns
    -------
    float

    Raises
    ------
    NotDone
        When ``answer`` is a placeholder.
    Wrong
        When it is not one finite number of the kind asked for.

    Examples
    --------
    >>> from nwlib.checks import run_check
    >>> import torch
    >>> number(torch.tensor(0.5), "`h`")
    0.5
    >>> _ = run_check("width", lambda: number(torch.tensor(0.5), "`h`", kind="float"))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: width. `h` should be a Python float, got a 0-d tensor (torch.float32):
    convert it with float(...) or .item()
    """
    if is_stub(answer):
        raise NotDone(
            f"{what} is still {describe(answer)}: replace it with your answer"
        )
    if isinstance(answer, (bool, np.bool_)):
        raise Wrong(f"{what} should be a number, got {describe(answer)}")
    if kind in ("float", "int") and not isinstance(answer, numbers.Real):
        want = "a Python float" if kind == "float" else "a whole number (an int)"
        hint = (
            ": convert it with float(...) or .item()"
            if kind == "float"
            else ": convert it with int(...)"
        )
        if (
            isinstance(answer, (torch.Tensor, np.ndarray))
            and np.prod(np.shape(answer)) == 1
        ):
            raise Wrong(f"{what} should be {want}, got {describe(answer)}{hint}")
        raise Wrong(f"{what} should be {want}, got {describe(answer)}")
    if not isinstance(
        answer,
        (numbers.Number, torch.Tensor, np.ndarray, list, tuple, dict, set, str, bytes),
    ):
        raise Wrong(f"{what} should be a single number, got {describe(answer)}")
    if isinstance(answer, (list, tuple, dict, set)):
        raise Wrong(f"{what} should be a single number, got {describe(answer)}")
    arr = as_array(answer, what)
    if arr.size != 1:
        raise Wrong(f"{what} should be a single number, got {describe(answer)}")
    x = float(arr.reshape(()))
    if not math.isfinite(x):
        raise Wrong(f"{what} should be a finite number, got {x}")
    if kind == "int" and x != int(x):
        raise Wrong(f"{what} should be a whole number, got {x:g}")
    return x


def boolean(answer: Any, what: str) -> bool:
    """``True`` or ``False`` (Python or numpy bool), or raise ``NotDone``/``Wrong``.

    Parameters
    ----------
    answer : object
        The learner's answer.
    what : str
        How messages name it.

    Returns
    -------
    bool

    Raises
    ------
    NotDone
        When ``answer`` is a placeholder.
    Wrong
        When it is anything but a Python or numpy bool.

    Examples
    --------
    >>> from nwlib.checks import run_check
    >>> import numpy as np
    >>> boolean(np.bool_(True), "`ok`")
    True
    >>> _ = run_check("flag", lambda: boolean("yes", "`ok`"))
    Not quite: flag. `ok` should be True or False, got the text 'yes'
    """
    if is_stub(answer):
        raise NotDone(f"{what} is still {describe(answer)}: set it to True or False")
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    hint = (
        ": convert it with bool(...) or .item()"
        if isinstance(answer, (torch.Tensor, np.ndarray))
        and np.prod(np.shape(answer)) == 1
        else ""
    )
    raise Wrong(f"{what} should be True or False, got {describe(answer)}{hint}")
