"""Exercises are generated from solutions, stay in sync, and never clobber a learner's work."""
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nwlib.exercises import MarkerError, execute, make_exercise, sources_hash, sync

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def test_every_exercise_is_up_to_date():
    stale = sync(check=True, log=lambda m: None)
    assert not stale, f"run `python -m nwlib.exercises`: stale {[p.name for p in stale]}"
    assert {p.name for p in SOLUTIONS} == {p.name for p in (ROOT / "exercises").glob("*.ipynb")
                                           if not p.name.endswith(".bak.ipynb")}


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_untouched_exercise_runs_and_says_not_done(path, tmp_path):
    ex = tmp_path / path.name
    ex.write_text((ROOT / "exercises" / path.name).read_text())
    execute(ex)  # raises CellExecutionError if any cell fails
    text = "".join(o.get("text", "") for c in nbformat.read(ex, 4).cells
                   if c.cell_type == "code" for o in c.outputs)
    assert "Not done yet" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_checks_all_pass(path):
    text = "".join(o.get("text", "") for c in nbformat.read(path, 4).cells
                   if c.cell_type == "code" for o in c.outputs)
    assert "Correct:" in text
    assert "Not quite" not in text and "Not done yet" not in text


def _solution():
    return new_notebook(cells=[
        new_markdown_cell("# Demo"),
        new_code_cell("def f(u):\n    # BEGIN SOLUTION\n    return u + 1\n    # END SOLUTION\n"
                      "h = 2\n# BEGIN SOLUTION: w = None\nw = f(h)\n# END SOLUTION",
                      outputs=[nbformat.v4.new_output("stream", text="3\n")], execution_count=4),
        new_markdown_cell("The answer is 3.", metadata={"tags": ["solution"]}),
    ])


def test_markers_stubs_and_solution_cells():
    ex = make_exercise(_solution(), "demo.ipynb")
    assert len(ex.cells) == 2
    code = ex.cells[1]
    assert code.source == ("def f(u):\n    # YOUR CODE HERE\n    ...\n"
                           "h = 2\n# YOUR CODE HERE\nw = None")
    assert code.outputs == [] and code.execution_count is None
    assert ex.metadata["nwlib"]["sources_hash"] == sources_hash(ex)


@pytest.mark.parametrize("src", ["# BEGIN SOLUTION\nx = 1",
                                 "# END SOLUTION",
                                 "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION"])
def test_unbalanced_markers_are_errors(src):
    with pytest.raises(MarkerError):
        make_exercise(new_notebook(cells=[new_code_cell(src)]), "bad.ipynb")


def test_learner_edits_are_never_overwritten_unless_forced(tmp_path):
    sol, exd = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    nbformat.write(_solution(), sol / "demo.ipynb")
    logs = []
    assert sync(sol, exd, log=logs.append) == [exd / "demo.ipynb"]
    assert sync(sol, exd, check=True, log=logs.append) == []  # now in sync

    mine = nbformat.read(exd / "demo.ipynb", 4)
    mine.cells[1].source = mine.cells[1].source.replace("w = None", "w = 99  # my answer")
    nbformat.write(mine, exd / "demo.ipynb")
    edited = (exd / "demo.ipynb").read_text()

    sol_nb = nbformat.read(sol / "demo.ipynb", 4)
    sol_nb.cells[0].source = "# Demo, revised"
    nbformat.write(sol_nb, sol / "demo.ipynb")

    logs.clear()
    sync(sol, exd, log=logs.append)
    assert (exd / "demo.ipynb").read_text() == edited  # the learner's work survives
    assert any("refused" in m and "demo.ipynb" in m for m in logs)

    sync(sol, exd, force=True, log=logs.append)
    assert "my answer" in (exd / "demo.bak.ipynb").read_text()
    assert "# Demo, revised" in (exd / "demo.ipynb").read_text()


def test_outdated_but_untouched_exercise_is_regenerated(tmp_path):
    sol, exd = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    nbformat.write(_solution(), sol / "demo.ipynb")
    sync(sol, exd, log=lambda m: None)
    nb = nbformat.read(sol / "demo.ipynb", 4)
    nb.cells[0].source = "# Demo 2"
    nbformat.write(nb, sol / "demo.ipynb")
    assert sync(sol, exd, log=lambda m: None) == [exd / "demo.ipynb"]
    assert "# Demo 2" in (exd / "demo.ipynb").read_text()
    assert not (exd / "demo.bak.ipynb").exists()
