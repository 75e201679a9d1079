"""Numbers users pass in come out right (issue 13).

Part 1: each input of the issue, with its right value. Part 2: hypothesis
properties over the public pooling, selection, Parzen and sphere functions:
translation and scale equivariance for float16, bfloat16, float32, float64 and
integer inputs; class decisions equal to a float64 log-domain reference; no
warning from array-likes (warnings are errors in this module).
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from nwlib import attention_weights, kernels, nadaraya_watson
from nwlib.data import true_function
from nwlib.multidim import standardize
from nwlib.parzen import (
    joint_class_densities,
    log_parzen_density,
    nw_class_probabilities,
    nw_classify,
    parzen_classify,
    parzen_density,
)
from nwlib.pooling import log_scores, scaled_sq_distances
from nwlib.scale import banded_nadaraya_watson
from nwlib.selection import (
    loo_error,
    loo_predictions,
    select_width_grid,
    select_width_minimize,
    silverman_width,
)
from nwlib.sphere import (
    biased_dot_product_weights,
    gaussian_weights,
    key_bias,
    normalize,
    sq_distances,
)

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.usefixtures("one_torch_thread"),
]

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --- the inputs ---


def _stamps():
    k = np.arange(10)
    t = (1_600_000_000 + 3600 * k).astype(np.int64)
    return t, np.sin(k), [int(t[3]) + 1800, int(t[4]) + 1800]


@pytest.mark.parametrize("kind", ["int64 array", "list of ints", "int tensor"])
def test_unix_time_stamps_keep_their_seconds(kind):
    t, y, q = _stamps()
    ref = nadaraya_watson(
        np.array(q, float) - t[0], (t - t[0]).astype(float), y, 3600.0
    )
    assert np.allclose(ref.numpy(), [-0.21275, -0.59290], atol=5e-6)
    tt = {
        "int64 array": t,
        "list of ints": t.tolist(),
        "int tensor": torch.from_numpy(t),
    }[kind]
    qq = torch.tensor(q) if kind == "int tensor" else q
    f = nadaraya_watson(qq, tt, y, 3600)
    assert f.dtype == torch.float64
    assert torch.allclose(f, ref, rtol=0, atol=1e-12)
    w = attention_weights(qq, tt, 3600)
    assert w.dtype == torch.float64
    assert torch.allclose(w @ torch.from_numpy(y), ref, rtol=0, atol=1e-12)


def _offset_sample():
    rng = np.random.default_rng(1)
    x0 = np.sort(rng.uniform(0, 10, 200))
    return x0, np.sin(x0) + 0.3 * rng.standard_normal(200)


def test_select_width_minimize_is_not_fooled_by_an_offset():
    x0, y = _offset_sample()
    exact = select_width_minimize(x0, y, dtype=torch.float64)  # float64 near 0
    assert exact.width == pytest.approx(0.336, abs=0.005)
    assert exact.score == pytest.approx(0.082, abs=0.001)
    for dtype in (
        torch.float32,
        torch.float64,
        None,
    ):  # float32 is the fast path
        got = select_width_minimize(x0 + 1e9, y, dtype=dtype)
        assert got.width == pytest.approx(exact.width, rel=2e-3)
        assert got.score == pytest.approx(exact.score, rel=1e-5)
    # the score itself, asked for in float32 on the offset data
    s32 = float(loo_error(x0 + 1e9, y, exact.width, dtype=torch.float32))
    assert s32 == pytest.approx(exact.score, rel=1e-5)


@pytest.mark.parametrize(
    "a, b", [(1e-20, 0.0), (1e20, 5e29), (3.7, -1e10), (1.0, 1e12)]
)
@pytest.mark.parametrize("dtype", [torch.float32, None])
def test_select_width_minimize_is_scale_equivariant(a, b, dtype):
    x0, y = _offset_sample()
    exact = select_width_minimize(x0, y, dtype=torch.float64)
    got = select_width_minimize(a * x0 + b, 1e6 + 1e3 * y, dtype=dtype)
    assert got.width / a == pytest.approx(exact.width, rel=2e-3)
    assert got.score / 1e6 == pytest.approx(exact.score, rel=1e-4)


TWO_CLUSTERS = ([0, 0.2, 0.4, 3, 3.2, 3.4], [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize(
    "dtype", [torch.float64, torch.float32, torch.bfloat16, torch.float16]
)
def test_parzen_classify_compares_log_densities(dtype):
    data, labels = TWO_CLUSTERS
    d = torch.tensor(data, dtype=dtype)
    got = parzen_classify(torch.tensor([0.1, 3.1], dtype=dtype), d, labels, 1e-3)
    assert got.tolist() == [0, 1]
    assert parzen_classify(
        torch.tensor([-40.0], dtype=dtype), d, labels, 1.0
    ).tolist() == [0]
    assert nw_classify(
        torch.tensor([-40.0, 0.1, 3.1], dtype=dtype), d, labels, 1e-3
    ).tolist() == [0, 0, 1]


def test_parzen_densities_underflow_to_zero_but_decisions_do_not():
    data, labels = TWO_CLUSTERS
    assert (
        float(parzen_density([-40.0], data, 1.0)[0]) == 0.0
    )  # the true value is ~1e-350
    assert float(log_parzen_density([-40.0], data, 1.0)[0]) < -700
    assert (joint_class_densities([0.1, 3.1], data, labels, 1e-3) == 0).all()
    probs = nw_class_probabilities([-40.0], data, labels, 1.0)
    assert torch.allclose(probs, torch.tensor([[1.0, 0.0]], dtype=probs.dtype))


def _scaled_example(a, dtype):
    g = np.random.default_rng(1)
    kx = g.uniform(0, 10, 50)
    qx = np.linspace(0, 10, 7)
    ref = nadaraya_watson(qx, kx, np.sin(kx), 0.7)

    def cast(z):
        return torch.tensor(a * z, dtype=dtype)

    return cast(qx), cast(kx), torch.tensor(np.sin(kx), dtype=dtype), a * 0.7, ref


@pytest.mark.parametrize("a", [1e-20, 1e20])
@pytest.mark.parametrize("banded", [False, True])
def test_tiny_and_huge_units_in_float32(a, banded):
    q, k, v, h, ref = _scaled_example(a, torch.float32)
    f = nadaraya_watson(q, k, v, h, banded=banded)
    assert f.dtype == torch.float32
    assert torch.allclose(f.double(), ref, rtol=0, atol=1e-6)
    w = attention_weights(q, k, h)
    assert torch.allclose((w @ v).double(), ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("path", ["dense", "banded", "grad"])
def test_far_keys_get_exactly_zero_weight(dtype, path):
    """The exp floor (about -83 in float32, -704 in float64) gives far keys weight 0,
    not exp(-83): a huge value of a far key must not leak into the estimate."""
    big = 1e30 if dtype == torch.float32 else 1e300
    k = torch.tensor([0.0, 0.5, 100.0], dtype=dtype)
    v = torch.tensor([1.0, 1.0, big], dtype=dtype)
    h = torch.tensor(1.0, dtype=dtype, requires_grad=path == "grad")
    f = nadaraya_watson(
        torch.tensor([0.1], dtype=dtype), k, v, h, banded=path == "banded"
    )
    assert float(f.detach()[0]) == 1.0
    w = attention_weights(torch.tensor([0.1], dtype=dtype), k, 1.0)
    assert float(w[0, 2]) == 0.0


def test_integer_labels_stay_exact():
    labels = np.array([16_777_217, 16_777_217, 16_777_216, 16_777_216], dtype=np.int64)
    x = np.array(
        [0.0, 0.1, 5.0, 5.1], dtype=np.float32
    )  # float32 data: labels still exact
    for fn in (parzen_classify, nw_classify):
        got = fn(np.array([0.05, 5.05], dtype=np.float32), x, labels, 0.5)
        assert got.dtype == torch.float64
        assert got.tolist() == [16_777_217, 16_777_216]


# --- dtypes kept ---


def test_float64_stays_float64_and_float32_is_not_raised_or_lowered():
    x64 = np.linspace(0, 1, 20)
    x32 = x64.astype(np.float32)
    assert nadaraya_watson(x64, x64, x64, 0.1).dtype == torch.float64
    assert nadaraya_watson(x32, x32, x32, 0.1).dtype == torch.float32
    # float64 values are not rounded to float32 because the points are float32
    assert nadaraya_watson(x32, x32, x64, 0.1).dtype == torch.float64
    assert nadaraya_watson(x32, x32, x64, 0.1, p=3.0).dtype == torch.float64
    assert (
        nadaraya_watson(x64, x64, x64, 0.1, dtype=torch.float32).dtype == torch.float32
    )


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32(half):
    x = torch.linspace(0, 4, 30)
    y = torch.sin(x)
    ref = nadaraya_watson(
        x.to(half).double(), x.to(half).double(), y.to(half).double(), 0.3
    )
    f = nadaraya_watson(x.to(half), x.to(half), y.to(half), 0.3)
    assert f.dtype == torch.float32
    assert torch.allclose(f.double(), ref, atol=1e-6)
    # asked for explicitly: computed in float32, returned in the asked dtype
    g = nadaraya_watson(x, x, y, 0.3, dtype=half)
    assert g.dtype == half
    assert torch.allclose(
        g.double(),
        nadaraya_watson(x.double(), x.double(), y.double(), 0.3),
        atol=2 * torch.finfo(half).eps,
    )
    assert gaussian_weights(x.to(half), x.to(half), 0.3).dtype == torch.float32
    assert log_parzen_density(x.to(half), x.to(half), 0.3).dtype == torch.float32


def test_explicit_float32_keeps_offset_digits():
    """dtype=float32 on float64 data far from 0: centred in float64 before the cast."""
    x = np.linspace(0, 1, 50) + 1e9
    y = np.cos(3 * x - 3e9) + 1e6  # values with an offset too
    ref = nadaraya_watson(x - 1e9, x - 1e9, y - 1e6, 0.05) + 1e6
    for banded in (False, True):
        f = nadaraya_watson(x, x, y, 0.05, dtype=torch.float32, banded=banded)
        assert torch.allclose(f.double(), ref, rtol=1e-7, atol=0)
        g = banded_nadaraya_watson(x, x, y, 0.05, dtype="float32")
        assert torch.allclose(g.double(), ref, rtol=1e-7, atol=0)


# --- array-likes ---


def _readonly(a):
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


_X = np.linspace(0, 3, 12)
_Y = np.sin(_X)
_L = (np.arange(12) >= 6).astype(np.int64)
KINDS = {
    "read-only numpy": lambda a: _readonly(a),
    "pandas Series": lambda a: pd.Series(np.asarray(a, dtype=float)),
    "pandas DataFrame": lambda a: pd.DataFrame({"x": np.asarray(a, dtype=float)}),
    "list": lambda a: list(np.asarray(a, dtype=float)),
    "memory map": None,
    "torch tensor": lambda a: torch.as_tensor(np.array(a, dtype=float)),
    "non-contiguous numpy": lambda a: np.repeat(np.asarray(a, dtype=float), 2)[::2],
}
CALLS = {
    "nadaraya_watson": lambda c: nadaraya_watson(c(_X), c(_X), c(_Y), 0.3),
    "nadaraya_watson banded": lambda c: nadaraya_watson(
        c(_X), c(_X), c(_Y), 0.3, banded=True
    ),
    "attention_weights": lambda c: attention_weights(c(_X), c(_X), 0.3),
    "log_scores": lambda c: log_scores(c(_X), c(_X), 0.3),
    "loo_predictions": lambda c: loo_predictions(c(_X), c(_Y), 0.3),
    "loo_error": lambda c: loo_error(c(_X), c(_Y), 0.3),
    "loo_error float32": lambda c: loo_error(c(_X), c(_Y), 0.3, dtype=torch.float32),
    "silverman_width": lambda c: silverman_width(c(_X)),
    "select_width_grid": lambda c: select_width_grid(c(_X), c(_Y), num=5),
    "parzen_classify": lambda c: parzen_classify(c(_X), c(_X), c(_L), 0.3),
    "nw_classify": lambda c: nw_classify(c(_X), c(_X), c(_L), 0.3),
    "log_parzen_density": lambda c: log_parzen_density(c(_X), c(_X), 0.3),
    "gaussian_weights": lambda c: gaussian_weights(c(_X), c(_X), 0.3),
    "biased_dot_product_weights": lambda c: biased_dot_product_weights(
        c(_X), c(_X), 0.3
    ),
    "normalize": lambda c: normalize(c(_X + 1)),
    "nadaraya_watson p=3": lambda c: nadaraya_watson(c(_X), c(_X), c(_Y), 0.3, p=3.0),
    "standardize": lambda c: standardize(c(_X)),
    "kernel profile": lambda c: kernels.gaussian(c(_X)),
    "true_function": lambda c: true_function(c(_X)),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("call", sorted(CALLS))
def test_array_likes_give_no_warning_and_the_same_numbers(call, kind, tmp_path):
    if kind == "memory map":
        count = iter(range(10**6))

        def conv(a):
            path = tmp_path / f"a{next(count)}.npy"
            np.save(path, np.asarray(a, dtype=float))
            return np.load(path, mmap_mode="r")
    else:
        conv = KINDS[kind]
    ref = CALLS[call](lambda a: np.array(a, dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = CALLS[call](conv)
    if hasattr(ref, "width"):
        ref, got = ref.width, got.width
    assert np.allclose(_numbers(got), _numbers(ref), rtol=1e-12, atol=1e-12)


def _numbers(r):
    parts = r if isinstance(r, tuple) else (r,)
    return np.concatenate(
        [
            np.ravel(z.detach().numpy() if isinstance(z, torch.Tensor) else z)
            for z in parts
        ]
    ).astype(float)


def test_python_scalars_and_integers_everywhere():
    assert nadaraya_watson(1, [0, 2], [1, 3], 1).tolist() == [2.0]
    assert float(kernels.gaussian(0)) == 1.0
    assert true_function(0).dtype == torch.float64
    assert key_bias([[1, 0]], 1).dtype == torch.float64


# --- equivariance ---

DTYPES = ["float64", "float32", "bfloat16", "float16", "int64"]
_EPS = {
    "float64": 2.0**-52,
    "float32": 2.0**-23,
    "bfloat16": 2.0**-23,
    "float16": 2.0**-23,
    "int64": 2.0**-52,
}  # halves are computed in float32


@st.composite
def transformed(draw, d_max=2, n_max=12, integer_ok=True):
    """A problem (q, k, v, h) in float64 near 0, and the same problem transformed.

    The transform maps x -> a x + b and casts to a dtype:
    ``(dtype, a, b, Q, K, V, H, q0, k0, v0)`` where q0, k0, v0 are the *rounded*
    inputs mapped back exactly (in float64): the reference problem.
    """
    dtype = draw(st.sampled_from(DTYPES if integer_ok else DTYPES[:4]))
    d = draw(st.integers(1, d_max))
    n_q, n_k = draw(st.integers(1, 6)), draw(st.integers(2, n_max))
    seed = draw(st.integers(0, 2**31))
    g = np.random.default_rng(seed)
    k = g.uniform(-1, 1, (n_k, d))
    q = g.uniform(-1.5, 1.5, (n_q, d))
    v = g.uniform(-1, 1, n_k)
    h = 10 ** draw(st.floats(-1.5, 0.5))
    if dtype == "int64":
        a = 10 ** draw(st.floats(2, 12))
    elif dtype == "float16":
        a = 10 ** draw(st.floats(-3, 3))
    else:
        a = 10 ** draw(st.floats(-20, 20))
    rel = draw(st.sampled_from([0.0, 1.0, 1e3, 1e6, 1e9]))
    b = float(np.float64(rel * a * draw(st.sampled_from([1.0, -1.0]))))
    if dtype in ("float16", "int64"):  # what the dtype can hold
        assume(abs(b) + 2 * a < (6e4 if dtype == "float16" else 9e18))
    tdt = {
        "float64": torch.float64,
        "float32": torch.float32,
        "bfloat16": torch.bfloat16,
        "float16": torch.float16,
        "int64": torch.int64,
    }[dtype]

    def cast(x):
        y = a * x + b
        if dtype == "int64":
            return torch.from_numpy(np.round(y).astype(np.int64))
        return torch.from_numpy(y).to(tdt)

    Q, K = cast(q), cast(k)

    def back(T):
        # exact subtraction (Sterbenz), one division
        return ((T.double() - b) / a).numpy()

    V = torch.from_numpy(v).to(torch.float32 if dtype == "int64" else tdt)
    v0 = V.double().numpy()
    return dtype, a, b, Q, K, V, a * h, back(Q), back(K), v0, h


def _ref_nw(q, k, v, h):
    r2 = (((q[:, None, :] - k[None]) / h) ** 2).sum(-1)
    lw = -0.5 * r2
    w = np.exp(lw - logsumexp(lw, axis=1, keepdims=True))
    return w, w @ v, r2


def _tol(dtype, r2=None):
    eps = _EPS[dtype]
    return 64 * eps * (1 + (0 if r2 is None else min(float(np.max(r2)), 200.0)))


@SETTINGS
@given(
    transformed(),
    st.sampled_from(["dense", "banded", "weights", "minkowski", "grad"]),
    st.sampled_from(["scalar", "coordinate", "key"]),
)
def test_pooling_is_translation_and_scale_equivariant(p, path, per):
    dtype, _, _, Q, K, V, H, q0, k0, v0, h = p
    n_k, d = K.shape
    mult = {
        "scalar": np.ones(()),
        "coordinate": np.linspace(1, 2, d),
        "key": np.linspace(0.5, 1.5, n_k)[:, None],
    }[per]
    w_ref, f_ref, r2 = _ref_nw(q0, k0, v0, h * mult)
    near = np.where(w_ref > 1e-12, r2, 0).max()  # the keys that carry weight
    tol = _tol(dtype, near) * 4
    H = torch.from_numpy(np.asarray(H * mult, dtype=np.float64))
    if path == "banded":
        assume(d == 1 and per == "scalar")
        f = nadaraya_watson(Q, K, V, H, banded=True)
    elif path == "dense":
        f = nadaraya_watson(Q, K, V, H, banded=False)
    elif path == "grad":
        f = nadaraya_watson(Q, K, V, H.clone().requires_grad_(True)).detach()
    elif path == "minkowski":
        f = nadaraya_watson(Q, K, V, H, p=2.0)
    else:
        w = attention_weights(Q, K, H)
        assert np.abs(w.double().numpy() - w_ref).max() <= tol
        f = w.double() @ torch.from_numpy(v0)
    assert f.dtype in (torch.float64, torch.float32)
    assert np.abs(f.double().numpy() - f_ref).max() <= tol * max(1.0, np.abs(v0).max())


@SETTINGS
@given(transformed())
def test_scaled_distances_and_log_scores_are_invariant(p):
    dtype, _, _, Q, K, _, H, q0, k0, v0, h = p
    _, _, r2 = _ref_nw(q0, k0, v0, h)
    got = scaled_sq_distances(Q, K, H).double().numpy()
    assert np.allclose(got, r2, rtol=_tol(dtype), atol=_tol(dtype))
    s = log_scores(Q, K, H).double().numpy()
    assert np.allclose(s, -0.5 * r2, rtol=_tol(dtype), atol=_tol(dtype))


@SETTINGS
@given(transformed())
def test_loo_predictions_and_score_are_invariant(p):
    dtype, _, _, _, K, V, H, _, k0, v0, h = p
    _, _, r2 = _ref_nw(k0, k0, v0, h)
    lw = -0.5 * r2
    np.fill_diagonal(lw, -np.inf)
    w = np.exp(lw - logsumexp(lw, axis=1, keepdims=True))
    ref = w @ v0
    near = np.where(w > 1e-12, r2, 0).max()
    tol = 4 * _tol(dtype, near)
    got = loo_predictions(K, V, H).double().numpy()
    assert np.abs(got - ref).max() <= tol
    cv = float(np.mean((v0 - ref) ** 2))
    assert abs(float(loo_error(K, V, H)) - cv) <= 4 * tol
    if K.shape[1] == 1:
        assert abs(float(loo_error(K, V, H, dtype=torch.float64)) - cv) <= 4 * tol


@SETTINGS
@given(transformed(integer_ok=False))
def test_sphere_gaussian_forms_are_invariant(p):
    dtype, _, _, Q, K, _, H, q0, k0, v0, h = p
    w_ref, _, r2 = _ref_nw(q0, k0, v0, h)
    near = np.where(w_ref > 1e-12, r2, 0).max()
    tol = 4 * _tol(dtype, near)
    assert np.abs(gaussian_weights(Q, K, H).double().numpy() - w_ref).max() <= tol
    # the dot-product form with the key bias: equal off the origin too (it is centred)
    span = 1 + np.abs(q0 - k0.mean(0)).max() / h
    assert (
        np.abs(biased_dot_product_weights(Q, K, H).double().numpy() - w_ref).max()
        <= tol * span**2
    )
    kb = key_bias(K, H).double().numpy()
    assert np.allclose(
        kb, -0.5 * (((K.double().numpy()) / H) ** 2).sum(-1), rtol=_tol(dtype)
    )


def test_biased_dot_product_equals_gaussian_far_from_the_origin():
    g = torch.Generator().manual_seed(0)
    q, k = (
        torch.randn(5, 3, generator=g, dtype=torch.float64),
        torch.randn(9, 3, generator=g, dtype=torch.float64),
    )
    for offset in (0.0, 1e4, 1e8):
        for dt, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
            Q, K = (q + offset).to(dt), (k + offset).to(dt)
            ref = gaussian_weights(Q.double(), K.double(), 0.7)
            assert (
                biased_dot_product_weights(Q, K, 0.7).double() - ref
            ).abs().max() < tol


def test_normalize_and_sq_distances_at_extreme_scales():
    x = torch.tensor([[3e20, 4e20], [3e-20, -4e-20]], dtype=torch.float32)
    u = normalize(x)
    assert torch.allclose(u, torch.tensor([[0.6, 0.8], [0.6, -0.8]]), atol=1e-6)
    assert torch.isfinite(sq_distances(x[1:], x[1:] * 2)).all()


@SETTINGS
@given(transformed(), st.sampled_from(["gaussian", "epanechnikov"]))
def test_log_parzen_density_shifts_by_the_log_of_the_scale(p, kernel):
    dtype, a, _, Q, K, _, H, q0, k0, _, h = p
    d = K.shape[1]
    r2 = (((q0[:, None, :] - k0[None]) / h) ** 2).sum(-1)
    assume(
        not (np.abs(r2 - 1) < 1e-3).any()
    )  # compact kernel: no key on the support's edge
    if kernel == "gaussian":
        lk = -0.5 * r2 - d / 2 * math.log(2 * math.pi)
    else:
        c = {1: 1.0, 2: 3 * math.pi / 8}[d]
        lk = np.where(
            r2 < 1, np.log(np.clip(0.75 * (1 - r2), 1e-300, None)), -np.inf
        ) - math.log(c)
    with np.errstate(divide="ignore"):
        ref = logsumexp(lk, axis=1) - math.log(K.shape[0]) - d * math.log(h)
    got = log_parzen_density(Q, K, H, kernel).double().numpy() + d * math.log(a)
    fin = np.isfinite(ref)
    assert (np.isneginf(got) == ~fin).all()
    atol = 4 * _tol(dtype, r2.min(1).max()) + 1e-12 * d * abs(math.log(a))
    assert np.allclose(got[fin], ref[fin], rtol=_tol(dtype), atol=atol)


# --- class decisions ---


@st.composite
def classification(draw):
    p = draw(transformed())
    n_k = p[4].shape[0]
    labels = np.array(
        draw(st.lists(st.integers(0, 2), min_size=n_k, max_size=n_k)), dtype=np.int64
    )
    far = draw(st.sampled_from([0.0, 10.0, 40.0]))  # queries far from every key too
    return p, labels, far


def _ref_log_joint(q, k, labels, h):
    r2 = (((q[:, None, :] - k[None]) / h) ** 2).sum(-1)
    cls = np.unique(labels)
    out = np.stack(
        [
            logsumexp(np.where(labels[None] == c, -0.5 * r2, -np.inf), axis=1)
            for c in cls
        ],
        axis=1,
    )
    return out, cls


@SETTINGS
@given(classification())
def test_class_decisions_match_a_float64_log_domain_reference(c):
    (dtype, a, b, Q, K, _, H, q0, k0, _, h), labels, far = c
    if far:  # shift the queries far from the keys (in units of the width)
        Q = (
            (Q.double() + far * H).to(Q.dtype)
            if Q.is_floating_point()
            else Q + int(far * H)
        )
        q0 = (Q.double().numpy() - b) / a
    assume(np.isfinite(Q.double().numpy()).all())
    ref, cls = _ref_log_joint(q0, k0, labels, h)
    top = np.sort(ref, axis=1)
    margin = top[:, -1] - (top[:, -2] if top.shape[1] > 1 else -np.inf)
    r2 = (((q0[:, None, :] - k0[None]) / h) ** 2).sum(-1)
    clear = margin > 1e3 * _tol(dtype, r2.min(1).max()) * (1 + np.abs(top[:, -1]))
    want = cls[ref.argmax(1)]
    got = parzen_classify(Q, K, labels, H).numpy()
    assert not np.isnan(got).any()  # the Gaussian never vanishes
    assert (got[clear] == want[clear]).all()
    nw = nw_classify(Q, K, labels, H).numpy()
    assert (nw[clear] == want[clear]).all()


# --- adversarial follow-up ---
# Faults A0, A1, A6, A7, A9, A10 of the adversarial test of the issue-13 fixes, each
# with the reproducer's inputs and the right value from a float64 reference.

from nwlib import learn as _learn  # noqa: E402
from nwlib import parzen as _parzen  # noqa: E402
from nwlib import sphere as _sphere  # noqa: E402


def _ref_nw_1d(q, k, v, h):
    """Gaussian NW in float64 on the given (already translated) numbers, log domain."""
    s = (
        -0.5
        * ((np.asarray(q, np.float64)[:, None] - np.asarray(k, np.float64)[None]) / h)
        ** 2
    )
    w = np.exp(s - s.max(1, keepdims=True))
    return (w / w.sum(1, keepdims=True)) @ np.asarray(v, np.float64)


def test_learned_width_float32_centres_unix_stamps():
    """A0: float32 fast path on float64 Unix seconds 30 s apart.

    The float32 spacing there is 128 s.
    """
    t = 1.7e9 + np.arange(0, 600, 30.0)
    y = np.sin(np.arange(20) / 3.0)
    m = _learn.LearnedWidthNW(t, y, 60.0, dtype=torch.float32)
    want = _ref_nw_1d(t[:3] - t[0], t - t[0], y, 60.0)  # [0.3739, 0.4841, 0.6056]
    got = m.predict(t[:3])
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-6)  # was off by 0.11
    w = np.exp(-0.5 * ((t[:, None] - t[None]) / 60.0) ** 2)
    np.fill_diagonal(w, 0)
    loo = (w @ y) / w.sum(1)
    want_loss = np.mean((loo - y) ** 2)  # 0.0603 (it was 0.129)
    assert float(m.loss().detach()) == pytest.approx(want_loss, rel=1e-5)
    m64 = _learn.LearnedWidthNW(t, y, 60.0)
    assert not m64.key_offset.any() and torch.equal(m64.keys[:, 0], torch.from_numpy(t))


def test_learned_width_float32_offset_keys_and_values_train_like_float64():
    """A0: x + 1e9 (spread 5) and values + 1e6.

    Predictions, loss and training as in float64.
    """
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 5, 30))
    y = np.sin(x)
    m32 = _learn.LearnedWidthNW(x + 1e9, y, 0.3, dtype=torch.float32)
    np.testing.assert_allclose(
        m32.predict(x + 1e9 + 0.1).numpy(),
        _ref_nw_1d(x + 0.1, x, y, 0.3),
        rtol=0,
        atol=1e-6,
    )  # was 0.38
    a = _learn.LearnedWidthNW(x + 1e9, y + 1e6, 0.3, dtype=torch.float32)
    b = _learn.LearnedWidthNW(x + 1e9, y + 1e6, 0.3)
    assert float(a.loss().detach()) == pytest.approx(float(b.loss().detach()), rel=1e-5)
    assert float(
        a.loss(x[:5] + 1e9, y[:5] + 1e6, exclude_self=False).detach()
    ) == pytest.approx(
        float(b.loss(x[:5] + 1e9, y[:5] + 1e6, exclude_self=False).detach()), rel=1e-5
    )
    a.fit(40, lr=0.05, progress=False)
    b.fit(40, lr=0.05, progress=False)
    assert float(a.width) == pytest.approx(float(b.width), rel=1e-4)


@pytest.mark.parametrize(
    "width, dtype",
    [
        (0.3e-20, torch.float32),
        (1e-200, torch.float64),
        (1e200, torch.float64),
        (1e30, torch.float32),
    ],
)
def test_inverse_squared_width_it_cannot_hold_is_a_clear_error(width, dtype):
    """A6: v = h**-2 overflows or underflows: ValueError naming width, not width = 0."""
    with pytest.raises(ValueError, match="width"):
        _learn.width_to_raw(torch.tensor(width, dtype=dtype), "inverse_squared")
    x = torch.linspace(0, 5, 20, dtype=dtype) * (width / 0.3)
    with pytest.raises(ValueError, match="width"):
        _learn.LearnedWidthNW(
            x, torch.sin(x), width, parameterization="inverse_squared"
        )


def test_log_width_at_scale_1e_minus_20_in_float32():
    """A6: the 'log' parameterization holds widths at scale 1e-20 in float32."""
    x = np.linspace(0, 5, 20)
    m = _learn.LearnedWidthNW(
        torch.tensor(x * 1e-20, dtype=torch.float32),
        torch.tensor(np.sin(x), dtype=torch.float32),
        0.3e-20,
    )
    got = m.predict(torch.tensor(x[:4] * 1e-20 + 1e-21, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(
        got, _ref_nw_1d(x[:4] + 0.1, x, np.sin(x), 0.3), atol=1e-6
    )


def test_float64_width_that_rounds_to_zero_in_float32_is_a_clear_error():
    """A6: a Python width 1e-50 with float32 data becomes 0 in float32."""
    x = torch.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="width = 1e-50 is not representable"):
        _learn.LearnedWidthNW(x, x, 1e-50)


@pytest.mark.parametrize(
    "width", [0.5, np.array(0.5), np.float32(0.5), [0.5, 2.0], np.array([0.5, 2.0])]
)
@pytest.mark.parametrize("par", ["log", "inverse", "inverse_squared"])
def test_width_raw_round_trip_accepts_array_likes(width, par):
    """A7: Python numbers and numpy arrays (was AttributeError), round trip ~exact."""
    raw = _learn.width_to_raw(width, par)
    assert isinstance(raw, torch.Tensor)
    back = _learn.raw_to_width(raw.numpy(), par)
    np.testing.assert_allclose(back.numpy(), np.asarray(width, np.float64), rtol=1e-7)


@pytest.mark.parametrize("bad", [-0.5, 0.0, math.nan, math.inf, [0.5, -1.0]])
@pytest.mark.parametrize("par", ["log", "inverse", "inverse_squared"])
def test_width_to_raw_rejects_widths_that_are_not_positive(bad, par):
    """A7: -0.5 gave nan / -2 / 4 (the raw of +0.5) silently."""
    with pytest.raises(ValueError, match="width"):
        _learn.width_to_raw(bad, par)
    with pytest.raises(ValueError, match="width"):
        _learn.width_to_raw(torch.tensor(bad), par)


_BIG = np.array([2**53, 2**53 + 1, 2**53, 2**53 + 1])  # int64: float64 merges them


def test_class_labels_beyond_2_53_stay_distinct_and_exact():
    """A1: class_labels gave one class 9.0072e+15."""
    got = _parzen.class_labels(_BIG)
    assert got.dtype == torch.int64 and got.tolist() == [2**53, 2**53 + 1]
    u = np.array([2**64 - 1, 2**64 - 2], dtype=np.uint64)
    assert _parzen.class_labels(u).tolist() == [2**64 - 2, 2**64 - 1]
    assert (
        _parzen.class_labels([2, 0, 2]).dtype == torch.float64
    )  # small labels: as before


@pytest.mark.parametrize(
    "labels",
    [
        _BIG,
        torch.from_numpy(_BIG),
        list(map(int, _BIG)),
        np.array([2**64 - 2, 2**64 - 1, 2**64 - 2, 2**64 - 1], dtype=np.uint64),
    ],
)
def test_classifiers_keep_labels_beyond_2_53(labels):
    """A1: nw_classify returned 2**53 (the nearest key, x = 1, has label 2**53 + 1)."""
    x = np.array([0.0, 1.0, 2.0, 3.0])
    q = np.array([1.1])
    lab = np.asarray(labels.numpy() if isinstance(labels, torch.Tensor) else labels)
    s = -0.5 * ((q[:, None] - x[None]) / 0.5) ** 2
    w = np.exp(s - s.max())
    p1 = w[0, 1::2].sum() / w.sum()  # float64 reference: P(second class | 1.1) = 0.774
    want = int(lab[1])
    for fn in (_parzen.nw_classify, _parzen.parzen_classify):
        got = fn(q, x, labels, 0.5)
        assert not got.is_floating_point() and got.tolist() == [want]
    probs = _parzen.nw_class_probabilities(q, x, labels, 0.5)
    assert probs.shape == (1, 2)
    order = np.argsort(lab[:2])  # columns in increasing label order
    np.testing.assert_allclose(probs[0, order].numpy(), [1 - p1, p1], rtol=1e-12)
    joint = _parzen.joint_class_densities(q, x, labels, 0.5)
    cond = _parzen.class_conditional_densities(q, x, labels, 0.5)
    assert joint.shape == cond.shape == (1, 2)
    np.testing.assert_allclose(cond.numpy(), 2 * joint.numpy(), rtol=1e-12)
    got = _parzen.nw_classify(q, x, labels, 0.5, classes=[int(lab[1]), int(lab[0])])
    assert got.tolist() == [want]


def test_classifier_beyond_2_53_without_a_decision_is_a_clear_error():
    """A1: exact integer labels have no NaN for 'no decision'."""
    x = np.array([0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="no decision"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _parzen.parzen_classify(np.array([100.0]), x, _BIG, 0.5, "boxcar")


@pytest.mark.parametrize(
    "width", [1e-200, 1e200, torch.tensor(1e-30), torch.tensor(1e30)]
)
def test_temperature_from_width_not_representable_is_a_clear_error(width):
    """A9: 1e-200 gave temperature 0 (then rejected by dot_product_weights)."""
    with pytest.raises(ValueError, match="width"):
        _sphere.temperature_from_width(width)
    assert float(_sphere.temperature_from_width(1e-150)) == pytest.approx(
        1e-300, rel=1e-15
    )


def test_temperature_that_rounds_to_zero_in_the_points_dtype_is_a_clear_error():
    """A9 (sibling): a float64 temperature 1e-50 with float32 points became 0 -> NaN."""
    q = torch.tensor([[1.0, 0.0]])
    with pytest.raises(ValueError, match="temperature"):
        _sphere.dot_product_weights(q, q, 1e-50)


def test_sq_distances_float32_at_scale_1e_minus_20_rounds_once():
    """A9: squares of each coordinate underflowed into subnormals one by one.

    The result (about 1e-40) is itself subnormal in float32, so the bound is one
    rounding of it: eps * d2 + one subnormal step 2**-149 (it was 1.4 steps).
    """
    rng = np.random.default_rng(2)
    K, Q = rng.standard_normal((30, 3)), rng.standard_normal((20, 3))
    for a in (1e-20, 1e-21):
        q32 = torch.tensor(Q * a, dtype=torch.float32)
        k32 = torch.tensor(K * a, dtype=torch.float32)
        ref = ((q32.double().numpy()[:, None] - k32.double().numpy()[None]) ** 2).sum(
            -1
        )
        got = _sphere.sq_distances(q32, k32).double().numpy()
        assert (np.abs(got - ref) <= 2.0**-23 * ref + 2.0**-149).all()


@pytest.mark.parametrize("name", sorted(kernels.KERNELS))
def test_kernel_profiles_reject_nan(name):
    """A10: kernels.gaussian(np.array([nan])) returned tensor([nan]) silently."""
    prof = getattr(kernels, name)
    with pytest.raises(ValueError, match="u contains NaN"):
        prof(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="u contains NaN"):
        kernels.KERNELS[name](torch.tensor([np.nan], dtype=torch.float32))
    far = prof(
        np.array([np.inf, -np.inf])
    ).tolist()  # an infinitely far point: the limit
    assert far == ([1.0, 1.0] if name == "constant" else [0.0, 0.0])


@pytest.mark.parametrize(
    "dtype, width",
    [(torch.float64, 1e-200), (torch.float64, 1e-300), (torch.float32, 1e-25)],
)
def test_sphere_gaussian_weights_tiny_width_go_to_the_nearest_key(dtype, width):
    """A3 (sphere part): every squared scaled distance overflowed -> all NaN.

    Reference: the limit as the width goes to 0, one-hot on the nearest key (ties
    share).
    """
    x = torch.tensor([[0.0], [1.0], [2.0]], dtype=dtype)
    q = torch.tensor([[0.2], [1.9], [1.5]], dtype=dtype)
    got = _sphere.gaussian_weights(q, x, width)
    want = torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, 0.5, 0.5]], dtype=dtype)
    assert torch.equal(got, want)
    g = _sphere.gaussian_weights(
        q[:, None].expand(3, 2, 1), x[None].expand(3, 3, 1), width
    )
    assert not g.isnan().any() and torch.equal(g[:, 0], want)  # batched


# --- adversarial follow-up 2 ---
# Reproducers of /work/notes/adversarial.md (R1/A3, A4, A2, A11); right values from
# a float64 (or longdouble) reference: a Gaussian's limit h -> 0 is the nearest key's
# value.


def _nw_reference(q, k, v, h):
    """Float64/longdouble dense reference: softmax over keys of -(r2 - r2_min) / 2."""
    q, k, v, h = (np.asarray(a, dtype=np.longdouble) for a in (q, k, v, h))
    q = q.reshape(len(q), -1)
    k = k.reshape(len(k), -1)
    r2 = (((q[:, None, :] - k[None, :, :]) / h) ** 2).sum(-1)
    s = -(r2 - r2.min(1, keepdims=True)) / 2
    w = np.exp(s)
    return np.asarray((w / w.sum(1, keepdims=True)) @ v, dtype=np.float64)


@pytest.mark.parametrize("width", [1e-150, 1e-155, 1e-160, 1e-200, 1e-300])
@pytest.mark.parametrize("banded", [False, True])
def test_a3_tiny_float64_width_is_the_nearest_key(width, banded):
    x, y, q = (
        np.array([0.0, 1.0, 2.0]),
        np.array([1.0, 2.0, 3.0]),
        np.array([0.2, 1.9, 1.5]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = nadaraya_watson(q, x, y, width, banded=banded)
        w = attention_weights(q, x, width)
        f_loo = nadaraya_watson(x, x, y, width, exclude_self=True, banded=banded)
    np.testing.assert_array_equal(f.numpy(), [1.0, 3.0, 2.5])  # 1.5: a tie, shared
    np.testing.assert_array_equal(w.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0.5, 0.5]])
    np.testing.assert_array_equal(f_loo.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("width", [1e-20, 1e-30, 1e-38])
def test_a3_tiny_float32_width_is_the_nearest_key(width):
    k = torch.tensor([0.0, 1.0, 2.0])
    v = torch.tensor([1.0, 2.0, 3.0])
    q = torch.tensor([0.2, 1.9, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = nadaraya_watson(q, k, v, width)
        w = attention_weights(q, k, width)
    assert torch.equal(f, torch.tensor([1.0, 3.0, 2.5]))
    assert torch.equal(w, torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, 0.5, 0.5]]))


def test_a3_tiny_width_gradient_is_finite():
    k = torch.tensor([0.0, 1.0, 2.5, 4.0], dtype=torch.float64)
    q = torch.tensor([0.3, 1.4, 3.0, 3.9], dtype=torch.float64)
    v = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    for width in (1e-200, 1e-11):
        h = torch.tensor(width, dtype=torch.float64, requires_grad=True)
        nadaraya_watson(q, k, v, h).sum().backward()
        assert h.grad is not None and torch.isfinite(h.grad)
    # where the plain and the shifted paths meet, the gradients agree with the reference
    h = torch.tensor(0.3e-11, dtype=torch.float64, requires_grad=True)
    nadaraya_watson(q * 1e-11, k * 1e-11, v, h).sum().backward()
    h2 = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    nadaraya_watson(q, k, v, h2).sum().backward()
    torch.testing.assert_close(h.grad * 1e-11, h2.grad)


def test_a3_parzen_decision_at_a_tiny_width():
    data = np.array([0.0, 0.2, 0.4, 3.0, 3.2, 3.4])
    labels = np.array([0, 0, 0, 1, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = parzen_classify(np.array([0.1, 3.1, 0.25]), data, labels, 1e-300)
        mid = parzen_classify(
            np.array([1.2]), np.array([0.0, 1.0, 2.0]), [0, 1, 0], 1e-200
        )
    assert got.tolist() == [0, 1, 0] and mid.tolist() == [1]


def test_a3_tiny_width_is_translation_and_scale_equivariant():
    rng = np.random.default_rng(5)
    k = np.sort(rng.uniform(0, 10, 50))
    v = np.sin(k)
    q = rng.uniform(0, 10, 7)
    want = _nw_reference(q, k, v, 1e-3)
    for a, b in [(1e-200, 0.0), (1e200, 0.0), (1e-150, 1e-142)]:
        got = nadaraya_watson(a * q + b, a * k + b, v, a * 1e-3).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_gaussian_warning_never_suggests_the_gaussian():
    # a Gaussian row that really is empty: a NaN query is rejected, so use on_empty on a
    # compact kernel for the compact message and check the Gaussian message's text
    from nwlib._engine import report_empty

    with pytest.warns(RuntimeWarning) as rec:
        report_empty(1, 2, kernels.get_kernel("gaussian"), "nan", stacklevel=2)
        report_empty(1, 2, kernels.get_kernel("epanechnikov"), "nan", stacklevel=2)
    gauss, compact = (str(r.message) for r in rec)
    assert "such as 'gaussian'" not in gauss and "support" not in gauss
    assert "'gaussian'" in compact


def test_a4_float32_width_that_rounds_to_zero_is_a_clear_error():
    q, k, v = (
        torch.tensor([0.2, 1.9]),
        torch.tensor([0.0, 1.0, 2.0]),
        torch.tensor([1.0, 2, 3]),
    )
    with pytest.raises(ValueError, match="width"):
        nadaraya_watson(q, k, v, 1e-50)
    with pytest.raises(ValueError, match="width"):
        attention_weights(q, k, 1e-50)
    with pytest.raises(ValueError, match="width"):
        nadaraya_watson(q, k, v, 1e50)
    # the same width with float64 data is the nearest key's value
    f64 = nadaraya_watson(q.double(), k.double(), v.double(), 1e-50)
    np.testing.assert_array_equal(f64.numpy(), [1.0, 3.0])


def test_a2_banded_float32_far_query_is_the_nearest_key():
    from nwlib.scale import banded_nadaraya_watson

    k = torch.tensor([0.0, 1.0, 4.9, 4.95])
    v = torch.tensor([1.0, 2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for far in (200.0, 300.0, 1000.0, 1e6):
            assert (
                nadaraya_watson(torch.tensor([far]), k, v, 0.01, banded=True).item()
                == 4.0
            )
            assert banded_nadaraya_watson(torch.tensor([far]), k, v, 0.01).item() == 4.0
        assert (
            banded_nadaraya_watson(
                np.array([1000.0]),
                k.double().numpy(),
                v.double().numpy(),
                0.01,
                dtype=torch.float32,
            ).item()
            == 4.0
        )
        for seed in range(4):
            kk = torch.rand(2048, generator=torch.Generator().manual_seed(seed)) * 5
            vv = torch.randn(2048, generator=torch.Generator().manual_seed(seed + 10))
            got = banded_nadaraya_watson(torch.tensor([1000.0]), kk, vv, 0.01).item()
            assert got == vv[kk.argmax()].item()


@pytest.mark.parametrize("a,b", [(1e20, 1e-20), (1e-20, 1e20)])
def test_a11_float32_per_coordinate_widths_1e20_apart(a, b):
    v = torch.tensor([1.0, 2.0])
    q = torch.tensor([[0.1 * a, 0.2 * b]])
    k = torch.tensor([[0.0, 0.0], [a, b]])
    want = _nw_reference(
        [[0.1, 0.2]], [[0.0, 0.0], [1.0, 1.0]], [1.0, 2.0], 1.0
    )  # 1.3318
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nadaraya_watson(q, k, v, torch.tensor([a, b]))
        dense = attention_weights(q, k, torch.tensor([a, b])) @ v
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(dense.numpy(), want, rtol=1e-6)


@pytest.mark.parametrize(
    "dtype,shift", [(torch.float64, 1e9), (torch.float32, 1e4), (torch.float64, -3.0)]
)
def test_a5_torus_embedding_is_invariant_under_whole_periods(dtype, shift):
    from nwlib.torus import torus_embedding

    x = torch.tensor([0.25, 0.5, 0.125], dtype=dtype)
    got = torus_embedding(x + shift)
    assert got.dtype == dtype
    torch.testing.assert_close(got, torus_embedding(x), rtol=0, atol=0)
    want = np.array(
        [[0.0, 1.0], [-1.0, 0.0], [np.cos(np.pi / 4), np.sin(np.pi / 4)]]
    ) / (2 * np.pi)
    np.testing.assert_allclose(
        got.double().numpy(), want, atol=1e-7 if dtype == torch.float32 else 1e-16
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a5_torus_embedding_half_dtypes_in_float32(dtype):
    from nwlib.torus import torus_embedding

    got = torus_embedding(torch.tensor([0.25], dtype=dtype))
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), [[0.0, 1 / (2 * np.pi)]], atol=1e-8)


def test_a12_rates_accept_bfloat16_and_grad_tensors_without_warnings():
    from nwlib.powerlaw import fit_power_law
    from nwlib.torus import periodic_function

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dt in (torch.float16, torch.bfloat16):
            got = periodic_function(torch.tensor([[0.125, 0.25]], dtype=dt))
            assert got.dtype == torch.float64
            np.testing.assert_allclose(
                got.numpy(), [(np.sin(np.pi / 4) + 1) / np.sqrt(2)]
            )
        want = fit_power_law([10.0, 100.0, 1000.0], [1.0, 0.1, 0.01])
        for n, v in [
            (torch.tensor([10.0, 100, 1000], requires_grad=True), [1.0, 0.1, 0.01]),
            (
                [10.0, 100.0, 1000.0],
                torch.tensor([1.0, 0.1, 0.01], dtype=torch.bfloat16),
            ),
        ]:
            got = fit_power_law(n, v)
            assert got.exponent == pytest.approx(want.exponent, abs=1e-2)
        x = np.linspace(0, 1, 20, endpoint=False)
        y = torch.tensor(np.sin(2 * np.pi * x), requires_grad=True)
        f32 = torch.float32
        cv = loo_error(x, y, 0.1, periodic=True, dtype=f32)  # differentiable in y
        assert cv.requires_grad
        assert float(cv.detach()) == pytest.approx(
            float(loo_error(x, y.detach(), 0.1, periodic=True, dtype=f32))
        )


@pytest.mark.parametrize("width", [0.2, 0.5, 1.0, 3.0])
def test_a0c_torus_images_keep_every_image_that_carries_weight(width):
    from nwlib.torus import torus_nadaraya_watson

    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, 30)
    y = np.sin(2 * np.pi * x) + x
    q = np.array([0.05, 0.5, 0.93])
    diff = q[:, None] - x[None]
    w = sum(np.exp(-((diff + m) ** 2) / (2 * width**2)) for m in range(-60, 61))
    want = (
        w @ y / w.sum(1)
    )  # the Gaussian of the distance around the circle, all images
    got64 = torus_nadaraya_watson(q, x, y, width, dtype=torch.float64).numpy()
    np.testing.assert_allclose(got64, want, rtol=0, atol=1e-13)
    np.testing.assert_allclose(
        torus_nadaraya_watson(q, x, y, width).numpy(), want, atol=2e-6
    )


def test_a0c_torus_images_too_wide_is_a_clear_error():
    from nwlib.torus import torus_nadaraya_watson

    x = np.linspace(0, 1, 10, endpoint=False)
    with pytest.raises(ValueError, match="width"):
        torus_nadaraya_watson(x, x, np.sin(x), 100.0, method="images")


def test_a0b_fit_coordinate_widths_is_scale_equivariant_and_warns_when_flat():
    from nwlib.learn import FlatLossWarning
    from nwlib.multidim import fit_coordinate_widths

    rng = np.random.default_rng(3)
    k = rng.standard_normal((40, 2))
    v = np.sin(2 * k[:, 0]) + 0.1 * rng.standard_normal(40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = fit_coordinate_widths(k, v, steps=60).width
        for a in (1e-20, 1e-3, 1e3):
            np.testing.assert_allclose(
                fit_coordinate_widths(k * a, v, steps=60).width / a, ref, rtol=1e-6
            )
    with pytest.warns(FlatLossWarning):  # a start far too small for data of scale 1e3
        fit_coordinate_widths(k * 1e3, v, width=1e-3, steps=10)
