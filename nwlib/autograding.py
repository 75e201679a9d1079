"""Autograding submitted exercise notebooks in a throw-away nbgrader course.

:func:`autograde` copies ``solutions/`` to the course's ``source/`` and each
learner's notebooks to ``submitted/<learner>/``, runs nbgrader's
``generate_assignment`` and ``autograde`` (which restores the locked check
cells and hidden tests from the gradebook, so a learner cannot weaken them),
and reads the points per exercise from the gradebook. The command line and the
rules are in :mod:`nwlib.grading`.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from .nbgrader_course import check_nbgrader, generate_in, nbgrader_api

__all__ = ["ASSIGNMENT", "FIELDS", "RESTORED", "autograde"]

ROOT = Path(__file__).resolve().parent.parent
#: The assignment's name in the course.
ASSIGNMENT = "exercises"
#: The columns of the points, one row per learner, notebook and exercise.
FIELDS = ["learner", "notebook", "exercise", "points", "max_points"]
#: The comment nbgrader puts at the top of a grade cell it added back.
RESTORED = "was missing from the submission"


def _quiet_config(api) -> None:
    """Grading settings on top of the course's: restore check cells, quiet kernels."""
    api.config.OverwriteCells.add_missing_cells = True
    api.config.Execute.extra_arguments = [
        "--HistoryManager.hist_file=:memory:",
        "--IPKernelApp.log_level=CRITICAL",
    ]


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
    """Grade every ``submissions/<learner>/*.ipynb``; return (and write) the points.

    Runs nbgrader's ``generate_assignment`` and ``autograde`` in a throw-away
    course (see the module docstring): every submitted notebook is executed in
    a fresh kernel, and graded again once if a cell timed out.

    Parameters
    ----------
    submissions : Path
        One folder per learner, holding their ``NN_topic.ipynb`` notebooks
        (other notebooks are ignored, and the log says so).
    csv_path : Path, optional
        Where to write the rows as CSV (columns :data:`FIELDS`).
    solutions : Path
        The nbgrader source notebooks (default: the repository's).
    log : callable, default print
        Receives one line per learner graded, check cell restored, notebook
        ignored or timeout retried.

    Returns
    -------
    list of dict
        One row per learner, notebook and exercise: ``learner``, ``notebook``,
        ``exercise`` (its number), ``points``, ``max_points``.

    Raises
    ------
    ValueError
        When ``submissions`` holds no learner folder.
    RuntimeError
        When nbgrader fails.

    Examples
    --------
    Grading starts a kernel per notebook, so the call is not run as a doctest:

    >>> rows = autograde(Path("submissions"), Path("grades.csv"))  # doctest: +SKIP
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     autograde(Path(tmp), log=lambda line: None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: submissions: ... holds no folder per learner
    """
    with warnings.catch_warnings():
        try:
            from sqlalchemy.exc import SAWarning

            # nbgrader's gradebook session warnings
            warnings.simplefilter("ignore", SAWarning)
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
                    f"{learner}: {path.name}: the check cell {gid} was missing; it "
                    f"was added back from the exercise and graded"
                )


def _autograde(
    submissions: Path, csv_path: Path | None, *, solutions: Path, log
) -> list[dict]:
    from nbgrader.api import Gradebook

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
            # nbgrader 0.9.6 declares Execute.execute_retries but ignores it
            for attempt in (1, 2):
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
                    f"{learner.name}: a cell timed out; grading again "
                    f"(attempt {attempt + 1})"
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
