"""Width selection, checked against statsmodels and naive leave-one-out loops."""

import math
import statistics
import warnings

import numpy as np
import pytest
import scipy.stats
import torch
from test_kernels import REFERENCE

from nwlib.data import running_example
from nwlib.selection import (
    error_curve,
    in_sample_error,
    loo_error,
    loo_predictions,
    scott_width,
    select_width_gd,
    select_width_grid,
    select_width_minimize,
    silverman_width,
)

KernelReg = pytest.importorskip("statsmodels.nonparametric.kernel_regression").KernelReg


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors


def naive_loo(x, y, h, kernel="gaussian"):
    """Leave-one-out by rebuilding the key set for every point (the definition)."""
    out = np.empty(len(x))
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        w = np.array([REFERENCE[kernel]((x[i] - xj) / h) for xj in x[keep]])
        out[i] = np.sum(w * y[keep]) / np.sum(w)
    return out


@pytest.fixture(scope="module")
def data():
    s = running_example(n_train=150, seed=11)
    return s.x_train.numpy(), s.y_train.numpy()


@pytest.fixture(scope="module")
def statsmodels_fit(data):
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KernelReg(y, x, var_type="c", reg_type="lc", bw="cv_ls")


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "triangular"])
def test_loo_predictions_match_rebuilding_the_key_set(data, kernel):
    x, y = data
    got = loo_predictions(x, y, 0.6, kernel).numpy()
    np.testing.assert_allclose(
        got, naive_loo(x, y, 0.6, kernel), rtol=1e-12, atol=1e-12
    )


def test_loo_error_matches_statsmodels_cv_function(data, statsmodels_fit):
    x, y = data
    kr = statsmodels_fit
    for h in (0.08, 0.25, 1.3):
        ref = kr.cv_loo(np.array([h]), kr.est["lc"])
        assert float(loo_error(x, y, h)) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("seed", [11, 12])
def test_minimizer_matches_statsmodels_cv_ls_within_one_percent(seed):
    s = running_example(n_train=120, seed=seed)
    x, y = s.x_train.numpy(), s.y_train.numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = KernelReg(y, x, var_type="c", reg_type="lc", bw="cv_ls").bw[0]
    got = select_width_minimize(x, y)
    assert got.width == pytest.approx(ref, rel=0.01)
    assert got.method == "brent" and got.evaluations < 40


def test_three_selectors_agree(data, statsmodels_fit):
    x, y = data
    ref = statsmodels_fit.bw[0]
    grid = select_width_grid(x, y, widths=np.geomspace(0.05, 2, 400))
    gd = select_width_gd(x, y, steps=300)
    assert grid.width == pytest.approx(ref, rel=0.01)
    assert gd.width == pytest.approx(ref, rel=0.01)
    assert gd.score == pytest.approx(float(loo_error(x, y, gd.width)), rel=1e-12)


def test_in_sample_error_tends_to_zero_but_loo_error_has_an_interior_minimum(data):
    x, y = data
    hs = np.geomspace(1e-5, 5, 30)
    ins = error_curve(x, y, hs, exclude_self=False)
    loo = error_curve(x, y, hs)
    assert ins[0] < 1e-12 and ins[-1] > 0.5
    assert 0 < np.argmin(loo) < len(hs) - 1
    np.testing.assert_allclose(
        float(in_sample_error(x, y, 0.3)),
        np.mean(
            (
                y
                - np.array(
                    [
                        np.sum(np.exp(-(((xi - x) / 0.3) ** 2) / 2) * y)
                        / np.sum(np.exp(-(((xi - x) / 0.3) ** 2) / 2))
                        for xi in x
                    ]
                )
            )
            ** 2
        ),
        rtol=1e-12,
    )


def test_diagonal_mask_keeps_exact_duplicates():
    x = np.array([0.0, 1.0, 1.0, 2.0])
    y = np.array([0.0, 5.0, 7.0, 1.0])
    p = loo_predictions(x, y, 1e-3).numpy()
    assert p[1] == pytest.approx(7.0) and p[2] == pytest.approx(
        5.0
    )  # its twin, not a gap


def test_rules_of_thumb_match_their_formulas(data):
    x, _ = data
    n, sd, iqr = len(x), statistics.stdev(x), scipy.stats.iqr(x)
    assert silverman_width(x) == pytest.approx(
        0.9 * min(sd, iqr / 1.34) * n**-0.2, rel=1e-12
    )
    assert scott_width(x) == pytest.approx(sd * n**-0.2, rel=1e-12)  # Scott 1992
    x2 = np.c_[x, 10 * x[::-1] ** 2]
    h2 = silverman_width(x2)
    assert h2.shape == (2,)
    assert h2[1] == pytest.approx(
        0.9
        * min(statistics.stdev(x2[:, 1]), scipy.stats.iqr(x2[:, 1]) / 1.34)
        * n ** (-1 / 6),
        rel=1e-12,
    )


def test_loo_width_is_differentiable(data):
    x, y = data
    h = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    loo_error(x, y, h).backward()
    eps = 1e-6
    fd = (
        np.mean((y - naive_loo(x, y, 0.3 + eps)) ** 2)
        - np.mean((y - naive_loo(x, y, 0.3 - eps)) ** 2)
    ) / (2 * eps)
    assert float(h.grad) == pytest.approx(fd, rel=1e-5)


def test_two_dimensional_inputs(data):
    x, y = data
    x2 = np.c_[x, np.cos(x)]
    got = loo_predictions(x2, y, 0.5).numpy()
    ref = []
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        w = np.exp(-(((x2[i] - x2[keep]) / 0.5) ** 2).sum(1) / 2)
        ref.append(w @ y[keep] / w.sum())
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert select_width_minimize(x2, y).width > 0


def test_compact_kernel_curve_is_nan_where_undefined_and_minimizer_avoids_it(data):
    x, y = data
    errs = error_curve(x, y, [1e-4, 0.5], "epanechnikov")
    assert math.isnan(errs[0]) and math.isfinite(errs[1])
    choice = select_width_minimize(x, y, "epanechnikov")
    assert math.isfinite(choice.score)
    assert choice.score == pytest.approx(
        np.nanmin(
            error_curve(
                x,
                y,
                np.geomspace(choice.width / 1.5, choice.width * 1.5, 201),
                "epanechnikov",
            )
        ),
        rel=1e-3,
    )


@pytest.mark.parametrize("fn", [loo_predictions, loo_error])
def test_leave_one_out_needs_two_points(fn):
    with pytest.raises(ValueError, match="at least 2 points"):
        fn([1.0], [2.0], 0.5)


def test_bad_inputs(data):
    x, y = data
    with pytest.raises(ValueError, match="width"):
        loo_error(x, y, 0.0)
    with pytest.raises(ValueError, match="same number of points"):
        loo_error(x, y[:-1], 0.5)
    with pytest.raises(ValueError, match="at least 2"):
        silverman_width([3.0])
    with pytest.warns(RuntimeWarning, match="edge"):
        select_width_minimize(x, y, width=50.0, span=2.0)


@pytest.mark.parametrize(
    "call,exc,msg",
    [
        (lambda x, y: select_width_minimize(x, y, width="a"), TypeError, "width"),
        (lambda x, y: select_width_minimize(x, y, width=-1.0), ValueError, "width"),
        (lambda x, y: select_width_grid(x, y, span=0.5), ValueError, "span must be"),
        (lambda x, y: select_width_grid(x, y, span="a"), TypeError, "span must be"),
        (lambda x, y: select_width_grid(x, y, num=0), ValueError, "num must be"),
        (lambda x, y: select_width_grid(x, y, num=2.0), TypeError, "num must be"),
        (lambda x, y: select_width_grid(x, y, widths=["a"]), TypeError, "widths"),
        (lambda x, y: select_width_grid(x, y, widths=[]), ValueError, "widths is"),
        (lambda x, y: error_curve(x, y, ["a"]), TypeError, "widths must be"),
        (lambda x, y: error_curve(x, y, [0.1, -1.0]), ValueError, "widths must be"),
    ],
)
def test_search_arguments_are_named(data, call, exc, msg):
    x, y = data
    with pytest.raises(exc, match=msg):
        call(x, y)


def test_numpy_scalar_start_widths_are_accepted(data):
    x, y = data
    ref = select_width_minimize(x, y, width=0.5)
    for c in (np.float32(0.5), np.float64(0.5), np.array([0.5])):
        assert select_width_minimize(x, y, width=c).width == pytest.approx(
            ref.width, rel=1e-6
        )


@pytest.mark.parametrize("degree", [0, 1])
def test_empty_support_warning_names_the_callers_line(data, degree):
    # boxcar at a tiny width: no other key in reach of any point
    x, y = data
    for fn in (loo_error, loo_predictions):
        with pytest.warns(RuntimeWarning) as caught:
            fn(x, y, 1e-4, "boxcar", degree=degree)
        assert [w.filename for w in caught] == [__file__], fn.__name__


def test_search_edge_warning_names_the_callers_line(data):
    x, y = data
    with pytest.warns(RuntimeWarning, match="edge") as caught:
        select_width_minimize(x, y, width=50.0, span=2.0)
    assert [w.filename for w in caught] == [__file__]
