"""Generate the learner notebooks in ``exercises/`` from ``solutions/`` with nbgrader.

Each ``solutions/NN_topic.ipynb`` is an nbgrader *source* notebook:

* an **answer cell** (nbgrader metadata ``solution: true``) holds the worked
  answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; nbgrader
  replaces that region by ``# YOUR CODE HERE`` and ``...`` (not
  ``raise NotImplementedError()``, so Run All reaches every self-check);
* a **check cell** (``grade: true``, locked, 1 point) calls the plain-words
  self-check from :mod:`nwlib.checks`; below it, between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, the autograder's
  test (:func:`nwlib.grading.require`) calls the same check and fails unless
  it says "Correct". Learners see the check, not the hidden test;
* a cell tagged ``solution-only`` (a discussion of the answer, a printout) is
  left out of the exercise. Such a cell may not hold an exercise heading or a
  task: prompts live in their own cells, so no prompt can be lost.

``exercises/`` is written by nbgrader's own ``generate_assignment`` step, run
in a throw-away course directory (:mod:`nwlib.nbgrader_course`), with one added
preprocessor (:class:`~nwlib.nbgrader_course.LearnerCopy`) that drops the
solution-only cells and every trace of execution (timings, kernel display name,
Python version): regenerating is byte-stable. Each exercise records
``exercise_hash``, a hash of what was generated (:mod:`nwlib.generation`).

* **Out of date** means: generating from the solution now would give a
  different exercise (the solution's prompts, stubs or checks changed). A
  learner running, saving or editing an exercise never makes it out of date.
* **Never overwritten**: an exercise a learner ran (it has outputs) or edited
  (its hash no longer matches) is refused, with exit status 1, unless
  ``--force``, which first keeps a copy ``NN_topic.bak.ipynb`` (or
  ``.bak2``, ``.bak3``, ... if that exists).

This module is the command line. Generation lives in :mod:`nwlib.generation`,
the guard in :mod:`nwlib.exercise_sync`, execution in :mod:`nwlib.notebook_run`;
their public names are importable from here too.

Command line::

    python -m nwlib.exercises            # regenerate exercises/ that are out of date
    python -m nwlib.exercises --check    # exit 1 if any exercise is out of date
    python -m nwlib.exercises --execute solutions/02_attention_pooling.ipynb
    python -m nwlib.exercises --force    # replace run or edited exercises (a backup)

A name that is not a solution notebook is an error (exit status 2), so a typo
never looks like success. ``--execute`` merges consecutive printed outputs of a
cell into one (:func:`nwlib.notebook_run.merge_streams`), so re-executing a
solution gives the same outputs whatever the kernel's timing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import nbgrader_course
from .exercise_sync import SyncResult, learner_touched, sync
from .generation import exercise_hash, generate, outline, tasks_without_prompt
from .nbgrader_course import (
    CODE_STUB,
    KERNELSPEC,
    SOLUTION_ONLY,
    check_nbgrader,
    generate_in,
    nbgrader_api,
    nbgrader_config,
)
from .notebook_run import execute, merge_streams

__all__ = [
    "CODE_STUB",
    "KERNELSPEC",
    "SOLUTION_ONLY",
    "LearnerCopy",  # noqa: F822  (made on first use, by __getattr__)
    "SyncResult",
    "check_nbgrader",
    "execute",
    "exercise_hash",
    "generate",
    "generate_in",
    "learner_touched",
    "main",
    "merge_streams",
    "nbgrader_api",
    "nbgrader_config",
    "outline",
    "sync",
    "tasks_without_prompt",
]

ROOT = Path(__file__).resolve().parent.parent


def __getattr__(name):  # LearnerCopy needs nbgrader, imported on first use
    if name == "LearnerCopy":
        return nbgrader_course.LearnerCopy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    """The command line ``python -m nwlib.exercises`` (see the module docstring).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``): solution notebooks, and
        ``--check``, ``--force``, ``--execute``.

    Returns
    -------
    int
        The exit status: 0 when done (or, with ``--check``, when every exercise
        is up to date), 1 when an exercise is out of date (``--check``) or was
        refused, 2 when a name is no solution notebook.

    Examples
    --------
    >>> main(["--check", "99_typo.ipynb"])
    2
    """
    p = argparse.ArgumentParser(
        prog="python -m nwlib.exercises", description=__doc__.split("\n")[0]
    )
    p.add_argument("names", nargs="*", help="solution notebooks (default: all)")
    p.add_argument(
        "--check", action="store_true", help="only report; exit 1 if anything is stale"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace exercises that were run or edited (a backup is kept)",
    )
    p.add_argument(
        "--execute",
        action="store_true",
        help="execute the named solution notebooks in place first",
    )
    p.add_argument(
        "--solutions", default=str(ROOT / "solutions"), help=argparse.SUPPRESS
    )
    p.add_argument(
        "--exercises", default=str(ROOT / "exercises"), help=argparse.SUPPRESS
    )
    a = p.parse_args(argv)
    known = sorted(s.name for s in Path(a.solutions).glob("*.ipynb"))
    unknown = [
        n
        for n in a.names
        if Path(n).name not in known or (a.execute and not Path(n).is_file())
    ]
    if unknown:
        print(
            f"error: no solution notebook {', '.join(unknown)}; the solutions are "
            f"{', '.join(known)} in {a.solutions}",
            file=sys.stderr,
        )
        return 2
    if a.execute:
        for n in a.names:
            execute(Path(n))
            print(f"executed {n}")
    names = [Path(n).name for n in a.names] or None
    res = sync(
        Path(a.solutions), Path(a.exercises), names=names, check=a.check, force=a.force
    )
    count = len(names) if names else len(known)
    if a.check:
        if not res.stale:
            print(f"all {count} exercises are up to date")
        return 1 if res.stale else 0
    if not res.written and not res.refused:
        print(f"all {count} exercises are up to date; nothing written")
    return 1 if res.refused else 0


if __name__ == "__main__":
    sys.exit(main())
