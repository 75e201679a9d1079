r"""The Nadaraya-Watson classifier: attention pooling of one-hot labels.

Pooling one-hot labels with the attention weights of :mod:`nwlib.pooling` gives
:math:`\hat P(c \mid x)`, rows summing to 1; the classifier takes its argmax.
For labels in :math:`\{-1, +1\}` pooling the labels themselves gives
:math:`\hat P(+1 \mid x) - \hat P(-1 \mid x)`. :mod:`nwlib.parzen` relates both
to the Parzen classifier of :mod:`nwlib.parzen_classifier`.

Shapes are queries x training points: ``queries`` (n_q,) or (n_q, d), ``keys``
(n,) or (n, d), ``labels`` (n,); probabilities have one column per class (in the
order of ``classes``, default :func:`class_labels`). Labels are compared
exactly, as in :mod:`nwlib.parzen_classifier`. Where a query's weights are 0/0
(no training point inside a compact kernel's support) its row is NaN with a
``RuntimeWarning``, or ``ValueError`` with ``on_empty="raise"``.
"""

from __future__ import annotations

import torch

from ._labels import argmax_labels, binary_labels, class_labels, class_members
from ._validate import ArrayLike, as_points, compute_dtype
from .kernels import Kernel
from .pooling import nadaraya_watson

Tensor = torch.Tensor

__all__ = [
    "class_labels",
    "nw_binary_output",
    "nw_class_probabilities",
    "nw_classify",
]


def nw_binary_output(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    on_empty: str = "nan",
) -> Tensor:
    r"""NW estimate of labels in {-1, +1}, :math:`\sum_i y_i K_h / \sum_j K_h`.

    It is :math:`\hat P(+1 \mid x) - \hat P(-1 \mid x)`; its sign is the NW
    classifier. With a shared width it is
    :func:`~nwlib.parzen_classifier.parzen_difference` divided by
    :func:`~nwlib.density.parzen_density`; with one width per point the kernels are
    the unnormalized :math:`K((x - x_i)/h_i)` of
    :func:`nwlib.pooling.nadaraya_watson`, and it is not.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Where to classify (the queries).
    keys : Tensor or array_like, shape (n,) or (n, d)
        The training points, in the units of the queries.
    labels : Tensor or array_like, shape (n,)
        Labels in {-1, +1}.
    width : float or array_like or Tensor, shape (), (d,), (n, 1) or (n, d)
        :math:`h > 0`, in the units of the queries: one width, one per coordinate,
        or one per training point.
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.
    on_empty : {"nan", "raise"}, default "nan"
        Where no training point lies inside a compact kernel's support: NaN with a
        ``RuntimeWarning``, or ``ValueError``.

    Returns
    -------
    Tensor, shape (n_q,)
        Unitless, in [-1, 1]; NaN where the kernel sum is 0/0. Dtype: as
        :func:`nwlib.pooling.nadaraya_watson` (weights normalized in the log
        domain).

    Raises
    ------
    ValueError
        For labels other than -1 and +1, a bad width, or (``on_empty="raise"``)
        a query with no point in a compact kernel's support.

    References
    ----------
    Nadaraya (1964); Watson (1964).

    Examples
    --------
    >>> f = nw_binary_output([0.0, 3.0], [0.0, 1.0, 2.0], [1, -1, -1], 1.0)
    >>> print(", ".join(f"{v:+.4f}" for v in f.tolist()))
    +0.1482, -0.9705
    """
    yb = binary_labels(labels, as_points(keys, "keys").shape[0])
    return nadaraya_watson(queries, keys, yb, width, kernel, on_empty=on_empty)


def nw_class_probabilities(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
    exclude_self: bool = False,
    on_empty: str = "nan",
) -> Tensor:
    r"""NW estimate of one-hot labels: :math:`\hat P(c \mid x_j)`, rows summing to 1.

    For a width shared by all points (scalar or (d,)) it equals
    :func:`~nwlib.parzen_classifier.joint_class_densities` divided by
    :func:`~nwlib.density.parzen_density`
    where the density is positive; with one width per point it does not (see
    :mod:`nwlib.parzen`).

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Where to classify (the queries).
    keys : Tensor or array_like, shape (n,) or (n, d)
        The training points, in the units of the queries.
    labels : Tensor or array_like, shape (n,)
        One class label per training point (any numbers; compared exactly).
    width : float or array_like or Tensor, shape (), (d,), (n, 1) or (n, d)
        :math:`h > 0`, in the units of the queries: one width, one per coordinate,
        or one per training point.
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.
    classes : Tensor or array_like, shape (C,), optional
        The classes, in the order of the output columns (default
        :func:`class_labels`, the distinct labels in increasing order).
    exclude_self : bool, default False
        Leave-one-out: ``queries`` must be ``keys``; each point is classified from the
        others.
    on_empty : {"nan", "raise"}, default "nan"
        Where no training point lies inside a compact kernel's support: NaN with a
        ``RuntimeWarning``, or ``ValueError``.

    Returns
    -------
    Tensor, shape (n_q, C)
        Unitless; a row of NaN (with a ``RuntimeWarning``) where the weights are
        0/0. Dtype: as :func:`nwlib.pooling.nadaraya_watson`; one-hot labels in the
        keys' compute dtype.

    Raises
    ------
    ValueError
        As :func:`~nwlib.parzen_classifier.joint_class_densities` (the constant
        kernel is allowed here),
        and with ``on_empty="raise"`` for a query without a decision.
    TypeError
        For non-numeric labels (strings, say) or points.

    References
    ----------
    Nadaraya (1964); Watson (1964).

    Examples
    --------
    >>> p = nw_class_probabilities([0.0], [0.0, 1.0, 2.0], [0, 1, 1], 1.0)
    >>> print(", ".join(f"{v:.4f}" for v in p[0].tolist()))
    0.5741, 0.4259
    """
    pts = as_points(keys, "keys")
    member, _ = class_members(labels, pts.shape[0], classes, pts.device)
    onehot = member.T.to(compute_dtype(pts))
    return nadaraya_watson(
        queries,
        keys,
        onehot,
        width,
        kernel,
        exclude_self=exclude_self,
        on_empty=on_empty,
    )


def nw_classify(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
    exclude_self: bool = False,
    on_empty: str = "nan",
) -> Tensor:
    r"""The NW classifier :math:`\arg\max_c \hat P(c \mid x)`.

    Probabilities are normalized before the comparison, so nothing underflows.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Where to classify (the queries).
    keys : Tensor or array_like, shape (n,) or (n, d)
        The training points, in the units of the queries.
    labels : Tensor or array_like, shape (n,)
        One class label per training point (any numbers; compared exactly).
    width : float or array_like or Tensor, shape (), (d,), (n, 1) or (n, d)
        :math:`h > 0`, in the units of the queries: one width, one per coordinate,
        or one per training point.
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels`.
    classes : Tensor or array_like, shape (C,), optional
        The classes, in the order of the output columns (default
        :func:`class_labels`, the distinct labels in increasing order).
    exclude_self : bool, default False
        Leave-one-out: ``queries`` must be ``keys``; each point is classified from the
        others.
    on_empty : {"nan", "raise"}, default "nan"
        Where no training point lies inside a compact kernel's support: NaN with a
        ``RuntimeWarning``, or ``ValueError``.

    Returns
    -------
    Tensor, shape (n_q,)
        The decided labels, exact as in
        :func:`~nwlib.parzen_classifier.parzen_classify`; NaN where the
        weights are 0/0.

    Raises
    ------
    ValueError
        As :func:`nw_class_probabilities`, and for a query without a decision
        when the labels are integers beyond 2**53.

    References
    ----------
    Nadaraya (1964); Watson (1964).

    Examples
    --------
    >>> nw_classify([0.2, 1.9], [0.0, 1.0, 2.0], [0, 1, 1], 0.3).tolist()
    [0.0, 1.0]
    """
    probs = nw_class_probabilities(
        queries,
        keys,
        labels,
        width,
        kernel,
        classes=classes,
        exclude_self=exclude_self,
        on_empty=on_empty,
    )
    _, cls = class_members(
        labels, as_points(keys, "keys").shape[0], classes, probs.device
    )
    return argmax_labels(probs, cls, probs.isnan().any(dim=1))
