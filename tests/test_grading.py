"""Autograding with nbgrader: solutions get full marks, untouched exercises zero,
partial work its points."""

import csv
import doctest
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import nwlib.explore
import nwlib.grading
from nwlib.grading import autograde, fill_answers, main, require

# nbgrader 0.9.6's own gradebook queries trigger SQLAlchemy autoflush warnings
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
slow = pytest.mark.slow  # each grading run starts kernels: `make unit` skips these

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
PARTIAL = "01_kernels.ipynb"
SOLVED = {
    "ex1_epanechnikov_answer",
    "ex3_half_height_width_answer",
}  # exercises 1 and 3
DELETED = "ex1_epanechnikov"


class Rows(list):
    """The CSV rows, and what the command printed (``console``)."""

    console = ""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sub = tmp_path_factory.mktemp("submissions")
    (sub / "full").mkdir()
    (sub / "untouched").mkdir()
    (sub / "partial").mkdir()
    for s in SOLUTIONS:
        shutil.copyfile(s, sub / "full" / s.name)
        shutil.copyfile(ROOT / "exercises" / s.name, sub / "untouched" / s.name)
    nbformat.write(
        fill_answers(
            ROOT / "exercises" / PARTIAL, ROOT / "solutions" / PARTIAL, SOLVED
        ),
        sub / "partial" / PARTIAL,
    )
    # a learner whose solved 01 lost its first check cell (possible outside Jupyter)
    (sub / "deleted").mkdir()
    nb = fill_answers(ROOT / "exercises" / PARTIAL, ROOT / "solutions" / PARTIAL)
    nb.cells = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != DELETED
    ]
    nbformat.write(nb, sub / "deleted" / PARTIAL)
    out = sub.parent / "grades.csv"
    # the documented command, as an instructor runs it: its terminal output is checked
    run = subprocess.run(
        [sys.executable, "-m", "nwlib.grading", str(sub), "--csv", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert run.returncode == 0, run.stderr
    with open(out, newline="") as f:
        rows = Rows(csv.DictReader(f))
    rows.console = run.stdout + run.stderr
    return rows


def _points(rows, learner):
    return {
        (r["notebook"], int(r["exercise"])): (
            float(r["points"]),
            float(r["max_points"]),
        )
        for r in rows
        if r["learner"] == learner
    }


@slow
def test_a_deleted_check_cell_is_restored_graded_and_reported(graded):
    pts = _points(graded, "deleted")
    assert all(p == m for (nb, _), (p, m) in pts.items() if nb == PARTIAL), pts
    assert pts[(PARTIAL, 1)] == (1.0, 1.0)
    assert f"deleted: {PARTIAL}: the check cell {DELETED} was missing" in graded.console


@slow
def test_grading_prints_results_not_library_noise(graded):
    console = graded.console
    assert "full: " in console and "untouched: 0 of " in console
    for noise in ("SAWarning", "KeyboardInterrupt", "[IPKernelApp]", "Traceback"):
        assert noise not in console, console


@slow
def test_every_learner_gets_a_row_per_exercise(graded):
    expected = None
    for learner in ("full", "untouched", "partial"):
        keys = set(_points(graded, learner))
        assert {nb for nb, _ in keys} == {s.name for s in SOLUTIONS}
        expected = expected or keys
        assert keys == expected


@slow
def test_solutions_get_full_marks(graded):
    pts = _points(graded, "full")
    assert all(p == m and m >= 1 for p, m in pts.values()), pts


@slow
def test_untouched_exercises_get_zero(graded):
    pts = _points(graded, "untouched")
    assert all(p == 0 and m >= 1 for p, m in pts.values()), pts


@slow
def test_a_partly_solved_notebook_gets_exactly_those_points(graded):
    pts = _points(graded, "partial")
    for (nb, ex), (p, m) in pts.items():
        solved = nb == PARTIAL and ex in (1, 3)
        assert p == (m if solved else 0), (nb, ex, p, m)


def test_require_raises_with_the_checks_verdict():
    from nwlib.checks import ch01

    require(ch01.half_height_width, 1 / (2 * 0.6931471805599453) ** 0.5)
    with pytest.raises(AssertionError, match="^Not done yet"):
        require(ch01.half_height_width, None)
    with pytest.raises(AssertionError, match="^Not quite"):
        require(ch01.half_height_width, 2.0)


def test_no_learner_folder_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no folder per learner"):
        autograde(tmp_path, None, log=lambda m: None)
    assert main([str(tmp_path / "missing"), "--csv", str(tmp_path / "g.csv")]) == 2
    assert not (tmp_path / "g.csv").exists()


@pytest.mark.parametrize(
    "module", [nwlib.grading, nwlib.explore], ids=["grading", "explore"]
)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted >= 2 and result.failed == 0
