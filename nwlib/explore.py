"""Helpers for the exercise notebooks: the "Explore" part and showing answers.

An Explore cell draws a figure from the learner's own functions. While an
exercise is still a stub (or raises), :func:`attempt` prints one plain
sentence instead of a traceback, so Run All on an untouched notebook stays
clean and the figure appears once the function is written.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["attempt", "show"]


def attempt(fn: Callable[..., Any] | None, *args: Any, name: str | None = None) -> Any:
    """Call the learner's ``fn(*args)``; ``None`` (after one plain message) if it cannot be used.

    Parameters
    ----------
    fn : callable or None
        The learner's function (``None`` or ``...`` while it is a placeholder).
    *args
        Passed to ``fn``.
    name : str, optional
        How to name ``fn`` in the message (default its ``__name__``).

    Returns
    -------
    Whatever ``fn`` returns, or ``None`` when ``fn`` is a placeholder, returns
    ``None``/``...``, or raises (the message names the exception).

    Examples
    --------
    >>> attempt(lambda u: u + 1, 1, name="f")
    2
    >>> def f(u):
    ...     ...
    >>> attempt(f, 1)
    Explore: f returns nothing yet. Write its body above (and `return` the result), then run this cell again.
    """
    label = name or getattr(fn, "__name__", "your function")
    if fn is None or fn is Ellipsis:
        print(f"Explore: {label} is still a placeholder. Do its exercise above, then run this cell again.")
        return None
    try:
        out = fn(*args)
    except Exception as exc:  # the learner's code: report, do not stop Run All
        print(f"Explore: {label} raised {type(exc).__name__}: {exc}. Fix it above, then run this cell again.")
        return None
    if out is None or out is Ellipsis:
        print(f"Explore: {label} returns nothing yet. Write its body above (and `return` the result), "
              f"then run this cell again.")
        return None
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

    Examples
    --------
    >>> show(gap=0.25, where=None)
    gap = 0.2500 | where = not set yet
    >>> import torch
    >>> show(predictions=torch.zeros(20), ok=True)
    predictions = a Tensor of shape (20,) | ok = True
    """
    print(" | ".join(f"{name} = {_describe(value)}" for name, value in answers.items()))
