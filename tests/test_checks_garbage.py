"""Every exercise self-check survives garbage answers: one plain line, no traceback."""

import importlib
import inspect
import math
import pkgutil

import numpy as np
import pytest
import torch

import nwlib.checks


def _raises(*args, **kwargs):
    raise RuntimeError("boom from the learner's code")


def _returns_garbage(*args, **kwargs):
    return "not an array"


GARBAGE = {
    "None": None,
    "Ellipsis": ...,
    "string": "0.5",
    "nan": math.nan,
    "inf": math.inf,
    "negative": -1.0,
    "wrong-shape": np.zeros((3, 7, 2)),
    "empty": np.array([]),
    "list-of-str": ["a", "b"],
    "dict": {"h": 1},
    "nan-tensor": torch.full((4,), math.nan),
    "raising-function": _raises,
    "garbage-function": _returns_garbage,
}

CHECKS = []
for info in pkgutil.iter_modules(nwlib.checks.__path__):
    if info.name.startswith("ch"):
        mod = importlib.import_module(f"nwlib.checks.{info.name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == mod.__name__ and not name.startswith("_"):
                CHECKS.append((f"{info.name}.{name}", fn))


def test_every_chapter_has_checks():
    chapters = {name.split(".")[0] for name, _ in CHECKS}
    assert {"ch01", "ch02"} <= chapters


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
@pytest.mark.parametrize("name,check", CHECKS, ids=[n for n, _ in CHECKS])
def test_check_never_raises_and_prints_one_verdict(name, check, garbage, capsys):
    n_args = len(
        [
            p
            for p in inspect.signature(check).parameters.values()
            if p.default is inspect.Parameter.empty
        ]
    )
    check(*[GARBAGE[garbage]] * n_args)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    assert out[0].startswith(("Not done yet", "Not quite")), out[0]
    assert "Traceback" not in out[0]
