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
in a throw-away course directory, with one added preprocessor
(:class:`LearnerCopy`) that drops the solution-only cells and every trace of
execution (timings, kernel display name, Python version): regenerating is
byte-stable. Each exercise records ``exercise_hash``, a hash of what was
generated (cell types, sources, nbgrader metadata).

* **Out of date** means: generating from the solution now would give a
  different exercise (the solution's prompts, stubs or checks changed). A
  learner running, saving or editing an exercise never makes it out of date.
* **Never overwritten**: an exercise a learner ran (it has outputs) or edited
  (its hash no longer matches) is refused, with exit status 1, unless
  ``--force``, which first keeps a copy ``NN_topic.bak.ipynb`` (or
  ``.bak2``, ``.bak3``, ... if that exists).

Command line::

    python -m nwlib.exercises            # regenerate exercises/ that are out of date
    python -m nwlib.exercises --check    # exit 1 if any exercise is out of date
    python -m nwlib.exercises --execute solutions/02_attention_pooling.ipynb
    python -m nwlib.exercises --force    # replace run or edited exercises (keeps a backup)

A name that is not a solution notebook is an error (exit status 2), so a typo
never looks like success. ``--execute`` merges consecutive printed outputs of a
cell into one (as myst-nb's ``nb_merge_streams`` does), so re-executing a
solution gives the same outputs whatever the kernel's timing.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = [
    "SOLUTION_ONLY",
    "LearnerCopy",
    "SyncResult",
    "execute",
    "exercise_hash",
    "generate",
    "learner_touched",
    "main",
    "merge_streams",
    "nbgrader_config",
    "outline",
    "sync",
    "tasks_without_prompt",
]

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_ONLY = "solution-only"
KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}
CODE_STUB = "# YOUR CODE HERE\n..."
_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)


def _preprocessor_base():
    from nbgrader.preprocessors import NbGraderPreprocessor

    return NbGraderPreprocessor


def _make_learner_copy():
    base = _preprocessor_base()

    class LearnerCopy(base):  # type: ignore[misc, valid-type]
        """nbgrader preprocessor: drop solution-only cells and execution noise.

        Raises ``ValueError`` when a solution-only cell holds a heading or is an
        nbgrader cell: dropping it would hide a prompt or a task from learners.
        """

        def preprocess(self, nb, resources):
            kept = []
            for i, cell in enumerate(nb.cells):
                if SOLUTION_ONLY in cell.metadata.get("tags", []):
                    if "nbgrader" in cell.metadata or _HEADING.search(cell.source):
                        raise ValueError(
                            f"{resources.get('unique_key', 'notebook')}, cell {i}: a "
                            f"'{SOLUTION_ONLY}' cell holds a heading or an nbgrader task; put "
                            f"the prompt in a cell of its own"
                        )
                    continue
                for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
                    cell.metadata.pop(key, None)
                kept.append(cell)
            nb.cells = kept
            nb.metadata = nbformat.NotebookNode(
                {
                    "kernelspec": dict(KERNELSPEC),
                    "language_info": {"name": "python"},
                    **{
                        k: v
                        for k, v in nb.metadata.items()
                        if k not in ("kernelspec", "language_info", "widgets", "nwlib")
                    },
                }
            )
            return nb, resources

    return LearnerCopy


def __getattr__(name):  # LearnerCopy needs nbgrader, imported on first use
    if name == "LearnerCopy":
        cls = _make_learner_copy()
        globals()["LearnerCopy"] = cls
        return cls
    raise AttributeError(name)


def nbgrader_config(course_root: Path):
    """The nbgrader configuration of the course (kept here, not in a file at the repo root)."""
    from nbgrader.converters import GenerateAssignment
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.root = str(course_root)
    cfg.CourseDirectory.course_id = "attention-pooling"
    cfg.ClearSolutions.code_stub = {"python": CODE_STUB}
    default = list(GenerateAssignment.class_traits()["preprocessors"].default())
    names = [p.__name__ for p in default]
    default.insert(names.index("ClearOutput") + 1, __getattr__("LearnerCopy"))
    cfg.GenerateAssignment.preprocessors = default
    cfg.Execute.timeout = 300
    # kernels talk over Unix sockets in the course folder, not TCP ports: several
    # kernels starting at once on one machine cannot race for the same port
    cfg.KernelManager.transport = "ipc"
    cfg.KernelManager.ip = str(Path(course_root) / "kernel")
    cfg.Autograde.create_student = True
    return cfg


def nbgrader_api(course_root: Path):
    """nbgrader's ``NbGraderAPI`` for the course in ``course_root`` (its config from
    :func:`nbgrader_config`)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    # nbgrader's gradebook runs the ``alembic`` script found on PATH: make it
    # this interpreter's (a venv used without activating it has no PATH entry)
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    cfg = nbgrader_config(course_root)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def check_nbgrader(result: dict, what: str) -> None:
    """Raise ``RuntimeError`` with nbgrader's error and log unless ``result`` succeeded."""
    if not result.get("success"):
        raise RuntimeError(
            f"nbgrader {what} failed:\n{result.get('error', '')}\n{result.get('log', '')}"
        )


def generate_in(
    course_root: Path, solutions: list[Path], assignment: str = "exercises"
) -> Path:
    """Run nbgrader's ``generate_assignment`` on ``solutions`` inside ``course_root``.

    Returns the release folder holding the generated notebooks. The gradebook
    in ``course_root`` then knows the assignment (for autograding).
    """
    source = course_root / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    for sol in solutions:
        shutil.copyfile(sol, source / sol.name)
    check_nbgrader(
        nbgrader_api(course_root).generate_assignment(
            assignment, force=True, create=True
        ),
        "generate_assignment",
    )
    return course_root / "release" / assignment


def exercise_hash(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of what generation decides: cell types, sources and nbgrader metadata."""
    payload = [
        [c.cell_type, c.source, c.metadata.get("nbgrader", {})] for c in nb.cells
    ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def outline(nb: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    """(heading, prompt text, task cells) for every heading of a notebook, in order.

    Headings count wherever they are, prompt text only from cells a learner
    sees (not ``solution-only``); task cells are nbgrader answer and check
    cells, by ``grade_id``. A solution and its exercise must have the same
    outline.
    """
    sections: list[tuple[str, list[str], list[str]]] = []
    for cell in nb.cells:
        hidden = SOLUTION_ONLY in cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if _HEADING.match(line):
                    sections.append((line.lstrip("#").strip(), [], []))
                elif not hidden and sections:
                    sections[-1][1].append(line)
        elif "nbgrader" in cell.metadata:
            if not sections:
                sections.append(("", [], []))
            sections[-1][2].append(cell.metadata["nbgrader"]["grade_id"])
    return [(h, "\n".join(p).strip(), t) for h, p, t in sections]


def tasks_without_prompt(nb: nbformat.NotebookNode) -> list[str]:
    """The task cells (``grade_id``) that follow no "Exercise" heading with prompt text."""
    return [
        t
        for h, prompt, tasks in outline(nb)
        for t in tasks
        if not (h.startswith("Exercise") and prompt)
    ]


def _render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def generate(solutions: list[Path]) -> dict[str, str]:
    """The exercise text for each solution notebook, keyed by file name (nothing is written)."""
    with tempfile.TemporaryDirectory(prefix="nwlib-nbgrader-") as tmp:
        release = generate_in(Path(tmp), solutions)
        out = {}
        for sol in solutions:
            nb = nbformat.read(release / sol.name, as_version=4)
            mine, theirs = outline(nbformat.read(sol, as_version=4)), outline(nb)
            if mine != theirs or tasks_without_prompt(nb):
                raise ValueError(
                    f"{sol.name}: the exercise would lose a heading, a prompt or a "
                    f"task (outline {theirs} != {mine}, tasks without a prompt: "
                    f"{tasks_without_prompt(nb)})"
                )
            nb.metadata["nwlib"] = {
                "generated_from": f"solutions/{sol.name}",
                "exercise_hash": exercise_hash(nb),
            }
            out[sol.name] = _render(nb)
    return out


def learner_touched(nb: nbformat.NotebookNode) -> bool:
    """True when a learner ran (outputs) or edited (sources) this exercise notebook."""
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
    k = 1
    while True:
        backup = target.with_suffix(f".bak{k if k > 1 else ''}.ipynb")
        if not backup.exists():
            shutil.copyfile(target, backup)
            return backup
        k += 1


@dataclass
class SyncResult:
    """What :func:`sync` found: stale exercises, those written, those refused."""

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

    ``check=True`` writes nothing. An out-of-date exercise that a learner ran or
    edited is refused (listed in ``refused``) unless ``force=True``, which keeps
    a backup first. An exercise that is current but differs byte for byte is
    rewritten only when nobody touched it.
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
                log(
                    f"out of date: {target} (its solution changed; run: python -m nwlib.exercises"
                    + (
                        " --force, which keeps a backup of the work in it)"
                        if touched
                        else ")"
                    )
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
                    f"refused: {target} was run or edited, so it holds your work; it is left "
                    f"as it is. Use --force to replace it (a backup is kept)."
                )
                continue
            log(f"kept your {target.name} as {_backup(target).name}")
        target.write_text(text)
        res.written.append(target)
        log(f"wrote {target}")
    return res


def merge_streams(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Join consecutive stream outputs of the same name (stdout, stderr) in every code cell.

    A kernel flushes printed text in chunks that depend on timing; one output per
    run of printing makes re-executed notebooks byte-stable. Returns ``nb``.
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged: list = []
        for out in cell.get("outputs", []):
            if (
                out.get("output_type") == "stream"
                and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")
            ):
                merged[-1]["text"] = merged[-1]["text"] + out["text"]
            else:
                merged.append(out)
        if "outputs" in cell:
            cell.outputs = merged
    return nb


def execute(path: Path, timeout: int = 300, tries: int = 3) -> None:
    """Run a notebook top to bottom in its own folder and store its outputs in place
    (consecutive printed outputs merged, see :func:`merge_streams`).

    A cell that produces nothing for ``timeout`` seconds is taken as a lost kernel
    message, not as slow code (every cell of the course runs in well under a minute):
    the notebook is run again in a fresh kernel, up to ``tries`` times in all. On a
    busy machine nbclient occasionally waits forever for a reply from an idle
    ipykernel 7 kernel, most often after a cell that displays ipywidgets
    (jupyter/nbclient issue 312); a cell that really raises is never retried.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    source = nbformat.read(path, as_version=4)
    for attempt in range(1, tries + 1):
        nb = copy.deepcopy(source)
        with tempfile.TemporaryDirectory(prefix="nwlib-kernel-") as sockets:
            cfg = Config()
            cfg.KernelManager.transport = "ipc"  # Unix sockets: no race for TCP ports
            cfg.KernelManager.ip = str(Path(sockets) / "kernel")
            client = NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                record_timing=False,
                config=cfg,
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                resources={"metadata": {"path": str(Path(path).parent)}},
            )
            try:
                client.execute()
                break
            except (CellTimeoutError, DeadKernelError, TimeoutError) as exc:
                if attempt == tries:
                    raise
                print(
                    f"{Path(path).name}: {type(exc).__name__} (a lost kernel message); "
                    f"running it again in a fresh kernel ({attempt + 1} of {tries})",
                    file=sys.stderr,
                )
    nbformat.write(merge_streams(nb), path)


def main(argv: list[str] | None = None) -> int:
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
