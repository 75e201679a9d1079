"""Minkowski distances and NW on them, against numpy loops and nwlib.pooling.

Also per-coordinate widths.
"""

import math

import numpy as np
import pytest
import torch

from nwlib import nadaraya_watson
from nwlib.learn import LearnedWidthNW
from nwlib.multidim import (
    fit_coordinate_widths,
    minkowski_distances,
    standardize,
)
from nwlib.pooling import log_scores
from nwlib.selection import loo_error, select_width_gd

P_VALUES = [1.0, 1.5, 2.0, 3.0, 7.0, math.inf]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors


def naive_distances(q, k, h, p):
    """Two Python loops over (query, key), numpy only."""
    q, k = np.asarray(q, float), np.asarray(k, float)
    h = (
        np.broadcast_to(np.asarray(h, float), (k.shape[0], k.shape[1]))
        if np.ndim(h) == 2
        else np.broadcast_to(np.asarray(h, float), (k.shape[1],))
    )
    out = np.empty((len(q), len(k)))
    for j in range(len(q)):
        for i in range(len(k)):
            hi = h[i] if h.ndim == 2 else h
            u = np.abs((q[j] - k[i]) / hi)
            out[j, i] = u.max() if math.isinf(p) else (u**p).sum() ** (1 / p)
    return out


def naive_nw(q, k, v, h, p, exclude_self=False):
    r = naive_distances(q, k, h, p)
    w = np.exp(-0.5 * (r - r.min(1, keepdims=True)) * (r + r.min(1, keepdims=True)))
    if exclude_self:
        r2 = r**2 + np.diag(np.full(len(k), np.inf))
        w = np.exp(-0.5 * (r2 - r2.min(1, keepdims=True)))
    return (w @ np.asarray(v, float)) / w.sum(1)


@pytest.fixture(scope="module")
def pts():
    g = torch.Generator().manual_seed(0)
    return (
        torch.rand(7, 3, generator=g, dtype=torch.float64),
        torch.rand(11, 3, generator=g, dtype=torch.float64),
        torch.randn(11, generator=g, dtype=torch.float64),
    )


WIDTHS = {
    "scalar": 0.4,
    "per coordinate": [0.2, 0.5, 1.5],
    "per key": np.linspace(0.2, 0.8, 11).reshape(11, 1),
    "per key and coordinate": np.linspace(0.2, 0.9, 33).reshape(11, 3),
}


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("wname", sorted(WIDTHS))
def test_distances_match_a_loop(pts, p, wname):
    q, k, _ = pts
    h = WIDTHS[wname]
    got = minkowski_distances(q, k, torch.as_tensor(h, dtype=torch.float64), p)
    np.testing.assert_allclose(
        got.numpy(), naive_distances(q, k, h, p), rtol=1e-12, atol=1e-14
    )


def test_large_p_approaches_the_max_norm_without_overflow(pts):
    q, k, _ = pts
    big = minkowski_distances(q * 1e3, k * 1e3, 1.0, 400.0)
    inf = minkowski_distances(q * 1e3, k * 1e3, 1.0, math.inf)
    assert torch.isfinite(big).all()
    np.testing.assert_allclose(
        big.numpy(), inf.numpy(), rtol=3 ** (1 / 400) - 1 + 1e-12
    )


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("exclude_self", [False, True])
def test_nw_matches_a_loop_blocked_or_not(pts, p, exclude_self):
    q, k, v = pts
    q = k if exclude_self else q
    h = [0.2, 0.5, 1.5]
    ref = naive_nw(q, k, v, h, p, exclude_self)
    for bs in (1, 4, None):
        got = nadaraya_watson(
            q,
            k,
            v,
            torch.tensor(h, dtype=torch.float64),
            p=p,
            exclude_self=exclude_self,
            block_size=bs,
        )
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-11)


def test_vector_values_and_memory_budget(pts):
    q, k, v = pts
    vv = torch.stack([v, 2 * v + 1], 1)
    out = nadaraya_watson(q, k, vv, 0.5, p=1.0, memory_budget=11 * 17 * 8)
    assert out.shape == (7, 2)
    np.testing.assert_allclose(out[:, 1].numpy(), 2 * out[:, 0].numpy() + 1, rtol=1e-12)
    with pytest.raises(ValueError, match="memory_budget"):
        nadaraya_watson(q, k, v, 0.5, p=1.0, memory_budget=8)


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0, math.inf])
def test_gradient_with_respect_to_widths(pts, p):
    q, k, v = pts
    h = torch.tensor([0.3, 0.6, 0.9], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda w: nadaraya_watson(q, k, v, w, p=p, block_size=3),
        (h,),
        fast_mode=True,
    )


def test_gradient_is_finite_at_zero_distance():
    x = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.5]], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    for p in (1.0, 1.5, 3.0, 7.0, math.inf):
        h = torch.tensor([0.5, 0.7], dtype=torch.float64, requires_grad=True)
        loo_error(x, y, h, p=p).backward()
        assert torch.isfinite(h.grad).all(), p


def test_width_per_coordinate_is_feature_scaling(pts):
    q, k, v = pts
    h = torch.tensor([0.2, 0.5, 1.5], dtype=torch.float64)
    for p in (1.0, 3.0, math.inf):
        np.testing.assert_allclose(
            nadaraya_watson(q, k, v, h, p=p).numpy(),
            nadaraya_watson(q / h, k / h, v, 1.0, p=p).numpy(),
            rtol=1e-12,
        )


def test_compact_kernel_empty_rows_are_nan_with_a_warning(pts):
    q, k, v = pts
    with pytest.warns(RuntimeWarning, match="no key inside the support"):
        out = nadaraya_watson(q + 10, k, v, 0.1, "epanechnikov", p=1.0)
    assert torch.isnan(out).all()
    with pytest.raises(ValueError, match="no key inside"):
        nadaraya_watson(q + 10, k, v, 0.1, "boxcar", p=1.0, on_empty="raise")
    s = log_scores(k, k, 0.5, "epanechnikov", p=1.0, exclude_self=True)
    assert torch.isneginf(torch.diagonal(s)).all()


@pytest.mark.parametrize(
    "bad,err",
    [
        (0.5, ValueError),
        (math.nan, ValueError),
        ("2", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_bad_p(pts, bad, err):
    q, k, v = pts
    with pytest.raises(err, match="p must"):
        minkowski_distances(q, k, 1.0, bad)


def test_bad_inputs(pts):
    q, k, v = pts
    with pytest.raises(ValueError, match="same number of coordinates"):
        minkowski_distances(q[:, :2], k, 1.0)
    with pytest.raises(ValueError, match="width must be > 0"):
        minkowski_distances(q, k, -1.0)
    with pytest.raises(ValueError, match="width must be a scalar"):
        minkowski_distances(q, k, [1.0, 2.0])
    with pytest.raises(ValueError, match="values must have"):
        nadaraya_watson(q, k, v[:3], 1.0, p=1.0)
    with pytest.raises(ValueError, match="exclude_self"):
        nadaraya_watson(q, k, v, 1.0, p=1.0, exclude_self=True)
    with pytest.raises(ValueError, match="on_empty"):
        nadaraya_watson(q, k, v, 1.0, p=1.0, on_empty="zero")


def test_standardize():
    g = torch.Generator().manual_seed(1)
    x = (
        torch.randn(50, 3, generator=g, dtype=torch.float64)
        * torch.tensor([1.0, 10.0, 100.0])
        + 5
    )
    z, m, s = standardize(x)
    np.testing.assert_allclose(z.mean(0).numpy(), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0).numpy(), 1, rtol=1e-12)
    np.testing.assert_allclose(
        z.numpy(), ((x.numpy() - x.numpy().mean(0)) / x.numpy().std(0, ddof=1))
    )
    z2, _, _ = standardize(x[:5], like=x)
    np.testing.assert_allclose(z2.numpy(), z[:5].numpy())
    with pytest.raises(ValueError, match="zero spread"):
        standardize(torch.ones(5, 2))


def _noise_feature_data(n=150, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, generator=g, dtype=torch.float64)
    y = (
        torch.sin(2 * math.pi * x[:, 0])
        + 2 * x[:, 1]
        + 0.2 * torch.randn(n, generator=g, dtype=torch.float64)
    )
    return x, y


@pytest.mark.parametrize("p", [1.0, 2.0])
def test_irrelevant_coordinate_gets_the_largest_width(p):
    x, y = _noise_feature_data(100)
    fit = fit_coordinate_widths(x, y, p=p, width=0.3, steps=60, lr=0.15)
    assert int(np.argmax(fit.width)) == 2
    assert fit.width[2] > 5 * fit.width[:2].max()
    hist = fit.details["history"]
    assert fit.score < hist.loss[0]
    assert hist.loss.shape == (60,) and hist.width.shape == (60, 3)


def test_p2_fit_matches_learned_width_module():
    x, y = _noise_feature_data(60)
    ours = fit_coordinate_widths(x, y, width=0.3, steps=40, lr=0.05)
    model = LearnedWidthNW(x, y, 0.3, per="coordinate")
    hist = model.fit(40, lr=0.05, progress=False)
    np.testing.assert_allclose(ours.details["history"].loss, hist.loss, rtol=1e-9)
    np.testing.assert_allclose(ours.details["history"].width, hist.width, rtol=1e-9)
    assert ours.score == pytest.approx(float(loo_error(x, y, ours.width)), rel=1e-12)


def test_fit_bad_arguments():
    x, y = _noise_feature_data(20)
    with pytest.raises(ValueError, match="width"):
        fit_coordinate_widths(x, y, width=[1.0, 2.0])
    with pytest.raises(ValueError, match="steps"):
        fit_coordinate_widths(x, y, steps=0)
    with pytest.raises(ValueError, match="does not depend smoothly on the width"):
        fit_coordinate_widths(x, y, kernel="boxcar", steps=2)
    with pytest.raises(ValueError, match="p must be >= 1"):
        fit_coordinate_widths(x, y, p=0.5, steps=2)


@pytest.mark.parametrize("p", [1.0, math.inf])
def test_fit_is_select_width_gd_per_coordinate_with_p(p):
    """One width search: the same widths and score as select_width_gd, any p."""
    x, y = _noise_feature_data(50)
    ours = fit_coordinate_widths(x, y, p=p, width=0.3, steps=15, lr=0.1)
    gd = select_width_gd(x, y, width=0.3, per="coordinate", p=p, steps=15, lr=0.1)
    np.testing.assert_array_equal(ours.width, gd.width)
    assert ours.score == gd.score and ours.method == "gd"
    # the score is the leave-one-out error with the Minkowski distance of order p
    assert ours.score == pytest.approx(float(loo_error(x, y, ours.width, p=p)))
    euclid = fit_coordinate_widths(x, y, width=0.3, steps=15, lr=0.1)
    assert not np.allclose(ours.width, euclid.width)
