import numpy as np
import pytest
import torch

from nwlib.kernels import KERNELS, get_kernel

U = torch.linspace(-3, 3, 601, dtype=torch.float64)

# Independent numpy definitions of each profile (COURSE-FACTS, "Kernels").
REFERENCE = {
    "gaussian": lambda u: np.exp(-(u**2) / 2),
    "boxcar": lambda u: (np.abs(u) < 1).astype(float),
    "constant": lambda u: np.ones_like(u),
    "epanechnikov": lambda u: np.where(np.abs(u) <= 1, 0.75 * (1 - u**2), 0.0),
    "triangular": lambda u: np.maximum(0.0, 1 - np.abs(u)),
}


def test_registry_has_the_five_kernels():
    assert set(KERNELS) == set(REFERENCE)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_profile_matches_reference(name):
    got = get_kernel(name)(U).numpy()
    np.testing.assert_allclose(got, REFERENCE[name](U.numpy()), atol=1e-15)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_log_profile_is_log_of_profile(name):
    k = get_kernel(name)
    with np.errstate(divide="ignore"):
        expected = np.log(REFERENCE[name](U.numpy()))
    got = k.log_profile(U * U).numpy()
    inside = np.isfinite(expected)
    np.testing.assert_allclose(got[inside], expected[inside], rtol=1e-12, atol=1e-12)
    assert np.all(np.isneginf(got[~inside]))


def test_epanechnikov_is_not_triangular():
    u = torch.tensor([0.5], dtype=torch.float64)
    assert float(get_kernel("epanechnikov")(u)) == pytest.approx(0.75 * 0.75)
    assert float(get_kernel("triangular")(u)) == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["boxcar", "epanechnikov", "triangular"])
def test_compact_kernels_vanish_outside_support(name):
    k = get_kernel(name)
    assert k.compact and k.radius == 1.0
    assert float(k(torch.tensor([1.0001, -1.5])).abs().sum()) == 0.0


@pytest.mark.parametrize("name", ["gaussian", "epanechnikov", "triangular"])
def test_log_profile_gradient_is_finite_at_zero_distance(name):
    r2 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    get_kernel(name).log_profile(r2).sum().backward()
    assert torch.isfinite(r2.grad).all()


def test_lookup_is_case_insensitive_and_passes_kernels_through():
    k = get_kernel(" Gaussian ")
    assert k is KERNELS["gaussian"] and get_kernel(k) is k


def test_unknown_name_lists_valid_kernels():
    with pytest.raises(
        ValueError, match="valid kernels are: boxcar, constant, epanechnikov"
    ):
        get_kernel("cosine")


def test_non_string_kernel_is_a_type_error():
    with pytest.raises(TypeError, match="kernel must be"):
        get_kernel(3)
