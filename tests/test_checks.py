"""The self-check machinery: one verdict line, never a traceback."""

import numpy as np
import pytest

from nwlib.checks import NotDone, Wrong, call, close, number, run_check


def _expect(prefix, body, capsys):
    v = run_check("demo", body)
    out = capsys.readouterr().out
    assert out.startswith(prefix) and out.count("\n") == 1
    assert v.passed == (prefix == "Correct")


@pytest.mark.parametrize(
    "answer,prefix",
    [
        (None, "Not done yet"),
        (..., "Not done yet"),
        ([1.0, 2.0], "Correct"),
        ([1.0, 2.5], "Not quite"),
        ([1.0], "Not quite"),
        ("12", "Not quite"),
        ([np.nan, 2.0], "Not quite"),
        (object(), "Not quite"),
        ({"a": 1}, "Not quite"),
    ],
)
def test_close_verdicts(answer, prefix, capsys):
    _expect(prefix, lambda: (close(answer, [1.0, 2.0], "x"), "ok")[1], capsys)


def test_learner_function_that_raises_is_reported_not_raised(capsys):
    def broken(u):
        return 1 / 0

    _expect("Not quite", lambda: call(broken, "f", 1.0), capsys)


def test_stub_function_is_not_done(capsys):
    def stub(u): ...

    _expect("Not done yet", lambda: call(stub, "f", 1.0), capsys)
    _expect("Not quite", lambda: call(3, "f"), capsys)


def test_number_rejects_arrays(capsys):
    _expect("Not quite", lambda: str(number([1, 2], "h")), capsys)
    _expect("Correct", lambda: str(number(0.5, "h")), capsys)


def test_explicit_wrong_and_notdone(capsys):
    def w():
        raise Wrong("because")

    def n():
        raise NotDone("later")

    _expect("Not quite", w, capsys)
    _expect("Not done yet", n, capsys)


def test_forgotten_return_is_not_a_stub(capsys):
    def my_kernel(u):
        y = u + 1  # noqa: F841  computed, never returned

    def stub(u):
        """Docstring only, then the placeholder."""
        # YOUR CODE HERE
        ...

    run_check("demo", lambda: call(my_kernel, "my_kernel", 1.0))
    assert capsys.readouterr().out == (
        "Not quite: demo. `my_kernel` returned None: did you forget `return`?\n"
    )
    run_check("demo", lambda: call(stub, "stub", 1.0))
    out = capsys.readouterr().out
    assert out.startswith("Not done yet: demo. `stub` still has an empty body")


def test_types_follow_the_prompt(capsys):
    import torch

    from nwlib.checks import as_array, boolean

    _expect("Not quite", lambda: str(as_array([1.0], "`w`", kind="tensor")), capsys)
    _expect("Not quite", lambda: str(as_array([1.0], "`w`", kind="array")), capsys)
    _expect("Correct", lambda: str(as_array(np.ones(1), "`w`", kind="array")), capsys)
    _expect(
        "Not quite", lambda: str(number(torch.tensor(0.5), "`h`", kind="float")), capsys
    )
    _expect(
        "Correct", lambda: str(number(np.float64(0.5), "`h`", kind="float")), capsys
    )
    _expect("Correct", lambda: str(number(torch.tensor(0.5), "`h`")), capsys)
    _expect("Not quite", lambda: str(number([0.5], "`h`")), capsys)
    _expect("Not quite", lambda: str(number(True, "`h`")), capsys)
    _expect("Not quite", lambda: str(boolean(torch.tensor(True), "`b`")), capsys)
    _expect("Correct", lambda: str(boolean(np.bool_(True), "`b`")), capsys)
