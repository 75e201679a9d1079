"""The cells a learner gets ready-made never clobber or crash on the learner's answers.

* A provided cell (not an answer or check cell) never assigns a name that a
  check cell reads (ch06's Explore once looped ``for h in ...`` over the
  learner's ``h``): re-running a check after it would judge the wrong value.
* A provided cell uses the learner's functions only through
  ``nwlib.explore.attempt`` and their answers only through ``as_number`` (or
  ``show``), which print a plain message instead of crashing on a wrong type.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
_REGION = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*$", re.M | re.S
)


def _provided_code(nb):
    """Code a learner gets as is: provided cells, answer cells outside the solution."""
    out = []
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if (
            cell.cell_type != "code"
            or "solution-only" in cell.metadata.get("tags", [])
            or meta.get("grade")
        ):
            continue
        src = (
            _REGION.sub(lambda m: m.group(1) + "...", cell.source)
            if meta.get("solution")
            else cell.source
        )
        out.append((i, ast.parse(src), bool(meta.get("solution"))))
    return out


def _checked(nb):
    """Names the check cells pass to their checks: learner functions and answers."""
    names = set()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            first = ast.parse(cell.source.split("\n")[0])
            call = first.body[0].value
            names |= {a.id for a in call.args if isinstance(a, ast.Name)}
    return names


def _functions(nb):
    return {
        node.name
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.FunctionDef)
    }


def _assigned(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names - {
        n.id
        for c in ast.walk(tree)
        if isinstance(c, ast.comprehension)
        for n in ast.walk(c.target)
        if isinstance(n, ast.Name)
    }


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_no_provided_cell_overwrites_a_checked_name(path):
    nb = nbformat.read(path, 4)
    checked = _checked(nb)
    for i, tree, is_answer in _provided_code(nb):
        if is_answer:
            continue  # an answer cell sets its own answers (`h = None`) by design
        clobbered = _assigned(tree) & checked
        assert not clobbered, (
            f"{path.name} cell {i} assigns {clobbered}, which a check reads"
        )


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_provided_cells_use_answers_only_through_guards(path):
    nb = nbformat.read(path, 4)
    functions, checked = _functions(nb), _checked(nb)
    answers = checked - functions
    for i, tree, is_answer in _provided_code(nb):
        allowed = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("attempt", "as_number") and node.args:
                    allowed.add(id(node.args[0]))
                if node.func.id == "show":
                    allowed |= {id(k.value) for k in node.keywords}
            if isinstance(node, ast.Tuple) and isinstance(
                getattr(node, "ctx", None), ast.Load
            ):
                allowed |= {
                    id(e)
                    for e in node.elts
                    if isinstance(e, ast.Name) and e.id in functions
                }  # `for fn in (f, g)`: checked below
        loops = {
            t.id
            for node in ast.walk(tree)
            if isinstance(node, ast.For)
            and isinstance(node.iter, ast.Tuple)
            and isinstance(node.target, ast.Name)
            and any(
                isinstance(e, ast.Name) and e.id in functions for e in node.iter.elts
            )
            for t in [node.target]
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
                continue
            if node.id in loops and id(node) not in allowed:
                # a loop variable over learner functions: only `attempt(fn, ...)` or
                # `fn.__name__`
                parent_ok = any(
                    isinstance(p, ast.Attribute) and p.value is node
                    for p in ast.walk(tree)
                )
                assert parent_ok, (
                    f"{path.name} cell {i} calls {node.id} without attempt()"
                )
            if (node.id in functions or node.id in answers) and id(node) not in allowed:
                if (
                    is_answer
                    and node.id in functions
                    and any(isinstance(p, ast.FunctionDef) for p in ast.walk(tree))
                ):
                    continue  # the answer's own def (its body is the learner's)
                pytest.fail(
                    f"{path.name} cell {i} uses the learner's `{node.id}` directly: "
                    f"go through nwlib.explore.attempt / as_number"
                )
