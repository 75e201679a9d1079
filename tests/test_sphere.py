"""Tests for nwlib.sphere: the sphere identity against naive numpy references,
batched shapes, the per-key bias off the sphere, and input validation."""

import math

import numpy as np
import pytest
import torch

from nwlib import sphere
from nwlib.pooling import attention_weights


def _naive_gaussian(q, k, h):
    """Gaussian NW weights from explicit distances, one query at a time (reference)."""
    out = np.empty((len(q), len(k)))
    for j in range(len(q)):
        logits = -np.sum((q[j] - k) ** 2, axis=1) / (2 * h * h)
        w = np.exp(logits - logits.max())
        out[j] = w / w.sum()
    return out


def _unit(rng, n, d):
    z = rng.normal(size=(n, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


@pytest.mark.parametrize("d", [2, 16, 512])
def test_sphere_identity_on_1000_pairs(d):
    """Gaussian weights on the sphere equal softmax(q.k / h^2) within 1e-6 (float64)."""
    rng = np.random.default_rng(d)
    q, k = _unit(rng, 40, d), _unit(rng, 25, d)  # 40 x 25 = 1000 query-key pairs
    for h in (0.1, 0.5, 1.0, d**0.25, 3.0):
        ref = _naive_gaussian(q, k, h)
        dot = sphere.dot_product_weights(q, k, temperature=h * h).numpy()
        assert np.abs(dot - ref).max() < 1e-6
        assert sphere.sphere_identity_error(q, k, h) < 1e-6
        lib = attention_weights(q, k, h).numpy()  # nwlib's own NW weights
        assert np.abs(lib - dot).max() < 1e-6
    # the distance identity itself, pair by pair
    r2 = sphere.sq_distances(q, k).numpy()
    np.testing.assert_allclose(r2, 2 - 2 * q @ k.T, rtol=0, atol=1e-12)


def test_identity_fails_off_the_sphere_and_the_key_bias_repairs_it():
    rng = np.random.default_rng(1)
    q, k = 2.0 * rng.normal(size=(30, 4)), 2.0 * rng.normal(size=(20, 4))
    h = 1.3
    ref = _naive_gaussian(q, k, h)
    plain = sphere.dot_product_weights(q, k, temperature=h * h).numpy()
    assert np.abs(plain - ref).max() > 0.1
    biased = sphere.biased_dot_product_weights(q, k, h).numpy()
    np.testing.assert_allclose(biased, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        sphere.key_bias(k, h).numpy(), -np.sum(k * k, 1) / (2 * h * h)
    )
    # the distance form agrees with the reference too
    np.testing.assert_allclose(
        sphere.gaussian_weights(q, k, h).numpy(), ref, rtol=0, atol=1e-12
    )


def test_on_the_sphere_the_key_bias_is_constant():
    k = sphere.random_unit_vectors(12, 5, seed=3)
    b = sphere.key_bias(k, 0.7)
    np.testing.assert_allclose(b.numpy(), np.full(12, -1 / (2 * 0.49)), rtol=1e-14)


def test_default_temperature_is_sqrt_d():
    rng = np.random.default_rng(2)
    q, k = rng.normal(size=(7, 64)), rng.normal(size=(9, 64))
    s = q @ k.T / 8.0
    ref = np.exp(s - s.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(
        sphere.dot_product_weights(q, k).numpy(), ref, rtol=1e-12
    )
    assert sphere.vaswani_temperature(64) == 8.0
    assert float(sphere.width_from_temperature(8.0)) == pytest.approx(64**0.25)
    assert float(sphere.temperature_from_width(64**0.25)) == pytest.approx(8.0)


def test_batched_equals_per_batch():
    q = sphere.random_unit_vectors(6, 3, batch=4, seed=5)
    k = sphere.random_unit_vectors(8, 3, batch=4, seed=6)
    for fn, arg in (
        (sphere.dot_product_weights, 0.3),
        (sphere.gaussian_weights, 0.6),
        (sphere.biased_dot_product_weights, 0.6),
    ):
        out = fn(q, k, arg)
        assert out.shape == (4, 6, 8)
        for b in range(4):
            torch.testing.assert_close(out[b], fn(q[b], k[b], arg), rtol=0, atol=1e-15)
    assert sphere.key_bias(k, 1.0).shape == (4, 8)
    assert torch.allclose(
        sphere.gaussian_weights(q, k, 0.6).sum(-1),
        torch.ones(4, 6, dtype=torch.float64),
    )


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, -2.0]])
    np.testing.assert_allclose(sphere.normalize(x).numpy(), [[0.6, 0.8], [0.0, -1.0]])
    xb = np.random.default_rng(0).normal(size=(2, 5, 3))
    nb = sphere.normalize(xb)
    np.testing.assert_allclose(
        torch.linalg.vector_norm(nb, dim=-1).numpy(), 1.0, rtol=1e-14
    )
    # same direction: the normalized vector is a positive multiple of the input
    np.testing.assert_allclose(
        (nb.numpy() * xb).sum(-1), np.linalg.norm(xb, axis=-1), rtol=1e-12
    )


def test_zero_vector_cannot_be_normalized():
    with pytest.raises(ValueError, match="zero vector"):
        sphere.normalize([[1.0, 0.0], [0.0, 0.0]], name="keys")
    with pytest.raises(ValueError, match="keys"):
        sphere.sphere_identity_error([[1.0, 0.0]], [[0.0, 0.0]], 1.0)
    with pytest.raises(ValueError, match="zero vector"):
        sphere.normalize([[1e-9, 0.0]], eps=1e-6)


def test_validation():
    q, k = np.ones((3, 2)), np.ones((4, 3))
    with pytest.raises(ValueError, match="same number of coordinates"):
        sphere.dot_product_weights(q, k)
    with pytest.raises(ValueError, match="batch size"):
        sphere.gaussian_weights(np.ones((2, 3, 2)), np.ones((3, 3, 2)), 1.0)
    with pytest.raises(ValueError, match="both be batched"):
        sphere.gaussian_weights(np.ones((2, 3, 2)), np.ones((3, 2)), 1.0)
    with pytest.raises(ValueError, match="temperature"):
        sphere.dot_product_weights(np.ones((3, 2)), np.ones((4, 2)), temperature=0.0)
    with pytest.raises(ValueError, match="single positive number"):
        sphere.gaussian_weights(np.ones((3, 2)), np.ones((4, 2)), [1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        sphere.normalize(np.ones((2, 2, 2, 2)))
    with pytest.raises(TypeError):
        sphere.normalize("abc")
    with pytest.raises(ValueError, match="NaN"):
        sphere.normalize([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="positive integer"):
        sphere.random_unit_vectors(0, 3)


def test_gradients_flow():
    q = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    k = torch.randn(7, 3, dtype=torch.float64)
    t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    w = sphere.dot_product_weights(sphere.normalize(q), k, t)
    (w[:, 0].sum()).backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()
    assert t.grad is not None and math.isfinite(float(t.grad))


def test_float32_identity_is_float32_accurate():
    q = sphere.random_unit_vectors(40, 16, seed=1, dtype=torch.float32)
    k = sphere.random_unit_vectors(25, 16, seed=2, dtype=torch.float32)
    assert sphere.sphere_identity_error(q, k, 0.5) < 1e-5


# --- the chapter 5 self-checks: right answers pass, typical wrong answers do not ---

from nwlib.checks import ch05  # noqa: E402


def _verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.split(":")[0]


def test_ch05_checks_accept_right_answers(capsys):
    assert (
        _verdict(capsys, ch05.project, lambda x: x / x.norm(dim=-1, keepdim=True))
        == "Correct"
    )
    assert (
        _verdict(
            capsys, ch05.dot_attention, lambda q, k, t: torch.softmax(q @ k.T / t, 1)
        )
        == "Correct"
    )
    assert _verdict(capsys, ch05.temperature, 0.16) == "Correct"
    assert (
        _verdict(capsys, ch05.key_bias, lambda k, h: -(k * k).sum(-1) / (2 * h * h))
        == "Correct"
    )
    assert (
        _verdict(
            capsys, ch05.key_bias, lambda k, h: -(k * k).sum(-1) / (2 * h * h) + 3.0
        )
        == "Correct"
    )
    assert _verdict(capsys, ch05.scale, 1 / 16) == "Correct"


def test_ch05_checks_reject_wrong_answers(capsys):
    assert (
        _verdict(capsys, ch05.project, lambda x: x / x.norm()) == "Not quite"
    )  # one global norm
    assert (
        _verdict(capsys, ch05.project, lambda x: x / x.norm(dim=0, keepdim=True))
        == "Not quite"
    )
    assert (
        _verdict(
            capsys, ch05.dot_attention, lambda q, k, t: torch.softmax(q @ k.T / t, 0)
        )
        == "Not quite"
    )
    assert (
        _verdict(
            capsys, ch05.dot_attention, lambda q, k, t: torch.softmax(q @ k.T * t, 1)
        )
        == "Not quite"
    )
    assert _verdict(capsys, ch05.temperature, 0.4) == "Not quite"  # h, not h^2
    assert _verdict(capsys, ch05.temperature, 2 * 0.16) == "Not quite"
    assert (
        _verdict(capsys, ch05.key_bias, lambda k, h: -(k * k).sum(-1) / h)
        == "Not quite"
    )
    assert (
        _verdict(capsys, ch05.key_bias, lambda k, h: torch.zeros(len(k))) == "Not quite"
    )
    assert _verdict(capsys, ch05.scale, 1 / 256) == "Not quite"
    assert _verdict(capsys, ch05.scale, -1 / 16) == "Not quite"
