"""Generate the learner notebooks in ``exercises/`` from ``solutions/``.

One source of truth: each ``solutions/NN_topic.ipynb`` holds the worked
answers; its exercise twin is derived from it by three rules.

1. In code cells, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION``
   are replaced by ``# YOUR CODE HERE`` and a stub. The stub is whatever
   follows ``# BEGIN SOLUTION:`` on the marker line (for example
   ``# BEGIN SOLUTION: width = None``), else ``...``. Indentation is kept.
2. Cells tagged ``solution`` (for example a markdown answer) are dropped.
3. Outputs and execution counts are cleared.

The generator never silently overwrites an exercise a learner has changed:
each generated notebook records a hash of its cell sources; if the file on
disk no longer matches its own hash, it is left alone with a message naming
it, unless ``force=True`` (then a ``.bak.ipynb`` copy is kept first).

Command line::

    python -m nwlib.exercises            # write exercises/ that are out of date
    python -m nwlib.exercises --check    # exit 1 if any exercise is out of date
    python -m nwlib.exercises --execute solutions/02_attention_pooling.ipynb
    python -m nwlib.exercises --force    # overwrite edited exercises (keeps a backup)
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat

__all__ = ["make_exercise", "sources_hash", "sync", "execute", "main"]

ROOT = Path(__file__).resolve().parent.parent
BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?::\s*(?P<stub>.*\S))?\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")


class MarkerError(ValueError):
    """A solution notebook with unbalanced BEGIN/END SOLUTION markers."""


def _strip_solution(source: str, where: str) -> str:
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        m = BEGIN.match(line)
        if m:
            if inside:
                raise MarkerError(f"{where}: nested '# BEGIN SOLUTION'")
            inside = True
            indent = m.group("indent")
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}{m.group('stub') or '...'}")
        elif END.match(line):
            if not inside:
                raise MarkerError(f"{where}: '# END SOLUTION' without a BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: '# BEGIN SOLUTION' is never closed")
    return "\n".join(out)


def sources_hash(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the cell types and sources: what a learner edits."""
    payload = json.dumps([[c.cell_type, c.source] for c in nb.cells])
    return hashlib.sha256(payload.encode()).hexdigest()


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise notebook derived from a solution notebook (see the module rules)."""
    nb = copy.deepcopy(solution)
    cells = []
    for i, cell in enumerate(nb.cells):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = _strip_solution(cell.source, f"{name}, cell {i}")
            cell.outputs = []
            cell.execution_count = None
        cell.pop("id", None)
        cells.append(cell)
    nb.cells = cells
    nb.nbformat, nb.nbformat_minor = 4, 4
    nb.metadata["nwlib"] = {"generated_from": f"solutions/{name}", "sources_hash": sources_hash(nb)}
    return nb


def _render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def sync(solutions: Path = ROOT / "solutions", exercises: Path = ROOT / "exercises", *,
         names: list[str] | None = None, check: bool = False, force: bool = False,
         log=print) -> list[Path]:
    """Bring ``exercises/`` up to date; return the exercise paths that were (or would be) stale.

    ``check=True`` writes nothing. A stale exercise whose sources no longer match
    its recorded hash was edited by a learner: it is reported and skipped,
    unless ``force=True``.
    """
    stale: list[Path] = []
    exercises.mkdir(exist_ok=True)
    for sol in sorted(solutions.glob("*.ipynb")):
        if names and sol.name not in names and str(sol) not in names:
            continue
        wanted = _render(make_exercise(nbformat.read(sol, as_version=4), sol.name))
        target = exercises / sol.name
        if target.exists() and target.read_text() == wanted:
            continue
        stale.append(target)
        if check:
            log(f"out of date: {target.relative_to(exercises.parent)} "
                f"(run: python -m nwlib.exercises)")
            continue
        if target.exists():
            current = nbformat.read(target, as_version=4)
            recorded = current.metadata.get("nwlib", {}).get("sources_hash")
            if recorded != sources_hash(current):
                if not force:
                    log(f"refused: {target} has been edited since it was generated; "
                        f"your work is left as it is. Use --force to replace it "
                        f"(a backup is kept).")
                    continue
                backup = target.with_suffix(".bak.ipynb")
                shutil.copyfile(target, backup)
                log(f"backed up your edited {target.name} to {backup.name}")
        target.write_text(wanted)
        log(f"wrote {target.relative_to(exercises.parent)}")
    return stale


def execute(path: Path, timeout: int = 600) -> None:
    """Run a notebook top to bottom in its own folder and store its outputs in place."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nwlib.exercises", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help="solution notebooks (default: all)")
    p.add_argument("--check", action="store_true", help="only report; exit 1 if anything is stale")
    p.add_argument("--force", action="store_true", help="overwrite edited exercises (backup kept)")
    p.add_argument("--execute", action="store_true",
                   help="execute the named solution notebooks in place first")
    a = p.parse_args(argv)
    if a.execute:
        for n in a.names:
            execute(Path(n))
            print(f"executed {n}")
    names = [Path(n).name for n in a.names] or None
    stale = sync(names=names, check=a.check, force=a.force)
    return 1 if (a.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
