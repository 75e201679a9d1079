"""Calling a learner's function: a stub, a forgotten ``return``, or a result.

:func:`call` tells a function still being written (its body only ``...`` or
``pass``, or ``raise NotImplementedError()``) from one that forgot to
``return``, and gives back what a finished one returns.
"""

from __future__ import annotations

import dis
from typing import Any

from .verdicts import NotDone, Wrong, describe, is_stub

__all__ = ["call", "is_stub_function"]

# A stub body (``...``, ``pass``, a docstring, comments) compiles to "return None".
_STUB_OPS = {
    "RESUME",
    "NOP",
    "CACHE",
    "LOAD_CONST",
    "RETURN_VALUE",
    "RETURN_CONST",
    "POP_TOP",
}


def is_stub_function(fn: Any) -> bool:
    """True when ``fn`` is a Python function whose body is still a stub.

    A stub body is only ``...``, ``pass``, a docstring and comments: it compiles
    to "return None".

    Parameters
    ----------
    fn : object
        The learner's function (anything else gives False).

    Returns
    -------
    bool

    Examples
    --------
    >>> def stub(u):
    ...     '''Docstring.'''
    ...     # YOUR CODE HERE
    ...     ...
    >>> is_stub_function(stub), is_stub_function(lambda u: u), is_stub_function(3)
    (True, False, False)
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    try:
        ops = list(dis.get_instructions(code))
    except Exception:  # pragma: no cover - exotic code objects
        return False
    return all(op.opname in _STUB_OPS for op in ops) and all(
        op.argval is None or op.argval is Ellipsis
        for op in ops
        if op.opname in ("LOAD_CONST", "RETURN_CONST")
    )


def call(fn: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function ``fn``, named ``name`` in the notebook.

    A placeholder (``None``/``...``) or a function whose body is still only
    ``...``/``pass`` (or raises ``NotImplementedError``) gives :class:`NotDone`;
    a non-callable, or a written function that returns ``None``, gives
    :class:`Wrong` with the words to fix it.

    Parameters
    ----------
    fn : object
        The learner's function.
    name : str
        Its name in the notebook.
    *args, **kwargs
        Passed to ``fn``.

    Returns
    -------
    object
        What ``fn`` returns (neither ``None`` nor ``...``).

    Raises
    ------
    NotDone
        When ``fn`` is a placeholder, a stub, or raises ``NotImplementedError``.
    Wrong
        When ``fn`` is not callable or returns ``None``.
    Exception
        Whatever else ``fn`` raises (:func:`run_check` reports it).

    Examples
    --------
    >>> from nwlib.checks import run_check
    >>> call(lambda u: 2 * u, "double", 3)
    6
    >>> def double(u):
    ...     y = 2 * u
    >>> _ = run_check("double", lambda: call(double, "double", 3))
    Not quite: double. `double` returned None: did you forget `return`?
    """
    label = f"`{name}`"
    if is_stub(fn):
        raise NotDone(f"{label} is still {describe(fn)}: define it as a function")
    if not callable(fn):
        raise Wrong(
            f"{label} should be a function, got {describe(fn)}: define it with "
            f"`def {name}(...)`"
        )
    if is_stub_function(fn):
        raise NotDone(
            f"{label} still has an empty body: write its code where it says "
            f"YOUR CODE HERE and `return` the result"
        )
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise NotDone(
            f"{label} still raises NotImplementedError: replace that line with "
            f"your code"
        ) from None
    if out is None:
        raise Wrong(f"{label} returned None: did you forget `return`?")
    if out is Ellipsis:
        raise NotDone(f"{label} still returns `...`: return your result instead")
    return out
