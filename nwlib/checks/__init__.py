"""Self-checks for the exercise notebooks.

Every check prints one plain-words verdict and never raises, whatever the
learner passes in (``None``, a wrong shape, a string, NaN, an exception inside
their function):

* ``Not done yet: ...`` when the answer is still the stub: a variable still
  ``None`` or ``...``, or a function whose body is still only ``...``/``pass``
  (or raises ``NotImplementedError``),
* ``Not quite: ...`` with what is wrong, naming the learner's own variable
  (``weights``, ``h``) and what to change; a function that was written but
  returns ``None`` is told "did you forget `return`?",
* ``Correct: ...`` when it passes.

The types follow each exercise's prompt: where the prompt asks for a tensor, a
list or a numpy array is refused; where it asks for a float, a tensor is refused.
Warnings raised inside the learner's function while a check probes it are kept
out of the verdict's output.

Checks return ``None`` so that a notebook cell shows only the printed verdict.
Chapter checks live in ``nwlib.checks.chNN`` modules and are built from the
helpers importable from here:

* :mod:`nwlib.checks.verdicts`: the verdict line (:func:`run_check`,
  :class:`NotDone`, :class:`Wrong`) and its words (:func:`describe`,
  :func:`pair`, :func:`agrees`);
* :mod:`nwlib.checks.answers`: reading an answer (:func:`number`,
  :func:`boolean`, :func:`as_array`, :func:`close`);
* :mod:`nwlib.checks.calls`: calling the learner's function (:func:`call`);
* :mod:`nwlib.checks.source_code`: reading a function's source where a prompt
  asks for a method (:func:`require_source`).

Examples
--------
A check for "set ``h`` to a positive width", as a chapter module writes it:

>>> from nwlib.checks import Wrong, number, run_check
>>> def positive_width(h):
...     def body():
...         val = number(h, "`h`")
...         if val <= 0:
...             raise Wrong(f"`h` = {val:.4g}, but a width must be positive")
...         return f"The width {val:.4f} is positive."
...     run_check("positive width", body)
>>> positive_width(0.5)
Correct: positive width. The width 0.5000 is positive.
>>> positive_width(None)
Not done yet: positive width. `h` is still None: replace it with your answer
>>> positive_width(-1)
Not quite: positive width. `h` = -1, but a width must be positive
>>> positive_width([0.5])
Not quite: positive width. `h` should be a single number, got a list of 1 item
"""

from __future__ import annotations

from .answers import as_array, boolean, close, number
from .calls import call, is_stub_function
from .source_code import require_source, source_names
from .verdicts import (
    SHOWN_DECIMALS,
    NotDone,
    Verdict,
    Wrong,
    agrees,
    describe,
    is_stub,
    pair,
    run_check,
)

__all__ = [
    "Verdict",
    "NotDone",
    "Wrong",
    "run_check",
    "as_array",
    "close",
    "call",
    "number",
    "is_stub",
    "is_stub_function",
    "boolean",
    "describe",
    "pair",
    "agrees",
    "source_names",
    "require_source",
    "SHOWN_DECIMALS",
]
