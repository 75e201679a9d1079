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
helpers below.
"""

from __future__ import annotations

import ast
import dis
import inspect
import math
import numbers
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

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

#: Decimals :func:`nwlib.explore.show` prints; a number typed back from it is accepted.
SHOWN_DECIMALS = 4


class NotDone(Exception):
    """Raised inside a check body: the exercise has not been attempted yet."""


class Wrong(Exception):
    """Raised inside a check body: the answer is wrong; the message says why."""


class Verdict(str):
    """The printed verdict (a ``str``); ``.passed`` tells whether the check passed."""

    passed: bool


def is_stub(answer: Any) -> bool:
    """True for the placeholders the exercise notebooks start with (``None``, ``...``)."""
    return answer is None or answer is Ellipsis


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
    """True when ``fn`` is a Python function whose body is only ``...``/``pass``/a docstring."""
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


def describe(value: Any) -> str:
    """A few words for the type of ``value``: 'a list', 'a tensor of shape (3,)', ..."""
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
    """``a`` and ``b`` as text with enough significant digits (at least ``digits``) to differ.

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
    """``got`` is ``exact`` within ``rtol``/``atol``, or is ``exact`` rounded as it is shown.

    A learner who types back the number the notebook printed (``decimals``
    places, as :func:`nwlib.explore.show` prints) gives a number with at most
    ``decimals`` places within half a unit of the last place of ``exact``:
    that is accepted too.

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


def _verdict(text: str, passed: bool) -> Verdict:
    v = Verdict(text)
    v.passed = passed
    return v


def _sentence(text: str) -> str:
    """``text`` with a capital first letter (it follows a full stop)."""
    return text[:1].upper() + text[1:] if text[:1].isalpha() else text


def run_check(title: str, body: Callable[[], str]) -> Verdict:
    """Run ``body`` and print one verdict line for the exercise ``title``.

    ``body`` returns the success message or raises :class:`NotDone` /
    :class:`Wrong`; any other exception (from the learner's own code) is
    reported as a 'Not quite' with its type and message, never a traceback.
    Warnings raised while the body runs are not printed.
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


def as_array(
    answer: Any, what: str, shape: tuple[int, ...] | None = None, *, kind: str = "any"
) -> np.ndarray:
    """Turn an answer into a float64 numpy array, or raise :class:`NotDone`/:class:`Wrong`.

    ``what`` names the learner's variable or call (``"`weights(q, k, 0.3)`"``).
    ``kind`` is what the prompt asks for: ``"tensor"`` (a ``torch.Tensor``),
    ``"array"`` (a tensor or a numpy array, not a list) or ``"any"`` (anything
    numpy can read as numbers).
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
    """Check ``answer`` against ``expected`` (same shape, close values) or raise."""
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


def call(fn: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function ``fn``, named ``name`` in the notebook.

    A placeholder (``None``/``...``) or a function whose body is still only
    ``...``/``pass`` (or raises ``NotImplementedError``) gives :class:`NotDone`;
    a non-callable, or a written function that returns ``None``, gives
    :class:`Wrong` with the words to fix it.
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


def number(answer: Any, what: str, *, kind: str = "number") -> float:
    """A single finite real number, or raise :class:`NotDone`/:class:`Wrong`.

    ``kind="number"`` takes a Python or numpy number or a one-element tensor or
    array; ``kind="float"`` (the prompt says "as a float") takes a Python or numpy
    number only and refuses a tensor; ``kind="int"`` wants a whole number
    (Python or numpy integer, or an integer-valued number).
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
    """``True`` or ``False`` (Python or numpy bool), or raise :class:`NotDone`/:class:`Wrong`."""
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


def source_names(fn: Any) -> set[str] | None:
    """The names, attributes and constructs in the source of the learner's function ``fn``.

    Holds every name and attribute used (``"unsqueeze"``, ``"repeat_interleave"``,
    ``"nadaraya_watson"``), ``"None-index"`` when ``None``/``np.newaxis`` indexes a
    tensor, and ``"loop"`` for a ``for``/``while`` loop or a comprehension.
    ``None`` when the source cannot be read (a lambda built elsewhere, a builtin,
    code without a file): a check then skips what it would have read.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, (ast.For, ast.While, ast.AsyncFor, ast.comprehension)):
            found.add("loop")
        elif isinstance(node, ast.Subscript):
            parts = (
                node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            )
            if any(
                (isinstance(p, ast.Constant) and p.value is None)
                or (isinstance(p, ast.Attribute) and p.attr == "newaxis")
                for p in parts
            ):
                found.add("None-index")
    return found


_SAY = {"None-index": "indexing with `None`", "loop": "a Python loop"}


def require_source(
    fn: Any, name: str, *, uses: tuple[str, ...] = (), avoids: tuple[str, ...] = ()
) -> bool:
    """Raise :class:`Wrong` unless the source of ``fn`` uses every name in ``uses`` and none
    in ``avoids`` (see :func:`source_names`), as the exercise's prompt asks.

    Returns ``False`` (nothing checked) when the source cannot be read, ``True`` otherwise.
    """
    names = source_names(fn)
    if names is None:
        return False
    used = [a for a in avoids if a in names]
    if used:
        what = ", ".join(_SAY.get(a, f"`{a}`") for a in used)
        raise Wrong(
            f"`{name}` uses {what}, which this exercise asks you not to use: it gives "
            f"the right numbers, but the exercise is to build them another way (read "
            f"the prompt again)"
        )
    missing = [u for u in uses if u not in names]
    if missing:
        raise Wrong(
            f"`{name}` does not use "
            + " or ".join(f"`{m}`" for m in missing)
            + ", which this exercise asks for: the numbers may be right, but build "
            "them the way the prompt says"
        )
    return True
