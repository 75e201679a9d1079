"""The fast paths: blocked == dense, banded == dense, float32 accuracy.

Also bounded memory and leave-one-out width selection.
"""

import math
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

from nwlib import KERNELS
from nwlib.data import running_example
from nwlib.pooling import (
    DEFAULT_MEMORY_BUDGET,
    attention_weights,
    choose_block_size,
    nadaraya_watson,
)
from nwlib.scale import banded_nadaraya_watson, truncation_radius
from nwlib.selection import loo_error, select_width_minimize


def cv_float(x, y, h, kernel="gaussian", **options):
    """The leave-one-out error as a float."""
    return float(loo_error(x, y, h, kernel, **options).detach())


def select_fast(x, y, kernel="gaussian", dtype=torch.float32):
    """The search in float32 by default, the fast choice."""
    return select_width_minimize(x, y, kernel, dtype=dtype)


def dense_reference(q, k, v, h, kernel, exclude_self=False):
    """The whole (n_q, n_k) weight matrix (torch.softmax) times values: no blocks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        w = attention_weights(q, k, h, kernel, exclude_self=exclude_self)
    return w @ torch.as_tensor(v, dtype=w.dtype)


@pytest.fixture(scope="module")
def ex():
    s = running_example(n_train=300, n_val=40, seed=5)
    perm = torch.randperm(
        300, generator=torch.Generator().manual_seed(1)
    )  # keys unsorted
    return s.x_train[perm], s.y_train[perm], s.x_val


def _close(a, b, rtol=1e-12):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    assert torch.equal(torch.isnan(a), torch.isnan(b))
    ok = ~torch.isnan(a)
    scale = max(1.0, float(b[ok].abs().max())) if ok.any() else 1.0
    np.testing.assert_allclose(
        a[ok].numpy(), b[ok].numpy(), rtol=rtol, atol=rtol * scale
    )


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("exclude_self", [False, True])
def test_blocked_equals_dense_1d(ex, kernel, exclude_self):
    x, y, xv = ex
    q = x if exclude_self else xv
    for h in (0.02, 0.3, 3.0):
        ref = dense_reference(q, x, y, h, kernel, exclude_self)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for bs in (1, 7, None):
                _close(
                    nadaraya_watson(
                        q, x, y, h, kernel, exclude_self=exclude_self, block_size=bs
                    ),
                    ref,
                )


@pytest.mark.parametrize(
    "width", ["scalar", "per coordinate", "per key", "per key and coordinate"]
)
@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_blocked_equals_dense_in_3d_with_every_width_form(width, kernel):
    g = torch.Generator().manual_seed(2)
    x = torch.rand(90, 3, generator=g, dtype=torch.float64)
    v = torch.rand(90, 2, generator=g, dtype=torch.float64)
    h = {
        "scalar": 0.4,
        "per coordinate": torch.tensor([0.3, 0.6, 0.9], dtype=torch.float64),
        "per key": 0.3 + torch.rand(90, 1, generator=g, dtype=torch.float64),
        "per key and coordinate": 0.3
        + torch.rand(90, 3, generator=g, dtype=torch.float64),
    }[width]
    for ex_self in (False, True):
        ref = dense_reference(x, x, v, h, kernel, ex_self)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = nadaraya_watson(
                x, x, v, h, kernel, exclude_self=ex_self, block_size=8
            )
        assert got.shape == (90, 2)
        _close(got, ref)


def test_blocked_gradient_equals_dense_gradient(ex):
    x, y, _ = ex
    grads = []
    for bs in (None, 16):  # one block, and 19 checkpointed blocks
        h = (
            torch.tensor([[0.3]], dtype=torch.float64)
            .expand(300, 1)
            .clone()
            .requires_grad_(True)
        )
        loss = (
            (nadaraya_watson(x, x, y, h, exclude_self=True, block_size=bs) - y) ** 2
        ).mean()
        loss.backward()
        grads.append(h.grad)
    np.testing.assert_allclose(
        grads[1].numpy(), grads[0].numpy(), rtol=1e-10, atol=1e-14
    )


def test_outside_the_support_and_the_left_out_point_get_exactly_zero_weight(ex):
    x, y, _ = ex
    far_x, far_y = (
        torch.cat([x, torch.tensor([1e3])]),
        torch.cat([y, torch.tensor([1e30])]),
    )
    for dt in (torch.float32, torch.float64):
        for kernel in ("boxcar", "epanechnikov", "triangular"):
            a = nadaraya_watson(x, x, y, 0.5, kernel, dtype=dt)
            b = nadaraya_watson(x, far_x, far_y, 0.5, kernel, dtype=dt)
            # any weight at all on the far key would add ~1e30 * weight; 0 leaves
            # only rounding
            tol = 1e-5 if dt == torch.float32 else 1e-13
            np.testing.assert_allclose(
                b.numpy(), a.numpy(), rtol=tol, atol=tol, err_msg=kernel
            )
        y2 = y.clone()
        y2[10] = 1e30  # changing y_10 must not move its own leave-one-out prediction
        assert (
            nadaraya_watson(x, x, y2, 0.2, exclude_self=True, dtype=dt)[10]
            == nadaraya_watson(x, x, y, 0.2, exclude_self=True, dtype=dt)[10]
        )


def test_dtype_default_keeps_float64_and_float32_is_explicit(ex):
    x, y, xv = ex
    xn, yn, qn = x.numpy(), y.numpy(), xv.numpy()
    assert (
        nadaraya_watson(qn, xn, yn, 0.3).dtype == torch.float64
    )  # numpy float64 stays float64
    assert nadaraya_watson(qn, xn, yn, 0.3, dtype=torch.float32).dtype == torch.float32
    assert nadaraya_watson(qn.astype(np.float32), xn, yn, 0.3).dtype == torch.float64
    assert nadaraya_watson(qn, xn, yn, 0.3, dtype="float32").dtype == torch.float32
    with pytest.raises(TypeError, match="dtype"):
        nadaraya_watson(qn, xn, yn, 0.3, dtype=torch.int64)
    with pytest.raises(ValueError, match="dtype"):
        nadaraya_watson(qn, xn, yn, 0.3, dtype="float99")


def test_float32_accuracy_statement():
    """float32 estimates agree with float64 to 1e-6 of the range of y.

    Gaussian kernel, running example.
    """
    s = running_example(n_train=20000, n_val=500, seed=0)
    x, y, q = s.x_train, s.y_train, s.x_val
    span = float(y.max() - y.min())
    for h in (0.02, 0.1, 0.5):
        f64 = nadaraya_watson(q, x, y, h)
        f32 = nadaraya_watson(q, x, y, h, dtype=torch.float32)
        err = float((f32.double() - f64).abs().max()) / span
        print(f"h={h}: max |f32 - f64| / range(y) = {err:.2e}")
        assert err < 1e-6


def test_results_do_not_depend_on_the_thread_count(ex):
    x, y, xv = ex
    q = torch.linspace(0, 5, 3000, dtype=torch.float64)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        a = nadaraya_watson(q, x, y, 0.2, block_size=100)
        torch.set_num_threads(2)
        b = nadaraya_watson(q, x, y, 0.2, block_size=100)
    finally:
        torch.set_num_threads(old)
    assert torch.equal(a, b)


def test_device_argument(ex):
    x, y, xv = ex
    ref = nadaraya_watson(xv, x, y, 0.3)
    assert torch.equal(nadaraya_watson(xv, x, y, 0.3, device="cpu"), ref)
    if torch.cuda.is_available():  # CI has no GPU: this part runs only where one is
        got = nadaraya_watson(xv, x, y, 0.3, device="cuda")
        assert got.device.type == "cuda"
        np.testing.assert_allclose(got.cpu().numpy(), ref.numpy(), rtol=1e-10)


def test_block_size_follows_the_memory_budget():
    mib = 2**20
    # 1-D Gaussian: one float32 buffer row per query and worker
    assert choose_block_size(
        10**6, 10**5, memory_budget=40 * mib, dtype=torch.float32
    ) == min(40 * mib // (4 * 10**5), 2**20 // 10**5)
    assert (
        choose_block_size(
            10**6, 10**6, memory_budget=64 * mib, dtype=torch.float64, workers=2
        )
        == 1
    )
    assert choose_block_size(5, 10, memory_budget=DEFAULT_MEMORY_BUDGET) == 5
    grad = choose_block_size(
        10**6, 10**4, memory_budget=64 * mib, dtype=torch.float64, requires_grad=True
    )
    assert (
        grad * 10**4 * 8 * 10 <= 64 * mib < (grad + 1) * 10**4 * 8 * 10
    )  # 8 + 2d rows
    with pytest.raises(ValueError, match="memory_budget"):
        choose_block_size(10, 10**6, memory_budget=1000)
    with pytest.raises(ValueError, match="memory_budget"):
        nadaraya_watson([0.0], [0.0, 1.0], [1.0, 2.0], 0.5, memory_budget=-1)
    with pytest.raises(ValueError, match="block_size"):
        nadaraya_watson([0.0], [0.0, 1.0], [1.0, 2.0], 0.5, block_size=0)


def test_peak_memory_is_bounded_by_the_budget():
    """4000 x 50000 float32 scores would be 800 MB; a 16 MiB budget keeps RSS low."""
    code = textwrap.dedent("""
        import resource, torch
        from nwlib import nadaraya_watson
        g = torch.Generator().manual_seed(0)
        x = 5 * torch.rand(50000, generator=g)
        y = torch.sin(x)
        q = 5 * torch.rand(4000, generator=g)
        # warm up the allocator and the threads
        nadaraya_watson(q[:10], x, y, 0.1, dtype=torch.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        f = nadaraya_watson(
            q, x, y, 0.1, dtype=torch.float32, memory_budget=16 * 2 ** 20
        )
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert bool(torch.isfinite(f).all())
        print((after - before) / 1024)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    grew_mib = float(out.stdout.split()[-1])
    assert grew_mib < 100, f"peak RSS grew by {grew_mib:.0f} MiB"


def test_truncation_radius_bound():
    for n, dt in ((10, torch.float64), (10**4, torch.float32), (10**6, torch.float32)):
        c = truncation_radius(n, dt)
        assert n * math.exp(-c * c / 2) == pytest.approx(
            torch.finfo(dt).eps / 2, rel=1e-9
        )


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("exclude_self", [False, True])
def test_banded_equals_dense(ex, kernel, exclude_self):
    x, y, xv = ex
    x = torch.cat([x, x[:5]])  # exact duplicates among the keys
    y = torch.cat([y, y[:5] + 1.0])
    q = (
        x
        if exclude_self
        else torch.cat([xv, torch.tensor([-3.0, 9.0], dtype=torch.float64)])
    )
    span = float(y.max() - y.min())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for h in (1e-3, 0.05, 0.4, 5.0):
            ref = nadaraya_watson(q, x, y, h, kernel, exclude_self=exclude_self)
            got = banded_nadaraya_watson(q, x, y, h, kernel, exclude_self=exclude_self)
            assert torch.equal(torch.isnan(got), torch.isnan(ref))
            ok = ~torch.isnan(ref)
            # the truncation bound: at most u * range(y), u = 2^-53, plus rounding
            assert float((got[ok] - ref[ok]).abs().max()) <= 1e-13 * span
            got2 = banded_nadaraya_watson(
                q,
                x,
                torch.stack([y, -y], 1),
                h,
                kernel,
                exclude_self=exclude_self,
                block_size=3,
            )
            _close(got2[:, 0], got, rtol=1e-13)


def test_large_1d_problems_take_the_banded_path_by_default():
    s = running_example(n_train=3000, n_val=1500, seed=8)
    x, y, q = s.x_train, s.y_train, s.x_val  # 4.5e6 pairs: above the threshold
    span = float(y.max() - y.min())
    for kernel, ex_self in (
        ("gaussian", False),
        ("gaussian", True),
        ("epanechnikov", False),
    ):
        qq = x if ex_self else q
        auto = nadaraya_watson(qq, x, y, 0.05, kernel, exclude_self=ex_self)
        assert torch.equal(
            auto, banded_nadaraya_watson(qq, x, y, 0.05, kernel, exclude_self=ex_self)
        )
        dense = nadaraya_watson(
            qq, x, y, 0.05, kernel, exclude_self=ex_self, banded=False
        )
        assert float((auto - dense).abs().max()) <= 1e-13 * span
    h = torch.tensor(
        0.05, dtype=torch.float64, requires_grad=True
    )  # autograd: dense path
    assert nadaraya_watson(q, x, y, h).requires_grad
    with pytest.raises(ValueError, match="banded=True"):
        nadaraya_watson(
            torch.rand(5, 2), torch.rand(6, 2), torch.rand(6), 0.5, banded=True
        )


def test_banded_warns_like_pooling_for_empty_rows():
    with pytest.warns(RuntimeWarning, match="1 of 2 queries have no key"):
        f = banded_nadaraya_watson([0.1, 5.0], [0.0, 1.0], [1.0, 3.0], 0.5, "boxcar")
    assert np.isfinite(float(f[0])) and np.isnan(float(f[1]))
    with pytest.raises(ValueError, match="1-D"):
        banded_nadaraya_watson(np.ones((2, 2)), np.ones((2, 2)), [1.0, 2.0], 0.5)


def test_loo_score_is_the_masked_diagonal_mean_and_statsmodels_cv(ex):
    x, y, _ = ex
    for h in (0.05, 0.3):
        ref = float(((nadaraya_watson(x, x, y, h, exclude_self=True) - y) ** 2).mean())
        assert cv_float(x, y, h) == pytest.approx(ref, rel=1e-13)
        dense = torch.tensor(h, dtype=torch.float64, requires_grad=True)  # autograd
        assert cv_float(x, y, dense) == pytest.approx(ref, rel=1e-13)
        assert cv_float(x, y, h, dtype=torch.float32) == pytest.approx(ref, rel=1e-5)
    KernelReg = pytest.importorskip(
        "statsmodels.nonparametric.kernel_regression"
    ).KernelReg
    xs, ys = x[:150].numpy(), y[:150].numpy()
    kr = KernelReg(ys, xs, var_type="c", reg_type="lc", bw=[0.2])
    for h in (0.07, 0.2):
        sm = float(np.ravel(kr.cv_loo(np.array([h]), kr._est_loc_constant))[0])
        assert cv_float(xs, ys, h) == pytest.approx(sm, rel=1e-12)


def test_select_fast_matches_statsmodels_cv_ls():
    KernelReg = pytest.importorskip(
        "statsmodels.nonparametric.kernel_regression"
    ).KernelReg
    s = running_example(n_train=300, n_val=0, seed=4)
    x, y = s.x_train.numpy(), s.y_train.numpy()
    sm = float(KernelReg(y, x, var_type="c", reg_type="lc", bw="cv_ls").bw[0])
    r32 = select_fast(x, y)
    r64 = select_fast(x, y, dtype=torch.float64)
    print(
        f"statsmodels {sm:.5f}  nwlib float32 {r32.width:.5f}  float64 {r64.width:.5f}"
    )
    assert r32.width == pytest.approx(sm, rel=5e-3)
    assert r64.width == pytest.approx(sm, rel=5e-3)
    assert r32.width == pytest.approx(r64.width, rel=2e-3)
    lo, hi = r32.details["bounds"]
    assert lo < r32.width < hi and r32.evaluations < 40


def test_select_fast_with_a_compact_kernel_and_in_2d():
    s = running_example(n_train=200, n_val=0, seed=6)
    r = select_fast(s.x_train, s.y_train, "epanechnikov")
    grid = np.geomspace(*r.details["bounds"], 200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = np.array(
            [cv_float(s.x_train, s.y_train, h, "epanechnikov") for h in grid]
        )
    assert r.score <= np.nanmin(scores) + 1e-3 * np.nanmin(scores)
    g = torch.Generator().manual_seed(0)
    x2 = torch.rand(150, 2, generator=g, dtype=torch.float64)
    y2 = torch.sin(4 * x2[:, 0]) + 0.1 * torch.randn(
        150, generator=g, dtype=torch.float64
    )
    r2 = select_fast(x2, y2, dtype=torch.float64)
    assert cv_float(x2, y2, r2.width) == pytest.approx(r2.score, rel=1e-12)
