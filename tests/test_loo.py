"""One leave-one-out score, one width search, one result type (issue 14).

Each merged function is compared, on the running example, with the definition the
old function computed: ``selection.loo_error`` and ``scale.loo_cv_score`` (the masked
diagonal), ``local_linear.loo_error`` (refits without each point),
``rates.torus_loo_score`` (the Gaussian around the circle / on the embedding),
``multidim.minkowski_loo_error`` (the Minkowski distance), and the searches
(``select_width_minimize``, ``scale.select_width_loo``, ``local_linear.select_width``,
``rates.minimize_log_width``). Before the old functions were removed, the values were
checked equal to them: bitwise for every score and for ``rate_experiment``, within the
search tolerance (5e-4 relative) for the replaced searches.
"""

import math
import warnings

import numpy as np
import pytest
import torch

from nwlib.data import running_example
from nwlib.local_linear import local_linear
from nwlib.pooling import nadaraya_watson
from nwlib.search import WidthChoice, minimize_log_width
from nwlib.selection import (
    loo_error,
    loo_predictions,
    select_width_grid,
    select_width_minimize,
)
from nwlib.torus import torus_embedding

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ex():
    d = running_example()
    return d.x_train, d.y_train


def _mse(y, pred):
    return float(((y - pred) ** 2).mean())


@pytest.mark.parametrize("kernel, h", [("gaussian", 0.3), ("boxcar", 0.5)])
def test_loo_error_is_the_masked_diagonal_on_every_engine(ex, kernel, h):
    x, y = ex
    dense = nadaraya_watson(x, x, y, h, kernel, exclude_self=True, banded=False)
    ref = _mse(y, dense)
    assert float(loo_error(x, y, h, kernel)) == pytest.approx(ref, rel=1e-12)  # banded
    hg = torch.tensor(h, dtype=torch.float64, requires_grad=True)  # autograd: blocked
    got = loo_error(x, y, hg, kernel)
    assert float(got.detach()) == pytest.approx(ref, rel=1e-12)
    if kernel == "gaussian":  # the boxcar's weights are flat in h: no gradient
        got.backward()
        assert hg.grad is not None and math.isfinite(float(hg.grad))
    f32 = float(loo_error(x, y, h, kernel, dtype=torch.float32))
    assert f32 == pytest.approx(ref, rel=1e-5)  # the old loo_cv_score float32 path
    assert loo_error(x, y, h, kernel).dtype == torch.float64


def test_degree_one_is_the_local_line_refitted_without_each_point(ex):
    x, y = ex
    h = 0.3
    slow = torch.stack(
        [
            local_linear(
                x[i : i + 1],
                torch.cat([x[:i], x[i + 1 :]]),
                torch.cat([y[:i], y[i + 1 :]]),
                h,
            )[0]
            for i in range(len(x))
        ]
    )
    assert torch.allclose(loo_predictions(x, y, h, degree=1), slow, atol=1e-12)
    assert float(loo_error(x, y, h, degree=1)) == pytest.approx(
        _mse(y, slow), rel=1e-12
    )


def test_periodic_is_the_gaussian_around_the_circle_and_on_the_torus():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(120, generator=g, dtype=torch.float64)
    y = torch.sin(2 * math.pi * x) + 0.3 * torch.randn(120, generator=g).double()
    h = 0.05
    diff = x[:, None] - x[None, :]
    r2 = torch.stack([(diff + m) ** 2 for m in (-2, -1, 0, 1, 2)]).div(h * h)
    w = torch.exp(-r2 / 2).sum(0)
    w.fill_diagonal_(0.0)
    w += torch.diag(torch.exp(-torch.tensor(1.0 / (2 * h * h))).expand(120) * 2)
    ref = _mse(y, (w @ y) / w.sum(1))  # own images at distance 1 stay (documented)
    assert float(loo_error(x, y, h, periodic=True)) == pytest.approx(ref, rel=1e-10)
    x2 = torch.rand(100, 2, generator=g, dtype=torch.float64)
    y2 = torch.sin(2 * math.pi * x2[:, 0])
    e = torus_embedding(x2)
    ref2 = _mse(y2, nadaraya_watson(e, e, y2, 0.1, exclude_self=True))
    assert float(loo_error(x2, y2, 0.1, periodic=True)) == pytest.approx(
        ref2, rel=1e-12
    )


def test_p_is_the_minkowski_order_of_the_distance():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(80, 2, generator=g, dtype=torch.float64)
    y = torch.sin(x.sum(1))
    h = 0.2
    r = ((x[:, None, :] - x[None, :, :]).abs() / h).sum(2)  # p = 1
    lw = -(r**2) / 2
    lw.fill_diagonal_(-math.inf)
    ref = _mse(y, torch.softmax(lw, 1) @ y)
    assert float(loo_error(x, y, h, p=1.0)) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"degree": 2}, "degree"),
        ({"degree": 1, "p": 1.0}, "p must be 2"),
        ({"periodic": True, "degree": 1}, "degree=1"),
        ({"periodic": True, "kernel": "boxcar"}, "Gaussian"),
    ],
)
def test_combinations_the_engines_do_not_offer_are_refused(ex, options, match):
    x, y = ex
    with pytest.raises(ValueError, match=match):
        loo_error(x, y, 0.3, **options)


def test_select_width_minimize_is_brent_on_log_width(ex):
    from scipy.optimize import minimize_scalar

    x, y = ex
    got = select_width_minimize(x, y)
    c = 0.9 * min(
        float(x.std()), float(np.subtract(*np.percentile(x, [75, 25]))) / 1.34
    )
    c *= len(x) ** -0.2
    with torch.no_grad():
        ref = minimize_scalar(
            lambda t: float(loo_error(x, y, math.exp(t))),
            bounds=(math.log(c / 20), math.log(c * 20)),
            method="bounded",
            options={"xatol": 1e-3},
        )
    assert isinstance(got, WidthChoice) and got.method == "brent"
    assert got.width == pytest.approx(math.exp(ref.x), rel=1e-9)
    assert got.score == pytest.approx(ref.fun, rel=1e-12)
    assert got.evaluations == ref.nfev


@pytest.mark.parametrize("degree", [0, 1])
def test_the_search_reaches_the_grid_minimum_for_both_degrees(ex, degree):
    x, y = ex
    best = select_width_minimize(x, y, degree=degree)
    grid = np.geomspace(best.width / 1.5, best.width * 1.5, 61)
    fine = select_width_grid(x, y, widths=grid, degree=degree)
    assert best.score <= fine.score * (1 + 1e-6)
    assert best.width == pytest.approx(fine.width, rel=0.02)
    assert best.score == pytest.approx(
        float(loo_error(x, y, best.width, degree=degree))
    )


def test_float32_search_finds_the_float64_width(ex):
    x, y = ex
    a = select_width_minimize(x, y, dtype=torch.float32)
    b = select_width_minimize(x, y)
    assert a.width == pytest.approx(b.width, rel=2e-3)


def test_minimize_log_width_methods_and_errors():
    def score(h):
        return math.log(h / 0.2) ** 2

    assert minimize_log_width(score, 1.0).width == pytest.approx(0.2, rel=2e-3)
    par = minimize_log_width(score, 0.3, method="parabola")
    assert par.width == pytest.approx(0.2, rel=1e-6) and par.evaluations == 4
    with pytest.warns(RuntimeWarning, match="edge"):
        minimize_log_width(score, 10.0, span=2.0)
    for bad, match in [
        ({"method": "newton"}, "method"),
        ({"span": 1.0}, "span"),
        ({"xatol": 0.0}, "xatol"),
        ({"method": "parabola", "factor": 1.0}, "factor"),
        ({"method": "parabola", "refine": -1}, "refine"),
    ]:
        with pytest.raises(ValueError, match=match):
            minimize_log_width(score, 1.0, **bad)
    with pytest.raises(TypeError, match="width"):
        minimize_log_width(score, "1.0")
    for bad, match in [
        ({"max_evaluations": "x"}, "max_evaluations must be an int"),
        ({"refine": "x"}, "refine must be an int"),
        ({"factor": "x"}, "factor must be a number"),
    ]:
        with pytest.raises(TypeError, match=match):
            minimize_log_width(score, 0.3, method="parabola", **bad)
    with pytest.raises(ValueError, match="max_evaluations must be an int >= 3"):
        minimize_log_width(score, 0.3, method="parabola", max_evaluations=0)
    # numpy scalars are numbers: float32 as well as float64
    for c in (np.float32(0.3), np.float64(0.3)):
        assert minimize_log_width(score, c).width == pytest.approx(0.2, rel=2e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nan_left = minimize_log_width(lambda h: math.nan if h < 0.1 else score(h), 0.5)
    assert nan_left.width == pytest.approx(0.2, rel=2e-3)
    for method in ("brent", "parabola"):  # no finite score: no width to return
        with pytest.raises(ValueError, match="NaN or infinite at every width"):
            minimize_log_width(lambda h: math.inf, 0.5, method=method)


@pytest.mark.parametrize("method", ["brent", "parabola"])
def test_select_width_minimize_refuses_an_undefined_error(ex, method):
    # boxcar at 1e-3: no other key within h of any point, CV undefined everywhere
    x, y = ex
    with pytest.raises(ValueError, match="compact kernel"):
        select_width_minimize(x, y, "boxcar", width=1e-3, span=2, method=method)
