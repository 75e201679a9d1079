"""Helpers for the exercise notebooks: the "Explore" part and showing answers.

An Explore cell draws a figure from the learner's own functions. While an
exercise is still a stub (or raises), :func:`attempt` prints one plain
sentence instead of a traceback, so Run All on an untouched notebook stays
clean and the figure appears once the function is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["as_number", "attempt", "show"]


def _kind(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    shape = getattr(value, "shape", None)
    if shape is not None:
        kind = {"ndarray": "numpy array", "Tensor": "tensor"}.get(
            type(value).__name__, type(value).__name__
        )
        return f"a {kind} of shape {tuple(shape)}"
    return f"a {type(value).__name__}"


def _one_number(value: Any) -> float | None:
    """``value`` as a finite float if it is one number (Python, numpy, 1-element)."""
    import math

    if isinstance(value, (str, bytes, bool, list, tuple, dict, set)):
        return None
    shape = getattr(value, "shape", None)
    if shape is not None and math.prod(tuple(shape)) != 1:
        return None
    if hasattr(value, "detach"):
        value = value.detach()
    try:
        x = float(value.reshape(()) if shape is not None else value)
    except Exception:
        return None
    return x if math.isfinite(x) else None


def _as_tensor(out: Any, label: str, shape: tuple[int, ...] | None) -> Any:
    import torch

    try:
        t = torch.as_tensor(
            out.detach() if isinstance(out, torch.Tensor) else out,
            dtype=torch.get_default_dtype(),
        )
    except Exception:
        print(
            f"Explore: {label} returned {_kind(out)}, not numbers this cell can "
            f"draw. Fix it above (its check says what it should return), then run "
            f"this cell again."
        )
        return None
    if shape is not None and tuple(t.shape) != tuple(shape):
        print(
            f"Explore: {label} returned shape {tuple(t.shape)}, this cell needs "
            f"{tuple(shape)}. Fix it above (its check says more), then run this "
            f"cell again."
        )
        return None
    return t


def as_number(value: Any, name: str, default: float | None = None) -> float | None:
    """The learner's answer ``value`` as one float, or ``default`` if it is not.

    A placeholder (``None``/``...``) gives ``default`` silently (its check already
    says "Not done yet"); anything else that is not a single finite number prints
    one plain message naming ``name`` and gives ``default``.

    Parameters
    ----------
    value : object
        The learner's answer: a Python or numpy number, or a one-element tensor
        or array, is one number.
    name : str
        The learner's variable, for the message.
    default : float, optional
        What the cell uses instead.

    Returns
    -------
    float or None
        ``value`` as a finite float, else ``default``. Never raises.

    Examples
    --------
    >>> as_number(0.25, "h")
    0.25
    >>> as_number(None, "h", 0.3)
    0.3
    >>> as_number([0.1, 0.2], "h", 0.3)  # doctest: +NORMALIZE_WHITESPACE
    Explore: `h` is a list of 2 items, not one number; this cell uses 0.3 instead.
    Fix it above, then run this cell again.
    0.3
    """
    if value is None or value is Ellipsis:
        return default
    x = _one_number(value)
    if x is not None:
        return x
    instead = "" if default is None else f"; this cell uses {default} instead"
    print(
        f"Explore: `{name}` is {_kind(value)}, not one number{instead}. Fix it above, "
        f"then run this cell again."
    )
    return default


def attempt(
    fn: Callable[..., Any] | None,
    *args: Any,
    name: str | None = None,
    want: str | None = None,
    shape: tuple[int, ...] | None = None,
) -> Any:
    """Call the learner's ``fn(*args)``; ``None`` (after one plain message) if unusable.

    Parameters
    ----------
    fn : callable or None
        The learner's function (``None`` or ``...`` while it is a placeholder).
    *args
        Passed to ``fn``.
    name : str, optional
        How to name ``fn`` in the message (default its ``__name__``).
    want : {"tensor", "number"}, optional
        What the cell needs: ``"tensor"`` converts the result with
        ``torch.as_tensor`` (a list of numbers works) and, with ``shape``, checks
        its shape; ``"number"`` wants one finite number and returns a float.
        A result that does not fit gives ``None`` after one plain message, so
        the cell never crashes on a wrong-type answer.
    shape : tuple of int, optional
        The shape a ``"tensor"`` result must have.

    Returns
    -------
    object or None
        Whatever ``fn`` returns (converted as ``want`` says), or ``None`` when
        ``fn`` is a placeholder, returns ``None``/``...``, raises (the message
        names the exception) or returns something the cell cannot use. Never
        raises.

    Examples
    --------
    >>> attempt(lambda u: u + 1, 1, name="f")
    2
    >>> def f(u):
    ...     ...
    >>> attempt(f, 1)  # doctest: +NORMALIZE_WHITESPACE
    Explore: f returns nothing yet. Write its body above (and `return` the
    result), then run this cell again.
    >>> attempt(lambda: [1.0, 2.0], name="g", want="number")
    ... # doctest: +NORMALIZE_WHITESPACE
    Explore: g returned a list of 2 items, not one number. Fix it above (its check
    says more), then run this cell again.
    """
    label = name or getattr(fn, "__name__", "your function")
    if fn is None or fn is Ellipsis:
        print(
            f"Explore: {label} is still a placeholder. Do its exercise above, then "
            f"run this cell again."
        )
        return None
    try:
        out = fn(*args)
    except Exception as exc:  # the learner's code: report, do not stop Run All
        print(
            f"Explore: {label} raised {type(exc).__name__}: {exc}. Fix it above, then "
            f"run this cell again."
        )
        return None
    if out is None or out is Ellipsis:
        print(
            f"Explore: {label} returns nothing yet. Write its body above (and "
            f"`return` the result), then run this cell again."
        )
        return None
    if want == "tensor":
        return _as_tensor(out, label, shape)
    if want == "number":
        x = _one_number(out)
        if x is None:
            print(
                f"Explore: {label} returned {_kind(out)}, not one number. Fix it "
                f"above (its check says more), then run this cell again."
            )
        return x
    return out


def _describe(value: Any) -> str:
    if value is None or value is Ellipsis:
        return "not set yet"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    shape = getattr(value, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            return f"{float(value):.4f} ({type(value).__name__}, 0-d)"
        return f"a {type(value).__name__} of shape {tuple(shape)}"
    return repr(value)


def show(**answers: Any) -> None:
    """Print the learner's answers on one line, floats with 4 decimals.

    Parameters
    ----------
    **answers
        The learner's variables by name: a float prints with 4 decimals
        (``nwlib.checks.SHOWN_DECIMALS``: typed back, it passes its check), a
        placeholder as "not set yet", a tensor or array by its shape.

    Returns
    -------
    None
        The line is printed.

    Examples
    --------
    >>> show(gap=0.25, where=None)
    gap = 0.2500 | where = not set yet
    >>> import torch
    >>> show(predictions=torch.zeros(20), ok=True)
    predictions = a Tensor of shape (20,) | ok = True
    """
    print(" | ".join(f"{name} = {_describe(value)}" for name, value in answers.items()))
