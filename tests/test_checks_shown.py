"""Checks agree with what the notebook shows, and read a function's source where the
prompt asks for a method.

* A number typed back as ``show()`` printed it (4 decimals) is accepted; a wrong
  one is refused with enough digits that the two numbers printed differ.
* A result object (``WidthChoice``) is refused with a hint at its ``.width``.
* Where a prompt forbids or asks for a method (ch08 ex2: ``repeat_interleave``,
  no broadcasting), the check reads the function's source; without a source it
  says it could not check.
* The explore helpers turn a wrong-type answer into one plain line, never a crash.
"""

from __future__ import annotations

import doctest
import math
import re

import numpy as np
import pytest
import torch

import nwlib.checks
from nwlib.checks import ch01, ch02, ch04, ch06, ch07, ch08
from nwlib.data import running_example
from nwlib.explore import as_number, attempt
from nwlib.parzen import parzen_classify
from nwlib.pooling import nadaraya_watson
from nwlib.selection import select_width_minimize

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _verdict(capsys, check, *answers) -> str:
    check(*answers)
    return capsys.readouterr().out.strip()


def _best_width_answer():
    s = running_example()
    grid = torch.logspace(-1.7, 0.7, 241, dtype=torch.float64)
    errors = torch.stack(
        [
            ((nadaraya_watson(s.x_val, s.x_train, s.y_train, g) - s.y_val) ** 2).mean()
            for g in grid
        ]
    )
    return grid[errors.argmin()].item(), errors.min().item()


def _iris_accuracy(h):
    from sklearn.datasets import load_iris

    iris = load_iris()
    x = torch.tensor(iris.data)
    x = (x - x.mean(0)) / x.std(0)
    y = torch.tensor(iris.target, dtype=torch.float64)
    return float((parzen_classify(x, x, y, h, exclude_self=True) == y).double().mean())


def test_numbers_typed_back_as_shown_are_accepted(capsys):
    h, mse = _best_width_answer()
    assert _verdict(capsys, ch02.best_width, round(h, 4), round(mse, 4)).startswith(
        "Correct"
    )
    mean = float(running_example().y_train.mean())
    preds = torch.full((20,), mean)
    assert _verdict(capsys, ch02.constant_kernel, preds, round(mean, 4)).startswith(
        "Correct"
    )
    acc = _iris_accuracy(0.5)
    assert round(acc, 4) != acc  # 143/150: the shown number is rounded
    assert _verdict(capsys, ch06.iris_loo, round(acc, 4), 0.5).startswith("Correct")
    assert _verdict(
        capsys, ch01.half_height_width, round(1 / math.sqrt(2 * math.log(2)), 4)
    ).startswith("Correct")
    assert _verdict(
        capsys, ch01.normalizing_constants, round(1 / math.sqrt(2 * math.pi), 4), 0.5
    ).startswith("Correct")


@pytest.mark.parametrize("delta", [1e-4, 3e-4, 2e-6])
def test_a_wrong_number_is_refused_with_differing_digits(capsys, delta):
    h, mse = _best_width_answer()
    got = round(mse, 4) + delta if delta >= 1e-4 else mse + delta
    out = _verdict(capsys, ch02.best_width, h, got)
    assert out.startswith("Not quite"), out
    m = re.search(r"MSE is (\S+), but `mse` is (\S+):", out)
    assert m and m.group(1) != m.group(2), out


def test_iris_diagnosis_names_the_real_mistake(capsys):
    out = _verdict(capsys, ch06.iris_loo, 0.5, 0.5)
    assert (
        out.startswith("Not quite")
        and "exclude_self=True" in out
        and "divide by 150" in out
    )
    m = re.search(r"accuracy is (\S+), but `accuracy` is (\S+):", out)
    assert m and m.group(1) != m.group(2), out


def test_a_result_object_gets_a_hint_at_its_width(capsys):
    d50, d200 = (
        running_example(n_train=50, seed=0),
        running_example(n_train=200, seed=0),
    )
    c50, c200 = (select_width_minimize(d.x_train, d.y_train) for d in (d50, d200))
    out = _verdict(capsys, ch04.widths_shrink, c50, c200)
    assert out.startswith("Not quite") and "WidthChoice" in out and "`.width`" in out, (
        out
    )
    assert "dtype" not in out and "array" not in out, out
    assert _verdict(capsys, ch04.widths_shrink, c50.width, c200.width).startswith(
        "Correct"
    )


def test_messages_read_as_sentences(capsys):
    out = _verdict(capsys, ch01.half_height_width, 1.2)
    assert re.match(r"Not quite: [^.]+\. [A-Z]", out), out
    out = _verdict(capsys, ch06.epanechnikov_constant, "1.178")
    assert "should hold numbers" in out or "should be a number" in out, out


def test_polyfit_result_gets_the_slope_hint(capsys):
    def fit_slope(n, mse):
        return np.polyfit(np.log(n), np.log(mse), 1)

    out = _verdict(capsys, ch07.fit_slope, fit_slope)
    assert out.startswith("Not quite") and "slope first" in out, out


def _by_copies(q, k):
    n_q, d = q.shape
    return q.repeat_interleave(k.shape[0], dim=0).reshape(n_q, k.shape[0], d) - k


def _by_unsqueeze(q, k):
    return q.unsqueeze(1) - k.unsqueeze(0)


def _by_none(q, k):
    return q[:, None, :] - k[None]


def test_pairwise_differences_by_broadcasting_is_refused(capsys):
    assert "built from copies" in _verdict(
        capsys, ch08.pairwise_differences, _by_copies
    )
    for fn, word in ((_by_unsqueeze, "unsqueeze"), (_by_none, "None")):
        out = _verdict(capsys, ch08.pairwise_differences, fn)
        assert (
            out.startswith("Not quite") and word in out and "asks you not to use" in out
        ), out


def test_a_function_without_source_is_not_judged_on_its_source(capsys):
    ns = {}
    exec(
        compile(
            "def pd(q, k):\n    return q.unsqueeze(1) - k.unsqueeze(0)\n",
            "<none>",
            "exec",
        ),
        ns,
    )
    out = _verdict(capsys, ch08.pairwise_differences, ns["pd"])
    assert out.startswith("Correct") and "could not be read" in out, out


def test_leave_one_out_prompts_constraints_are_read(capsys):
    def loo_by_mask(x, y, h):
        return nadaraya_watson(x, x, y, h, exclude_self=True)

    out = _verdict(capsys, ch04.loo_by_mask, loo_by_mask)
    assert out.startswith("Not quite") and "nadaraya_watson" in out, out

    def loo_by_rebuilding(x, y, h):
        scores = -(((x[:, None] - x[None, :]) / h) ** 2) / 2
        scores = scores.masked_fill(torch.eye(len(x), dtype=torch.bool), -torch.inf)
        return torch.softmax(scores, dim=1) @ y

    out = _verdict(capsys, ch04.loo_by_rebuilding, loo_by_rebuilding)
    assert out.startswith("Not quite") and "does not use `nadaraya_watson`" in out, out


def test_checks_docstring_examples():
    result = doctest.testmod(nwlib.checks)
    assert result.attempted >= 4 and result.failed == 0


def test_explore_helpers_turn_wrong_types_into_one_line(capsys):
    assert attempt(
        lambda u: [float(v) for v in u],
        torch.arange(3.0),
        name="f",
        want="tensor",
        shape=(3,),
    ).tolist() == [0.0, 1.0, 2.0]
    assert (
        attempt(lambda u: u[:2], torch.arange(3.0), name="f", want="tensor", shape=(3,))
        is None
    )
    assert attempt(lambda: "text", name="f", want="tensor") is None
    assert (
        attempt(lambda: np.array([-0.8, 1.2]), name="fit_slope", want="number") is None
    )
    assert (
        attempt(lambda: torch.tensor(0.5, requires_grad=True), name="g", want="number")
        == 0.5
    )
    assert as_number(None, "h", 0.3) == 0.3 and as_number(np.float64(0.2), "h") == 0.2
    assert as_number(torch.ones(3), "h", 0.3) == 0.3 and as_number("0.2", "h") is None
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 5 and all(line.startswith("Explore: ") for line in lines), (
        lines
    )
    assert "fit_slope returned a numpy array of shape (2,), not one number" in lines[2]


def test_many_dimensions_prompts_constraints_are_read(capsys):
    def minkowski(q, k, p):
        rows = [
            ((q[j] - k).abs() ** p).sum(-1) ** (1 / p)
            if not math.isinf(p)
            else (q[j] - k).abs().amax(-1)
            for j in range(len(q))
        ]
        return torch.stack(rows)

    out = _verdict(capsys, ch08.minkowski, minkowski)
    assert out.startswith("Not quite") and "a Python loop" in out, out

    def nw_by_rescaling(q, k, v, widths):
        scores = -(((q[:, None] - k[None]) / widths) ** 2).sum(-1) / 2
        return torch.softmax(scores, dim=1) @ v

    out = _verdict(capsys, ch08.nw_by_rescaling, nw_by_rescaling)
    assert out.startswith("Not quite") and "does not use `nadaraya_watson`" in out, out
