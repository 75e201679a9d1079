"""Bringing ``exercises/`` up to date without overwriting a learner's work.

An exercise is **out of date** when generating from its solution now would
give a different exercise (its recorded ``exercise_hash`` differs). An exercise
a learner ran (it has outputs) or edited (its hash no longer matches what is
in it) is **never overwritten**: :func:`sync` refuses it unless ``force``, which
first keeps a copy ``NN_topic.bak.ipynb`` (or ``.bak2``, ``.bak3``, ...). The
command line is :mod:`nwlib.exercises`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .generation import exercise_hash, generate

__all__ = ["SyncResult", "learner_touched", "sync"]

ROOT = Path(__file__).resolve().parent.parent


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

    Parameters
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
