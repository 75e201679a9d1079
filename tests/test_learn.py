"""The learned-width NW regressor, checked against independent numpy references."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from nwlib.data import running_example
from nwlib.learn import (
    PARAMETERIZATIONS,
    DivergenceError,
    LearnedWidthNW,
    raw_to_width,
    width_to_raw,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors


def np_nw(q, k, v, h):
    """Gaussian NW in plain numpy; h is a scalar, a (d,) array or a (n_k, 1) array."""
    q, k = (
        np.atleast_2d(q.T).T if q.ndim == 1 else q,
        np.atleast_2d(k.T).T if k.ndim == 1 else k,
    )
    h = np.asarray(h, dtype=float)
    hk = h.reshape(1, -1, 1) if (h.ndim == 2) else h
    r2 = (((q[:, None, :] - k[None, :, :]) / hk) ** 2).sum(-1)
    w = np.exp(-0.5 * r2)
    return (w @ v) / w.sum(1)


def np_loo_error(x, y, h):
    """Leave-one-out error by rebuilding the key set n times (the definition)."""
    err = 0.0
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        hk = h[keep] if np.ndim(h) == 2 else h
        err += (y[i] - np_nw(x[i : i + 1], x[keep], y[keep], hk)[0]) ** 2
    return err / len(x)


def np_in_sample_error(x, y, h):
    return np.mean((y - np_nw(x, x, y, h)) ** 2)


@pytest.fixture(scope="module")
def data():
    s = running_example(n_train=60, n_val=200, seed=5)
    return tuple(t.numpy() for t in s)


def test_loo_gradient_matches_finite_differences(data):
    x, y, *_ = data
    m = LearnedWidthNW(x, y, 0.4)
    loss = m.loss(exclude_self=True)
    loss.backward()
    s, eps = math.log(0.4), 1e-5
    fd = (
        np_loo_error(x, y, math.exp(s + eps)) - np_loo_error(x, y, math.exp(s - eps))
    ) / (2 * eps)
    assert float(loss.detach()) == pytest.approx(np_loo_error(x, y, 0.4), rel=1e-12)
    assert float(m.raw.grad) == pytest.approx(fd, rel=1e-6)


def test_loo_fit_reaches_the_minimizer_of_the_reference_loo_error(data):
    x, y, *_ = data
    ref = minimize_scalar(
        lambda s: np_loo_error(x, y, math.exp(s)),
        bounds=(-4, 1),
        method="bounded",
        options={"xatol": 1e-6},
    )
    m = LearnedWidthNW(x, y, 1.0)
    hist = m.fit(300, lr=0.05, progress=False)
    assert float(m.width) == pytest.approx(math.exp(ref.x), rel=1e-3)
    assert hist.loss[-1] == pytest.approx(ref.fun, rel=1e-6)
    assert len(hist) == 300 and hist.width.shape == (300,) and hist.raw.shape == (300,)
    assert hist.width[0] == pytest.approx(1.0)


def test_including_self_drives_width_and_training_loss_to_zero(data):
    x, y, *_ = data
    m = LearnedWidthNW(x, y, 0.5)
    hist = m.fit(400, lr=0.1, exclude_self=False, progress=False)
    assert float(m.width) < 0.02
    assert hist.loss[-1] < 1e-3 * hist.loss[0]
    assert np.all(np.diff(hist.width) < 0)  # never turns back
    assert np_in_sample_error(x, y, float(m.width)) == pytest.approx(
        hist.loss[-1], rel=0.5, abs=1e-8
    )


def test_fit_is_deterministic_and_leaves_global_rng_alone(data):
    x, y, *_ = data
    state = torch.get_rng_state()
    runs = [LearnedWidthNW(x, y, 0.8).fit(50, seed=3, progress=False) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)
    np.testing.assert_array_equal(runs[0].width, runs[1].width)
    assert torch.equal(state, torch.get_rng_state())


def test_progress_false_prints_nothing_and_true_shows_a_bar(data, capsys):
    x, y, *_ = data
    LearnedWidthNW(x, y, 0.8).fit(5, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    LearnedWidthNW(x, y, 0.8).fit(5, progress=True)
    assert "5/5" in capsys.readouterr().err


@pytest.mark.parametrize("param", PARAMETERIZATIONS)
def test_parameterizations_are_one_family_with_chain_rule_gradients(data, param):
    x, y, *_ = data
    h, eps = 0.3, 1e-6
    m = LearnedWidthNW(x, y, h, parameterization=param)
    assert float(m.width) == pytest.approx(h, rel=1e-12)
    np.testing.assert_allclose(
        m.predict(np.linspace(0, 5, 7)).numpy(),
        np_nw(np.linspace(0, 5, 7), x, y, h),
        rtol=1e-12,
    )
    m.loss(exclude_self=True).backward()
    dL_dh = (np_loo_error(x, y, h + eps) - np_loo_error(x, y, h - eps)) / (2 * eps)
    dh_draw = {"log": h, "inverse": -(h**2), "inverse_squared": -(h**3) / 2}[param]
    assert float(m.raw.grad) == pytest.approx(dL_dh * dh_draw, rel=1e-5)


def test_inverse_width_sign_is_unidentifiable(data):
    x, y, *_ = data
    m = LearnedWidthNW(x, y, 0.5, parameterization="inverse")
    a = float(m.loss().detach())
    with torch.no_grad():
        m.raw.neg_()
    assert float(m.width) == pytest.approx(0.5) and float(
        m.loss().detach()
    ) == pytest.approx(a, rel=1e-14)
    for p in PARAMETERIZATIONS:
        t = torch.tensor([0.2, 1.5], dtype=torch.float64)
        np.testing.assert_allclose(
            raw_to_width(width_to_raw(t, p), p).numpy(), t.numpy()
        )


def test_per_coordinate_width_grows_on_an_irrelevant_coordinate():
    g = np.random.default_rng(0)
    x = g.uniform(0, 5, size=(80, 2))
    y = 2 * np.sin(x[:, 0]) + 0.3 * g.standard_normal(80)  # coordinate 1 is noise
    m = LearnedWidthNW(x, y, [0.5, 0.5], per="coordinate")
    hist = m.fit(300, lr=0.1, progress=False)
    h = m.width.numpy()
    assert h.shape == (2,) and h[1] > 4 * h[0]  # the noise coordinate is smoothed over
    assert hist.loss[-1] < hist.loss[0]
    np.testing.assert_allclose(
        m.predict(x[:5]).numpy(), np_nw(x[:5], x, y, h), rtol=1e-10
    )


def test_per_key_widths_match_numpy_and_check_their_length(data):
    x, y, *_ = data
    h = np.linspace(0.2, 0.6, len(x))
    m = LearnedWidthNW(x, y, h, per="key")
    assert tuple(m.width.shape) == (len(x), 1)
    q = np.linspace(0, 5, 9)
    np.testing.assert_allclose(
        m.predict(q).numpy(), np_nw(q, x, y, h.reshape(-1, 1)), rtol=1e-12
    )
    assert float(m.loss().detach()) == pytest.approx(
        np_loo_error(x, y, h.reshape(-1, 1)), rel=1e-12
    )
    with pytest.raises(ValueError, match="one entry per key"):
        LearnedWidthNW(x, y, h[:-1], per="key")
    with pytest.raises(ValueError, match="shape"):
        LearnedWidthNW(x, y, [0.1, 0.2], per="coordinate")


@pytest.mark.parametrize("bad", [0.0, -1.0, [0.3, -0.1]])
def test_non_positive_initial_width_is_refused(data, bad):
    x, y, *_ = data
    per = "scalar" if np.ndim(bad) == 0 else "key"
    with pytest.raises(ValueError, match="width"):
        LearnedWidthNW(x[:2], y[:2], bad, per=per)


def test_leave_one_out_needs_two_points():
    m = LearnedWidthNW([1.0], [2.0], 0.5)
    with pytest.raises(ValueError, match="at least 2"):
        m.fit(3, progress=False)
    assert len(m.fit(3, exclude_self=False, progress=False)) == 3


def test_nan_loss_stops_with_step_and_width():
    x = np.array([0.0, 1.0, 2.0, 3.0, 10.0])  # 10 is far from every other key
    m = LearnedWidthNW(x, np.sin(x), 2.0, kernel="epanechnikov")
    with (
        pytest.warns(RuntimeWarning),
        pytest.raises(DivergenceError, match=r"step 0 \(width = 2\)"),
    ):
        m.fit(5, progress=False)
    assert float(m.width) == pytest.approx(2.0)  # left at the last valid value


def test_exploding_width_stops_with_step(data):
    x, y, *_ = data
    m = LearnedWidthNW(x, y, 0.02, parameterization="inverse_squared")  # v = 2500
    with pytest.raises(DivergenceError, match=r"invalid at step \d+: width = nan"):
        m.fit(50, lr=1e9, optimizer="sgd", progress=False)  # v overshoots below 0
    assert 0 < float(m.width) < math.inf  # left at its last valid value


def test_piecewise_constant_kernel_cannot_be_trained(data):
    x, y, *_ = data
    with pytest.raises(ValueError, match="boxcar"):
        LearnedWidthNW(x, y, 0.5, kernel="boxcar").fit(3, progress=False)


def test_optimizers_by_name_class_and_lbfgs(data):
    x, y, *_ = data
    ref = LearnedWidthNW(x, y, 1.0)
    ref.fit(300, progress=False)
    for opt, lr, steps in [
        ("SGD", 0.5, 300),
        (torch.optim.RMSprop, 0.01, 300),
        ("lbfgs", 0.5, 10),
    ]:
        m = LearnedWidthNW(x, y, 1.0)
        m.fit(steps, optimizer=opt, lr=lr, progress=False)
        assert float(m.width) == pytest.approx(float(ref.width), rel=2e-3), opt
    with pytest.raises(ValueError, match="unknown"):
        LearnedWidthNW(x, y, 1.0).fit(2, optimizer="adamm", progress=False)


def test_fit_on_a_validation_split_minimizes_validation_error(data):
    x, y, xv, yv = data
    hs = np.geomspace(0.05, 2, 2001)
    best = hs[np.argmin([np.mean((np_nw(xv, x, y, h) - yv) ** 2) for h in hs])]
    m = LearnedWidthNW(x, y, 0.5)
    m.fit(400, queries=xv, targets=yv, progress=False)
    assert float(m.width) == pytest.approx(best, rel=5e-3)


def test_sqrt_penalty_on_inverse_width_gives_an_interior_minimum(data):
    x, y, *_ = data
    lam = 0.05
    hs = np.geomspace(0.01, 3, 3001)
    obj = [np_in_sample_error(x, y, h) + lam * np.sqrt(1 / h) for h in hs]
    best = hs[np.argmin(obj)]
    assert 0.01 < best < 3
    m = LearnedWidthNW(x, y, best * 1.5)
    m.fit(
        400,
        exclude_self=False,
        penalty=lambda h: lam * h.reciprocal().sqrt(),
        progress=False,
    )
    assert float(m.width) == pytest.approx(best, rel=5e-3)
    # from a wide start it stops in a local minimum of the same reference objective
    m = LearnedWidthNW(x, y, 0.5)
    m.fit(
        400,
        exclude_self=False,
        penalty=lambda h: lam * h.reciprocal().sqrt(),
        progress=False,
    )
    h = float(m.width)

    def f(t):
        return np_in_sample_error(x, y, t) + lam * np.sqrt(1 / t)

    assert f(h) <= min(f(h * 0.99), f(h * 1.01))


@pytest.mark.parametrize("factor", [1e-6, 1e6])
@pytest.mark.parametrize("parameterization", ["log", "inverse", "inverse_squared"])
def test_a_width_a_million_times_off_converges_or_says_why(factor, parameterization):
    """Issue 8: no silent NaN and no silent stall from an absurd starting width."""
    import warnings

    from nwlib.learn import FlatLossWarning
    from nwlib.selection import select_width_minimize

    s = running_example(n_train=100, n_val=0, seed=0)
    choice = select_width_minimize(s.x_train, s.y_train)
    best = float(choice.width)
    m = LearnedWidthNW(
        s.x_train, s.y_train, width=best * factor, parameterization=parameterization
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            hist = m.fit(1500, lr=0.1, progress=False)
        except DivergenceError as exc:  # a clear stop is fine: it names the step
            assert "step" in str(exc)
            return
    assert np.all(np.isfinite(hist.loss)) and torch.isfinite(m.width).all()
    flat = [w for w in caught if issubclass(w.category, FlatLossWarning)]
    converged = hist.loss[-1] <= 1.01 * choice.score  # within 1% of the best LOO error
    assert converged or flat, (
        f"stalled silently at width {float(m.width):.3g} (best {best:.3g})"
    )
    if flat:
        assert "starting width" in str(flat[0].message)
