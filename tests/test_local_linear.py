"""Local-linear pooling: statsmodels, exact lines, weights, leave-one-out, errors."""

import doctest
import warnings

import numpy as np
import pytest
import torch

import nwlib.local_linear as llmod
from nwlib import nadaraya_watson
from nwlib.local_linear import local_constant, local_linear, loo_predictions
from nwlib.selection import loo_error, select_width_grid, select_width_minimize

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=80, d=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 5, (n, d)) if d > 1 else rng.uniform(0, 5, n)
    f = 2 * np.sin(x) + x if d == 1 else np.sin(x[:, 0]) + 0.3 * x[:, 1] ** 2
    return x, f + 0.5 * rng.normal(size=n)


@pytest.mark.parametrize("h", [0.15, 0.5, 2.0])
def test_agrees_with_statsmodels_1d(h):
    from statsmodels.nonparametric.kernel_regression import KernelReg

    x, y = _data()
    q = np.linspace(-0.5, 5.5, 41)  # edges and a little beyond
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, _ = KernelReg(y, x, var_type="c", reg_type="ll", bw=[h]).fit(q)
    assert np.max(np.abs(local_linear(q, x, y, h).numpy() - ref)) < 1e-8


@pytest.mark.parametrize("h", [[0.4, 0.8], [1.0, 1.0]])
def test_agrees_with_statsmodels_2d(h):
    from statsmodels.nonparametric.kernel_regression import KernelReg

    x, y = _data(120, 2, seed=1)
    q = np.random.default_rng(2).uniform(-0.3, 5.3, (30, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, _ = KernelReg(y, x, var_type="cc", reg_type="ll", bw=h).fit(q)
    assert np.max(np.abs(local_linear(q, x, y, h).numpy() - ref)) < 1e-8


def test_statsmodels_gaussian_is_our_profile_up_to_a_constant():
    from statsmodels.nonparametric.kernels import gaussian

    u = np.linspace(-4, 4, 17)
    ratio = gaussian(1.0, u, 0.0) / np.exp(-(u**2) / 2)
    assert np.allclose(ratio, 1 / np.sqrt(2 * np.pi), rtol=1e-14)


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "triangular", "boxcar"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_lines_are_reproduced_exactly(kernel, d):
    g = torch.Generator().manual_seed(d)
    x = torch.rand(60, d, generator=g, dtype=torch.float64)
    slope = torch.arange(1, d + 1, dtype=torch.float64)
    y = 0.7 + x @ slope
    q = torch.rand(25, d, generator=g, dtype=torch.float64) * 0.8 + 0.1
    out = local_linear(q, x, y, 0.45, kernel)
    assert torch.allclose(out, 0.7 + q @ slope, atol=1e-11)
    nw = local_constant(q, x, y, 0.45, kernel)
    assert (nw - (0.7 + q @ slope)).abs().max() > 1e-3  # NW is not exact for lines


def test_local_constant_is_nadaraya_watson():
    x, y = _data()
    q = np.linspace(0, 5, 30)
    assert torch.allclose(
        local_constant(q, x, y, 0.3), nadaraya_watson(q, x, y, 0.3), atol=1e-12
    )


def test_weights_sum_to_one_negative_at_the_edges_and_give_the_fit():
    x, y = _data()
    q = np.array([0.0, 2.5, 5.0])
    out, w = local_linear(q, x, y, 0.6, return_weights=True)
    assert w.shape == (3, 80) and w.dtype == torch.float64
    assert torch.allclose(w.sum(1), torch.ones(3, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(w @ torch.as_tensor(y), out, atol=1e-12)
    assert float(w[0].min()) < -1e-3 and float(w[2].min()) < -1e-3  # edges
    _, w_nw = local_constant(q, x, y, 0.6, return_weights=True)
    assert float(w_nw.min()) >= 0


@pytest.mark.parametrize("degree", [0, 1])
@pytest.mark.parametrize("d", [1, 2])
def test_leave_one_out_equals_refit_without_the_point(degree, d):
    x, y = _data(40, d, seed=3)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    h = 0.7
    fast = loo_predictions(x, y, h, degree=degree)
    slow = torch.stack(
        [
            local_linear(
                x[i : i + 1],
                torch.cat([x[:i], x[i + 1 :]]),
                torch.cat([y[:i], y[i + 1 :]]),
                h,
                degree=degree,
            )[0]
            for i in range(len(x))
        ]
    )
    assert torch.allclose(fast, slow, atol=1e-10)
    score = float(loo_error(x, y, h, degree=degree))
    assert abs(score - float(((y - slow) ** 2).mean())) < 1e-10


def test_multiple_value_columns():
    x, y = _data()
    v = np.stack([y, 2 * y + 1], axis=1)
    out = local_linear([1.0, 2.0], x, v, 0.5)
    assert out.shape == (2, 2)
    assert torch.allclose(out[:, 1], 2 * out[:, 0] + 1, atol=1e-12)
    assert loo_predictions(x, v, 0.5).shape == (80, 2)


def test_select_width_grid_and_bounded_search():
    x, y = _data(100, seed=4)
    grid = np.geomspace(0.05, 3, 25)
    on_grid = select_width_grid(x, y, widths=grid, degree=1)
    errors = [float(loo_error(x, y, float(h), degree=1)) for h in grid]
    assert on_grid.width == float(grid[int(np.argmin(errors))])
    assert on_grid.evaluations == 25
    refined = select_width_minimize(x, y, degree=1)
    assert refined.score <= on_grid.score + 1e-12
    bounded = select_width_minimize(x, y, width=refined.width, span=2.0, degree=1)
    assert abs(bounded.width / refined.width - 1) < 0.05


def test_dtypes():
    x = torch.arange(10)
    out = local_linear(x, x, 3 * x + 1, 2)  # integers: float64
    assert out.dtype == torch.float64
    assert torch.allclose(out, 3.0 * x.double() + 1, atol=1e-10)
    xf = torch.linspace(0, 1, 20, dtype=torch.float32)
    assert local_linear(xf, xf, xf, 0.3).dtype == torch.float32
    assert local_linear(xf, xf, xf.double(), 0.3).dtype == torch.float64


def test_singular_windows_give_nan_and_a_warning_or_an_error():
    x = torch.tensor([0.0, 1.0, 2.0, 5.0], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0, 0.0, 3.0], dtype=torch.float64)
    q = torch.tensor([1.0, 5.0, 8.0], dtype=torch.float64)  # 3 keys, 1 key, none
    with pytest.warns(RuntimeWarning, match="2 of 3 queries"):
        out = local_linear(q, x, y, 1.5, "epanechnikov")
    assert torch.isfinite(out[0]) and torch.isnan(out[1:]).all()
    with pytest.raises(ValueError, match="2 of 3 queries"):
        local_linear(q, x, y, 1.5, "epanechnikov", on_empty="raise")
    with pytest.warns(RuntimeWarning, match="1 of 3 queries"):  # NW needs one key
        nw = local_constant(q, x, y, 1.5, "epanechnikov")
    assert float(nw[1]) == 3.0
    line = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # collinear
    with pytest.warns(RuntimeWarning, match="4 of 4"):
        assert torch.isnan(local_linear(line, line, y, 1.0)).all()


def test_leave_one_out_without_enough_other_keys_is_nan():
    x = torch.tensor([0.0, 1.0, 2.0, 3.0, 9.0, 10.0], dtype=torch.float64)
    y = torch.arange(6, dtype=torch.float64)
    # left out, 0 and 3 keep one neighbour each in reach, 9 and 10 one another
    with pytest.warns(RuntimeWarning, match="4 of 6 points"):
        out = loo_predictions(x, y, 1.5, "epanechnikov")
    nan = torch.tensor([True, False, False, True, True, True])
    assert torch.isnan(out[nan]).all() and torch.isfinite(out[~nan]).all()
    with pytest.raises(ValueError):
        loo_predictions(x, y, 1.5, "epanechnikov", on_empty="raise")


@pytest.mark.parametrize(
    "args,kwargs,error,match",
    [
        (("abc", [0.0, 1.0], [0.0, 1.0], 1.0), {}, TypeError, "queries"),
        (([0.0], [0.0, 1.0], [0.0, 1.0, 2.0], 1.0), {}, ValueError, "values"),
        (([0.0], [[0.0, 1.0]], [0.0], 1.0), {}, ValueError, "same d"),
        (([0.0], [0.0, 1.0], [0.0, 1.0], -1.0), {}, ValueError, "width"),
        (([0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 2.0, 3.0]), {}, ValueError, "width"),
        (([0.0], [0.0, np.nan], [0.0, 1.0], 1.0), {}, ValueError, "finite"),
        (([0.0], [], [], 1.0), {}, ValueError, "keys is empty"),
        (([0.0], [0.0, 1.0], [0.0, 1.0], 1.0), {"degree": 2}, ValueError, "degree"),
        (
            ([0.0], [0.0, 1.0], [0.0, 1.0], 1.0),
            {"on_empty": "x"},
            ValueError,
            "on_empty",
        ),
        (([0.0], [0.0, 1.0], [1j, 1.0], 1.0), {}, TypeError, "values"),
    ],
)
def test_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        local_linear(*args, **kwargs)


def test_bad_kernel_and_selector_arguments():
    with pytest.raises((ValueError, KeyError)):
        local_linear([0.0], [0.0, 1.0], [0.0, 1.0], 1.0, "no-such-kernel")
    with pytest.raises(ValueError, match="method"):
        select_width_minimize([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], method="nope", degree=1)
    with pytest.raises(ValueError, match="span"):
        select_width_minimize([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], span=0.5, degree=1)


def test_docstring_examples():
    result = doctest.testmod(llmod)  # loo_error's examples live in nwlib.loo now
    assert result.attempted >= 7 and result.failed == 0
