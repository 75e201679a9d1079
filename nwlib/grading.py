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
import csv
import io
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["autograde", "fill_answers", "main", "require"]

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "exercises"
FIELDS = ["learner", "notebook", "exercise", "points", "max_points"]
#: The comment nbgrader puts at the top of a grade cell it added back.
RESTORED = "was missing from the submission"


def _quiet_config(api) -> None:
    """Grading settings on top of the course's: restore deleted check cells, quiet kernels."""
    api.config.OverwriteCells.add_missing_cells = True
    api.config.Execute.extra_arguments = [
        "--HistoryManager.hist_file=:memory:",
        "--IPKernelApp.log_level=CRITICAL",
    ]


def require(check: Callable[..., Any], *answers: Any) -> None:
    """Run a self-check silently; raise ``AssertionError`` with its verdict unless "Correct".

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
    """The exercise notebook with answer cells filled in from its solution, as a learner would.

    ``grade_ids`` names the nbgrader answer cells to fill (default: all). The
    solution markers are dropped; every other cell is the exercise's own. Used
    to build test submissions (a fully or partly solved notebook).
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


def _exercise(grade_id: str) -> int:
    m = re.match(r"ex(\d+)_", grade_id)
    if not m:
        raise ValueError(f"grade cell {grade_id!r} does not start with exN_")
    return int(m.group(1))


def autograde(
    submissions: Path,
    csv_path: Path | None = None,
    *,
    solutions: Path = ROOT / "solutions",
    log=print,
) -> list[dict]:
    """Grade every ``submissions/<learner>/*.ipynb``; return (and write) the rows of points.

    Raises ``ValueError`` when ``submissions`` holds no learner folder.
    """
    with warnings.catch_warnings():
        try:
            from sqlalchemy.exc import SAWarning

            warnings.simplefilter(
                "ignore", SAWarning
            )  # nbgrader's gradebook session warnings
        except ImportError:  # pragma: no cover - sqlalchemy comes with nbgrader
            pass
        return _autograde(submissions, csv_path, solutions=solutions, log=log)


def _restored(done: Path, learner: str, log) -> None:
    """Say which check cells nbgrader had to add back to a learner's notebooks."""
    import nbformat

    for path in sorted(done.glob("*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            if RESTORED in cell.source.split("\n", 1)[0]:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
                log(
                    f"{learner}: {path.name}: the check cell {gid} was missing; it was added "
                    f"back from the exercise and graded"
                )


def _autograde(
    submissions: Path, csv_path: Path | None, *, solutions: Path, log
) -> list[dict]:
    from nbgrader.api import Gradebook

    from .exercises import check_nbgrader, generate_in, nbgrader_api

    submissions = Path(submissions)
    learners = (
        sorted(p for p in submissions.iterdir() if p.is_dir())
        if submissions.is_dir()
        else []
    )
    if not learners:
        raise ValueError(f"submissions: {submissions} holds no folder per learner")
    sols = sorted(Path(solutions).glob("*.ipynb"))
    known = {s.name for s in sols}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="nwlib-grading-") as tmp:
        course = Path(tmp)
        generate_in(course, sols, ASSIGNMENT)
        api = nbgrader_api(course)
        _quiet_config(api)
        for learner in learners:
            dest = course / "submitted" / learner.name / ASSIGNMENT
            dest.mkdir(parents=True)
            for nb in sorted(learner.glob("*.ipynb")):
                if nb.name in known:
                    shutil.copyfile(nb, dest / nb.name)
                else:
                    log(
                        f"{learner.name}: ignored {nb.name} (no such exercise notebook)"
                    )
            for attempt in (
                1,
                2,
            ):  # nbgrader 0.9.6 declares Execute.execute_retries but ignores it
                check_nbgrader(
                    api.autograde(ASSIGNMENT, learner.name, force=True, create=True),
                    f"autograde of {learner.name}",
                )
                done = course / "autograded" / learner.name / ASSIGNMENT
                if not any(
                    "CellTimeoutError" in p.read_text() for p in done.glob("*.ipynb")
                ):
                    break
                log(
                    f"{learner.name}: a cell timed out; grading again (attempt {attempt + 1})"
                )
            _restored(done, learner.name, log)
            log(f"graded {learner.name}")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for learner in learners:
                sub = gb.find_submission(ASSIGNMENT, learner.name)
                for nb in sorted(sub.notebooks, key=lambda n: n.name):
                    per: dict[int, list[float]] = {}
                    for g in nb.grades:
                        tot = per.setdefault(_exercise(g.name), [0.0, 0.0])
                        tot[0] += g.score or 0.0
                        tot[1] += g.max_score
                    for ex, (pts, mx) in sorted(per.items()):
                        rows.append(
                            {
                                "learner": learner.name,
                                "notebook": f"{nb.name}.ipynb",
                                "exercise": ex,
                                "points": pts,
                                "max_points": mx,
                            }
                        )
    if csv_path is not None:
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            w.writeheader()
            w.writerows(rows)
        log(f"wrote {csv_path}")
    return rows


def main(argv: list[str] | None = None) -> int:
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
        print(
            f"{learner}: {sum(r['points'] for r in mine):g} of {sum(r['max_points'] for r in mine):g}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
