"""The scikit-learn estimators of nwlib.estimators: API checks, agreement with the
functional core, model selection tools, and errors."""

import math
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import gaussian_kde
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, LeaveOneOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from nwlib import attention_weights, nadaraya_watson
from nwlib.estimators import NadarayaWatsonClassifier, NadarayaWatsonRegressor
from nwlib.parzen import nw_class_probabilities
from nwlib.selection import error_curve, select_width_minimize, silverman_width

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ESTIMATORS = [
    NadarayaWatsonRegressor(),
    NadarayaWatsonClassifier(),
    NadarayaWatsonRegressor(bandwidth="loo"),
    NadarayaWatsonClassifier(bandwidth="loo"),
    NadarayaWatsonClassifier(bandwidth="scott"),
    NadarayaWatsonRegressor(degree=1),
    NadarayaWatsonRegressor(bandwidth="loo", degree=1),
]


def expected_failed_checks(estimator):
    """Checks that fail for a principled reason (one, below)."""
    if getattr(estimator, "degree", 0) == 1 and estimator.bandwidth == "loo":
        # 11 samples in 10 features: each leave-one-out local plane has 10 points for
        # 11 coefficients, so no width has a defined score; fit says so (ValueError)
        return {
            "check_regressor_multioutput": "local-linear leave-one-out needs "
            "n_samples >= n_features + 3; the check gives 11 samples, 10 features"
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        # "loo" on the checks' random data: the minimum often lies at the widest width
        warnings.filterwarnings(
            "ignore", "the LOO minimum lies at the edge", RuntimeWarning
        )
        check(estimator)


def _data(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 5, size=(n, d))
    y = 2 * np.sin(X[:, 0]) + X[:, 1:].sum(1) + 0.5 * rng.standard_normal(n)
    return X, y


# ---------------------------------------------------------------- agreement with nwlib


@pytest.mark.parametrize(
    "bandwidth", [0.7, np.array(0.7), [0.5, 1.0, 2.0], "silverman", "scott"]
)
@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_regressor_equals_functional_core(bandwidth, kernel):
    X, y = _data()
    Xq = _data(n=25, seed=1)[0]
    reg = NadarayaWatsonRegressor(bandwidth=bandwidth, kernel=kernel)
    h = reg.fit(X, y).bandwidth_
    if kernel == "epanechnikov":
        Xq = X[:25] + 0.01  # every query has keys in range
    q, k, v, w = (torch.from_numpy(a) for a in (Xq, X, y, h))
    ref = nadaraya_watson(q, k, v, w, kernel).numpy()
    dense = attention_weights(q, k, w, kernel).numpy()
    np.testing.assert_allclose(reg.predict(Xq), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(reg.predict(Xq), dense @ y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(reg.attention_weights(Xq), dense, rtol=0, atol=1e-12)
    assert reg.attention_weights(Xq).shape == (25, 60)


def test_regressor_multi_output_and_per_feature_width_by_hand():
    X, y = _data(d=2)
    Y = np.stack([y, -3 * y], axis=1)
    h = np.array([0.4, 1.3])
    reg = NadarayaWatsonRegressor(bandwidth=h).fit(X, Y)
    # the definition, written out: Gaussian of the per-feature scaled distance
    r2 = (((X[:5, None, :] - X[None, :, :]) / h) ** 2).sum(-1)
    w = np.exp(-(r2 - r2.min(1, keepdims=True)) / 2)
    w /= w.sum(1, keepdims=True)
    np.testing.assert_allclose(reg.predict(X[:5]), w @ Y, rtol=0, atol=1e-12)
    assert reg.predict(X[:5]).shape == (5, 2)


def test_classifier_equals_functional_core():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = NadarayaWatsonClassifier(bandwidth=0.4).fit(X, labels)
    proba = clf.predict_proba(X)
    ref = nw_class_probabilities(
        torch.from_numpy(X), torch.from_numpy(X), torch.from_numpy(y.astype(float)), 0.4
    ).numpy()
    np.testing.assert_allclose(proba, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=0, atol=1e-12)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    pooled = clf.attention_weights(X) @ clf.values_
    np.testing.assert_allclose(pooled, proba, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- bandwidth rules


def test_rules_resolve_to_their_definitions():
    X, y = _data(n=80, d=2)
    n, d = X.shape
    silverman = NadarayaWatsonRegressor(bandwidth="silverman").fit(X, y).bandwidth_
    np.testing.assert_allclose(silverman, silverman_width(X), rtol=1e-15)
    # Scott's rule: sd times scipy's Scott factor n^(-1/(d+4)), per feature
    scott = NadarayaWatsonRegressor(bandwidth="scott").fit(X, y).bandwidth_
    kde_factor = gaussian_kde(X.T, bw_method="scott").factor
    np.testing.assert_allclose(scott, X.std(0, ddof=1) * kde_factor, rtol=1e-14)
    assert math.isclose(kde_factor, n ** (-1 / (d + 4)))
    # one dimension: Silverman's 0.9 min(sd, IQR/1.34) n^(-1/5), written out
    x1 = X[:, :1]
    iqr = np.subtract(*np.percentile(x1, [75, 25]))
    by_hand = 0.9 * min(x1.std(ddof=1), iqr / 1.34) * n ** (-0.2)
    h1 = NadarayaWatsonRegressor().fit(x1, y).bandwidth_
    assert h1.shape == (1,) and math.isclose(h1[0], by_hand, rel_tol=1e-12)


def test_loo_bandwidth_is_the_leave_one_out_minimum():
    X, y = _data(n=80, d=1)
    reg = NadarayaWatsonRegressor(bandwidth="loo").fit(X, y)
    h = reg.bandwidth_[0]
    assert reg.bandwidth_.shape == (1,)
    ref = select_width_minimize(X, y, width=silverman_width(X))
    assert h == ref.width
    around = error_curve(X, y, h * np.array([0.8, 0.95, 1.0, 1.05, 1.25]))
    assert around.argmin() == 2


def test_grid_search_over_leave_one_out_equals_masked_diagonal():
    X, y = _data(n=30, d=1)
    widths = np.geomspace(0.05, 2.0, 8)
    search = GridSearchCV(
        NadarayaWatsonRegressor(),
        {"bandwidth": widths},
        cv=LeaveOneOut(),
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    masked = error_curve(X, y, widths)
    np.testing.assert_allclose(
        -search.cv_results_["mean_test_score"], masked, rtol=1e-12, atol=0
    )
    assert search.best_params_["bandwidth"] == widths[masked.argmin()]


# ---------------------------------------------------------------- model selection tools


def test_pipeline_scaling_equals_scaling_by_hand():
    X, y = _data(d=3)
    X = X * np.array([1.0, 100.0, 0.01])  # very different units
    pipe = make_pipeline(StandardScaler(), NadarayaWatsonRegressor(bandwidth=0.5))
    pipe.fit(X, y)
    mean, sd = X.mean(0), X.std(0)
    ref = NadarayaWatsonRegressor(bandwidth=0.5).fit((X - mean) / sd, y)
    np.testing.assert_allclose(
        pipe.predict(X[:10]), ref.predict((X[:10] - mean) / sd), rtol=0, atol=1e-12
    )
    # one width per feature in raw units is the same model
    raw = NadarayaWatsonRegressor(bandwidth=0.5 * sd).fit(X, y)
    np.testing.assert_allclose(
        pipe.predict(X[:10]), raw.predict(X[:10]), rtol=0, atol=1e-12
    )


def test_cross_val_score_and_grid_search_run():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NadarayaWatsonClassifier())
    cv = KFold(5, shuffle=True, random_state=0)
    acc = cross_val_score(pipe, X, y, cv=cv)
    assert acc.shape == (5,) and acc.mean() > 0.9
    grid = {"nadarayawatsonclassifier__bandwidth": [0.1, 0.5, 2.0, 50.0]}
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_["nadarayawatsonclassifier__bandwidth"] != 50.0
    assert scores[-1] < 0.5  # a huge width predicts the majority class everywhere
    Xr, yr = _data()
    r2 = cross_val_score(NadarayaWatsonRegressor(bandwidth="loo"), Xr, yr, cv=cv)
    assert np.all(np.isfinite(r2)) and r2.mean() > 0.5


def test_hyperparameters_stored_unchanged_and_cloned():
    h = np.array([0.5, 1.0, 2.0])
    reg = NadarayaWatsonRegressor(bandwidth=h, kernel="epanechnikov", on_empty="raise")
    assert reg.bandwidth is h and reg.get_params() == {
        "bandwidth": h,
        "kernel": "epanechnikov",
        "on_empty": "raise",
        "degree": 0,
    }
    X, y = _data()
    reg.fit(X, y)
    assert reg.bandwidth is h and np.array_equal(h, [0.5, 1.0, 2.0])
    reg.bandwidth_[0] = 99.0  # the fitted copy is not the parameter
    assert h[0] == 0.5
    assert "bandwidth_" not in vars(clone(reg))


# ------------------------------------------------------------ compact kernels, errors


def test_compact_kernel_with_no_key_in_range():
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([1.0, 2.0, 3.0])
    queries = np.array([[1.1], [10.0]])
    reg = NadarayaWatsonRegressor(bandwidth=0.5, kernel="boxcar").fit(X, y)
    with pytest.warns(RuntimeWarning, match="1 of 2 queries"):
        pred = reg.predict(queries)
    assert pred[0] == 2.0 and math.isnan(pred[1])
    with pytest.raises(ValueError, match="no key inside the support"):
        reg.set_params(on_empty="raise").predict(queries)
    clf = NadarayaWatsonClassifier(bandwidth=0.5, kernel="boxcar")
    clf.fit(X, ["a", "b", "b"])
    with pytest.warns(RuntimeWarning):
        proba = clf.predict_proba(queries)
    assert np.array_equal(proba[0], [0.0, 1.0]) and np.isnan(proba[1]).all()
    with pytest.warns(RuntimeWarning):
        with pytest.raises(ValueError, match="class is undefined"):
            clf.predict(queries)
    np.testing.assert_array_equal(clf.predict(queries[:1]), ["b"])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"bandwidth": -1.0}, ValueError, "bandwidth must be finite and > 0"),
        ({"bandwidth": 0}, ValueError, "bandwidth must be finite and > 0"),
        ({"bandwidth": math.nan}, ValueError, "bandwidth must be finite and > 0"),
        ({"bandwidth": [1.0, 0.0]}, ValueError, "bandwidth must be finite and > 0"),
        (
            {"bandwidth": [1.0, 2.0, 3.0]},
            ValueError,
            r"one width per feature, shape \(2",
        ),
        (
            {"bandwidth": "silvermann"},
            ValueError,
            "one of .'silverman', 'scott', 'loo'.",
        ),
        ({"bandwidth": True}, TypeError, "bandwidth must be a number"),
        ({"bandwidth": None}, TypeError, "bandwidth must be a number"),
        ({"bandwidth": {"a": 1}}, TypeError, "bandwidth must be a number"),
        ({"kernel": "gauss"}, ValueError, "kernel 'gauss' is unknown"),
        ({"kernel": 3}, TypeError, "kernel must be a kernel name"),
        ({"on_empty": "zero"}, ValueError, "on_empty must be 'nan' or 'raise'"),
    ],
)
@pytest.mark.parametrize("cls", [NadarayaWatsonRegressor, NadarayaWatsonClassifier])
def test_bad_hyperparameters_raise_in_fit(cls, params, error, match):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    est = cls(**params)  # no error yet: scikit-learn validates in fit
    with pytest.raises(error, match=match):
        est.fit(X, y)


def test_bad_data_raise():
    X, y = _data(n=10, d=2)
    with pytest.raises(NotFittedError):
        NadarayaWatsonRegressor().predict(X)
    with pytest.raises(
        ValueError,
        match=r"spread of every feature: X has zero spread in coordinate\(s\) \[1\]",
    ):
        NadarayaWatsonRegressor().fit(np.c_[X[:, 0], np.ones(10)], y)
    with pytest.raises(ValueError, match="needs at least 3 samples"):
        NadarayaWatsonRegressor(bandwidth="loo").fit(X[:2], y[:2])
    reg = NadarayaWatsonRegressor(bandwidth=1.0).fit(X[:1], y[:1])  # 1 key is fine
    assert reg.predict(X[:3]).tolist() == [y[0]] * 3
    with pytest.raises(ValueError, match="X has 3 features"):
        NadarayaWatsonRegressor().fit(X, y).predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Unknown label type"):
        NadarayaWatsonClassifier().fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        NadarayaWatsonRegressor().fit(np.where(X > 4, np.nan, X), y)


def test_docstring_examples_run():
    import doctest

    import nwlib.estimators

    result = doctest.testmod(nwlib.estimators, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10 and result.failed == 0


def test_exported_lazily_from_the_package():
    import subprocess
    import sys

    code = (
        "import sys, nwlib; assert 'sklearn' not in sys.modules; "
        "from nwlib import NadarayaWatsonRegressor as R; "
        "from nwlib.estimators import NadarayaWatsonRegressor; "
        "assert R is NadarayaWatsonRegressor and 'sklearn' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- local-linear option (degree=1) ---
def test_degree_one_is_nwlib_local_linear_and_keeps_lines():
    from nwlib.local_linear import local_linear

    rng = np.random.default_rng(4)
    X = rng.uniform(0, 5, (60, 2))
    y = 2.0 * X[:, 0] - X[:, 1] + 1.0
    Q = rng.uniform(-1, 6, (15, 2))
    reg = NadarayaWatsonRegressor(bandwidth=[0.7, 0.9], degree=1).fit(X, y)
    ref = local_linear(
        torch.from_numpy(Q),
        torch.from_numpy(X),
        torch.from_numpy(y),
        torch.tensor([0.7, 0.9], dtype=torch.float64),
    )
    np.testing.assert_allclose(reg.predict(Q), ref.numpy(), rtol=0, atol=1e-12)
    # a plane is reproduced exactly, inside and outside the data (NW is not)
    np.testing.assert_allclose(reg.predict(Q), 2.0 * Q[:, 0] - Q[:, 1] + 1.0, atol=1e-9)
    nw = NadarayaWatsonRegressor(bandwidth=[0.7, 0.9]).fit(X, y).predict(Q)
    assert np.abs(nw - (2.0 * Q[:, 0] - Q[:, 1] + 1.0)).max() > 0.1
    w = reg.attention_weights(Q)
    assert w.shape == (15, 60) and w.min() < 0
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(w @ y, reg.predict(Q), atol=1e-10)


def test_degree_one_loo_bandwidth_is_the_local_linear_selector():
    rng = np.random.default_rng(5)
    X = np.sort(rng.uniform(0, 5, 80))[:, None]
    y = np.sin(X[:, 0]) + 0.3 * rng.standard_normal(80)
    reg = NadarayaWatsonRegressor(bandwidth="loo", degree=1).fit(X, y)
    best = select_width_minimize(X, y, degree=1)
    np.testing.assert_allclose(reg.bandwidth_, [best.width])


@pytest.mark.parametrize("degree", [2, -1, True, 0.5, "1"])
def test_degree_must_be_zero_or_one(degree):
    with pytest.raises(ValueError, match="degree"):
        NadarayaWatsonRegressor(degree=degree).fit(
            [[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]
        )
