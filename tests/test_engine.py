"""The engine split: the engine agrees with the dense definition, imports run one way.

* ``nadaraya_watson`` (the engine: blocks, threads, the banded path, the custom
  backward) equals the dense definition written at the top of ``nwlib/pooling.py``,
  ``softmax(log K(r2)) @ values``, over kernels, dimensions, width shapes, dtypes,
  ``exclude_self`` and autograd;
* nwlib's imports form no cycle, and no module imports another module's
  underscore names (the engine package exposes its internal API without them);
* ``exclude_self`` checks that the queries are the keys (reviewer's R7).
"""

from __future__ import annotations

import ast
import pathlib
import warnings

import pytest
import torch

from nwlib import attention_weights, nadaraya_watson
from nwlib.kernels import KERNELS

NWLIB = pathlib.Path(__file__).resolve().parents[1] / "nwlib"


def dense(queries, keys, values, width, kernel, exclude_self=False):
    """The definition, written out: r2, log K, softmax over keys, weights @ values."""
    q = queries.reshape(len(queries), -1)
    k = keys.reshape(len(keys), -1)
    r2 = (((q[:, None, :] - k[None, :, :]) / width) ** 2).sum(-1)
    s = KERNELS[kernel].log_profile(r2)
    if exclude_self:
        s = s.masked_fill(torch.eye(len(k), dtype=torch.bool), -torch.inf)
    return torch.softmax(s, dim=1) @ values


@pytest.mark.filterwarnings("ignore:.*no key inside the support:RuntimeWarning")
@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("exclude_self", [False, True])
@pytest.mark.parametrize("width_shape", ["scalar", "coordinate", "key"])
def test_engine_equals_dense_definition(kernel, d, exclude_self, width_shape):
    g = torch.Generator().manual_seed(d * 7 + len(kernel))
    n = 300
    keys = torch.rand(n, d, generator=g, dtype=torch.float64) * 4
    queries = (
        keys
        if exclude_self
        else torch.rand(250, d, generator=g, dtype=torch.float64) * 4
    )
    values = torch.randn(n, 2, generator=g, dtype=torch.float64)
    width = {
        "scalar": torch.tensor(0.9, dtype=torch.float64),
        "coordinate": torch.linspace(0.7, 1.1, d, dtype=torch.float64),
        "key": 0.7 + 0.4 * torch.rand(n, 1, generator=g, dtype=torch.float64),
    }[width_shape]
    ref = dense(queries, keys, values, width, kernel, exclude_self)
    # several blocks (block_size=64) and the automatic choice
    for block_size in (None, 64):
        got = nadaraya_watson(
            queries,
            keys,
            values,
            width,
            kernel,
            exclude_self=exclude_self,
            block_size=block_size,
        )
        torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12, equal_nan=True)
    w = attention_weights(queries, keys, width, kernel, exclude_self=exclude_self)
    torch.testing.assert_close(w @ values, ref, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
@pytest.mark.parametrize("exclude_self", [False, True])
def test_engine_gradient_equals_dense_gradient(kernel, exclude_self):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(200, generator=g, dtype=torch.float64) * 5
    y = torch.sin(x) + 0.1 * torch.randn(200, generator=g, dtype=torch.float64)
    grads = []
    for f in (dense, nadaraya_watson):
        h = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
        loss = ((f(x, x, y, h, kernel, exclude_self=exclude_self) - y) ** 2).mean()
        loss.backward()
        grads.append(h.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel", ["gaussian", "boxcar"])
def test_banded_path_equals_dense_definition(kernel):
    g = torch.Generator().manual_seed(5)
    x = torch.rand(3000, generator=g, dtype=torch.float64) * 10
    y = torch.cos(x)
    q = torch.linspace(0.5, 9.5, 700, dtype=torch.float64)
    got = nadaraya_watson(q, x, y, 0.3, kernel, banded=True)
    torch.testing.assert_close(got, dense(q, x, y, 0.3, kernel), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- imports


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """For every nwlib module: (imported nwlib module, names) pairs.

    Relative imports are resolved.
    """
    out = {}
    for path in sorted(NWLIB.rglob("*.py")):
        rel = path.relative_to(NWLIB.parent).with_suffix("")
        parts = list(rel.parts)
        mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        pkg = parts[:-1]
        found = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg[: len(pkg) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "nwlib":
                    continue
                names = [a.name for a in node.names]
                if node.module is None:  # from . import x: x is a module
                    found += [(f"{target}.{n}", []) for n in names]
                else:
                    found.append((target, names))
            elif isinstance(node, ast.Import):
                found += [
                    (a.name, []) for a in node.names if a.name.split(".")[0] == "nwlib"
                ]
        out[mod] = found
    return out


def test_import_graph_has_no_cycle():
    graph = {m: {t for t, _ in deps if t != m} for m, deps in _imports().items()}
    graph = {
        m: {
            t for t in deps if t in graph and not m.startswith(t + ".") and t != "nwlib"
        }
        for m, deps in graph.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(m, path):
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1:
                cycles.append(path[path.index(t) :] + [t] if t in path else [m, t])
            elif t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    assert not cycles, f"import cycles in nwlib: {cycles}"


def test_no_private_name_crosses_a_module_boundary():
    offenders = []
    for mod, deps in _imports().items():
        for target, names in deps:
            private = [n for n in names if n.startswith("_")]
            if private:
                offenders.append((mod, target, private))
    assert not offenders, f"private names imported across modules: {offenders}"


def test_import_checks_can_fail(tmp_path, monkeypatch):
    """The two checks above see a cycle and a private import when there is one."""
    fake = tmp_path / "nwlib"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "a.py").write_text("from .b import _hidden\n")
    (fake / "b.py").write_text("from .a import thing\n")
    monkeypatch.setattr(__import__(__name__), "NWLIB", fake)
    with pytest.raises(AssertionError, match="cycles"):
        test_import_graph_has_no_cycle()
    with pytest.raises(AssertionError, match="private"):
        test_no_private_name_crosses_a_module_boundary()


def test_engine_is_below_the_definitions():
    """The engine imports only _validate, kernels and itself."""
    for mod, deps in _imports().items():
        if mod.startswith("nwlib._engine"):
            bad = [
                t
                for t, _ in deps
                if not t.startswith(
                    ("nwlib._engine", "nwlib._validate", "nwlib.kernels")
                )
            ]
            assert not bad, f"{mod} imports {bad} from above the engine"


# --------------------------------------------------------------------------- R7


def test_exclude_self_needs_the_queries_to_be_the_keys():
    x = torch.tensor([0.0, 1.0, 2.0, 3.0])
    y = torch.tensor([1.0, 2.0, 3.0, 4.0])
    other = (
        x + 0.5
    )  # same count, different points: the diagonal mask would be meaningless
    for call in (
        lambda: nadaraya_watson(other, x, y, 1.0, exclude_self=True),
        lambda: attention_weights(other, x, 1.0, exclude_self=True),
        lambda: nadaraya_watson(x.flip(0), x, y, 1.0, exclude_self=True),
    ):
        with pytest.raises(ValueError, match="queries to be the keys"):
            call()
    # equal values in a different tensor are the same points
    w = attention_weights(x.clone(), x, 1.0, exclude_self=True)
    assert torch.all(w.diagonal() == 0)


# --------------------------------------------------------------------------- R18


def test_per_key_width_shapes_message_and_agreement_with_learned_width():
    from nwlib.learn import LearnedWidthNW

    x = torch.linspace(0, 3, 6, dtype=torch.float64)
    y = torch.sin(x)
    with pytest.raises(ValueError) as err:
        nadaraya_watson(x, x, y, torch.ones(5, 2))
    assert (
        str(err.value).count("(6, 1)") == 1
    )  # d = 1: (n_k, 1) and (n_k, d) are one shape
    # LearnedWidthNW(per="key") stores (n_k, 1), a per-key shape pooling accepts, and
    # gives the same predictions as pooling with that width
    h = torch.linspace(0.3, 0.8, 6, dtype=torch.float64)
    m = LearnedWidthNW(x, y, h, per="key")
    assert tuple(m.width.shape) == (6, 1)
    q = torch.tensor([0.2, 1.7], dtype=torch.float64)
    torch.testing.assert_close(m.predict(q), nadaraya_watson(q, x, y, m.width))
    # a shape that is no per-key width is refused by both
    for bad in (torch.ones(5, 1), torch.ones(6, 3)):
        with pytest.raises(ValueError):
            nadaraya_watson(x, x, y, bad)
        with pytest.raises(ValueError):
            LearnedWidthNW(x, y, bad, per="key")


# --------------------------------------------------------------------------- R1


@pytest.mark.parametrize(
    "dtype,width",
    [(torch.float64, 1e-160), (torch.float64, 1e-200), (torch.float32, 1e-20)],
)
def test_tiny_gaussian_width_gives_the_nearest_neighbour(dtype, width):
    """Reviewer's R1: the Gaussian's limit h -> 0 is the nearest key's value.

    Squared distances in units of h would overflow (1e159 widths apart) and make
    every row 0/0; the engine forms each row's shift before dividing by h^2.
    """
    keys = torch.tensor([0.0, 1.0, 2.5, 4.0], dtype=dtype)
    values = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=dtype)
    queries = torch.tensor([0.3, 1.4, 3.0, 3.9], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nadaraya_watson(queries, keys, values, width)
    torch.testing.assert_close(got, torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=dtype))


@pytest.mark.parametrize(
    "n_keys,dtype,exc,msg",
    [
        (0, torch.float32, ValueError, "n_keys must be >= 1, got 0"),
        (-5, torch.float32, ValueError, "n_keys must be >= 1, got -5"),
        ("a", torch.float32, TypeError, "n_keys must be an int"),
        (10.0, torch.float32, TypeError, "n_keys must be an int"),
        (10, torch.int64, TypeError, "dtype must be a floating torch dtype"),
    ],
)
def test_truncation_radius_names_a_bad_argument(n_keys, dtype, exc, msg):
    from nwlib.scale import truncation_radius

    with pytest.raises(exc, match=msg):
        truncation_radius(n_keys, dtype)


@pytest.mark.parametrize("width", [1e-12, 1.0, 1e12])
def test_self_mask_is_the_one_diagonal_and_comes_back_inf(width):
    """The left-out entries of ``shifted_sq_dist`` are exactly inf (log-weight -inf,
    not the largest float) and the gradient in the width stays finite."""
    from nwlib._engine import self_mask, shifted_sq_dist

    k = torch.tensor([[0.0], [1.0], [3.0], [3.5]], dtype=torch.float64)
    h = torch.tensor(width, dtype=torch.float64, requires_grad=True)
    mask = self_mask(k, k, True)
    assert torch.equal(mask, torch.eye(4, dtype=torch.bool))
    out = shifted_sq_dist(k, k, h, 2.0, mask)
    assert torch.isposinf(out[mask]).all() and torch.isfinite(out[~mask]).all()
    assert (out[~mask].reshape(4, 3).amin(1) == 0).all()  # shifted by the nearest
    torch.exp(-0.5 * out).sum().backward()
    assert torch.isfinite(h.grad)
    assert self_mask(k, k, False) is None
    with pytest.raises(ValueError, match="exclude_self"):
        self_mask(k, k + 1, True)
