"""The verdict a self-check prints, and the words it is made of.

A check body returns its success message or raises :class:`NotDone` or
:class:`Wrong`; :func:`run_check` turns that into one printed line,
``Correct: ...``, ``Not done yet: ...`` or ``Not quite: ...``, and never lets
a traceback through. :func:`describe`, :func:`pair` and :func:`agrees` write
and compare the numbers and types the messages mention.
"""

from __future__ import annotations

import math
import numbers
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

__all__ = [
    "SHOWN_DECIMALS",
    "NotDone",
    "Verdict",
    "Wrong",
    "agrees",
    "describe",
    "is_stub",
    "pair",
    "run_check",
]

#: Decimals :func:`nwlib.explore.show` prints; a number typed back from it passes.
SHOWN_DECIMALS = 4


class NotDone(Exception):
    """Raised inside a check body: the exercise has not been attempted yet.

    :func:`run_check` prints its message after ``Not done yet: <title>.``

    Examples
    --------
    >>> def body():
    ...     raise NotDone("`h` is still None: replace it with your answer")
    >>> _ = run_check("width", body)
    Not done yet: width. `h` is still None: replace it with your answer
    """


class Wrong(Exception):
    """Raised inside a check body: the answer is wrong; the message says why.

    :func:`run_check` prints its message after ``Not quite: <title>.``

    Examples
    --------
    >>> def body():
    ...     raise Wrong("`h` = -1, but a width must be positive")
    >>> _ = run_check("width", body)
    Not quite: width. `h` = -1, but a width must be positive
    """


class Verdict(str):
    """The printed verdict, a ``str``; ``.passed`` tells whether the check passed.

    Attributes
    ----------
    passed : bool
        True for a ``Correct: ...`` verdict.

    Examples
    --------
    >>> v = run_check("width", lambda: "the width is positive.")
    Correct: width. The width is positive.
    >>> isinstance(v, str), v.passed
    (True, True)
    """

    passed: bool


def is_stub(answer: Any) -> bool:
    """True for the placeholders the exercise notebooks start with.

    Parameters
    ----------
    answer : object
        A learner's variable.

    Returns
    -------
    bool
        True for ``None`` and ``...`` (``Ellipsis``).

    Examples
    --------
    >>> is_stub(...), is_stub(None), is_stub(0.0)
    (True, True, False)
    """
    return answer is None or answer is Ellipsis


def describe(value: Any) -> str:
    """A few words for the type of ``value``, as a message names it.

    Parameters
    ----------
    value : object
        Anything a learner may pass.

    Returns
    -------
    str
        'None', 'a list of 2 items', 'a tensor of shape (3,)', 'the number
        0.5', ...; a result object with a ``width``, ``value`` or ``exponent``
        attribute gets a hint at it.

    Examples
    --------
    >>> import torch
    >>> describe([1.0, 2.0]), describe(torch.zeros(3)), describe(0.5)
    ('a list of 2 items', 'a tensor of shape (3,)', 'the number 0.5')
    """
    if value is None:
        return "None"
    if value is Ellipsis:
        return "`...`"
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return f"the bool {bool(value)}"
    if isinstance(value, torch.Tensor):
        if value.dim() == 0:
            return f"a 0-d tensor ({value.dtype})"
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return "a 0-d numpy array"
        return f"a numpy array of shape {value.shape}"
    if isinstance(value, (str, bytes)):
        text = value if len(value) <= 20 else value[:17] + "..."
        return f"the text {text!r}"
    if isinstance(value, (list, tuple)):
        n = len(value)
        return f"a {type(value).__name__} of {n} item{'' if n == 1 else 's'}"
    if isinstance(value, numbers.Integral):
        return f"the integer {value}"
    if isinstance(value, numbers.Real):
        return f"the number {float(value):.6g}"
    if callable(value):
        return "a function"
    return f"a {type(value).__name__}" + _attribute_hint(value)


def _attribute_hint(value: Any) -> str:
    """For a result object (``WidthChoice``, ...): which attribute holds the number."""
    names = [n for n in ("width", "score", "exponent") if hasattr(value, n)]
    return f" (use its `.{names[0]}`)" if names else ""


def pair(a: float, b: float, digits: int = 6) -> tuple[str, str]:
    """``a`` and ``b`` as text with enough significant digits to differ.

    Parameters
    ----------
    a, b : float
        The expected and the given number.
    digits : int, default 6
        The fewest significant digits.

    Returns
    -------
    (str, str)
        Both numbers with the same number of significant digits (at least
        ``digits``), the fewest that make the two texts differ; their reprs
        when no such number up to 17 exists.

    Examples
    --------
    >>> pair(0.32123, 0.3212)
    ('0.32123', '0.3212')
    >>> pair(1.0000001, 1.0)
    ('1.0000001', '1')
    """
    for d in range(digits, 18):
        sa, sb = f"{a:.{d}g}", f"{b:.{d}g}"
        if sa != sb:
            return sa, sb
    return f"{a!r}", f"{b!r}"


def agrees(
    got: float,
    exact: float,
    *,
    rtol: float = 1e-6,
    atol: float = 0.0,
    decimals: int = SHOWN_DECIMALS,
) -> bool:
    """``got`` is ``exact`` within ``rtol``/``atol``, or ``exact`` rounded as shown.

    A learner who types back the number the notebook printed (``decimals``
    places, as :func:`nwlib.explore.show` prints) gives a number with at most
    ``decimals`` places within half a unit of the last place of ``exact``:
    that is accepted too.

    Parameters
    ----------
    got, exact : float
        The learner's number and the right one.
    rtol, atol : float
        Relative and absolute tolerance (``math.isclose``).
    decimals : int, default SHOWN_DECIMALS
        The places a shown number has.

    Returns
    -------
    bool

    Examples
    --------
    >>> agrees(0.3212, 0.321234)
    True
    >>> agrees(0.3213, 0.321234)
    False
    """
    if math.isclose(got, exact, rel_tol=rtol, abs_tol=atol):
        return True
    unit = 10.0**-decimals
    typed = abs(got - round(got, decimals)) <= 1e-12 * max(1.0, abs(got))
    return typed and abs(got - exact) <= unit / 2 * (1 + 1e-9)


#: A message that opens with a variable (``h = ``) or a call (``softmax(``).
_NAMED = re.compile(r"[A-Za-z_]\w*( = |\()")


def _verdict(text: str, passed: bool) -> Verdict:
    """The :class:`Verdict` ``text`` with ``.passed`` set."""
    v = Verdict(text)
    v.passed = passed
    return v


def _sentence(text: str) -> str:
    """``text`` with a capital first letter (it follows a full stop).

    A leading name that is a variable or a function (``h = 0.24 ...``,
    ``softmax(...) ...``) keeps its case: ``H`` would be another symbol.
    """
    if not text[:1].isalpha() or _NAMED.match(text):
        return text
    return text[:1].upper() + text[1:]


def run_check(title: str, body: Callable[[], str]) -> Verdict:
    """Run ``body`` and print one verdict line for the exercise ``title``.

    ``body`` returns the success message or raises :class:`NotDone` /
    :class:`Wrong`; any other exception (from the learner's own code) is
    reported as a 'Not quite' with its type and message (cut to 300
    characters), never a traceback. Warnings raised while the body runs are
    not printed. The message's first letter is capitalized (it follows a full
    stop).

    Parameters
    ----------
    title : str
        The exercise, in a few words.
    body : callable
        Takes no argument; returns the success message (or ``None``).

    Returns
    -------
    Verdict
        The printed line: ``Correct: <title>. <message>``, ``Not done yet:
        <title>. <message>`` or ``Not quite: <title>. <message>``.

    Examples
    --------
    >>> _ = run_check("division", lambda: 1 / 0)
    Not quite: division. Your code raised ZeroDivisionError: division by zero
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            msg = body() or ""
        v = _verdict(f"Correct: {title}. {_sentence(msg)}".rstrip(), True)
    except NotDone as exc:
        v = _verdict(f"Not done yet: {title}. {_sentence(str(exc))}".rstrip(), False)
    except Wrong as exc:
        v = _verdict(f"Not quite: {title}. {_sentence(str(exc))}", False)
    except Exception as exc:  # the learner's code raised: say so in plain words
        text = " ".join(str(exc).split())
        if len(text) > 300:
            text = text[:297] + "..."
        v = _verdict(
            f"Not quite: {title}. Your code raised {type(exc).__name__}: {text}", False
        )
    print(v)
    return v
