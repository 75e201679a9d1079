"""Property-based tests (hypothesis) of attention pooling.

The invariances the math guarantees.
"""

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nwlib import KERNELS, attention_weights, nadaraya_watson

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
coords = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
widths = st.floats(1e-3, 1e3, allow_nan=False)


@st.composite
def problems(draw, max_d=3):
    """Random queries (n_q, d), keys (n_k, d), values (n_k,), a width and a kernel."""
    d = draw(st.integers(1, max_d))
    n_q, n_k = draw(st.integers(1, 6)), draw(st.integers(1, 8))
    q = draw(arrays(np.float64, (n_q, d), elements=coords))
    k = draw(arrays(np.float64, (n_k, d), elements=coords))
    v = draw(arrays(np.float64, (n_k,), elements=st.floats(-1e3, 1e3)))
    return q, k, v, draw(widths), draw(st.sampled_from(sorted(KERNELS)))


def _defined(w):
    return ~torch.isnan(w).any(1)


def _clear_rows(q, k, h):
    """Queries with no key within rounding of a compact kernel's edge |u| = 1."""
    r2 = (((q[:, None, :] - k[None]) / h) ** 2).sum(-1)
    return torch.from_numpy(~(np.abs(r2 - 1) < 1e-6).any(1))


@SETTINGS
@given(problems())
def test_weights_are_finite_nonnegative_and_sum_to_one(p):
    q, k, _, h, kern = p
    with _quiet():
        w = attention_weights(q, k, h, kern)
    ok = _defined(w)
    if not KERNELS[kern].compact:
        assert ok.all()  # the Gaussian and the constant kernel are defined everywhere
    assert torch.isfinite(w[ok]).all() and (w[ok] >= 0).all()
    np.testing.assert_allclose(w[ok].sum(1).numpy(), 1.0, atol=1e-9)


@SETTINGS
@given(problems())
def test_predictions_lie_within_the_values(p):
    q, k, v, h, kern = p
    with _quiet():
        f = nadaraya_watson(q, k, v, h, kern)
    f = f[~torch.isnan(f)].numpy()
    span = 1e-9 * max(1.0, np.abs(v).max())
    assert np.all(f >= v.min() - span) and np.all(f <= v.max() + span)


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_permuting_keys_with_values_changes_nothing(p, rnd):
    q, k, v, h, kern = p
    perm = np.array(rnd.sample(range(len(k)), len(k)))
    with _quiet():
        a = nadaraya_watson(q, k, v, h, kern).numpy()
        b = nadaraya_watson(q, k[perm], v[perm], h, kern).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(v).max()))


@SETTINGS
@given(problems(), st.floats(-1e3, 1e3))
def test_shifting_queries_and_keys_together_changes_nothing(p, shift):
    q, k, v, h, kern = p
    with _quiet():
        a = attention_weights(q, k, h, kern)
        b = attention_weights(q + shift, k + shift, h, kern)
    rows = _clear_rows(
        q, k, h
    )  # away from a compact kernel's edge, rounding cannot flip a key
    assert torch.equal(_defined(a)[rows], _defined(b)[rows])
    same = rows & _defined(a)
    assert torch.allclose(a[same], b[same], atol=1e-6)


@SETTINGS
@given(problems(), st.floats(1e-2, 1e2))
def test_scaling_inputs_and_width_together_changes_nothing(p, c):
    q, k, v, h, kern = p
    with _quiet():
        a = attention_weights(q, k, h, kern)
        b = attention_weights(q * c, k * c, h * c, kern)
    rows = _clear_rows(q, k, h)
    assert torch.equal(_defined(a)[rows], _defined(b)[rows])
    same = rows & _defined(a)
    assert torch.allclose(a[same], b[same], atol=1e-6)


@SETTINGS
@given(problems(max_d=1))
def test_gaussian_shift_and_scale_invariance_is_tight(p):
    q, k, v, h, _ = p
    a = nadaraya_watson(q, k, v, h)
    b = nadaraya_watson(3 * q + 7, 3 * k + 7, v, 3 * h)
    np.testing.assert_allclose(
        a.numpy(), b.numpy(), rtol=1e-7, atol=1e-7 * max(1.0, np.abs(v).max())
    )


@SETTINGS
@given(problems(), st.floats(-5, 5), st.floats(0.1, 10))
def test_estimate_is_affine_equivariant_in_the_values(p, a, b):
    q, k, v, h, kern = p
    with _quiet():
        f = nadaraya_watson(q, k, v, h, kern)
        g = nadaraya_watson(q, k, a + b * v, h, kern)
    ok = ~torch.isnan(f)
    np.testing.assert_allclose(
        g[ok].numpy(),
        a + b * f[ok].numpy(),
        rtol=1e-7,
        atol=1e-7 * (abs(a) + b * max(1.0, np.abs(v).max())),
    )


@SETTINGS
@given(problems())
def test_weights_decrease_with_distance_for_each_query(p):
    q, k, _, h, kern = p
    with _quiet():
        w = attention_weights(q, k, h, kern)
    dist = np.linalg.norm(q[:, None, :] - k[None], axis=-1)
    for j in range(len(q)):  # a few rows: the check is the property, not the speed
        if torch.isnan(w[j]).any():
            continue
        order = np.argsort(dist[j], kind="stable")
        ws = w[j].numpy()[order]
        assert np.all(np.diff(ws) <= 1e-12)


class _quiet:
    """Silence the documented 0/0 RuntimeWarning of compact kernels in a property."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


@st.composite
def point_sets(draw, max_d=6):
    """Random queries (n_q, d) and keys (n_k, d) away from the origin, and a width."""
    d = draw(st.integers(2, max_d))
    pts = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    q = draw(arrays(np.float64, (draw(st.integers(1, 5)), d), elements=pts))
    k = draw(arrays(np.float64, (draw(st.integers(1, 7)), d), elements=pts))
    q[np.linalg.norm(q, axis=1) < 1e-3, 0] = 1.0  # zero vectors cannot be normalized
    k[np.linalg.norm(k, axis=1) < 1e-3, 0] = 1.0
    return q, k, draw(st.floats(0.3, 5.0))


@SETTINGS
@given(point_sets())
def test_sphere_identity_on_random_points(p):
    from nwlib.sphere import dot_product_weights, gaussian_weights, normalize

    q, k, h = p
    qs, ks = normalize(q), normalize(k)
    gauss, dot = gaussian_weights(qs, ks, h), dot_product_weights(qs, ks, h * h)
    assert float((gauss - dot).abs().max()) < 1e-10


@SETTINGS
@given(point_sets())
def test_off_sphere_key_bias_restores_the_gaussian(p):
    from nwlib.sphere import biased_dot_product_weights, gaussian_weights

    q, k, h = p
    h = h * 4  # keep exp arguments moderate for raw points of norm up to ~25
    gauss, biased = gaussian_weights(q, k, h), biased_dot_product_weights(q, k, h)
    assert float((gauss - biased).abs().max()) < 1e-8


@SETTINGS
@given(problems(max_d=2), st.randoms(use_true_random=False))
def test_parzen_difference_is_nw_times_density(p, rnd):
    from nwlib.parzen import nw_binary_output, parzen_density, parzen_difference

    q, k, _, h, kern = p
    if kern == "constant":  # not integrable: no Parzen density exists
        return
    y = np.array([rnd.choice([-1.0, 1.0]) for _ in range(len(k))])
    with _quiet():
        diff = parzen_difference(q, k, y, h, kern)
        dens = parzen_density(q, k, h, kern)
        nw = nw_binary_output(q, k, y, h, kern)
    pos = dens > 0
    scale = float(dens.abs().max()) if pos.any() else 1.0
    assert torch.allclose(diff[pos], (nw * dens)[pos], rtol=1e-9, atol=1e-12 * scale)
    assert torch.equal(torch.sign(diff[pos]), torch.sign(nw[pos]))
    assert torch.all(
        diff[~pos] == 0
    )  # no mass (or a Gaussian density below float range)
    if KERNELS[kern].compact:  # NW is 0/0 exactly where no key lies inside the support
        r2 = (((q[:, None, :] - k[None]) / h) ** 2).sum(-1)
        clear = _clear_rows(q, k, h)
        empty = torch.from_numpy(~(r2 < 1).any(1))
        assert torch.equal(torch.isnan(nw)[clear], empty[clear])
