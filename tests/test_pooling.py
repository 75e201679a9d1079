"""Core attention pooling, checked against independent references."""

import warnings

import numpy as np
import pytest
import torch
from test_kernels import REFERENCE

from nwlib.data import running_example
from nwlib.pooling import (
    attention_weights,
    log_scores,
    nadaraya_watson,
    scaled_sq_distances,
)


def naive_nw(q, k, v, h, kernel):
    """A plain double loop in numpy: the definition, nothing clever."""
    out = np.empty(len(q))
    for j, qj in enumerate(q):
        w = np.array([REFERENCE[kernel]((qj - ki) / h) for ki in k])
        out[j] = np.sum(w * v) / np.sum(w)
    return out


@pytest.fixture(scope="module")
def data():
    s = running_example(n_train=60, seed=3)
    return s.x_train.numpy(), s.y_train.numpy(), np.linspace(0.2, 4.8, 23)


@pytest.mark.parametrize("kernel", sorted(REFERENCE))
def test_matches_naive_loop(data, kernel):
    x, y, q = data
    got = nadaraya_watson(q, x, y, 0.7, kernel).numpy()
    np.testing.assert_allclose(
        got, naive_nw(q, x, y, 0.7, kernel), rtol=1e-12, atol=1e-12
    )


def test_matches_statsmodels_kernelreg(data):
    KernelReg = pytest.importorskip(
        "statsmodels.nonparametric.kernel_regression"
    ).KernelReg
    x, y, q = data
    for h in (0.1, 0.45, 2.0):
        ref = KernelReg(y, x, var_type="c", reg_type="lc", bw=[h]).fit(q)[0]
        np.testing.assert_allclose(nadaraya_watson(q, x, y, h).numpy(), ref, rtol=1e-10)


def test_weights_are_a_stochastic_matrix(data):
    x, _, q = data
    w = attention_weights(q, x, 0.5)
    assert w.shape == (len(q), len(x))
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(1).numpy(), 1.0, atol=1e-12)


def test_constant_kernel_gives_the_mean(data):
    x, y, q = data
    np.testing.assert_allclose(
        nadaraya_watson(q, x, y, 1.0, "constant").numpy(), y.mean()
    )


def test_tiny_gaussian_width_stays_finite_and_picks_nearest_key(data):
    x, y, q = data
    with np.errstate(all="ignore"):
        plain = np.exp(-(((q[:, None] - x[None]) / 1e-4) ** 2) / 2)
        assert np.isnan((plain @ y) / plain.sum(1)).any()  # the textbook form breaks
    got = nadaraya_watson(q, x, y, 1e-4).numpy()
    nearest = y[np.abs(q[:, None] - x[None]).argmin(1)]
    np.testing.assert_allclose(got, nearest)


@pytest.mark.parametrize("kernel", ["boxcar", "epanechnikov", "triangular"])
def test_compact_kernel_without_keys_in_range_is_nan_with_warning(kernel):
    x, y = np.array([0.0, 1.0]), np.array([1.0, 3.0])
    with pytest.warns(RuntimeWarning, match="1 of 2 queries have no key"):
        f = nadaraya_watson([0.1, 5.0], x, y, 0.5, kernel)
    assert np.isfinite(float(f[0])) and np.isnan(float(f[1]))
    with pytest.raises(ValueError, match="no key inside the support"):
        nadaraya_watson([5.0], x, y, 0.5, kernel, on_empty="raise")


def test_no_warning_when_every_query_has_a_key(data):
    x, y, q = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nadaraya_watson(q, x, y, 1.0, "boxcar")


def test_exclude_self_matches_refitting_without_the_point(data):
    x, y, _ = data
    loo = nadaraya_watson(x, x, y, 0.4, exclude_self=True).numpy()
    for i in (0, 17, len(x) - 1):
        keep = np.arange(len(x)) != i
        ref = nadaraya_watson(x[i : i + 1], x[keep], y[keep], 0.4).numpy()[0]
        assert loo[i] == pytest.approx(ref, rel=1e-12)
    assert torch.isneginf(log_scores(x, x, 0.4, exclude_self=True).diagonal()).all()


def test_d_dimensional_inputs_and_vector_values():
    g = torch.Generator().manual_seed(0)
    q, k = (
        torch.rand(7, 3, generator=g, dtype=torch.float64),
        torch.rand(9, 3, generator=g, dtype=torch.float64),
    )
    v = torch.rand(9, 2, generator=g, dtype=torch.float64)
    h = torch.tensor([0.3, 0.5, 2.0], dtype=torch.float64)
    r2 = (((q[:, None, :] - k[None]) / h) ** 2).sum(-1)
    w = torch.exp(-r2 / 2) / torch.exp(-r2 / 2).sum(1, keepdim=True)
    np.testing.assert_allclose(
        nadaraya_watson(q, k, v, h).numpy(), (w @ v).numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        scaled_sq_distances(q, k, h).numpy(), r2.numpy(), rtol=1e-12
    )


def test_per_key_widths():
    x = np.array([0.0, 1.0, 2.0])
    hk = np.array([[0.5], [1.0], [2.0]])
    w = attention_weights([0.7], x, hk).numpy()[0]
    raw = np.exp(-(((0.7 - x) / hk[:, 0]) ** 2) / 2)
    np.testing.assert_allclose(w, raw / raw.sum(), rtol=1e-12)


def test_gradient_flows_through_the_width(data):
    x, y, _ = data
    h = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    loss = (
        (nadaraya_watson(x, x, y, h, exclude_self=True) - torch.from_numpy(y)) ** 2
    ).mean()
    loss.backward()
    eps = 1e-6

    def f(hh):
        return float(
            ((nadaraya_watson(x, x, y, hh, exclude_self=True).numpy() - y) ** 2).mean()
        )

    assert float(h.grad) == pytest.approx(
        (f(0.5 + eps) - f(0.5 - eps)) / (2 * eps), rel=1e-5
    )


def test_large_common_offset_changes_nothing(data):
    x, y, q = data
    a = nadaraya_watson(q, x, y, 0.3).numpy()
    b = nadaraya_watson(q + 1e6, x + 1e6, y, 0.3).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-8)


def test_dtype_follows_the_inputs(data):
    x, y, q = data
    assert nadaraya_watson(q, x, y, 0.5).dtype == torch.float64
    f32 = nadaraya_watson(
        q.astype(np.float32), x.astype(np.float32), y.astype(np.float32), 0.5
    )
    assert f32.dtype == torch.float32


BAD = [
    (dict(keys=[]), ValueError, "keys is empty"),
    (dict(keys=[0.0, np.nan]), ValueError, "keys contains NaN"),
    (dict(queries=[np.inf]), ValueError, "queries contains NaN or inf"),
    (dict(values=[1.0]), ValueError, "values must have one row per key"),
    (dict(values=np.ones((2, 2, 2))), ValueError, "values must have shape"),
    (dict(width=0.0), ValueError, "width must be > 0"),
    (dict(width=-1.0), ValueError, "width must be > 0"),
    (dict(width=[0.1, 0.2, 0.3]), ValueError, "width must be a scalar"),
    (dict(width="wide"), TypeError, "width must be an array of numbers"),
    (dict(queries="abc"), TypeError, "queries must be an array of numbers"),
    (dict(keys=np.ones((2, 1, 1))), ValueError, "keys must have shape"),
    (dict(queries=np.ones((3, 2))), ValueError, "same number of coordinates"),
    (dict(kernel="gauss"), ValueError, "valid kernels are"),
    (dict(on_empty="zero"), ValueError, "on_empty must be"),
]


@pytest.mark.parametrize("bad,exc,msg", BAD, ids=[m for _, _, m in BAD])
def test_bad_input_gets_a_clear_error(bad, exc, msg):
    args = dict(
        queries=[0.5], keys=[0.0, 1.0], values=[1.0, 2.0], width=0.5, kernel="gaussian"
    )
    args.update(bad)
    on_empty = args.pop("on_empty", "nan")
    with pytest.raises(exc, match=msg):
        nadaraya_watson(
            args["queries"],
            args["keys"],
            args["values"],
            args["width"],
            args["kernel"],
            on_empty=on_empty,
        )


def test_exclude_self_needs_two_points_and_matching_sets():
    with pytest.raises(ValueError, match="at least 2 keys"):
        attention_weights([1.0], [1.0], 0.5, exclude_self=True)
    with pytest.raises(ValueError, match="same points"):
        attention_weights([1.0, 2.0, 3.0], [1.0, 2.0], 0.5, exclude_self=True)


@pytest.mark.parametrize("h0", [2e-7, 0.01, 0.3, 3.0])
@pytest.mark.parametrize("exclude_self", [True, False])
def test_lean_width_gradient_matches_generic_autograd(data, h0, exclude_self):
    """The custom backward for one Gaussian width equals autograd's.

    Autograd's generic path is forced by a query that requires grad.
    """
    x, y, _ = data
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    grads = []
    for force_generic in (False, True):
        h = torch.tensor(h0, dtype=torch.float64, requires_grad=True)
        q = xt.clone().requires_grad_(force_generic)
        loss = (
            (nadaraya_watson(q, xt, yt, h, exclude_self=exclude_self) - yt) ** 2
        ).mean()
        loss.backward()
        grads.append(float(h.grad))
    assert grads[0] == pytest.approx(grads[1], rel=1e-9, abs=1e-12)
