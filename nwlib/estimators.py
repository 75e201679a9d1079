r"""scikit-learn estimators: Nadaraya-Watson regression and classification.

:class:`NadarayaWatsonRegressor` and :class:`NadarayaWatsonClassifier` wrap the
functional core of nwlib (:func:`nwlib.pooling.nadaraya_watson`,
:func:`nwlib.pooling.attention_weights`, :func:`nwlib.selection.select_width_minimize`,
:func:`nwlib.rules.silverman_width`) in scikit-learn's estimator API, so
that they work in ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``
(Pedregosa et al. 2011). In scikit-learn's vocabulary the training inputs ``X``
are the keys, the training targets ``y`` the values, and the inputs given to
``predict`` the queries:

.. math::

    \hat f(q) = \sum_i a(q, x_i)\, y_i, \qquad
    a(q, x_i) = \frac{K(\lVert (q - x_i) / h \rVert)}
                     {\sum_j K(\lVert (q - x_j) / h \rVert)},

with the division by :math:`h` coordinate by coordinate when ``bandwidth`` is
one width per feature. ``fit`` stores the pairs and resolves the bandwidth;
nothing else is learned. The classifier pools the one-hot encoded labels, so
``predict_proba`` returns :math:`\hat P(c \mid q)` (rows sum to 1) and
``predict`` its most probable class.

Following scikit-learn's ``KernelDensity``, the width is called ``bandwidth``
here (``width`` in the rest of nwlib).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validate import as_float_tensor
from .kernels import Kernel, get_kernel
from .local_linear import local_linear
from .pooling import attention_weights, nadaraya_watson
from .rules import scott_width, silverman_width, spread
from .selection import select_width_minimize

__all__ = ["NadarayaWatsonRegressor", "NadarayaWatsonClassifier", "BANDWIDTH_RULES"]

#: The names ``bandwidth`` accepts besides numbers, and what each needs.
BANDWIDTH_RULES = ("silverman", "scott", "loo")


class _NadarayaWatsonBase(BaseEstimator):
    """What the regressor and the classifier share: parameters, fit, weights."""

    def __init__(self, bandwidth="silverman", kernel="gaussian", on_empty="nan"):
        self.bandwidth = bandwidth
        self.kernel = kernel
        self.on_empty = on_empty

    # ------------------------------------------------------------ validation
    def _check_params(self) -> None:
        if not isinstance(self.kernel, (str, Kernel)):
            raise TypeError(
                f"kernel must be a kernel name (str), got {type(self.kernel).__name__}"
            )
        get_kernel(self.kernel)  # ValueError listing the valid names
        if self.on_empty not in ("nan", "raise"):
            raise ValueError(
                f"on_empty must be 'nan' or 'raise', got {self.on_empty!r}"
            )

    def _resolve_bandwidth(self, X: np.ndarray, values: np.ndarray) -> np.ndarray:
        n, d = X.shape
        b = self.bandwidth
        if isinstance(b, str):
            if b not in BANDWIDTH_RULES:
                raise ValueError(
                    f"bandwidth must be a number > 0, an array of {d} "
                    f"numbers > 0, or one of {BANDWIDTH_RULES}; got {b!r}"
                )
            need = 3 if b == "loo" else 2
            if n < need:
                raise ValueError(
                    f"bandwidth={b!r} needs at least {need} samples, got "
                    f"n_samples = {n}"
                )
            try:
                spread(X, "X")
            except ValueError as err:  # features whose values are all equal
                raise ValueError(
                    f"bandwidth={b!r} cannot measure the spread of every feature: "
                    f"{err}. Drop those features or give the bandwidth as numbers"
                ) from err
            if b == "scott":
                return np.atleast_1d(np.asarray(scott_width(X), dtype=np.float64))
            rule = np.atleast_1d(np.asarray(silverman_width(X), dtype=np.float64))
            if b == "silverman":
                return rule
            start = float(np.exp(np.mean(np.log(rule))))
            best = select_width_minimize(X, values, self.kernel, width=start)
            return np.full(d, best.width)
        if isinstance(b, (bool, np.bool_)) or b is None:
            raise TypeError(
                f"bandwidth must be a number, an array or a rule name, got {b!r}"
            )
        if isinstance(b, numbers.Real):
            h = np.full(d, float(b))
        else:
            try:
                h = np.asarray(b, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"bandwidth must be a number, an array of numbers or "
                    f"one of {BANDWIDTH_RULES}, got {b!r}"
                ) from None
            if h.ndim == 0:  # a 0-d array is one number
                h = np.full(d, float(h))
            elif h.ndim != 1 or h.shape[0] != d:
                raise ValueError(
                    f"bandwidth as an array needs one width per feature, "
                    f"shape ({d},); got shape {h.shape}"
                )
        if not np.all(np.isfinite(h)) or np.any(h <= 0):
            raise ValueError(f"bandwidth must be finite and > 0, got {b!r}")
        return h.copy()

    def _store(self, X: np.ndarray, values: np.ndarray) -> None:
        self.keys_ = np.array(X, dtype=np.float64, order="C")
        self.values_ = values
        self.bandwidth_ = self._resolve_bandwidth(self.keys_, values)

    def _queries(self, X) -> torch.Tensor:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return as_float_tensor(X, "X")

    def _pool(self, X) -> np.ndarray:
        with torch.no_grad():
            f = nadaraya_watson(
                self._queries(X),
                as_float_tensor(self.keys_, "keys_"),
                as_float_tensor(self.values_, "values_"),
                as_float_tensor(self.bandwidth_, "bandwidth_"),
                self.kernel,
                on_empty=self.on_empty,
            )
        return f.numpy()

    def attention_weights(self, X) -> np.ndarray:
        """The attention weights of queries ``X`` over the training inputs (the keys).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        ndarray of shape (n_queries, n_samples_fit), float64
            Row j holds :math:`a(q_j, x_i)` for every training input :math:`x_i`;
            rows sum to 1 (NaN where a compact kernel has no key in range). The whole
            matrix is built, so memory is O(n_queries x n_samples_fit).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            For a wrong number of features, NaN or inf, or (``on_empty="raise"``)
            a query with no key inside a compact kernel's support.
        """
        with torch.no_grad():
            w = attention_weights(
                self._queries(X),
                as_float_tensor(self.keys_, "keys_"),
                as_float_tensor(self.bandwidth_, "bandwidth_"),
                self.kernel,
                on_empty=self.on_empty,
            )
        return w.numpy()


_PARAMS_DOC = """
    Parameters
    ----------
    bandwidth : float, array-like of shape (n_features,), or str, default="silverman"
        The kernel width :math:`h` (called ``width`` elsewhere in nwlib), in the
        units of ``X``:

        - a number > 0: one width for every feature;
        - an array of ``n_features`` numbers > 0: one width per feature;
        - ``"silverman"``: Silverman's rule of thumb :math:`0.9\\,\\min(\\hat\\sigma_j,
          \\mathrm{IQR}_j/1.34)\\, n^{-1/5}` per feature (Silverman 1986, sec. 3.4.2;
          for d > 1 nwlib uses :math:`n^{-1/(d+4)}`, see
          :func:`nwlib.selection.silverman_width`);
        - ``"scott"``: Scott's rule :math:`\\hat\\sigma_j\\, n^{-1/(d+4)}` per feature
          (Scott 1992, the factor scipy's ``gaussian_kde`` uses);
        - ``"loo"``: one width for every feature, minimizing the leave-one-out
          squared error of the values by :func:`nwlib.selection.select_width_minimize`,
          started from the geometric mean of the Silverman widths.

        The rules look only at the spread of ``X``; standardize the features first
        (a ``Pipeline`` with ``StandardScaler``) when one width is shared.
    kernel : str, default="gaussian"
        A kernel name of :data:`nwlib.kernels.KERNELS`: "gaussian", "boxcar",
        "constant", "epanechnikov" or "triangular".
    on_empty : {"nan", "raise"}, default="nan"
        A query with no training input inside a compact kernel's support has
        weights 0/0. ``"nan"``: its output is NaN and a ``RuntimeWarning`` says how
        many queries are affected; ``"raise"``: ``ValueError``. The Gaussian and
        constant kernels never leave a query empty.
"""

_ATTRS_DOC = """
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.
    keys_ : ndarray of shape (n_samples, n_features_in_), float64
        The training inputs (a copy).
    bandwidth_ : ndarray of shape (n_features_in_,), float64
        The width per feature actually used (equal entries for one shared width).
"""


class NadarayaWatsonRegressor(RegressorMixin, _NadarayaWatsonBase):
    __doc__ = (
        """Nadaraya-Watson kernel regression: attention pooling of the targets.

    ``predict(X)`` returns :math:`\\sum_i a(q, x_i) y_i` for each row :math:`q` of
    ``X``: a weighted average of the training targets with weights from the
    kernel of the scaled distance, computed by :func:`nwlib.pooling.nadaraya_watson`
    in float64 (log domain, blocked over queries). Nadaraya (1964), Watson (1964).
"""
        + _PARAMS_DOC
        + """\
    degree : {0, 1}, default=0
        0: Nadaraya-Watson, a local constant fit. 1: local-linear regression, the
        local line through the same kernel weights
        (:func:`nwlib.local_linear.local_linear`; Fan 1992), which removes
        Nadaraya-Watson's O(h) bias at the edges of the data; ``bandwidth="loo"``
        then minimizes the local-linear leave-one-out error (from the diagonal of
        its smoother matrix).

    Attributes
    ----------"""
        + _ATTRS_DOC
        + """\
    values_ : ndarray of shape (n_samples,) or (n_samples, n_outputs), float64
        The training targets.

    Raises
    ------
    ValueError, TypeError
        In ``fit``, for a parameter out of range or of the wrong type (the message
        names it) and for input scikit-learn's ``validate_data`` rejects (NaN, inf,
        sparse, complex, 1-D ``X``, wrong length of ``y``); in ``predict``, for a
        wrong number of features.

    See Also
    --------
    NadarayaWatsonClassifier : the same pooling of one-hot labels.
    nwlib.pooling.nadaraya_watson : the functional form.

    Examples
    --------
    >>> import numpy as np
    >>> from nwlib.estimators import NadarayaWatsonRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0.0, 1.0, 4.0, 9.0])
    >>> reg = NadarayaWatsonRegressor(bandwidth=0.5).fit(X, y)
    >>> reg.predict([[1.5]]).round(4)
    array([2.536])
    >>> reg.attention_weights([[1.5]]).round(4)
    array([[0.009, 0.491, 0.491, 0.009]])
    >>> NadarayaWatsonRegressor(bandwidth="scott").fit(X, y).bandwidth_.round(4)
    array([0.9784])
    """
    )

    def __init__(
        self, bandwidth="silverman", kernel="gaussian", on_empty="nan", degree=0
    ):
        super().__init__(bandwidth=bandwidth, kernel=kernel, on_empty=on_empty)
        self.degree = degree

    def fit(self, X, y):
        """Store the training pairs and resolve the bandwidth.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs, the keys.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets, the values.

        Returns
        -------
        self
        """
        self._check_params()
        if isinstance(self.degree, (bool, np.bool_)) or self.degree not in (0, 1):
            raise ValueError(
                f"degree must be 0 (Nadaraya-Watson, a local constant) or 1 "
                f"(local linear), got {self.degree!r}"
            )
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=True
        )
        self._store(X, np.array(y, dtype=np.float64, order="C"))
        return self

    def _resolve_bandwidth(self, X: np.ndarray, values: np.ndarray) -> np.ndarray:
        if (
            self.degree == 1
            and isinstance(self.bandwidth, str)
            and self.bandwidth == "loo"
        ):
            if X.shape[0] < X.shape[1] + 3:
                raise ValueError(
                    f"bandwidth='loo' with degree=1 needs at least "
                    f"n_features + 3 = {X.shape[1] + 3} samples, got "
                    f"n_samples = {X.shape[0]}"
                )
            best = select_width_minimize(X, values, self.kernel, degree=1)
            return np.full(X.shape[1], float(best.width))
        return super()._resolve_bandwidth(X, values)

    def _local_linear(self, X, weights: bool):
        with torch.no_grad():
            return local_linear(
                self._queries(X),
                as_float_tensor(self.keys_, "keys_"),
                as_float_tensor(self.values_, "values_"),
                as_float_tensor(self.bandwidth_, "bandwidth_"),
                self.kernel,
                degree=1,
                return_weights=weights,
                on_empty=self.on_empty,
            )

    def attention_weights(self, X) -> np.ndarray:
        """Weights of the queries ``X`` over the training inputs.

        Shape (n_queries, n_samples_fit). With ``degree=0`` the attention weights
        of Nadaraya-Watson pooling (non-negative, rows sum to 1); with
        ``degree=1`` the equivalent-kernel weights of the local line,
        :math:`\\hat f(q) = \\sum_i l_i(q) y_i`: rows still sum to 1, but entries
        can be negative near the edges of the data (Fan and Gijbels 1996).
        float64; NaN rows where a compact kernel leaves the fit undefined.
        """
        if self.degree == 1:
            return self._local_linear(X, weights=True)[1].numpy()
        return super().attention_weights(X)

    def predict(self, X):
        """Nadaraya-Watson estimate at the queries ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        ndarray of shape (n_queries,) or (n_queries, n_outputs), float64
            NaN (with a ``RuntimeWarning``) for a query with no key inside a
            compact kernel's support, unless ``on_empty="raise"``.
        """
        if self.degree == 1:
            return self._local_linear(X, weights=False).numpy()
        return self._pool(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class NadarayaWatsonClassifier(ClassifierMixin, _NadarayaWatsonBase):
    __doc__ = (
        """Nadaraya-Watson classification: attention pooling of one-hot labels.

    With values :math:`e_{y_i}` (the one-hot code of label :math:`y_i`),
    ``predict_proba(X)`` returns :math:`\\hat P(c \\mid q) = \\sum_i a(q, x_i)
    [y_i = c]` for each query :math:`q`, the same numbers as
    :func:`nwlib.parzen.nw_class_probabilities`; rows sum to 1. ``predict``
    returns the most probable class (the first of ``classes_`` on a tie): the
    Parzen-window (plug-in Bayes) classifier, since dividing every class's joint
    density by :math:`\\hat p(q)` does not change the largest (Parzen 1962).
    ``bandwidth="loo"`` minimizes the leave-one-out squared error of the one-hot
    codes (the Brier score).
"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted; the columns of ``predict_proba``.\
"""
        + _ATTRS_DOC
        + """\
    values_ : ndarray of shape (n_samples, n_classes), float64
        The one-hot codes of the training labels.

    Raises
    ------
    ValueError, TypeError
        In ``fit``, for a parameter out of range or of the wrong type, for input
        scikit-learn's ``validate_data`` rejects, and for a continuous target
        ("Unknown label type"); in ``predict``, for a wrong number of features and
        for a query with no key inside a compact kernel's support (no class is
        defined there; ``predict_proba`` returns NaN for it).

    See Also
    --------
    NadarayaWatsonRegressor : pooling of real-valued targets.
    nwlib.parzen.nw_class_probabilities : the functional form.

    Examples
    --------
    >>> import numpy as np
    >>> from nwlib.estimators import NadarayaWatsonClassifier
    >>> X = np.array([[0.0], [0.5], [2.0], [2.5]])
    >>> y = np.array(["a", "a", "b", "b"])
    >>> clf = NadarayaWatsonClassifier(bandwidth=0.5).fit(X, y)
    >>> clf.classes_
    array(['a', 'b'], dtype='<U1')
    >>> clf.predict_proba([[1.0], [1.25]]).round(4)
    array([[0.8351, 0.1649],
           [0.5   , 0.5   ]])
    >>> clf.predict([[1.0], [2.2]])
    array(['a', 'b'], dtype='<U1')
    """
    )

    def fit(self, X, y):
        """Store the training inputs and one-hot labels and resolve the bandwidth.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs, the keys.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).

        Returns
        -------
        self
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        onehot = np.zeros((len(codes), len(self.classes_)))
        onehot[np.arange(len(codes)), codes] = 1.0
        self._store(X, onehot)
        return self

    def predict_proba(self, X):
        """Class probabilities :math:`\\hat P(c \\mid q)` at the queries ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        ndarray of shape (n_queries, n_classes), float64
            Columns in the order of ``classes_``; rows sum to 1, or are NaN (with a
            ``RuntimeWarning``) for a query with no key inside a compact kernel's
            support, unless ``on_empty="raise"``.
        """
        return self._pool(X)

    def predict(self, X):
        """The most probable class at each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        ndarray of shape (n_queries,), the dtype of ``classes_``

        Raises
        ------
        ValueError
            When some query has no key inside a compact kernel's support: its
            probabilities are 0/0 and there is no class to return.
        """
        proba = self.predict_proba(X)
        empty = np.isnan(proba).any(axis=1)
        if empty.any():
            hint = (
                "Use a wider bandwidth or the 'gaussian' kernel"
                if get_kernel(self.kernel).compact
                else "A bandwidth or distance beyond the dtype's range: rescale X"
            )
            raise ValueError(
                f"{int(empty.sum())} of {len(proba)} queries have no "
                f"training input inside the support of the "
                f"{self.kernel!r} kernel: their class is undefined. {hint}"
            )
        return self.classes_[proba.argmax(axis=1)]
