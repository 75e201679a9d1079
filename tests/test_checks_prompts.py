"""Every self-check answers what its prompt asks, in the learner's own words.

For each check (discovered from ``nwlib.checks.chNN``), and each answer it takes:
the stub says "Not done yet"; a written function that forgot ``return`` is told
exactly that; an answer of the wrong type (a list where the prompt says tensor, a
tensor where it says float, ...) is refused with a message that names the
learner's variable and the type it should be; a natural right answer says
"Correct" and prints no warning. Never a traceback.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import nwlib.checks
from nwlib import attention_weights, nadaraya_watson
from nwlib.data import running_example
from nwlib.parzen import nw_binary_output, parzen_classify
from nwlib.selection import select_width_minimize

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@dataclass
class Arg:
    """One answer a check takes: the learner's variable ``name``, what the prompt asks
    for (``kind``) and a natural right answer."""

    name: str
    kind: str  # fn-tensor, fn-array, fn-float, fn-number, number, array, bool, boollist
    right: Any


# ---------------------------------------------------------------------- right answers


def _weights(queries, keys, h):
    return torch.softmax(-(((queries[:, None] - keys[None, :]) / h) ** 2) / 2, dim=1)


def _train_log_width(x, y, h0, steps, lr):
    s = torch.tensor(math.log(h0), requires_grad=True)
    opt = torch.optim.SGD([s], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (
            (nadaraya_watson(x, x, y, s.exp(), exclude_self=True) - y) ** 2
        ).mean().backward()
        opt.step()
    return s.exp().item()


def _step_in_width(h, dL_dh, lr, parameterization):
    dh = {"log": h, "inverse": -(h**2), "inverse_squared": -(h**3) / 2}[
        parameterization
    ]
    return -lr * dh**2 * dL_dh


def _penalized_width(x, y, lam, widths):
    obj = [
        float(((nadaraya_watson(x, x, y, float(h)) - y) ** 2).mean())
        + lam / math.sqrt(h)
        for h in widths
    ]
    return float(widths[int(np.argmin(obj))])


def _per_key(queries, keys, values, widths):
    scores = -(((queries[:, None] - keys[None, :]) / widths[None, :]) ** 2) / 2
    return torch.softmax(scores, dim=1) @ values


def _loo_by_mask(x, y, h):
    scores = -(((x[:, None] - x[None, :]) / h) ** 2) / 2
    scores = scores.masked_fill(torch.eye(len(x), dtype=torch.bool), -torch.inf)
    return torch.softmax(scores, dim=1) @ y


def _loo_by_rebuilding(x, y, h):
    out = []
    for i in range(len(x)):
        keep = torch.arange(len(x)) != i
        out.append(nadaraya_watson(x[i : i + 1], x[keep], y[keep], h)[0])
    return torch.stack(out)


def _silverman(x):
    iqr = torch.quantile(x, 0.75) - torch.quantile(x, 0.25)
    return float(0.9 * torch.minimum(x.std(), iqr / 1.34) * len(x) ** -0.2)


def _best_on_grid(x, y, widths):
    errors = torch.stack([((_loo_by_mask(x, y, h) - y) ** 2).mean() for h in widths])
    return float(widths[int(errors.argmin())])


def _parzen(x, data, h):
    z = (x[:, None] - data[None, :]) / h
    return torch.exp(-(z**2) / 2).mean(1) / (math.sqrt(2 * math.pi) * h)


def _difference(x, data, y, h):
    sq = ((x[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    return torch.exp(-sq / (2 * h**2)) / (2 * math.pi * h**2) @ y / len(y)


def _iris_answer():
    from sklearn.datasets import load_iris

    iris = load_iris()
    labels = torch.tensor(iris.target, dtype=torch.float64)
    feats = torch.tensor(iris.data)
    feats = (feats - feats.mean(0)) / feats.std(0)
    return float(
        (parzen_classify(feats, feats, labels, 0.4, exclude_self=True) == labels)
        .double()
        .mean()
    )


def _edge_and_middle_bias(h):
    keys = torch.linspace(0, 1, 20001, dtype=torch.float64)
    points = torch.tensor([0.0, 0.5], dtype=torch.float64)
    return nadaraya_watson(points, keys, keys, h) - points


def _minkowski(q, k, p):
    diff = (q.unsqueeze(1) - k.unsqueeze(0)).abs()
    return diff.amax(-1) if math.isinf(p) else (diff**p).sum(-1) ** (1 / p)


def _pairwise(q, k):
    n_q, d = q.shape
    return q.repeat_interleave(k.shape[0], dim=0).reshape(n_q, k.shape[0], d) - k


def _best_width_ch02():
    data = running_example()
    grid = torch.logspace(-1.7, 0.7, 241, dtype=torch.float64)
    errors = torch.stack(
        [
            (
                (
                    nadaraya_watson(data.x_val, data.x_train, data.y_train, g)
                    - data.y_val
                )
                ** 2
            ).mean()
            for g in grid
        ]
    )
    return grid[errors.argmin()].item(), errors.min().item()


def _h(n):
    d = running_example(n_train=n, seed=0)
    return select_width_minimize(d.x_train, d.y_train).width


# --- chapter 9 ---
def _ll_at(q, x, y, h):
    w = torch.softmax(-(((q - x) / h) ** 2) / 2, dim=0)
    x_bar, y_bar = w @ x, w @ y
    slope = (w * (x - x_bar) * (y - y_bar)).sum() / (w * (x - x_bar) ** 2).sum()
    return float(y_bar + slope * (q - x_bar))


def _equivalent_weights(q, x, h):
    w = torch.softmax(-(((q - x) / h) ** 2) / 2, dim=0)
    x_bar = w @ x
    return w * (1 + (x - x_bar) * (q - x_bar) / (w * (x - x_bar) ** 2).sum())


def _edge_bias_ch09(h):
    from nwlib.checks.ch09 import EDGE_KEYS
    from nwlib.local_linear import local_constant, local_linear

    values = torch.exp(EDGE_KEYS)
    return torch.stack(
        [
            local_constant([0.0], EDGE_KEYS, values, h)[0] - 1.0,
            local_linear([0.0], EDGE_KEYS, values, h)[0] - 1.0,
        ]
    )


def _loo_ll(x, y, h):
    from nwlib.local_linear import local_linear

    fitted, weights = local_linear(x, x, y, h, return_weights=True)
    s = torch.diagonal(weights)
    return (fitted - s * y) / (1 - s)


# --- end chapter 9 ---


_EX2 = running_example()

SPECS: dict[str, Callable[[], list[Arg]]] = {
    "ch01.epanechnikov": lambda: [
        Arg("epanechnikov", "fn-tensor", lambda u: 0.75 * torch.clamp(1 - u**2, min=0))
    ],
    "ch01.triangular": lambda: [
        Arg("triangular", "fn-tensor", lambda u: torch.clamp(1 - u.abs(), min=0))
    ],
    "ch01.largest_gap": lambda: [
        Arg("gap", "number", 0.25),
        Arg("where", "number", 0.0),
    ],
    "ch01.half_height_width": lambda: [
        Arg("h", "number", 1 / math.sqrt(2 * math.log(2)))
    ],
    "ch01.normalizing_constants": lambda: [
        Arg("c_gauss", "number", 1 / math.sqrt(2 * math.pi)),
        Arg("c_box", "number", 0.5),
    ],
    "ch02.gaussian_weights": lambda: [Arg("weights", "fn-array", _weights)],
    "ch02.estimate": lambda: [
        Arg("estimate", "fn-array", lambda w, values: w @ values)
    ],
    "ch02.constant_kernel": lambda: [
        Arg(
            "predictions",
            "array",
            nadaraya_watson(
                torch.linspace(-1, 6, 20, dtype=torch.float64),
                _EX2.x_train,
                _EX2.y_train,
                0.37,
                "constant",
            ),
        ),
        Arg("mean", "number", _EX2.y_train.mean()),
    ],
    "ch02.best_width": lambda: [
        Arg(n, "number", v)
        for n, v in zip(("h", "mse"), _best_width_ch02(), strict=True)
    ],
    "ch03.self_weights": lambda: [
        Arg(
            "self_weights",
            "fn-tensor",
            lambda x, h: torch.diagonal(attention_weights(x, x, h)),
        )
    ],
    "ch03.train_log_width": lambda: [
        Arg("train_log_width", "fn-float", _train_log_width)
    ],
    "ch03.step_in_width": lambda: [Arg("step_in_width", "fn-number", _step_in_width)],
    "ch03.penalized_width": lambda: [
        Arg("penalized_width", "fn-float", _penalized_width)
    ],
    "ch03.predict_per_key": lambda: [Arg("predict_per_key", "fn-array", _per_key)],
    "ch04.loo_by_mask": lambda: [Arg("loo_by_mask", "fn-tensor", _loo_by_mask)],
    "ch04.loo_by_rebuilding": lambda: [
        Arg("loo_by_rebuilding", "fn-array", _loo_by_rebuilding)
    ],
    "ch04.silverman": lambda: [Arg("silverman", "fn-float", _silverman)],
    "ch04.best_width_on_grid": lambda: [
        Arg("best_width_on_grid", "fn-float", _best_on_grid)
    ],
    "ch04.widths_shrink": lambda: [
        Arg("h50", "number", _h(50)),
        Arg("h200", "number", _h(200)),
    ],
    "ch05.project": lambda: [
        Arg(
            "project",
            "fn-array",
            lambda x: x / torch.linalg.vector_norm(x, dim=-1, keepdim=True),
        )
    ],
    "ch05.dot_attention": lambda: [
        Arg(
            "dot_attention",
            "fn-array",
            lambda q, k, t: torch.softmax(q @ k.T / t, dim=1),
        )
    ],
    "ch05.temperature": lambda: [Arg("t", "number", 0.4**2)],
    "ch05.key_bias": lambda: [
        Arg("key_bias", "fn-array", lambda keys, h: -(keys**2).sum(-1) / (2 * h**2))
    ],
    "ch05.scale": lambda: [Arg("s", "number", 1 / math.sqrt(256))],
    "ch06.gaussian_parzen": lambda: [Arg("parzen", "fn-array", _parzen)],
    "ch06.epanechnikov_constant": lambda: [
        Arg("c2", "number", 2 * math.pi * 0.75 * 0.25)
    ],
    "ch06.difference": lambda: [Arg("difference", "fn-array", _difference)],
    "ch06.ratio": lambda: [
        Arg(
            "ratio",
            "fn-array",
            lambda x, d, y, h: _difference(x, d, y, h) / nw_binary_output(x, d, y, h),
        )
    ],
    "ch06.iris_loo": lambda: [
        Arg("accuracy", "number", _iris_answer()),
        Arg("h", "number", 0.4),
    ],
    "ch06.empty_region": lambda: [
        Arg("parzen_value", "number", 0.0),
        Arg("nw_is_nan", "bool", True),
    ],
    "ch07.fit_slope": lambda: [
        Arg(
            "fit_slope",
            "fn-float",
            lambda n, mse: float(np.polyfit(np.log(n), np.log(mse), 1)[0]),
        )
    ],
    "ch07.edge_and_middle_bias": lambda: [
        Arg("edge_and_middle_bias", "fn-array", _edge_and_middle_bias)
    ],
    "ch07.consistent_rules": lambda: [
        Arg("consistent_1d", "boollist", [False, False, True, True, True, True]),
        Arg("consistent_2d", "boollist", [False, False, True, False, False, True]),
    ],
    "ch07.points_needed": lambda: [
        Arg(
            "points_needed",
            "fn-number",
            lambda exponent, prefactor, target: (target / prefactor) ** (1 / exponent),
        )
    ],
    "ch08.minkowski": lambda: [Arg("minkowski", "fn-array", _minkowski)],
    "ch08.pairwise_differences": lambda: [
        Arg("pairwise_differences", "fn-tensor", _pairwise)
    ],
    "ch08.nw_by_rescaling": lambda: [
        Arg(
            "nw_by_rescaling",
            "fn-array",
            lambda q, k, v, widths: nadaraya_watson(q / widths, k / widths, v, 1.0),
        )
    ],
    "ch08.noise_feature": lambda: [Arg("noise_feature", "number", 1)],
    # --- chapter 9 ---
    "ch09.ll_at": lambda: [Arg("ll_at", "fn-float", _ll_at)],
    "ch09.equivalent_weights": lambda: [
        Arg("equivalent_weights", "fn-tensor", _equivalent_weights)
    ],
    "ch09.edge_bias": lambda: [Arg("edge_bias", "fn-array", _edge_bias_ch09)],
    "ch09.loo_ll": lambda: [Arg("loo_ll", "fn-tensor", _loo_ll)],
    # --- end chapter 9 ---
    # ---- chapter 10 (random features) ----
    "ch10.fourier_phi": lambda: [
        Arg(
            "fourier_phi",
            "fn-array",
            lambda x, w, b: math.sqrt(2 / w.shape[0]) * torch.cos(x @ w.T + b),
        )
    ],
    "ch10.positive_phi": lambda: [
        Arg(
            "positive_phi",
            "fn-array",
            lambda x, w: (
                torch.exp(x @ w.T - (x * x).sum(1, keepdim=True) / 2)
                / math.sqrt(w.shape[0])
            ),
        )
    ],
    "ch10.linear_pool": lambda: [
        Arg(
            "linear_pool",
            "fn-array",
            lambda fq, fk, v: fq @ (fk.T @ v) / (fq @ fk.sum(0))[:, None],
        )
    ],
    "ch10.causal_pool": lambda: [
        Arg(
            "causal_pool",
            "fn-array",
            lambda fq, fk, v: (
                torch.einsum(
                    "nd,ndm->nm", fq, torch.cumsum(fk[:, :, None] * v[:, None, :], 0)
                )
                / (fq * fk.cumsum(0)).sum(1, keepdim=True)
            ),
        )
    ],
    "ch10.features_needed": lambda: [Arg("features", "number", math.expm1(16) / 0.01)],
    # ---- chapter 10 (end) ----
}

CHECKS = {}
for info in pkgutil.iter_modules(nwlib.checks.__path__):
    if info.name.startswith("ch"):
        mod = importlib.import_module(f"nwlib.checks.{info.name}")
        for fname, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == mod.__name__ and not fname.startswith("_"):
                CHECKS[f"{info.name}.{fname}"] = fn

_cache: dict[str, list[Arg]] = {}


def spec(name: str) -> list[Arg]:
    if name not in _cache:
        _cache[name] = SPECS[name]()
    return _cache[name]


def verdict(check, args, capsys) -> str:
    check(*args)
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "Traceback" not in out + err
    assert err == "", f"printed to stderr (a warning?): {err}"
    return lines[0]


def test_every_check_has_a_spec():
    assert set(CHECKS) == set(SPECS), (
        sorted(set(CHECKS) - set(SPECS)),
        sorted(set(SPECS) - set(CHECKS)),
    )
    for name, check in CHECKS.items():
        n_args = len(inspect.signature(check).parameters)
        assert n_args == len(spec(name)), name


NAMES = sorted(SPECS)


class _no_warnings:
    """Fail on any warning raised while a right answer is checked (it would print)."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings(record=True)
        self.caught = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        assert not self.caught, [str(w.message) for w in self.caught]


@pytest.mark.parametrize("name", NAMES)
def test_right_answer_is_correct_without_warnings(name, capsys):
    with _no_warnings():
        line = verdict(CHECKS[name], [a.right for a in spec(name)], capsys)
    assert line.startswith("Correct: "), line


def _variants(name: str):
    """(label, index of the answer changed, replacement, kind of fault) per answer."""
    for i, arg in enumerate(spec(name)):
        if arg.kind.startswith("fn-"):

            def stub(*args): ...

            def stub_pass(*args):
                """A docstring and a comment do not make a body."""
                # YOUR CODE HERE
                pass

            def stub_raise(*args):
                raise NotImplementedError()

            def forgot(*args, _right=arg.right):
                result = _right(*args)  # noqa: F841  computed, never returned

            yield f"{arg.name}-stub", i, stub, "stub"
            yield f"{arg.name}-stub-pass", i, stub_pass, "stub"
            yield f"{arg.name}-stub-raise", i, stub_raise, "stub"
            yield f"{arg.name}-placeholder", i, None, "stub"
            yield f"{arg.name}-forgot-return", i, forgot, "return"
            yield f"{arg.name}-not-a-function", i, 3.0, "type"
        else:
            yield f"{arg.name}-None", i, None, "stub"
            yield f"{arg.name}-Ellipsis", i, ..., "stub"
        wrong = _wrong_type(arg)
        if wrong is not None:
            yield f"{arg.name}-wrong-type", i, wrong, "type"


def _wrong_type(arg: Arg):
    """The right answer in a type the prompt does not ask for."""
    right = arg.right
    if arg.kind in ("fn-tensor", "fn-array"):
        return lambda *a, _f=right: _f(*a).tolist()  # a list
    if arg.kind == "fn-float":
        return lambda *a, _f=right: torch.tensor(_f(*a))  # a 0-d tensor
    if arg.kind == "fn-number":
        return lambda *a, _f=right: [_f(*a)]  # a list of one
    if arg.kind == "number":
        return [float(right)]  # a list of one
    if arg.kind == "array":
        return right.tolist()
    if arg.kind == "bool":
        return torch.tensor(right)  # a bool tensor
    if arg.kind == "boollist":
        return tuple(right)
    return None


EXPECTED_TYPE = {
    "fn-tensor": "should be a torch tensor",
    "fn-array": "should be a tensor (or numpy array)",
    "fn-float": "should be a Python float",
    "fn-number": "should be a single number",
    "number": "should be a single number",
    "array": "should be a tensor (or numpy array)",
    "bool": "should be True or False",
    "boollist": "should be a list of 6 True/False values",
}

CASES = [(name, *v) for name in NAMES for v in _variants(name)]


@pytest.mark.parametrize(
    "name,label,index,answer,fault", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_stub_forgotten_return_and_wrong_type(
    name, label, index, answer, fault, capsys
):
    args = [a.right for a in spec(name)]
    args[index] = answer
    arg = spec(name)[index]
    line = verdict(CHECKS[name], args, capsys)
    var = f"`{arg.name}"  # the variable, or a call of the learner's function
    assert var in line, f"the message does not name {var}`: {line}"
    if fault == "stub":
        assert line.startswith("Not done yet: "), line
    elif fault == "return":
        assert line.startswith("Not quite: "), line
        assert f"`{arg.name}` returned None: did you forget `return`?" in line, line
    else:
        assert line.startswith("Not quite: "), line
        if answer == 3.0:
            assert "should be a function" in line, line
        else:
            assert EXPECTED_TYPE[arg.kind] in line, line
