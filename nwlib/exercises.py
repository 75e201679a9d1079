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

This module holds that guard (:func:`sync`, :func:`learner_touched`) and the
command line; generation lives in :mod:`nwlib.generation`, execution in
:mod:`nwlib.notebook_run`; their public names are importable from here too.

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
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import nbgrader_course
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


def learner_touched(nb: nbformat.NotebookNode) -> bool:
    """True when a learner ran (outputs) or edited (sources) this exercise notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An exercise notebook as :func:`~nwlib.generation.generate` wrote it (or
        as the generator before nbgrader wrote it, with ``sources_hash``).

    Returns
    -------
    bool
        True when a code cell has outputs or an execution count, or the
        notebook's :func:`~nwlib.generation.exercise_hash` differs from the one
        recorded at generation (or none is recorded).

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> nb = new_notebook(cells=[new_code_cell("h = ...")])
    >>> nb.metadata["nwlib"] = {"exercise_hash": exercise_hash(nb)}
    >>> learner_touched(nb)
    False
    >>> nb.cells[0].source = "h = 0.5"
    >>> learner_touched(nb)
    True
    """
    meta = nb.metadata.get("nwlib", {})
    ran = any(
        c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))
        for c in nb.cells
    )
    if (
        "exercise_hash" not in meta and "sources_hash" in meta
    ):  # made by the generator before nbgrader
        legacy = json.dumps([[c.cell_type, c.source] for c in nb.cells])
        return (
            ran or meta["sources_hash"] != hashlib.sha256(legacy.encode()).hexdigest()
        )
    return ran or meta.get("exercise_hash") != exercise_hash(nb)


def _backup(target: Path) -> Path:
    """Copy ``target`` to the first free ``NN.bak.ipynb``, ``NN.bak2.ipynb``, ..."""
    k = 1
    while True:
        backup = target.with_suffix(f".bak{k if k > 1 else ''}.ipynb")
        if not backup.exists():
            shutil.copyfile(target, backup)
            return backup
        k += 1


@dataclass
class SyncResult:
    """What :func:`sync` found: stale exercises, those written, those refused.

    Attributes
    ----------
    stale : list of Path
        Exercises that were out of date (or missing).
    written : list of Path
        Exercises written.
    refused : list of Path
        Out-of-date exercises not written because a learner ran or edited them.

    Examples
    --------
    >>> SyncResult()
    SyncResult(stale=[], written=[], refused=[])
    """

    stale: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    refused: list[Path] = field(default_factory=list)


def sync(
    solutions: Path = ROOT / "solutions",
    exercises: Path = ROOT / "exercises",
    *,
    names: list[str] | None = None,
    check: bool = False,
    force: bool = False,
    log=print,
) -> SyncResult:
    """Bring ``exercises/`` up to date with ``solutions/`` (see the module rules).

    An out-of-date exercise that a learner ran or edited is refused unless
    ``force=True``, which keeps a backup first. An exercise that is current but
    differs byte for byte is rewritten only when nobody touched it.

    Parameters
    ----------
    solutions, exercises : Path
        The folders (default: the repository's ``solutions/`` and
        ``exercises/``).
    names : list of str, optional
        Solution file names (or paths) to consider; default all.
    check : bool, default False
        Only find the stale exercises and say so through ``log``; write nothing.
    force : bool, default False
        Replace exercises a learner ran or edited, after a backup.
    log : callable, default print
        Receives one line per exercise written, refused, backed up or stale.

    Returns
    -------
    SyncResult

    Raises
    ------
    ValueError, RuntimeError
        From :func:`~nwlib.generation.generate`.

    Examples
    --------
    With no solution notebook there is nothing to do (nbgrader is not run):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(sync(Path(tmp), Path(tmp) / "exercises", check=True))
    SyncResult(stale=[], written=[], refused=[])
    """
    res = SyncResult()
    sols = [
        s
        for s in sorted(Path(solutions).glob("*.ipynb"))
        if not names or s.name in names or str(s) in names
    ]
    if not sols:
        return res
    wanted = generate(sols)
    exercises = Path(exercises)
    if not check:
        exercises.mkdir(exist_ok=True)
    for sol in sols:
        target, text = exercises / sol.name, wanted[sol.name]
        new_hash = nbformat.reads(text, as_version=4).metadata["nwlib"]["exercise_hash"]
        current = nbformat.read(target, as_version=4) if target.exists() else None
        stale = (
            current is None
            or current.metadata.get("nwlib", {}).get("exercise_hash") != new_hash
        )
        if stale:
            res.stale.append(target)
        if check:
            if stale:
                touched = current is not None and learner_touched(current)
                how = " --force, which keeps a backup of the work in it)"
                log(
                    f"out of date: {target} (its solution changed; run: "
                    f"python -m nwlib.exercises{how if touched else ')'}"
                )
            continue
        if current is not None and target.read_text() == text:
            continue
        if current is not None and learner_touched(current):
            if not stale:
                continue  # current, and the learner's: nothing to do
            if not force:
                res.refused.append(target)
                log(
                    f"refused: {target} was run or edited, so it holds your work; "
                    f"it is left as it is. Use --force to replace it (a backup is "
                    f"kept)."
                )
                continue
            log(f"kept your {target.name} as {_backup(target).name}")
        target.write_text(text)
        res.written.append(target)
        log(f"wrote {target}")
    return res


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
