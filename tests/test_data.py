import numpy as np
import pytest
import torch

from nwlib.data import running_example, true_function


def test_same_seed_same_data_and_global_state_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = running_example(seed=7), running_example(seed=7)
    assert torch.rand(1) == before  # the data used its own generator
    for u, v in zip(a, b, strict=True):
        assert torch.equal(u, v)
    assert not torch.equal(a.y_train, running_example(seed=8).y_train)


def test_shapes_sorting_range_and_noise_level():
    s = running_example(n_train=2000, n_val=300, noise=0.5, seed=1)
    assert s.x_train.shape == (2000,) and s.x_val.shape == (300,)
    assert torch.all(s.x_train[1:] >= s.x_train[:-1])
    assert 0 <= float(s.x_train.min()) and float(s.x_train.max()) <= 5
    resid = s.y_train - true_function(s.x_train)
    assert float(resid.std()) == pytest.approx(0.5, rel=0.08)


def test_variants_follow_the_course_facts():
    x = torch.tensor([0.0, 1.0, 4.0], dtype=torch.float64)
    np.testing.assert_allclose(
        true_function(x, "linear"), 2 * np.sin(x.numpy()) + x.numpy()
    )
    np.testing.assert_allclose(
        true_function(x, "power"), 2 * np.sin(x.numpy()) + x.numpy() ** 0.8
    )


@pytest.mark.parametrize(
    "kw,exc,msg",
    [
        (dict(n_train=0), ValueError, "n_train must be >= 1"),
        (dict(n_train=2.5), TypeError, "n_train must be an int"),
        (dict(n_val=-1), ValueError, "n_val must be >= 0"),
        (dict(noise=-0.1), ValueError, "noise must be"),
        (dict(variant="cubic"), ValueError, "variant must be one of"),
        (dict(seed="a"), TypeError, "seed must be an int"),
        (dict(seed=1.0), TypeError, "seed must be an int"),
    ],
)
def test_bad_arguments(kw, exc, msg):
    with pytest.raises(exc, match=msg):
        running_example(**kw)
