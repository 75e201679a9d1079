"""The throw-away nbgrader course behind the exercises and the autograder.

No ``nbgrader_config.py`` and no course folder live in the repository: each
command (:mod:`nwlib.exercises`, :mod:`nwlib.grading`) builds a course in a
temporary directory with :func:`nbgrader_config` and drives it through
:func:`nbgrader_api`. The configuration is nbgrader's own, plus the stub
``# YOUR CODE HERE`` / ``...`` (not ``raise NotImplementedError()``, so Run All
reaches every self-check) and one added preprocessor, :class:`LearnerCopy`.

nbgrader is an optional dependency (the ``grading`` extra): it is imported on
first use, so ``import nwlib.nbgrader_course`` works without it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

__all__ = [
    "CODE_STUB",
    "HEADING",
    "KERNELSPEC",
    "SOLUTION_ONLY",
    "LearnerCopy",  # noqa: F822  (made on first use, by __getattr__)
    "check_nbgrader",
    "generate_in",
    "nbgrader_api",
    "nbgrader_config",
]

#: The tag of a cell that is left out of the exercise (a discussion of the answer).
SOLUTION_ONLY = "solution-only"
#: The kernel every exercise notebook names (whatever kernel ran its solution).
KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}
#: What nbgrader puts where the answer was.
CODE_STUB = "# YOUR CODE HERE\n..."
#: A markdown heading line (``#`` to ``######`` and a space).
HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)

LEARNER_COPY_DOC = """nbgrader preprocessor: drop solution-only cells, execution noise.

    Runs in ``generate_assignment`` right after nbgrader's ``ClearOutput``. Its
    ``preprocess(nb, resources)`` changes the notebook ``nb`` in place and returns
    ``(nb, resources)``; ``resources["unique_key"]`` names the notebook in errors.
    Cells tagged ``solution-only`` are removed; from every other cell the execution
    metadata (``execution``, ``collapsed``, ``scrolled``, ``ExecuteTime``) is
    removed; the notebook's metadata names :data:`KERNELSPEC` and drops the
    solution's ``language_info``, ``widgets`` and ``nwlib`` entries, so that
    regenerating an exercise is byte-stable.

    Parameters
    ----------
    **kw
        Configuration, as for every nbgrader preprocessor (traitlets ``config``,
        ``parent``); none is needed.

    Raises
    ------
    ValueError
        From ``preprocess``, when a solution-only cell holds a heading or is an
        nbgrader cell: dropping it would hide a prompt or a task from learners.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    >>> from nwlib.nbgrader_course import LearnerCopy
    >>> nb = new_notebook(cells=[new_markdown_cell("## Exercise 1"),
    ...                          new_code_cell("print(h)")])
    >>> nb.cells[1].metadata["tags"] = ["solution-only"]
    >>> nb, _ = LearnerCopy().preprocess(nb, {})
    >>> [c.source for c in nb.cells]
    ['## Exercise 1']
    >>> bad = new_notebook(cells=[new_markdown_cell("## Exercise 2")])
    >>> bad.cells[0].metadata["tags"] = ["solution-only"]
    >>> LearnerCopy().preprocess(bad, {"unique_key": "02"})
    Traceback (most recent call last):
    ...
    ValueError: 02, cell 0: a 'solution-only' cell holds a heading or an nbgrader \
task; put the prompt in a cell of its own
    """

# doctest does not see a class made on first use: run its Examples from here
__test__ = {"LearnerCopy": LEARNER_COPY_DOC}


def _make_learner_copy():
    from nbgrader.preprocessors import NbGraderPreprocessor

    class LearnerCopy(NbGraderPreprocessor):
        __doc__ = LEARNER_COPY_DOC

        def preprocess(self, nb, resources):
            kept = []
            for i, cell in enumerate(nb.cells):
                if SOLUTION_ONLY in cell.metadata.get("tags", []):
                    if "nbgrader" in cell.metadata or HEADING.search(cell.source):
                        raise ValueError(
                            f"{resources.get('unique_key', 'notebook')}, cell {i}: "
                            f"a '{SOLUTION_ONLY}' cell holds a heading or an nbgrader "
                            f"task; put the prompt in a cell of its own"
                        )
                    continue
                for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
                    cell.metadata.pop(key, None)
                kept.append(cell)
            nb.cells = kept
            dropped = ("kernelspec", "language_info", "widgets", "nwlib")
            nb.metadata = nbformat.NotebookNode(
                {
                    "kernelspec": dict(KERNELSPEC),
                    "language_info": {"name": "python"},
                    **{k: v for k, v in nb.metadata.items() if k not in dropped},
                }
            )
            return nb, resources

    LearnerCopy.__module__ = __name__
    return LearnerCopy


def __getattr__(name):  # LearnerCopy needs nbgrader, imported on first use
    if name == "LearnerCopy":
        cls = _make_learner_copy()
        globals()["LearnerCopy"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def nbgrader_config(course_root: Path):
    """The nbgrader configuration of the course (kept here, not in a file).

    Parameters
    ----------
    course_root : path-like
        The course directory (``source/``, ``release/``, ``submitted/``,
        ``autograded/`` and ``gradebook.db`` go under it); kernels started for
        this course talk over Unix sockets in it, not TCP ports, so that several
        kernels starting at once on one machine cannot race for a port.

    Returns
    -------
    traitlets.config.Config
        Course id ``attention-pooling``, the stub :data:`CODE_STUB`,
        :class:`LearnerCopy` after ``ClearOutput`` in ``generate_assignment``,
        a 300 s cell timeout, and ``Autograde.create_student``.

    Examples
    --------
    >>> from nwlib.nbgrader_course import nbgrader_config
    >>> cfg = nbgrader_config("/tmp/course")
    >>> cfg.CourseDirectory.course_id, cfg.ClearSolutions.code_stub["python"]
    ('attention-pooling', '# YOUR CODE HERE\\n...')
    >>> steps = [p.__name__ for p in cfg.GenerateAssignment.preprocessors]
    >>> steps[steps.index("ClearOutput") + 1]
    'LearnerCopy'
    """
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
    cfg.KernelManager.transport = "ipc"
    cfg.KernelManager.ip = str(Path(course_root) / "kernel")
    cfg.Autograde.create_student = True
    return cfg


def nbgrader_api(course_root: Path):
    """nbgrader's ``NbGraderAPI`` for the course in ``course_root``.

    Its configuration is :func:`nbgrader_config`. nbgrader's gradebook runs the
    ``alembic`` script found on ``PATH``, so this interpreter's ``bin`` folder is
    put first on ``PATH`` when it is missing (a venv used without activating it).

    Parameters
    ----------
    course_root : path-like
        The course directory.

    Returns
    -------
    nbgrader.apps.NbGraderAPI

    Examples
    --------
    >>> import tempfile
    >>> from nwlib.nbgrader_course import nbgrader_api
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     api = nbgrader_api(tmp)
    ...     print(api.coursedir.course_id)
    attention-pooling
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    cfg = nbgrader_config(course_root)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def check_nbgrader(result: dict, what: str) -> None:
    """Raise unless an ``NbGraderAPI`` call succeeded.

    Parameters
    ----------
    result : dict
        What an ``NbGraderAPI`` method returns: ``success``, ``error``, ``log``.
    what : str
        The step, for the message (``"generate_assignment"``).

    Raises
    ------
    RuntimeError
        With nbgrader's error and log, when ``result["success"]`` is false.

    Examples
    --------
    >>> check_nbgrader({"success": True}, "generate_assignment")
    >>> check_nbgrader({"success": False, "error": "no such assignment"}, "autograde")
    Traceback (most recent call last):
    ...
    RuntimeError: nbgrader autograde failed:
    no such assignment
    <BLANKLINE>
    """
    if not result.get("success"):
        error, log = result.get("error", ""), result.get("log", "")
        raise RuntimeError(f"nbgrader {what} failed:\n{error}\n{log}")


def generate_in(
    course_root: Path, solutions: list[Path], assignment: str = "exercises"
) -> Path:
    """Run nbgrader's ``generate_assignment`` on ``solutions`` inside ``course_root``.

    The gradebook in ``course_root`` then knows the assignment (for autograding).
    Nothing is executed: no kernel starts.

    Parameters
    ----------
    course_root : Path
        The course directory; ``source/<assignment>/`` receives copies of the
        solutions.
    solutions : list of Path
        nbgrader source notebooks.
    assignment : str, default "exercises"
        The assignment's name.

    Returns
    -------
    Path
        The release folder ``course_root/release/<assignment>`` holding the
        generated notebooks, one per solution, by the same file name.

    Raises
    ------
    RuntimeError
        When nbgrader fails (see :func:`check_nbgrader`).

    Examples
    --------
    >>> import tempfile
    >>> import nbformat
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell("### BEGIN SOLUTION\\nh = 0.5\\n### END SOLUTION")
    >>> cell.metadata["nbgrader"] = {"solution": True, "grade": False,
    ...     "locked": False, "grade_id": "ex1_answer", "schema_version": 3}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sol = Path(tmp) / "01_demo.ipynb"
    ...     nbformat.write(new_notebook(cells=[cell]), sol)
    ...     release = generate_in(Path(tmp) / "course", [sol])
    ...     print(nbformat.read(release / sol.name, 4).cells[0].source)
    # YOUR CODE HERE
    ...
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
