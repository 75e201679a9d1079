"""Reading the source of a learner's function, where a prompt asks for a method.

A prompt that says "use ``repeat_interleave``, no broadcasting" is checked on
the function's source (:func:`source_names`), not only on its numbers.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

from .verdicts import Wrong

__all__ = ["require_source", "source_names"]


def source_names(fn: Any) -> set[str] | None:
    """The names, attributes and constructs in the source of the learner's ``fn``.

    Holds every name and attribute used (``"unsqueeze"``, ``"repeat_interleave"``,
    ``"nadaraya_watson"``), ``"None-index"`` when ``None``/``np.newaxis`` indexes a
    tensor, and ``"loop"`` for a ``for``/``while`` loop or a comprehension.
    ``None`` when the source cannot be read (a lambda built elsewhere, a builtin,
    code without a file): a check then skips what it would have read.

    Parameters
    ----------
    fn : object
        The learner's function.

    Returns
    -------
    set of str or None

    Examples
    --------
    >>> def pairwise(q, k):
    ...     return q[:, None] - k[None, :]
    >>> sorted(source_names(pairwise))
    ['None-index', 'k', 'q']
    >>> source_names(len) is None
    True
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
    """Raise ``Wrong`` unless ``fn``'s source uses and avoids what the prompt says.

    Parameters
    ----------
    fn : object
        The learner's function.
    name : str
        Its name in the notebook.
    uses : tuple of str
        Names the source must use (see :func:`source_names`).
    avoids : tuple of str
        Names and constructs (``"loop"``, ``"None-index"``) it must not use.

    Returns
    -------
    bool
        ``False`` (nothing checked) when the source cannot be read, ``True``
        otherwise.

    Raises
    ------
    Wrong
        When the source uses something in ``avoids`` or misses something in
        ``uses``.

    Examples
    --------
    >>> from nwlib.checks import run_check
    >>> def pairwise(q, k):
    ...     return q[:, None] - k[None, :]
    >>> require_source(pairwise, "pairwise", uses=("q",))
    True
    >>> _ = run_check("pairwise", lambda: require_source(
    ...     pairwise, "pairwise", avoids=("None-index",)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Not quite: pairwise. `pairwise` uses indexing with `None`, which this exercise
    asks you not to use: it gives the right numbers, but the exercise is to build
    them another way (read the prompt again)
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
