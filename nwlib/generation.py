"""Exercise notebooks generated from solution notebooks, and their outline.

Each ``solutions/NN_topic.ipynb`` is an nbgrader *source* notebook (see
:mod:`nwlib.exercises` for its cells). :func:`generate` runs nbgrader's
``generate_assignment`` in a throw-away course (:mod:`nwlib.nbgrader_course`),
refuses an exercise whose :func:`outline` differs from its solution's (a
heading, a prompt or a task would be lost), and stamps each exercise with
:func:`exercise_hash`, a hash of what was generated.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import nbformat

from .nbgrader_course import HEADING, SOLUTION_ONLY, generate_in

__all__ = ["exercise_hash", "generate", "outline", "tasks_without_prompt"]


def exercise_hash(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of what generation decides: cell types, sources, nbgrader metadata.

    Outputs, execution counts and other metadata do not enter: running or saving
    an exercise keeps its hash; editing a cell changes it.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook (version 4).

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> nb = new_notebook(cells=[new_code_cell("h = ...")])
    >>> before = exercise_hash(nb)
    >>> nb.cells[0].execution_count = 1
    >>> exercise_hash(nb) == before
    True
    >>> nb.cells[0].source = "h = 0.5"
    >>> exercise_hash(nb) == before
    False
    """
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

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A solution or exercise notebook.

    Returns
    -------
    list of (str, str, list of str)
        One entry per markdown heading (its text without ``#``), the prompt
        text below it, and the ``grade_id`` of the nbgrader cells below it. Task
        cells before any heading come under the heading ``""``.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    >>> task = new_code_cell("h = ...")
    >>> task.metadata["nbgrader"] = {"grade_id": "ex1_answer"}
    >>> nb = new_notebook(cells=[
    ...     new_markdown_cell("## Exercise 1\\nFind the width `h`."), task])
    >>> outline(nb)
    [('Exercise 1', 'Find the width `h`.', ['ex1_answer'])]
    """
    sections: list[tuple[str, list[str], list[str]]] = []
    for cell in nb.cells:
        hidden = SOLUTION_ONLY in cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if HEADING.match(line):
                    sections.append((line.lstrip("#").strip(), [], []))
                elif not hidden and sections:
                    sections[-1][1].append(line)
        elif "nbgrader" in cell.metadata:
            if not sections:
                sections.append(("", [], []))
            sections[-1][2].append(cell.metadata["nbgrader"]["grade_id"])
    return [(h, "\n".join(p).strip(), t) for h, p, t in sections]


def tasks_without_prompt(nb: nbformat.NotebookNode) -> list[str]:
    """The task cells that follow no "Exercise" heading with prompt text.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A solution or exercise notebook.

    Returns
    -------
    list of str
        The ``grade_id`` of each such task cell (empty when every task has its
        prompt).

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    >>> task = new_code_cell("h = ...")
    >>> task.metadata["nbgrader"] = {"grade_id": "ex1_answer"}
    >>> tasks_without_prompt(new_notebook(cells=[new_markdown_cell("## Exercise 1"),
    ...                                          task]))
    ['ex1_answer']
    >>> tasks_without_prompt(new_notebook(cells=[
    ...     new_markdown_cell("## Exercise 1\\nFind `h`."), task]))
    []
    """
    return [
        t
        for h, prompt, tasks in outline(nb)
        for t in tasks
        if not (h.startswith("Exercise") and prompt)
    ]


def generate(solutions: list[Path]) -> dict[str, str]:
    """The exercise text for each solution notebook; nothing is written.

    nbgrader's ``generate_assignment`` runs in a temporary course (no kernel
    starts). Each exercise's metadata records ``nwlib.generated_from`` and
    ``nwlib.exercise_hash`` (:func:`exercise_hash`).

    Parameters
    ----------
    solutions : list of Path
        nbgrader source notebooks.

    Returns
    -------
    dict of str to str
        The exercise notebook's text (nbformat JSON and a final newline), keyed
        by the solution's file name.

    Raises
    ------
    ValueError
        When an exercise's :func:`outline` differs from its solution's, or a
        task follows no prompt (:func:`tasks_without_prompt`).
    RuntimeError
        When nbgrader fails.

    Examples
    --------
    >>> import tempfile
    >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    >>> answer = new_code_cell("### BEGIN SOLUTION\\nh = 0.5\\n### END SOLUTION")
    >>> answer.metadata["nbgrader"] = {"solution": True, "grade": False,
    ...     "locked": False, "grade_id": "ex1_answer", "schema_version": 3}
    >>> nb = new_notebook(cells=[new_markdown_cell("## Exercise 1\\nFind `h`."),
    ...                          answer])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sol = Path(tmp) / "01_demo.ipynb"
    ...     nbformat.write(nb, sol)
    ...     text = generate([sol])["01_demo.ipynb"]
    >>> ex = nbformat.reads(text, 4)
    >>> ex.cells[1].source
    '# YOUR CODE HERE\\n...'
    >>> ex.metadata["nwlib"]["exercise_hash"] == exercise_hash(ex)
    True
    """
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
            out[sol.name] = nbformat.writes(nb) + "\n"
    return out
