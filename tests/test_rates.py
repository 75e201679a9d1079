"""nwlib.rates and nwlib.torus: periodic NW against numpy loops, the parabola width
search, power-law fits, the d=1 rate."""

import math

import numpy as np
import pytest
import torch

from nwlib.rates import (
    GEOMETRIES,
    PowerLaw,
    RateRun,
    draw_sample,
    exponent_table,
    fit_power_law,
    periodic_function,
    predicted_exponents,
    rate_experiment,
    torus_embedding,
    torus_nadaraya_watson,
)
from nwlib.search import minimize_log_width as search
from nwlib.selection import loo_error


def minimize_log_width(score, width, **options):
    """The search rate_experiment uses: a walk downhill, then parabolas."""
    return search(score, width, method="parabola", **options)


def torus_cv(x, y, h, dtype=torch.float32):
    """The leave-one-out error on the torus, as a float."""
    return float(loo_error(x, y, h, periodic=True, dtype=dtype))


def wrapped_gaussian_nw(q, k, v, h, images, exclude_self=False):
    """Gaussian of the circular distance, summed over images k + m, m in `images`.

    A numpy loop.
    """
    out = np.empty(len(q))
    for j, qj in enumerate(q):
        w = np.zeros(len(k))
        for m in images:
            w += np.exp(-0.5 * ((qj - k - m) / h) ** 2)
        if exclude_self:
            w[j] = 0.0
        out[j] = (w * v).sum() / w.sum()
    return out


def von_mises_nw(q, k, v, h, exclude_self=False):
    """Product of von Mises kernels over coordinates.

    Each is exp((cos 2 pi D - 1) / (4 pi^2 h^2)).
    """
    out = np.empty(len(q))
    for j in range(len(q)):
        w = np.exp(
            ((np.cos(2 * np.pi * (q[j] - k)) - 1) / (4 * np.pi**2 * h**2)).sum(1)
        )
        if exclude_self:
            w[j] = 0.0
        out[j] = (w * v).sum() / w.sum()
    return out


@pytest.fixture(scope="module")
def circle():
    x, y = draw_sample(200, 1, seed=3)
    q = torch.rand(
        50, 1, generator=torch.Generator().manual_seed(4), dtype=torch.float64
    )
    return x, y, q


@pytest.mark.parametrize(
    "h,images", [(0.01, range(-2, 3)), (0.08, range(-2, 3)), (0.3, range(-4, 5))]
)
def test_images_equal_the_wrapped_gaussian(circle, h, images):
    # h = 0.3: images two periods away still weigh ~1e-5 (A0c): the reference sums 9
    # periods
    x, y, q = circle
    got = torus_nadaraya_watson(q, x, y, h, dtype=torch.float64)
    ref = wrapped_gaussian_nw(q.numpy()[:, 0], x.numpy()[:, 0], y.numpy(), h, images)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-10, atol=1e-12)
    if (
        h > 0.15
    ):  # leave-one-out keeps the point's own images at distance 1 (documented)
        return
    loo = torus_nadaraya_watson(x, x, y, h, exclude_self=True, dtype=torch.float64)
    ref_loo = wrapped_gaussian_nw(
        x.numpy()[:, 0], x.numpy()[:, 0], y.numpy(), h, images, True
    )
    np.testing.assert_allclose(loo.numpy(), ref_loo, rtol=1e-10, atol=1e-12)
    assert torus_cv(x, y, h, dtype=torch.float64) == pytest.approx(
        float(((y.numpy() - ref_loo) ** 2).mean()), rel=1e-10
    )


def test_float32_images_agree_with_float64(circle):
    x, y, q = circle
    a = torus_nadaraya_watson(q, x, y, 0.05)
    b = torus_nadaraya_watson(q, x, y, 0.05, dtype=torch.float64)
    assert a.dtype == torch.float32
    assert float((a.double() - b).abs().max()) < 1e-5


def test_inputs_are_read_modulo_one(circle):
    x, y, q = circle
    np.testing.assert_allclose(
        torus_nadaraya_watson(q + 3, x - 1, y, 0.05, dtype=torch.float64).numpy(),
        torus_nadaraya_watson(q, x, y, 0.05, dtype=torch.float64).numpy(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("d", [1, 2, 3])
def test_embedding_is_a_product_of_von_mises_kernels(d):
    x, y = draw_sample(80, d, seed=d)
    q = torch.rand(
        30, d, generator=torch.Generator().manual_seed(9), dtype=torch.float64
    )
    for h in (0.05, 0.2):
        got = torus_nadaraya_watson(q, x, y, h, method="embedding", dtype=torch.float64)
        np.testing.assert_allclose(
            got.numpy(), von_mises_nw(q.numpy(), x.numpy(), y.numpy(), h), rtol=1e-10
        )
        loo = torus_nadaraya_watson(
            x, x, y, h, exclude_self=True, method="embedding", dtype=torch.float64
        )
        np.testing.assert_allclose(
            loo.numpy(),
            von_mises_nw(x.numpy(), x.numpy(), y.numpy(), h, True),
            rtol=1e-10,
        )


def test_embedding_distance_identity():
    g = torch.Generator().manual_seed(0)
    a, b = (
        torch.rand(20, 3, generator=g, dtype=torch.float64),
        torch.rand(20, 3, generator=g, dtype=torch.float64),
    )
    lhs = ((torus_embedding(a) - torus_embedding(b)) ** 2).sum(1)
    rhs = (torch.sin(math.pi * (a - b)) ** 2).sum(1) / math.pi**2
    np.testing.assert_allclose(lhs.numpy(), rhs.numpy(), rtol=1e-12)


def test_periodic_function():
    x = torch.rand(
        200000, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    f = periodic_function(x)
    np.testing.assert_allclose(periodic_function(x + 1).numpy(), f.numpy(), atol=1e-12)
    assert abs(float(f.var()) - 0.5) < 0.01 and abs(float(f.mean())) < 0.01
    a, b = draw_sample(10, 2, seed=5), draw_sample(10, 2, seed=5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_minimize_log_width_finds_a_known_minimum():
    def score(h):
        u = math.log(h) - math.log(0.3)
        return u**2 + 0.1 * u**4

    res = minimize_log_width(score, 0.01)
    assert res.width == pytest.approx(0.3, rel=0.05)
    fine = minimize_log_width(score, 0.01, refine=2)
    assert abs(math.log(fine.width / 0.3)) < abs(math.log(res.width / 0.3)) + 1e-12
    assert fine.evaluations == res.evaluations + 6
    near = minimize_log_width(score, 0.31)
    assert near.evaluations == 4
    nan_left = minimize_log_width(lambda h: math.nan if h < 0.1 else score(h), 0.2)
    assert nan_left.width == pytest.approx(0.3, rel=0.05)


@pytest.mark.parametrize(
    "centre,factor", [(0.0, 1.5), (-1.0, 1.5), (math.nan, 1.5), (0.1, 1.0)]
)
def test_minimize_log_width_bad_arguments(centre, factor):
    with pytest.raises(ValueError):
        minimize_log_width(lambda h: h, centre, factor=factor)


def test_fit_power_law_against_polyfit():
    rng = np.random.default_rng(0)
    n = np.repeat([100, 300, 1000, 3000, 10000], 3)
    v = 2.5 * n**-0.8 * np.exp(rng.normal(0, 0.1, n.size))
    law = fit_power_law(n, v)
    sizes = np.unique(n)
    means = [np.log(v[n == s]).mean() for s in sizes]
    slope, icpt = np.polyfit(np.log(sizes), means, 1)
    assert law.exponent == pytest.approx(slope, rel=1e-12)
    assert law.prefactor == pytest.approx(math.exp(icpt), rel=1e-12)
    exact = fit_power_law(sizes, 3.0 * sizes**-0.5)
    assert exact.exponent == pytest.approx(-0.5) and exact.stderr < 1e-12
    assert exact.solve(float(exact(2000))) == pytest.approx(2000)
    with pytest.raises(ValueError, match="> 0"):
        fit_power_law([1, 2, 3], [1.0, -1.0, 2.0])
    with pytest.raises(ValueError, match="2 distinct"):
        fit_power_law([5, 5], [1.0, 2.0])


def test_d1_mse_exponent_is_minus_four_fifths():
    """A smaller, fast version of the chapter's run: n from 200 to 6400 on a circle."""
    sizes = [200, 400, 800, 1600, 3200, 6400]
    reps = [24, 16, 12, 8, 6, 4]  # more where n is small and cheap
    run = rate_experiment(1, sizes, replicates=reps, n_test=1000, seed=0)
    law = run.fit("mse_loo")
    assert abs(law.exponent - predicted_exponents(1)[0]) < 0.1, law
    assert abs(run.fit("mse_oracle").exponent + 0.8) < 0.1
    summary = run.summary()
    assert list(summary.index) == sizes and summary["replicates"].tolist() == reps
    assert (run.records["mse_oracle"] <= run.records["mse_loo"] * (1 + 1e-9)).all()


def test_cube_and_table():
    runs = [
        rate_experiment(1, [100, 200, 400], geometry="cube", n_test=500, seed=1),
        rate_experiment(2, [100, 200, 400], n_test=200, oracle=False, seed=1),
    ]
    rec = runs[0].records
    assert {"mse_loo_interior", "mse_loo_edge"} <= set(rec.columns)
    table = exponent_table(runs)
    assert table["d"].tolist() == [1, 2]
    assert table["MSE exponent, predicted"].tolist() == [-0.8, pytest.approx(-2 / 3)]
    assert math.isnan(table["measured (oracle width)"][1])
    with pytest.raises(TypeError):
        exponent_table(["not a run"])


@pytest.mark.parametrize(
    "kwargs,err",
    [
        (dict(d=0, sizes=[100]), ValueError),
        (dict(d=1.5, sizes=[100]), TypeError),
        (dict(d=1, sizes=[200, 100]), ValueError),
        (dict(d=1, sizes=[5]), ValueError),
        (dict(d=1, sizes=[]), ValueError),
        (dict(d=1, sizes=["a"]), TypeError),
        (dict(d=1, sizes=[100, 200], replicates=[1]), ValueError),
        (dict(d=1, sizes=[100], replicates=0), ValueError),
        (dict(d=1, sizes=[100], noise=0.0), ValueError),
        (dict(d=1, sizes=[100], geometry="ball"), ValueError),
        (dict(d=1, sizes=[100], geometry="cube", edge=0.2, interior=0.1), ValueError),
    ],
)
def test_rate_experiment_validates(kwargs, err):
    with pytest.raises(err):
        rate_experiment(**kwargs)


@pytest.mark.parametrize("method", ["images", "embedding"])
def test_torus_exclude_self_needs_the_keys(method):
    # other points of the keys' shape are not the keys: no silent LOO at the keys
    keys = torch.tensor([0.1, 0.4, 0.7], dtype=torch.float64)
    values = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    others = torch.tensor([0.2, 0.5, 0.8], dtype=torch.float64)
    with pytest.raises(ValueError, match="queries to be the keys"):
        torus_nadaraya_watson(
            others, keys, values, 0.1, exclude_self=True, method=method
        )
    # a copy of the keys (another tensor, another dtype) is accepted
    loo = torus_nadaraya_watson(
        keys, keys, values, 0.1, exclude_self=True, method=method, dtype=None
    )
    copy = torus_nadaraya_watson(
        keys.tolist(), keys, values, 0.1, exclude_self=True, method=method, dtype=None
    )
    torch.testing.assert_close(copy, loo, rtol=0, atol=0)


def test_torus_nw_validates(circle):
    x, y, q = circle
    with pytest.raises(ValueError, match="same number of coordinates"):
        torus_nadaraya_watson(torch.rand(3, 2), x, y, 0.1)
    with pytest.raises(ValueError, match="method"):
        torus_nadaraya_watson(q, x, y, 0.1, method="grid")
    with pytest.raises(ValueError, match="scalar width"):
        torus_nadaraya_watson(
            torch.rand(3, 2), torch.rand(5, 2), torch.rand(5), 0.1, method="images"
        )
    with pytest.raises(ValueError, match="exclude_self"):
        torus_nadaraya_watson(q, x, y, 0.1, exclude_self=True)
    with pytest.raises(ValueError, match="width must be > 0"):
        torus_nadaraya_watson(q, x, y, 0.0)
    assert GEOMETRIES == ("torus", "cube") and isinstance(
        fit_power_law([1, 2], [1, 2]), PowerLaw
    )
    assert RateRun.__doc__
