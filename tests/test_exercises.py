"""Exercises are generated from solutions by nbgrader: same outline, in sync, never
clobbering work."""

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nwlib.exercises import (
    SOLUTION_ONLY,
    execute,
    exercise_hash,
    generate,
    learner_touched,
    main,
    outline,
    sync,
    tasks_without_prompt,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
IDS = [p.stem for p in SOLUTIONS]


def _outputs(nb, cell):
    return "".join(o.get("text", "") for o in cell.outputs)


def _grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


@pytest.fixture(scope="module")
def generated():
    return generate(SOLUTIONS)


def test_every_exercise_is_what_nbgrader_generates_byte_for_byte(generated):
    names = {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
    assert names == set(generated), "run `python -m nwlib.exercises`"
    stale = [
        n
        for n, text in generated.items()
        if (ROOT / "exercises" / n).read_text() != text
    ]
    assert not stale, f"run `python -m nwlib.exercises`: stale {stale}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_exercise_outline_matches_its_solution(path):
    sol = nbformat.read(path, 4)
    ex = nbformat.read(ROOT / "exercises" / path.name, 4)
    assert outline(ex) == outline(sol)
    assert tasks_without_prompt(ex) == []
    exercises = [h for h, _, tasks in outline(ex) if h.startswith("Exercise")]
    assert len(exercises) >= 3 and all(
        tasks for h, _, tasks in outline(ex) if h.startswith("Exercise")
    )
    assert any(h.startswith("Explore") for h, _, _ in outline(ex))


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_solution_is_an_nbgrader_source_notebook(path):
    nb = nbformat.read(path, 4)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    grades = _grade_cells(nb)
    assert answers and grades
    for c in answers:
        assert "### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source
    for c in grades:
        md = c.metadata["nbgrader"]
        assert md["locked"] and md["points"] == 1
        assert "### BEGIN HIDDEN TESTS" in c.source and "require(" in c.source
    for c in nb.cells:  # solution-only cells never carry a heading (a prompt) or a task
        if SOLUTION_ONLY in c.metadata.get("tags", []):
            assert "nbgrader" not in c.metadata and not c.source.lstrip().startswith(
                "#" * 2
            )
            assert "\n## " not in c.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_exercise_has_stubs_no_solutions_no_noise(path):
    text = (ROOT / "exercises" / path.name).read_text()
    nb = nbformat.reads(text, 4)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "NotImplementedError" not in text and "NBVAL" not in text
    assert "# YOUR CODE HERE\n" in text.replace('\\n",\n    "', "\n")
    assert nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert nb.metadata["language_info"] == {"name": "python"}
    assert '"execution"' not in text and "iopub" not in text
    assert all(
        c.get("outputs") == [] and c.get("execution_count") is None
        for c in nb.cells
        if c.cell_type == "code"
    )
    for c in _grade_cells(nb):
        assert not c.metadata["editable"] and not c.metadata["deletable"]


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_untouched_exercise_runs_and_every_check_says_not_done(path, tmp_path):
    ex = tmp_path / path.name
    ex.write_text((ROOT / "exercises" / path.name).read_text())
    execute(ex)  # raises CellExecutionError if any cell fails
    nb = nbformat.read(ex, 4)
    for c in _grade_cells(nb):
        assert _outputs(nb, c).startswith("Not done yet"), (c.source, _outputs(nb, c))
    text = "".join(_outputs(nb, c) for c in nb.cells if c.cell_type == "code")
    assert "Traceback" not in text and "Warning" not in text
    assert "0.00 ms" not in text
    shown = [
        o["data"].get("text/plain", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "execute_result"
    ]
    assert "Ellipsis" not in shown  # a stub never shows up as `Out: Ellipsis`


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_solution_checks_all_pass_and_explore_draws(path):
    nb = nbformat.read(path, 4)
    for c in _grade_cells(nb):
        assert _outputs(nb, c).startswith("Correct:"), (c.source, _outputs(nb, c))
    text = "".join(_outputs(nb, c) for c in nb.cells if c.cell_type == "code")
    assert (
        "Not quite" not in text
        and "Not done yet" not in text
        and "Explore:" not in text
    )
    first = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Explore"))
    explore = nb.cells[first:]
    assert any(
        "image/png" in o.get("data", {})
        for c in explore
        if c.cell_type == "code"
        for o in c.outputs
    )


# ---- generation rules on a small nbgrader source notebook ----------------------------


def _meta(kind, gid):
    return {
        "nbgrader": {
            "grade": kind == "grade",
            "grade_id": gid,
            "locked": kind == "grade",
            "schema_version": 3,
            "solution": kind == "solution",
            "task": False,
            **({"points": 1} if kind == "grade" else {}),
        }
    }


def _solution(prompt="Write `f(u)`: return `u + 1`."):
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Demo"),
            new_markdown_cell(f"## Exercise 1: add one\n\n{prompt}"),
            new_code_cell(
                "def f(u):\n    ### BEGIN SOLUTION\n    return u + 1\n"
                "    ### END SOLUTION",
                metadata=_meta("solution", "ex1_f_answer"),
            ),
            new_code_cell(
                "print('Correct' if f(1) == 2 else 'Not done yet')\n"
                "### BEGIN HIDDEN TESTS\n"
                "assert f(1) == 2\n### END HIDDEN TESTS",
                metadata=_meta("grade", "ex1_f"),
                outputs=[new_output("stream", text="Correct\n")],
                execution_count=3,
            ),
            new_markdown_cell(
                "Adding one is easy.", metadata={"tags": [SOLUTION_ONLY]}
            ),
        ]
    )
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (my laptop)",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.cells[3].metadata["execution"] = {
        "iopub.execute_input": "2026-11-29T10:00:00.000Z"
    }
    return nb


def _setup(tmp_path, nb=None):
    sol, exd = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    nbformat.write(nb or _solution(), sol / "demo.ipynb")
    return sol, exd


def test_generation_stubs_drops_solution_only_and_noise(tmp_path):
    sol, exd = _setup(tmp_path)
    res = sync(sol, exd, log=lambda m: None)
    assert res.written == [exd / "demo.ipynb"]
    text = (exd / "demo.ipynb").read_text()
    nb = nbformat.reads(text, 4)
    assert nb.cells[2].source == "def f(u):\n    # YOUR CODE HERE\n    ..."
    assert nb.cells[3].source == "print('Correct' if f(1) == 2 else 'Not done yet')"
    assert "Adding one" not in text and "my laptop" not in text and "2026" not in text
    assert "3.11.7" not in text
    assert nb.metadata["nwlib"]["exercise_hash"] == exercise_hash(nb)
    again = sync(sol, exd, log=lambda m: None)  # byte-stable: nothing to write
    assert again.written == [] and again.stale == []
    assert (exd / "demo.ipynb").read_text() == text


def test_a_prompt_in_a_solution_only_cell_is_refused(tmp_path):
    nb = _solution()
    nb.cells[4].source += "\n\n## Exercise 2: hidden prompt\n\nWrite `g`."
    sol, exd = _setup(tmp_path, nb)
    with pytest.raises(Exception, match="heading"):
        sync(sol, exd, log=lambda m: None)
    assert not (exd / "demo.ipynb").exists()


def test_outline_sees_a_lost_prompt():
    sol = _solution()
    ex = _solution()
    ex.cells[1].source = "## Exercise 1: add one"  # the task text went missing
    assert outline(ex) != outline(sol)
    assert tasks_without_prompt(ex) == ["ex1_f_answer", "ex1_f"]
    assert tasks_without_prompt(sol) == []


def _run_it(path, edit=None):
    """What a learner's Jupyter does: outputs, counts, timings, maybe an edit; save."""
    nb = nbformat.read(path, 4)
    for k, c in enumerate(c for c in nb.cells if c.cell_type == "code"):
        c.execution_count = k + 1
        c.outputs = [new_output("stream", text="Not done yet\n")]
        c.metadata["execution"] = {"iopub.status.idle": "2026-11-29T12:00:00Z"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.9"}
    if edit:
        nb.cells[2].source = nb.cells[2].source.replace("...", edit)
    nbformat.write(nb, path)
    return path.read_text()


@pytest.mark.slow  # runs the learner's notebook in a Jupyter kernel (about 14 s)
@pytest.mark.parametrize(
    "edit", [None, "return u + 1  # mine"], ids=["ran", "ran-and-edited"]
)
def test_a_learners_notebook_is_never_out_of_date_nor_overwritten(
    tmp_path, edit, capsys
):
    sol, exd = _setup(tmp_path)
    sync(sol, exd, log=lambda m: None)
    target = exd / "demo.ipynb"
    mine = _run_it(target, edit)
    assert learner_touched(nbformat.read(target, 4))
    dirs = ["--solutions", str(sol), "--exercises", str(exd)]

    # no solution changed: not out of date, nothing written, exit 0
    assert main(["--check", *dirs]) == 0
    assert main(dirs) == 0
    assert target.read_text() == mine

    # the solution's prompt changes: out of date, but the learner's file is refused,
    # exit 1
    nbformat.write(
        _solution("Write `f(u)`: return `u + 1` (revised)."), sol / "demo.ipynb"
    )
    capsys.readouterr()
    assert main(["--check", *dirs]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main(dirs) == 1
    assert "refused" in capsys.readouterr().out
    assert target.read_text() == mine

    # --force keeps a backup of exactly what was there, then regenerates
    assert main(["--force", *dirs]) == 0
    assert (exd / "demo.bak.ipynb").read_text() == mine
    assert "(revised)" in target.read_text()
    _run_it(target)
    nbformat.write(_solution("Third version."), sol / "demo.ipynb")
    assert main(["--force", *dirs]) == 0
    assert (exd / "demo.bak.ipynb").read_text() == mine  # an older backup is kept too
    assert "(revised)" in (exd / "demo.bak2.ipynb").read_text()
    assert "Third version." in target.read_text()


def test_an_untouched_outdated_exercise_is_regenerated_without_backup(tmp_path):
    sol, exd = _setup(tmp_path)
    sync(sol, exd, log=lambda m: None)
    nbformat.write(_solution("New words."), sol / "demo.ipynb")
    res = sync(sol, exd, log=lambda m: None)
    assert res.stale == res.written == [exd / "demo.ipynb"] and res.refused == []
    assert "New words." in (exd / "demo.ipynb").read_text()
    assert not list(exd.glob("*.bak*.ipynb"))


def test_a_solution_change_inside_the_answer_only_is_not_stale(tmp_path):
    sol, exd = _setup(tmp_path)
    sync(sol, exd, log=lambda m: None)
    nb = _solution()
    nb.cells[2].source = nb.cells[2].source.replace("return u + 1", "return 1 + u")
    nb.cells[4].source = "Adding one is easy; either order works."
    nbformat.write(nb, sol / "demo.ipynb")
    assert sync(sol, exd, check=True, log=lambda m: None).stale == []
    assert (
        json.loads((exd / "demo.ipynb").read_text())["cells"][2]["source"][-1]
        == "    ..."
    )


def test_up_to_date_is_said_in_one_line(tmp_path, capsys):
    sol, exd = _setup(tmp_path)
    sync(sol, exd, log=lambda m: None)
    dirs = ["--solutions", str(sol), "--exercises", str(exd)]
    capsys.readouterr()
    assert main(["--check", *dirs]) == 0
    assert capsys.readouterr().out == "all 1 exercises are up to date\n"
    assert main(dirs) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags",
    [[], ["--check"], ["--execute"], ["--force"]],
    ids=["sync", "check", "execute", "force"],
)
def test_an_unknown_notebook_name_is_an_error_without_traceback(
    tmp_path, flags, capsys
):
    sol, exd = _setup(tmp_path)
    sync(sol, exd, log=lambda m: None)
    before = (exd / "demo.ipynb").read_text()
    typo = str(sol / "demo_typo.ipynb")
    assert main([*flags, "--solutions", str(sol), "--exercises", str(exd), typo]) == 2
    err = capsys.readouterr().err
    assert (
        "no solution notebook" in err
        and "demo_typo.ipynb" in err
        and "demo.ipynb" in err
    )
    assert "Traceback" not in err
    assert (exd / "demo.ipynb").read_text() == before


def test_execute_merges_consecutive_stream_outputs():
    from nwlib.exercises import merge_streams

    nb = new_notebook(cells=[new_code_cell("print(1); print(2)")])
    nb.cells[0].outputs = [
        new_output("stream", name="stdout", text="1\n"),
        new_output("stream", name="stdout", text="2\n"),
        new_output("stream", name="stderr", text="w\n"),
        new_output("stream", name="stdout", text="3\n"),
        new_output("stream", name="stdout", text="4\n"),
    ]
    merge_streams(nb)
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [
        ("stdout", "1\n2\n"),
        ("stderr", "w\n"),
        ("stdout", "3\n4\n"),
    ]


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_stored_solution_outputs_have_no_split_streams(path):
    for c in nbformat.read(path, 4).cells:
        kinds = [
            o.get("name") if o.output_type == "stream" else None
            for o in c.get("outputs", [])
        ]
        assert all(
            a is None or a != b for a, b in zip(kinds, kinds[1:], strict=False)
        ), (path.name, c.source[:60])


def test_execute_runs_again_after_a_silent_cell_then_gives_up(tmp_path, capsys):
    """A cell silent for `timeout` seconds is taken as a lost kernel message: the
    notebook runs again in a fresh kernel, and the error comes after the last try."""
    from nbclient.exceptions import CellTimeoutError

    path = tmp_path / "silent.ipynb"
    nbformat.write(
        new_notebook(
            cells=[new_code_cell("import time\ntime.sleep(5)")],
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3",
                    "language": "python",
                }
            },
        ),
        path,
    )
    with pytest.raises(CellTimeoutError):
        execute(path, timeout=1, tries=2)
    assert "running it again in a fresh kernel (2 of 2)" in capsys.readouterr().err
