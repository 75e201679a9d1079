"""Autograde submitted exercise notebooks with nbgrader; one CSV of points.

The autograder's tests are the hidden tests of the check cells in
``solutions/`` (see :mod:`nwlib.exercises`): each calls :func:`require` with
the same plain-words check the learner runs, and fails unless it says
"Correct". Each check cell is worth 1 point; an exercise's points are the sum
over its check cells.

:func:`autograde` builds a throw-away nbgrader course (``source/`` from
``solutions/``, ``submitted/<learner>/``), runs nbgrader's
``generate_assignment`` and ``autograde`` (which restores the locked check
cells and hidden tests from the gradebook, so a learner cannot weaken them),
and writes one row per learner, notebook and exercise. A notebook a learner
did not submit scores 0. A check cell deleted from a submission (possible only
outside Jupyter, where check cells cannot be deleted) is added back by
nbgrader (``OverwriteCells.add_missing_cells``) and graded, and the console
says so. The instructor's terminal shows only the results: nbgrader's
SQLAlchemy warnings and the kernels' own log lines (such as "KeyboardInterrupt
caught in kernel" when a kernel is stopped) are kept out.

Command line::

    python -m nwlib.grading submissions/ --csv grades.csv

with one folder per learner: ``submissions/<learner>/<NN_topic>.ipynb``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .autograding import autograde

__all__ = ["autograde", "fill_answers", "main", "require"]


def require(check: Callable[..., Any], *answers: Any) -> None:
    """Run a self-check silently; raise ``AssertionError`` unless it says "Correct".

    The hidden test of every check cell calls this with the check the learner
    sees and the learner's answers.

    Parameters
    ----------
    check : callable
        A self-check of :mod:`nwlib.checks` (it prints its verdict and returns a
        :class:`~nwlib.checks.Verdict`, or only prints it).
    *answers
        The learner's answers, passed to ``check``.

    Raises
    ------
    AssertionError
        With the check's verdict as message, unless it passed (a verdict that
        starts with ``Correct:``).

    Examples
    --------
    >>> from nwlib.checks import ch01
    >>> require(ch01.half_height_width, 0.8493218002880191)
    >>> require(ch01.half_height_width, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: Not done yet: ...
    """
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        verdict = check(*answers)
    text = str(verdict) if verdict is not None else buf.getvalue().strip()
    passed = getattr(verdict, "passed", None)
    if passed is None:
        passed = text.startswith("Correct:")
    if not passed:
        raise AssertionError(
            text or f"{getattr(check, '__name__', 'the check')} printed nothing"
        )


def fill_answers(exercise: Path, solution: Path, grade_ids: set[str] | None = None):
    """The exercise with its answer cells filled in from its solution.

    The solution markers are dropped; every other cell is the exercise's own.
    Used to build test submissions (a fully or partly solved notebook).

    Parameters
    ----------
    exercise, solution : Path
        An exercise notebook and the solution it was generated from.
    grade_ids : set of str, optional
        The nbgrader answer cells to fill (default: all).

    Returns
    -------
    nbformat.NotebookNode
        The exercise, changed in memory (nothing is written).

    Examples
    --------
    >>> import tempfile
    >>> import nbformat
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> def notebook(source):
    ...     cell = new_code_cell(source)
    ...     cell.metadata["nbgrader"] = {"solution": True, "grade_id": "ex1_answer"}
    ...     return new_notebook(cells=[cell])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ex, sol = Path(tmp) / "ex.ipynb", Path(tmp) / "sol.ipynb"
    ...     nbformat.write(notebook("# YOUR CODE HERE\\n..."), ex)
    ...     nbformat.write(notebook("### BEGIN SOLUTION\\nh = 0.5\\n### END SOLUTION"),
    ...                    sol)
    ...     print(fill_answers(ex, sol).cells[0].source)
    h = 0.5
    """
    import nbformat

    ex, sol = nbformat.read(exercise, 4), nbformat.read(solution, 4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in sol.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for c in ex.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers and (grade_ids is None or gid in grade_ids):
            c.source = "\n".join(
                line
                for line in answers[gid].split("\n")
                if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
            )
    return ex


def main(argv: list[str] | None = None) -> int:
    """The command line ``python -m nwlib.grading submissions/ --csv grades.csv``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 after grading (one line of points per learner is
        printed), 2 when the submissions folder holds no learner folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     main([tmp, "--csv", str(Path(tmp) / "grades.csv")])
    2
    """
    p = argparse.ArgumentParser(
        prog="python -m nwlib.grading", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "submissions", help="folder with one subfolder of notebooks per learner"
    )
    p.add_argument(
        "--csv",
        default="grades.csv",
        help="where to write the points (default grades.csv)",
    )
    a = p.parse_args(argv)
    try:
        rows = autograde(Path(a.submissions), Path(a.csv))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for learner in sorted({r["learner"] for r in rows}):
        mine = [r for r in rows if r["learner"] == learner]
        points = sum(r["points"] for r in mine)
        max_points = sum(r["max_points"] for r in mine)
        print(f"{learner}: {points:g} of {max_points:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
