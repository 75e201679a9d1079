"""Numerical stress grid: no NaN where the math is defined.

A documented NaN where it is not.
"""

import itertools
import warnings

import numpy as np
import pytest
import torch

from nwlib import KERNELS, nadaraya_watson
from nwlib.data import running_example

DATA = running_example(n_train=40, n_val=0, seed=11)
SPREAD = float(DATA.x_train.max() - DATA.x_train.min())
QUERIES = np.linspace(-1.0, 6.0, 29)

KEY_SETS = {
    "running example": (DATA.x_train.numpy(), DATA.y_train.numpy()),
    "single key": (np.array([2.5]), np.array([1.5])),
    "duplicate keys": (
        np.array([1.0, 1.0, 1.0, 3.0, 3.0]),
        np.array([0.0, 1.0, 2.0, 5.0, 7.0]),
    ),
    "all keys equal": (np.full(6, 2.0), np.arange(6.0)),
}
RELATIVE_WIDTHS = [1e-6, 1e-3, 1.0, 1e3, 1e6]
CASES = list(
    itertools.product(
        sorted(KEY_SETS),
        RELATIVE_WIDTHS,
        [0.0, 1e6],
        [torch.float32, torch.float64],
        sorted(KERNELS),
    )
)


def _has_key_in_support(q, k, h, kernel):
    """Which rows are defined: an independent reference in float64.

    On the same rounded inputs.
    """
    if not KERNELS[kernel].compact:
        return np.ones(len(q), bool)
    u2 = ((q[:, None] - k[None, :]) / h) ** 2
    return (u2 < 1).any(1)


@pytest.mark.parametrize(
    "keys,rel_h,offset,dtype,kernel",
    CASES,
    ids=[f"{a}-h{b:g}-off{c:g}-{str(d)[6:]}-{e}" for a, b, c, d, e in CASES],
)
def test_stress_grid(keys, rel_h, offset, dtype, kernel):
    k, v = KEY_SETS[keys]
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    q_in, k_in, v_in = (
        (QUERIES + offset).astype(np_dtype),
        (k + offset).astype(np_dtype),
        v.astype(np_dtype),
    )
    h = rel_h * SPREAD
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = nadaraya_watson(q_in, k_in, v_in, h, kernel).numpy()
    assert f.dtype == np_dtype
    defined = _has_key_in_support(
        q_in.astype(np.float64), k_in.astype(np.float64), h, kernel
    )
    assert np.all(np.isfinite(f[defined])), "NaN or inf where the estimate is defined"
    assert np.all(np.isnan(f[~defined])), "a number where the estimate is 0/0"
    slack = 1e-5 * max(1.0, np.abs(v).max())
    assert np.all(f[defined] >= v.min() - slack) and np.all(
        f[defined] <= v.max() + slack
    )
    warned = any(
        issubclass(w.category, RuntimeWarning) and "no key inside" in str(w.message)
        for w in caught
    )
    assert warned == bool((~defined).any())
