"""Tests for nwlib.random_features: unbiased kernels, the NW error against the bound
chapter 10 states, causal running sums against per-prefix sums, orthogonal variance
reduction, the zero-crossing Fourier denominator, shapes, dtypes, errors, seeds."""

import math
import warnings

import numpy as np
import pytest
import torch

from nwlib import attention_weights, nadaraya_watson
from nwlib.random_features import (
    FeatureMap,
    fourier_features,
    kernel_estimate,
    linear_attention,
    orthogonal_gaussian,
    positive_features,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _sphere(n, d, seed):
    x = torch.randn(
        n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    return x / x.norm(dim=1, keepdim=True)


Q, K = _sphere(3, 4, 1), _sphere(5, 4, 2)


def _gauss(q, k, h):
    return torch.exp(-(torch.cdist(q, k) ** 2) / (2 * h * h))


@pytest.mark.parametrize(
    "make,exact",
    [
        (lambda s: fourier_features(4, 8, 0.8, seed=s), lambda: _gauss(Q, K, 0.8)),
        (lambda s: positive_features(4, 8, seed=s), lambda: torch.exp(Q @ K.T)),
        (
            lambda s: positive_features(4, 8, width=0.9, kernel="gaussian", seed=s),
            lambda: _gauss(Q, K, 0.9),
        ),
        (
            lambda s: positive_features(4, 8, orthogonal=True, seed=s),
            lambda: torch.exp(Q @ K.T),
        ),
    ],
)
def test_kernel_estimates_are_unbiased(make, exact):
    """Mean over 400 seeds within 4 standard errors of the exact kernel, every pair."""
    draws = torch.stack([kernel_estimate(Q, K, make(s)) for s in range(400)])
    mean, se = draws.mean(0), draws.std(0) / math.sqrt(len(draws))
    assert float(((mean - exact()).abs() / se).max()) < 4.0
    assert float(se.max()) > 0  # the draws do differ between seeds


def nw_error_bound(q, k, v, h, n_features):
    """Chapter 10's first-order bound on the standard deviation of the NW estimate with
    iid positive features: sum_i w_i |v_i - f| s_i, s_i^2 = (exp|z_q + z_k|^2 - 1)/D."""
    w = attention_weights(q, k, h)
    f = w @ v
    zz = ((q[:, None, :] + k[None, :, :]) / h).pow(2).sum(-1)
    s = torch.sqrt(torch.expm1(zz) / n_features)
    return (w * (v[None, :] - f[:, None]).abs() * s).sum(1)


@pytest.mark.parametrize("h", [2.0, 1.0])
@pytest.mark.parametrize("n_features", [256, 1024])
def test_nw_estimate_within_the_stated_bound(h, n_features):
    """At seeds 0..4 every query's error is below 3 bounds, on the sphere in d = 16."""
    q, k = _sphere(40, 16, 3), _sphere(400, 16, 4)
    v = torch.randn(
        400, generator=torch.Generator().manual_seed(5), dtype=torch.float64
    )
    exact = nadaraya_watson(q, k, v, h)
    bound = nw_error_bound(q, k, v, h, n_features)
    for seed in range(5):
        phi = positive_features(16, n_features, width=h, kernel="gaussian", seed=seed)
        err = (linear_attention(q, k, v, phi) - exact).abs()
        assert float((err / bound).max()) < 3.0, seed
        assert float(err.max()) > 0


def test_more_features_smaller_error():
    q, k = _sphere(30, 16, 6), _sphere(300, 16, 7)
    v = torch.randn(
        300, generator=torch.Generator().manual_seed(8), dtype=torch.float64
    )
    exact = nadaraya_watson(q, k, v, 2.0)

    def rms(n):
        return np.mean(
            [
                float(
                    (
                        linear_attention(
                            q, k, v, positive_features(16, n, width=2.0, seed=s)
                        )
                        - exact
                    )
                    .pow(2)
                    .mean()
                    .sqrt()
                )
                for s in range(6)
            ]
        )

    assert rms(4096) < 0.25 * rms(64)


@pytest.mark.parametrize("kind", ["positive", "fourier"])
def test_causal_equals_per_prefix_linear_attention(kind):
    gen = torch.Generator().manual_seed(9)
    x = torch.randn(12, 3, generator=gen, dtype=torch.float64)
    v = torch.randn(12, 2, generator=gen, dtype=torch.float64)
    phi = (
        positive_features(3, 32, seed=1)
        if kind == "positive"
        else fourier_features(3, 4000, 3.0, seed=1)
    )
    out = linear_attention(x, x, v, phi, causal=True)
    fq, fk = phi(x), phi(x)
    for j in range(12):  # the linear-attention formula on keys 0..j, unshifted
        num = fq[j] @ (fk[: j + 1].T @ v[: j + 1])
        den = fq[j] @ fk[: j + 1].sum(0)
        torch.testing.assert_close(out[j], num / den, rtol=1e-9, atol=1e-12)
    assert out.shape == (12, 2)


def test_causal_last_row_is_full_attention():
    x = torch.linspace(0, 1, 9, dtype=torch.float64)
    phi = positive_features(1, 64, seed=2)
    full = linear_attention(x, x, x**2, phi)
    causal = linear_attention(x, x, x**2, phi, causal=True)
    torch.testing.assert_close(causal[-1], full[-1])
    assert not torch.allclose(causal[:-1], full[:-1])


def test_shift_does_not_change_the_estimate_and_avoids_underflow():
    q, k = 40 * _sphere(4, 3, 10), 40 * _sphere(6, 3, 11)  # exp(-|x|^2/2) = e^-800
    v = torch.arange(6, dtype=torch.float64)
    phi = positive_features(3, 64, seed=3)
    out = linear_attention(q, k, v, phi)
    assert torch.isfinite(out).all()
    assert bool((phi(q) @ phi(k).sum(0) == 0).any())  # unshifted: 0/0
    small = positive_features(3, 64, seed=3)
    torch.testing.assert_close(
        linear_attention(q / 10, k / 10, v, small),
        (phi(q / 10) @ (phi(k / 10).T @ v)) / (phi(q / 10) @ phi(k / 10).sum(0)),
    )


def test_orthogonal_features_reduce_variance():
    """Orthogonal rows give a smaller mean squared error (200 seeds, D = d = 16)."""
    q, k = _sphere(20, 16, 12), _sphere(20, 16, 13)
    exact = torch.exp(q @ k.T)

    def mse(orth):
        return float(
            torch.stack(
                [
                    (
                        kernel_estimate(
                            q, k, positive_features(16, 16, orthogonal=orth, seed=s)
                        )
                        - exact
                    )
                    .pow(2)
                    .mean()
                    for s in range(200)
                ]
            ).mean()
        )

    assert mse(True) < 0.8 * mse(False)


def test_orthogonal_rows():
    w = orthogonal_gaussian(10, 4, generator=torch.Generator().manual_seed(0))
    assert w.shape == (10, 4) and w.dtype == torch.float64
    for block in (w[:4], w[4:8]):
        u = block / block.norm(dim=1, keepdim=True)
        torch.testing.assert_close(u @ u.T, torch.eye(4, dtype=torch.float64))


def test_fourier_denominator_crossing_zero_gives_nan_and_a_warning():
    keys = torch.linspace(0, 1, 30, dtype=torch.float64)
    queries = torch.linspace(3, 6, 50, dtype=torch.float64)  # far from every key
    phi = fourier_features(1, 8, 0.2, seed=0)
    den = phi(queries) @ phi(keys).sum(0)
    assert bool((den <= 0).any())
    with pytest.warns(RuntimeWarning, match="denominator <= 0"):
        out = linear_attention(queries, keys, keys, phi)
    assert torch.equal(torch.isnan(out), den <= 0)
    assert torch.isfinite(out[den > 0]).all()


def test_positive_features_never_warn_on_ordinary_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = linear_attention(
            torch.rand(50, 2),
            torch.rand(80, 2),
            torch.rand(80),
            positive_features(2, 16, seed=0),
        )
    assert torch.isfinite(out).all()


def test_shapes_and_dtypes():
    phi = positive_features(2, 16, seed=0)
    assert linear_attention(
        np.zeros((3, 2)), np.ones((5, 2)), np.ones(5), phi
    ).shape == (3,)
    assert linear_attention(
        torch.zeros(3, 2), torch.ones(5, 2), torch.ones(5, 4), phi
    ).shape == (3, 4)
    assert (
        linear_attention([[0, 1]], [[1, 1], [2, 0]], [1, 2], phi).dtype == torch.float64
    )
    out32 = linear_attention(torch.zeros(3, 2), torch.ones(5, 2), torch.ones(5), phi)
    assert out32.dtype == torch.float32
    assert phi(torch.zeros(7, 2, dtype=torch.float32)).shape == (7, 16)
    assert fourier_features(1, 5, 1.0)([1, 2, 3]).dtype == torch.float64


def test_same_seed_same_features_other_seed_other():
    a, b = positive_features(3, 8, seed=4), positive_features(3, 8, seed=4)
    assert torch.equal(a.weights, b.weights)
    assert not torch.equal(a.weights, positive_features(3, 8, seed=5).weights)
    f1, f2 = fourier_features(3, 8, 1.0, seed=4), fourier_features(3, 8, 1.0, seed=4)
    assert torch.equal(f1.offsets, f2.offsets)
    x = torch.rand(4, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(
        linear_attention(x, x, x[:, 0], a), linear_attention(x, x, x[:, 0], b)
    )


@pytest.mark.parametrize(
    "call,err,match",
    [
        (lambda: positive_features(0, 8), ValueError, "d must"),
        (lambda: positive_features(2, 0), ValueError, "n_features"),
        (lambda: positive_features(2, 8, width=-1.0), ValueError, "width"),
        (lambda: positive_features(2, 8, kernel="laplace"), ValueError, "kernel"),
        (lambda: fourier_features(2, 8, 0.0), ValueError, "width"),
        (lambda: fourier_features(2, 2.5, 1.0), ValueError, "n_features"),
        (
            lambda: linear_attention(
                torch.zeros(3, 2),
                torch.zeros(4, 2),
                torch.zeros(3),
                positive_features(2, 4),
            ),
            ValueError,
            "values has",
        ),
        (
            lambda: linear_attention(
                torch.zeros(3, 2),
                torch.zeros(4, 3),
                torch.zeros(4),
                positive_features(2, 4),
            ),
            ValueError,
            "d = ",
        ),
        (
            lambda: linear_attention(
                torch.zeros(3, 2),
                torch.zeros(4, 2),
                torch.zeros(4),
                positive_features(2, 4),
                causal=True,
            ),
            ValueError,
            "causal",
        ),
        (
            lambda: linear_attention(
                torch.zeros(3, 2), torch.zeros(4, 2), torch.zeros(4), "gaussian"
            ),
            TypeError,
            "feature_map",
        ),
        (
            lambda: linear_attention(
                "abc", torch.zeros(4, 2), torch.zeros(4), positive_features(2, 4)
            ),
            TypeError,
            "queries",
        ),
        (
            lambda: linear_attention(
                torch.full((3, 2), math.nan),
                torch.zeros(4, 2),
                torch.zeros(4),
                positive_features(2, 4),
            ),
            ValueError,
            "queries",
        ),
        (
            lambda: linear_attention(
                torch.zeros(3, 2, 2),
                torch.zeros(4, 2),
                torch.zeros(4),
                positive_features(2, 4),
            ),
            ValueError,
            "queries",
        ),
        (
            lambda: positive_features(2, 4)(torch.zeros(3, 2), shift="max"),
            ValueError,
            "shift",
        ),
        (
            lambda: fourier_features(2, 4, 1.0).log_features(torch.zeros(3, 2)),
            ValueError,
            "positive",
        ),
    ],
)
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_feature_map_type():
    assert isinstance(positive_features(2, 3), FeatureMap)
    assert positive_features(2, 3).n_features == 3


def test_chunks_with_growing_maximum_match_one_pass(monkeypatch):
    """Keys in chunks of 4, later chunks with larger features: the online rescaling of
    the key-value summary gives the one-pass (global shift) result."""
    import nwlib.random_features as rf

    gen = torch.Generator().manual_seed(14)
    k = torch.randn(30, 3, generator=gen, dtype=torch.float64)
    k = k * torch.linspace(0.5, 6, 30, dtype=torch.float64)[:, None]  # growing norms
    q = torch.randn(9, 3, generator=gen, dtype=torch.float64)
    v = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    phi = positive_features(3, 16, seed=6)
    fq, fk = phi(q, shift="row"), phi(k, shift="global")
    one_pass = (fq @ (fk.T @ v)) / (fq @ fk.sum(0))[:, None]
    monkeypatch.setattr(rf, "_CHUNK", 4)
    torch.testing.assert_close(linear_attention(q, k, v, phi), one_pass)


# --- chapter 10 self-checks ---

from nwlib.checks import ch10  # noqa: E402


def _verdict(capsys, check, answer):
    check(answer)
    return capsys.readouterr().out.split(":")[0]


def _causal(fq, fk, v):
    s = torch.cumsum(fk[:, :, None] * v[:, None, :], 0)
    return torch.einsum("nd,ndm->nm", fq, s) / (fq * fk.cumsum(0)).sum(1, keepdim=True)


def test_ch10_checks_accept_right_answers(capsys):
    assert (
        _verdict(
            capsys,
            ch10.fourier_phi,
            lambda x, w, b: math.sqrt(2 / len(w)) * torch.cos(x @ w.T + b),
        )
        == "Correct"
    )
    assert (
        _verdict(
            capsys,
            ch10.positive_phi,
            lambda x, w: (
                torch.exp(x @ w.T - (x * x).sum(1, keepdim=True) / 2)
                / math.sqrt(len(w))
            ),
        )
        == "Correct"
    )
    assert (
        _verdict(
            capsys,
            ch10.linear_pool,
            lambda fq, fk, v: (fq @ (fk.T @ v)) / (fq @ fk.sum(0))[:, None],
        )
        == "Correct"
    )
    assert _verdict(capsys, ch10.causal_pool, _causal) == "Correct"
    assert _verdict(capsys, ch10.features_needed, math.expm1(16) / 0.01) == "Correct"


def test_ch10_checks_reject_wrong_answers(capsys):
    assert (
        _verdict(capsys, ch10.fourier_phi, lambda x, w, b: torch.cos(x @ w.T + b))
        == "Not quite"
    )
    assert (
        _verdict(
            capsys,
            ch10.fourier_phi,
            lambda x, w, b: math.sqrt(2 / len(w)) * torch.sin(x @ w.T + b),
        )
        == "Not quite"
    )
    assert (
        _verdict(
            capsys,
            ch10.positive_phi,
            lambda x, w: (
                torch.exp(x @ w.T - (x * x).sum(1, keepdim=True)) / math.sqrt(len(w))
            ),
        )
        == "Not quite"
    )
    assert (
        _verdict(
            capsys,
            ch10.positive_phi,
            lambda x, w: torch.exp(x @ w.T) / math.sqrt(len(w)),
        )
        == "Not quite"
    )
    assert (
        _verdict(capsys, ch10.linear_pool, lambda fq, fk, v: fq @ (fk.T @ v))
        == "Not quite"
    )
    assert (
        _verdict(
            capsys,
            ch10.linear_pool,
            lambda fq, fk, v: (fq @ (fk.T @ v)) / (fq @ fk.sum(0)).sum(),
        )
        == "Not quite"
    )
    assert (
        _verdict(
            capsys,
            ch10.causal_pool,
            lambda fq, fk, v: (fq @ (fk.T @ v)) / (fq @ fk.sum(0))[:, None],
        )
        == "Not quite"
    )
    assert (
        _verdict(capsys, ch10.causal_pool, lambda fq, fk, v: _causal(fq, fk, v).flip(0))
        == "Not quite"
    )
    assert _verdict(capsys, ch10.features_needed, math.expm1(8) / 0.01) == "Not quite"
    assert _verdict(capsys, ch10.features_needed, math.expm1(16) / 0.1) == "Not quite"
    assert _verdict(capsys, ch10.features_needed, None) == "Not done yet"
