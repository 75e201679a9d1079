"""Self-checks for the exercise notebooks.

Every check prints one plain-words verdict and never raises, whatever the
learner passes in (``None``, a wrong shape, a string, NaN, an exception inside
their function):

* ``Not done yet: ...`` when the answer is still the stub (``None`` or ``...``),
* ``Not quite: ...`` with what is wrong,
* ``Correct: ...`` when it passes.

Checks return ``None`` so that a notebook cell shows only the printed verdict.
Chapter checks live in ``nwlib.checks.chNN`` modules and are built from the
helpers below.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

__all__ = ["Verdict", "NotDone", "Wrong", "run_check", "as_array", "close", "call", "number", "is_stub"]


class NotDone(Exception):
    """Raised inside a check body: the exercise has not been attempted yet."""


class Wrong(Exception):
    """Raised inside a check body: the answer is wrong; the message says why."""


class Verdict(str):
    """The printed verdict (a ``str``); ``.passed`` tells whether the check passed."""

    passed: bool


def is_stub(answer: Any) -> bool:
    """True for the placeholders the exercise notebooks start with."""
    return answer is None or answer is Ellipsis


def _verdict(text: str, passed: bool) -> Verdict:
    v = Verdict(text)
    v.passed = passed
    return v


def run_check(title: str, body: Callable[[], str]) -> Verdict:
    """Run ``body`` and print one verdict line for the exercise ``title``.

    ``body`` returns the success message or raises :class:`NotDone` /
    :class:`Wrong`; any other exception (from the learner's own code) is
    reported as a 'Not quite' with its type and message, never a traceback.
    """
    try:
        msg = body() or ""
        v = _verdict(f"Correct: {title}. {msg}".rstrip(), True)
    except NotDone as exc:
        v = _verdict(f"Not done yet: {title}. {exc}".rstrip(), False)
    except Wrong as exc:
        v = _verdict(f"Not quite: {title}. {exc}", False)
    except Exception as exc:  # the learner's code raised: say so in plain words
        v = _verdict(f"Not quite: {title}. Your code raised {type(exc).__name__}: {exc}", False)
    print(v)
    return v


def as_array(answer: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Turn an answer into a float64 numpy array, or raise :class:`NotDone`/:class:`Wrong`."""
    if is_stub(answer):
        raise NotDone(f"{what} is still a placeholder: replace it with your answer")
    if isinstance(answer, torch.Tensor):
        arr = answer.detach().cpu().numpy()
    elif isinstance(answer, (str, bytes)):
        raise Wrong(f"{what} should be numbers, got the text {answer!r}")
    else:
        try:
            arr = np.asarray(answer)
        except Exception:
            raise Wrong(f"{what} should be an array of numbers, got {type(answer).__name__}") from None
    if arr.dtype.kind not in "biuf":
        raise Wrong(f"{what} should be an array of numbers, got {type(answer).__name__}"
                    f" with dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if shape is not None and arr.shape != tuple(shape):
        raise Wrong(f"{what} should have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise Wrong(f"{what} contains NaN or inf")
    return arr


def close(answer: Any, expected: Any, what: str, *, rtol: float = 1e-6,
          atol: float = 1e-8) -> np.ndarray:
    """Check ``answer`` against ``expected`` (same shape, close values) or raise."""
    exp = np.asarray(expected.detach().cpu() if isinstance(expected, torch.Tensor) else expected,
                     dtype=np.float64)
    arr = as_array(answer, what, exp.shape)
    if not np.allclose(arr, exp, rtol=rtol, atol=atol):
        err = np.max(np.abs(arr - exp))
        i = np.unravel_index(np.argmax(np.abs(arr - exp)), exp.shape) if exp.ndim else ()
        where = f" at index {tuple(int(j) for j in i)}" if exp.ndim else ""
        raise Wrong(f"{what} is off by up to {err:.3g}{where}: expected "
                    f"{float(exp[i]):.6g}, got {float(arr[i]):.6g}")
    return arr


def call(fn: Any, what: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function ``fn``; a stub or non-callable gives NotDone/Wrong."""
    if is_stub(fn):
        raise NotDone(f"{what} is still a placeholder")
    if not callable(fn):
        raise Wrong(f"{what} should be a function, got {type(fn).__name__}")
    out = fn(*args, **kwargs)
    if is_stub(out):
        raise NotDone(f"{what} returns None: fill in its body")
    return out


def number(answer: Any, what: str) -> float:
    """A single finite real number, or raise :class:`NotDone`/:class:`Wrong`."""
    arr = as_array(answer, what)
    if arr.size != 1:
        raise Wrong(f"{what} should be a single number, got shape {arr.shape}")
    x = float(arr.reshape(()))
    if not math.isfinite(x):
        raise Wrong(f"{what} should be finite, got {x}")
    return x
