"""Tests for nwlib.parzen: normalization by numerical integration, scikit-learn's
KernelDensity as an independent reference, naive loops for the classifiers, and the
Parzen/NW relation on a grid for every integrable kernel."""

import inspect
import math
import warnings

import numpy as np
import pytest
import torch
from scipy.integrate import cubature, quad
from sklearn.datasets import load_iris
from sklearn.neighbors import KernelDensity

from nwlib import parzen
from nwlib.kernels import KERNELS, Kernel

INTEGRABLE = [name for name in KERNELS if name != "constant"]
COMPACT = [name for name in INTEGRABLE if KERNELS[name].compact]
SKLEARN_NAME = {
    "gaussian": "gaussian",
    "boxcar": "tophat",
    "epanechnikov": "epanechnikov",
    "triangular": "linear",
}


def test_every_kernel_is_covered():
    # a kernel added to the registry must get a normalization (or a stated error)
    assert set(INTEGRABLE) | {"constant"} == set(KERNELS)
    assert set(SKLEARN_NAME) == set(INTEGRABLE)


def _ball_map(phi):
    """Map the cube [-pi/2, pi/2]^d onto the unit ball, coordinate by coordinate.

    Cartesian: u_k = sin(phi_k) sqrt(1 - u_1^2 - ... - u_{k-1}^2). Returns points
    and Jacobian.
    """
    u = np.empty_like(phi)
    jac = np.ones(phi.shape[0])
    rest = np.ones(phi.shape[0])
    for k in range(phi.shape[1]):
        r = np.sqrt(rest)
        u[:, k] = np.sin(phi[:, k]) * r
        jac *= r * np.cos(phi[:, k])
        rest = np.clip(rest - u[:, k] ** 2, 0, None)
    return u, jac


@pytest.mark.parametrize("kernel", INTEGRABLE)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_density_integrates_to_one(kernel, d):
    """Numerical integration of the density (per-coordinate widths).

    Not the closed forms.
    """
    center = np.linspace(-0.3, 0.5, d)
    h = np.linspace(0.6, 1.0, d)
    if KERNELS[kernel].compact:  # integrate over the (ellipsoidal) support of one point

        def f(s):
            u, jac = _ball_map(s)
            return (
                parzen.parzen_density(center + h * u, center[None], h, kernel).numpy()
                * jac
                * h.prod()
            )

        res = cubature(
            f,
            -np.full(d, np.pi / 2),
            np.full(d, np.pi / 2),
            rtol=1e-6,
            atol=0,
            max_subdivisions=2000,
        )
        assert res.status == "converged"
        total = res.estimate
    else:  # two points; tensor Gauss-Legendre rule on a box 9 widths past them
        pts = np.stack([center, center + 0.7])
        nodes, w = np.polynomial.legendre.leggauss(60)
        lo, hi = pts.min(0) - 9 * h, pts.max(0) + 9 * h
        axes = [(lo[k] + hi[k]) / 2 + (hi[k] - lo[k]) / 2 * nodes for k in range(d)]
        z = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
        wts = np.ones(1)
        for k in range(d):
            wts = np.multiply.outer(wts, (hi[k] - lo[k]) / 2 * w)
        total = float(
            parzen.parzen_density(z, pts, h, kernel).numpy() @ wts.reshape(-1)
        )
    assert abs(total - 1) < 1e-6


@pytest.mark.parametrize("kernel", INTEGRABLE)
def test_density_integrates_to_one_1d_with_breakpoints(kernel):
    pts = np.array([-1.0, 0.2, 0.25, 2.0])
    h = 0.4
    f = lambda z: float(parzen.parzen_density([z], pts, h, kernel)[0])  # noqa: E731
    lo, hi = pts.min() - 10, pts.max() + 10
    brk = np.concatenate([pts - h, pts, pts + h])
    val, _ = quad(f, lo, hi, points=brk, limit=400)
    assert abs(val - 1) < 1e-8


def test_constant_kernel_has_no_density():
    with pytest.raises(ValueError, match="not integrable"):
        parzen.kernel_integral("constant", 2)
    with pytest.raises(ValueError, match="not integrable"):
        parzen.parzen_density([0.0], [0.0, 1.0], 1.0, "constant")


def test_custom_kernel_integrated_numerically():
    cosine = Kernel(
        "cosine",
        lambda u: torch.cos(0.5 * math.pi * u) * (u.abs() < 1),
        lambda r2: torch.log(
            torch.clamp(torch.cos(0.5 * math.pi * torch.sqrt(r2)), min=1e-300)
        ).masked_fill(r2 >= 1, -math.inf),
        1.0,
    )
    assert parzen.kernel_integral(cosine, 1) == pytest.approx(4 / math.pi, rel=1e-9)
    flat = Kernel(
        "flat", lambda u: torch.ones_like(u), lambda r2: torch.zeros_like(r2), math.inf
    )
    with pytest.raises(ValueError, match="finite"):
        parzen.kernel_integral(flat, 1)


@pytest.mark.parametrize("kernel", INTEGRABLE)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_density_matches_sklearn_kernel_density(kernel, d):
    rng = np.random.default_rng(d)
    data = rng.normal(size=(60, d))
    x = rng.normal(size=(80, d))
    h = 0.9
    ref = (
        KernelDensity(bandwidth=h, kernel=SKLEARN_NAME[kernel])
        .fit(data)
        .score_samples(x)
    )
    ours = parzen.log_parzen_density(x, data, h, kernel).numpy()
    finite = np.isfinite(ref)
    assert np.array_equal(finite, np.isfinite(ours))
    np.testing.assert_allclose(ours[finite], ref[finite], rtol=0, atol=1e-10)


def _naive_kh(x, data, h, kernel, d):
    """K_h(x - x_i) in plain numpy: profiles applied to Euclidean norms (reference)."""
    prof = {
        "gaussian": lambda r: np.exp(-r * r / 2),
        "boxcar": lambda r: (r < 1) * 1.0,
        "epanechnikov": lambda r: 0.75 * np.maximum(0.0, 1 - r * r),
        "triangular": lambda r: np.maximum(0.0, 1 - r),
    }[kernel]
    c = parzen.kernel_integral(kernel, d)
    r = np.linalg.norm((x[:, None, :] - data[None, :, :]) / h, axis=-1)
    return prof(r) / (c * np.prod(np.broadcast_to(h, (d,))))


def _two_class_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, 2))
    y = np.where(data[:, 0] + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    return data, y


def _grid(lo=-4.0, hi=4.0, m=60):
    g = np.linspace(lo, hi, m)
    return np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)


@pytest.mark.parametrize("kernel", INTEGRABLE)
def test_parzen_nw_relation_on_a_grid(kernel):
    data, y = _two_class_data()
    grid = _grid()
    h = np.array([0.5, 0.7])
    rel = parzen.parzen_nw_relation(grid, data, y, h, kernel)
    kh = _naive_kh(grid, data, h, kernel, 2)
    ref_diff = kh @ y / len(y)
    ref_dens = kh.mean(1)
    np.testing.assert_allclose(rel.difference.numpy(), ref_diff, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rel.density.numpy(), ref_dens, rtol=0, atol=1e-12)
    assert rel.max_error < 1e-10
    assert (
        np.abs(rel.difference.numpy() - rel.nw.numpy() * rel.density.numpy())[
            ~rel.empty.numpy()
        ].max()
        < 1e-10
    )
    # where p(x) = 0: NW is 0/0 (NaN), the Parzen difference is exactly 0
    empty = rel.empty.numpy()
    assert np.array_equal(empty, ref_dens == 0)
    assert np.all(np.isnan(rel.nw.numpy()[empty]))
    assert np.all(rel.difference.numpy()[empty] == 0)
    assert rel.max_difference_where_empty == 0
    if KERNELS[kernel].compact:
        assert empty.any()
    # same sign, not the same number
    pos = ~empty & (np.abs(ref_diff) > 1e-12)
    assert np.array_equal(
        np.sign(rel.difference.numpy()[pos]), np.sign(rel.nw.numpy()[pos])
    )
    assert np.nanmax(np.abs(rel.difference.numpy() - rel.nw.numpy())) > 0.1


def test_nw_binary_output_warns_and_raises_where_empty():
    data, y = _two_class_data()
    with pytest.warns(RuntimeWarning, match="no training point|no key"):
        out = parzen.nw_binary_output(
            [[10.0, 10.0], [0.0, 0.0]], data, y, 0.5, "boxcar"
        ).numpy()
    assert np.isnan(out[0]) and np.isfinite(out[1])
    with pytest.raises(ValueError):
        parzen.nw_binary_output(
            [[10.0, 10.0]], data, y, 0.5, "boxcar", on_empty="raise"
        )
    assert (
        float(parzen.parzen_difference([[10.0, 10.0]], data, y, 0.5, "boxcar")[0])
        == 0.0
    )


def test_binary_labels_are_validated():
    data, y = _two_class_data()
    y01 = (y > 0).astype(float)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        parzen.parzen_difference(data, data, y01, 0.5)
    with pytest.raises(ValueError, match="one entry per data point"):
        parzen.nw_binary_output(data, data, y[:-1], 0.5)


def test_class_densities_add_up_and_condition():
    data, y = _two_class_data(n=50, seed=3)
    labels = np.where(y > 0, 2, 0) + (data[:, 1] > 1)  # labels 0, 1, 2, 3
    grid = _grid(m=25)
    joint = parzen.joint_class_densities(grid, data, labels, 0.6, "epanechnikov")
    total = parzen.parzen_density(grid, data, 0.6, "epanechnikov")
    np.testing.assert_allclose(
        joint.sum(1).numpy(), total.numpy(), rtol=1e-12, atol=1e-15
    )
    cond = parzen.class_conditional_densities(grid, data, labels, 0.6, "epanechnikov")
    for j, c in enumerate(parzen.class_labels(labels).numpy()):
        own = parzen.parzen_density(grid, data[labels == c], 0.6, "epanechnikov")
        np.testing.assert_allclose(
            cond[:, j].numpy(), own.numpy(), rtol=1e-12, atol=1e-15
        )


@pytest.mark.parametrize("kernel", INTEGRABLE)
def test_many_classes_parzen_and_nw_agree_on_iris(kernel):
    iris = load_iris()
    data = iris.data[:, 2:]
    labels = iris.target
    grid = np.stack(
        np.meshgrid(np.linspace(0, 8, 50), np.linspace(-0.5, 3.5, 40)), -1
    ).reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        parz = parzen.parzen_classify(grid, data, labels, 0.3, kernel).numpy()
        nw = parzen.nw_classify(grid, data, labels, 0.3, kernel).numpy()
    assert np.array_equal(np.isnan(parz), np.isnan(nw))
    assert np.array_equal(parz[~np.isnan(parz)], nw[~np.isnan(nw)])
    # naive reference: argmax over classes of the looped joint densities
    kh = _naive_kh(grid[::7], data, 0.3, kernel, 2)
    joint = np.stack([kh[:, labels == c].sum(1) for c in range(3)], 1)
    ref = np.where(joint.max(1) > 0, joint.argmax(1), np.nan)
    np.testing.assert_array_equal(parz[::7], ref)
    if KERNELS[kernel].compact:
        assert np.isnan(parz).any()


def test_nw_class_probabilities_are_joint_over_density():
    iris = load_iris()
    data, labels = iris.data[:, :2], iris.target
    x = data[::5] + 0.05
    probs = parzen.nw_class_probabilities(x, data, labels, 0.4)
    joint = parzen.joint_class_densities(x, data, labels, 0.4)
    dens = parzen.parzen_density(x, data, 0.4)
    np.testing.assert_allclose(
        probs.numpy(), (joint / dens[:, None]).numpy(), rtol=1e-12
    )


def test_parzen_classify_on_empty():
    data, y = _two_class_data()
    with pytest.warns(RuntimeWarning, match="p\\(x\\) = 0"):
        pred = parzen.parzen_classify(
            [[20.0, 0.0], [0.0, 0.0]], data, y, 0.5, "triangular"
        ).numpy()
    assert np.isnan(pred[0]) and pred[1] in (-1.0, 1.0)
    with pytest.raises(ValueError, match="p\\(x\\) = 0"):
        parzen.parzen_classify(
            [[20.0, 0.0]], data, y, 0.5, "triangular", on_empty="raise"
        )


def test_leave_one_out_density_matches_naive():
    rng = np.random.default_rng(5)
    data = rng.normal(size=(30, 2))
    loo = parzen.parzen_density(data, data, 0.8, exclude_self=True).numpy()
    kh = _naive_kh(data, data, 0.8, "gaussian", 2)
    ref = (kh.sum(1) - np.diag(kh)) / 29
    np.testing.assert_allclose(loo, ref, rtol=1e-12)


def test_per_point_widths():
    rng = np.random.default_rng(6)
    data = rng.normal(size=(20, 2))
    h = rng.uniform(0.3, 1.0, size=(20, 1))
    x = rng.normal(size=(15, 2))
    ours = parzen.parzen_density(x, data, h).numpy()
    ref = np.mean(
        [
            np.exp(-np.sum((x - data[i]) ** 2, 1) / (2 * h[i, 0] ** 2))
            / (2 * np.pi * h[i, 0] ** 2)
            for i in range(20)
        ],
        axis=0,
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def _per_point_problem():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 5, 40))
    y = np.where(np.sin(2 * x) + 0.5 * rng.normal(size=40) > 0, 1.0, -1.0)
    return x, y, rng.uniform(0.05, 0.8, size=(40, 1)), np.linspace(-0.5, 5.5, 401)


@pytest.mark.parametrize("shape", [(40, 1), (40, 2)])
def test_relation_refuses_per_point_widths(shape):
    data, y = _two_class_data()
    with pytest.raises(
        ValueError, match="width: the Parzen/NW relation holds for one width"
    ):
        parzen.parzen_nw_relation(data[:5], data, y, np.full(shape, 0.5))


def test_per_point_widths_break_the_relation_and_normalizing_restores_it():
    """Parzen bumps carry 1/h_i, NW pooling does not: f p != difference.

    So decisions differ. Dividing each key's kernel by h_i (naive loop) gives back
    difference / density.
    """
    x, y, h, grid = _per_point_problem()
    diff = parzen.parzen_difference(grid, x, y, h).numpy()
    dens = parzen.parzen_density(grid, x, h).numpy()
    nw = parzen.nw_binary_output(grid, x, y, h).numpy()  # unnormalized per-key kernels
    assert np.abs(diff - nw * dens).max() > 0.05
    assert (np.sign(diff) != np.sign(nw)).sum() > 10
    kern = np.array(
        [
            [np.exp(-(((g - x[i]) / h[i, 0]) ** 2) / 2) / h[i, 0] for i in range(40)]
            for g in grid
        ]
    )
    normalized = (kern @ y) / kern.sum(1)
    np.testing.assert_allclose(normalized * dens, diff, rtol=0, atol=1e-14)
    assert np.array_equal(np.sign(normalized), np.sign(diff))


def test_tiny_gaussian_width_does_not_give_nan():
    data, y = _two_class_data()
    out = parzen.nw_binary_output([[3.0, 3.0]], data, y, 1e-3)
    assert torch.isfinite(out).all()
    assert torch.isfinite(parzen.log_parzen_density([[3.0, 3.0]], data, 1e-3)).all()


def test_leave_one_out_classifiers_agree_with_naive():
    iris = load_iris()
    data = (iris.data - iris.data.mean(0)) / iris.data.std(0)
    labels = iris.target
    kh = _naive_kh(data, data, 0.5, "gaussian", 4)
    np.fill_diagonal(kh, 0.0)
    ref = np.stack([kh[:, labels == c].sum(1) for c in range(3)], 1).argmax(1)
    parz = parzen.parzen_classify(data, data, labels, 0.5, exclude_self=True).numpy()
    nw = parzen.nw_classify(data, data, labels, 0.5, exclude_self=True).numpy()
    np.testing.assert_array_equal(parz, ref)
    np.testing.assert_array_equal(nw, ref)


# --- the chapter 6 self-checks: right answers pass, typical wrong answers do not ---

from nwlib.checks import ch06  # noqa: E402


def _verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.split(":")[0]


def _gauss_parzen(x, data, h):
    return torch.exp(-(((x[:, None] - data[None, :]) / h) ** 2) / 2).mean(1) / (
        math.sqrt(2 * math.pi) * h
    )


def _gauss_difference(x, data, y, h):
    sq = ((x[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    return torch.exp(-sq / (2 * h * h)) @ y / (len(y) * 2 * math.pi * h * h)


def test_ch06_checks_accept_right_answers(capsys):
    assert _verdict(capsys, ch06.gaussian_parzen, _gauss_parzen) == "Correct"
    assert _verdict(capsys, ch06.epanechnikov_constant, 3 * math.pi / 8) == "Correct"
    assert _verdict(capsys, ch06.difference, _gauss_difference) == "Correct"

    def ratio(x, d, y, h):
        return _gauss_difference(x, d, y, h) / parzen.nw_binary_output(x, d, y, h)

    assert _verdict(capsys, ch06.ratio, ratio) == "Correct"
    iris = load_iris()
    x = torch.tensor(iris.data)
    x = (x - x.mean(0)) / x.std(0)
    lab = torch.tensor(iris.target, dtype=torch.float64)
    acc = float(
        (parzen.parzen_classify(x, x, lab, 0.7, exclude_self=True) == lab)
        .double()
        .mean()
    )
    assert _verdict(capsys, ch06.iris_loo, acc, 0.7) == "Correct"
    assert _verdict(capsys, ch06.empty_region, 0.0, True) == "Correct"


def test_ch06_checks_reject_wrong_answers(capsys):
    unnormalized = lambda x, d, h: _gauss_parzen(x, d, h) * math.sqrt(2 * math.pi)  # noqa: E731
    no_h = lambda x, d, h: _gauss_parzen(x, d, h) * h  # noqa: E731
    assert _verdict(capsys, ch06.gaussian_parzen, unnormalized) == "Not quite"
    assert _verdict(capsys, ch06.gaussian_parzen, no_h) == "Not quite"
    assert _verdict(capsys, ch06.epanechnikov_constant, 1.0) == "Not quite"
    one_d_norm = lambda x, d, y, h: _gauss_difference(x, d, y, h) * 2 * math.pi * h * h  # noqa: E731
    assert _verdict(capsys, ch06.difference, one_d_norm) == "Not quite"
    equal = lambda x, d, y, h: torch.ones(len(x))  # noqa: E731  "they are equal"
    assert _verdict(capsys, ch06.ratio, equal) == "Not quite"
    iris = load_iris()
    x = torch.tensor(iris.data)
    x = (x - x.mean(0)) / x.std(0)
    lab = torch.tensor(iris.target, dtype=torch.float64)
    with_self = float(
        (parzen.parzen_classify(x, x, lab, 0.1) == lab).double().mean()
    )  # self included
    assert _verdict(capsys, ch06.iris_loo, with_self, 0.1) == "Not quite"
    assert _verdict(capsys, ch06.empty_region, 0.0, False) == "Not quite"
    assert _verdict(capsys, ch06.empty_region, 0.5, True) == "Not quite"


def test_pooling_vocabulary_names_the_arguments():
    # queries, keys (and labels) as in nwlib.pooling; messages name those arguments
    funcs = [
        parzen.log_parzen_kernels,
        parzen.log_parzen_density,
        parzen.parzen_density,
        parzen.joint_class_densities,
        parzen.class_conditional_densities,
        parzen.parzen_classify,
        parzen.parzen_difference,
        parzen.nw_binary_output,
        parzen.nw_class_probabilities,
        parzen.nw_classify,
        parzen.parzen_nw_relation,
    ]
    for i, f in enumerate(funcs):
        third = "width" if i < 3 else "labels"  # densities have no labels
        names = list(inspect.signature(f).parameters)
        assert names[:3] == ["queries", "keys", third], f.__name__
    with pytest.raises(TypeError, match="queries must be"):
        parzen.parzen_density("a", [0.0, 1.0], 0.5)
    with pytest.raises(TypeError, match="keys must be"):
        parzen.parzen_density([0.0], "a", 0.5)
    with pytest.raises(ValueError, match="labels must contain only"):
        parzen.nw_binary_output([0.0], [0.0, 1.0], [0.0, 1.0], 0.5)
