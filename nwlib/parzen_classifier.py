r"""The Parzen (plug-in Bayes) classifier and the class densities it compares.

With labels, :math:`\hat p(x, c) = \frac1n \sum_{i: y_i = c} K_h(x - x_i)` is a
joint density (:mod:`nwlib.density`; :math:`\sum_c \hat p(x, c) = \hat p(x)`).
The Parzen classifier takes :math:`\arg\max_c \hat p(x, c)`: the class
frequencies are the priors, built into the joint densities. For two classes
:math:`\{-1, +1\}` its score is :math:`\hat p(x, +1) - \hat p(x, -1)`.
:mod:`nwlib.nw_classifier` has the Nadaraya-Watson classifier; :mod:`nwlib.parzen`
shows the two take the same decisions for a shared width.

Shapes are queries x training points: ``queries`` (n_q,) or (n_q, d), ``keys``
(n,) or (n, d), ``labels`` (n,); densities have one column per class (in the order
of ``classes``, default :func:`class_labels`). Labels are compared exactly:
floating labels in their dtype, integers as integers (2**53 and 2**53 + 1 are
two classes). Where no training point lies inside a compact kernel's support
there is no decision: NaN with a ``RuntimeWarning``, or ``ValueError`` with
``on_empty="raise"``, as in :mod:`nwlib.pooling`.
"""

from __future__ import annotations

import math
import warnings

import torch

from ._engine import is_gaussian, ordinary, prepare, self_mask, shifted_sq_dist
from ._labels import argmax_labels, binary_labels, class_labels, class_members
from ._validate import ArrayLike, as_points
from .density import kernel_integral, log_parzen_kernels
from .kernels import Kernel, get_kernel

Tensor = torch.Tensor

__all__ = [
    "class_labels",
    "joint_class_densities",
    "class_conditional_densities",
    "parzen_classify",
    "parzen_difference",
]


def joint_class_densities(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
    exclude_self: bool = False,
) -> Tensor:
    r"""Joint densities :math:`\hat p(x_j, c) = \frac1n \sum_{y_i = c} K_h(x_j - x_i)`.

    One log-sum-exp per class, exponentiated last. Rows sum to
    :func:`~nwlib.density.parzen_density`.

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
        Any integrable kernel (not ``"constant"``).
    classes : Tensor or array_like, shape (C,), optional
        The classes, in the order of the output columns (default
        :func:`class_labels`, the distinct labels in increasing order).
    exclude_self : bool, default False
        Leave-one-out: ``queries`` must be ``keys``; each point is classified from the
        others.

    Returns
    -------
    Tensor, shape (n_q, C)
        Columns in the order of ``classes``; in units of 1/(units of x)^d. Dtype:
        as :func:`~nwlib.density.log_parzen_density` (the inputs' floating dtype,
        integers as float64).

    Raises
    ------
    ValueError
        For the constant kernel, labels without one entry per point, repeated
        ``classes``, a bad width, or ``exclude_self`` with ``queries`` that are
        not ``keys``.
    TypeError
        For non-numeric labels (strings, say) or points.

    References
    ----------
    Parzen (1962); Rosenblatt (1956).

    Examples
    --------
    >>> p = joint_class_densities([0.0], [0.0, 1.0, 2.0], [0, 1, 1], 1.0)
    >>> print(", ".join(f"{v:.4f}" for v in p[0].tolist()))
    0.1330, 0.0987
    """
    return torch.exp(
        _log_joint(queries, keys, labels, width, kernel, classes, exclude_self)
    )


def _log_kernels(
    queries: ArrayLike,
    keys: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel,
    exclude_self: bool,
    shift: bool,
) -> Tensor:
    """:func:`~nwlib.density.log_parzen_kernels`, or with ``shift=True`` (for
    decisions, which only compare within a row) a Gaussian with a width outside
    [1e-10, 1e10] gets each row shifted by its nearest point before the division by
    h^2 (``_engine.shifted_sq_dist``), so no row is all ``-inf``.
    """
    kern = get_kernel(kernel)
    if shift and is_gaussian(kern):
        pts = as_points(keys, "keys")
        kernel_integral(kern, pts.shape[1])  # the same errors as the density
        q, k, hp = prepare(queries, pts, width)
        if not ordinary(q, k, hp):  # the left-out diagonal comes back as -inf
            mask = self_mask(q, k, exclude_self)
            return -0.5 * shifted_sq_dist(q, k, hp, 2.0, mask)
    return log_parzen_kernels(queries, keys, width, kern, exclude_self=exclude_self)


def _log_joint(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel,
    classes: ArrayLike | None,
    exclude_self: bool,
    shift: bool = False,
) -> Tensor:
    r""":math:`\log \hat p(x_j, c)`, (n_q, C): a log-sum-exp per class, never exp first.

    ``shift=True``: up to a constant per row (enough to compare classes).

    Labels are compared exactly (see ``_labels.class_members``).
    """
    logk = _log_kernels(queries, keys, width, kernel, exclude_self, shift)
    m = logk.shape[1] - int(exclude_self)
    member, _ = class_members(labels, logk.shape[1], classes, logk.device)  # (C, n)
    cols = [
        torch.logsumexp(logk.masked_fill(~member[c], -math.inf), dim=1)
        for c in range(member.shape[0])
    ]
    return torch.stack(cols, dim=1) - math.log(m)


def class_conditional_densities(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
) -> Tensor:
    r"""Class-conditional densities :math:`\hat p(x_j \mid c)`, a Parzen density each.

    :math:`\hat p(x_j \mid c) = \frac1{n_c}\sum_{i: y_i = c} K_h(x_j - x_i)`:
    each column is the Parzen density of one class's points.

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
        Any integrable kernel (not ``"constant"``).
    classes : Tensor or array_like, shape (C,), optional
        The classes, in the order of the output columns (default
        :func:`class_labels`, the distinct labels in increasing order).

    Returns
    -------
    Tensor, shape (n_q, C)
        In units of 1/(units of x)^d; dtype as :func:`joint_class_densities`.

    Raises
    ------
    ValueError
        As :func:`joint_class_densities`, and for a class listed in ``classes``
        that has no points.

    References
    ----------
    Parzen (1962).

    Examples
    --------
    >>> p = class_conditional_densities([0.0], [0.0, 1.0, 2.0], [0, 1, 1], 1.0)
    >>> print(", ".join(f"{v:.4f}" for v in p[0].tolist()))
    0.3989, 0.1480
    """
    joint = joint_class_densities(queries, keys, labels, width, kernel, classes=classes)
    n = as_points(keys, "keys").shape[0]
    member, cls = class_members(labels, n, classes, joint.device)
    counts = member.sum(1).to(joint.dtype)
    if (counts == 0).any():
        raise ValueError(
            f"classes {cls[counts == 0].tolist()} have no points in labels"
        )
    return joint * (n / counts)


def _empty(
    n_empty: int, n_q: int, kernel: str | Kernel, on_empty: str, what: str
) -> None:
    if on_empty not in ("nan", "raise"):
        raise ValueError(f"on_empty must be 'nan' or 'raise', got {on_empty!r}")
    if n_empty:
        kern = get_kernel(kernel)
        if kern.compact:
            msg = (
                f"{n_empty} of {n_q} points have no training point inside the "
                f"support of the "
                f"{kern.name!r} kernel: p(x) = 0 there, so {what} is undefined and "
                f"returned as NaN. Use a wider width or the 'gaussian' kernel."
            )
        else:
            msg = (
                f"{n_empty} of {n_q} points got density 0 from the {kern.name!r} "
                f"kernel (a width or distance beyond the dtype's range), so {what} "
                f"is returned "
                f"as NaN. Compute in float64 or rescale data and width together."
            )
        if on_empty == "raise":
            raise ValueError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)


def parzen_classify(
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
    r"""The Parzen (plug-in Bayes) classifier :math:`\arg\max_c \hat p(x, c)`.

    Priors are the class frequencies, built into the joint densities. Where every
    :math:`\hat p(x, c)` is 0 (no point in a compact kernel's support) there is no
    decision; other ties go to the first class in ``classes``. The classes' log
    joint densities are compared, never the densities: a Gaussian density that
    underflows (tiny width, far query) still has a decision, in float64, float32,
    float16 and bfloat16 alike.

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
        Any integrable kernel (not ``"constant"``).
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
        The decided labels, exact: in the labels' floating dtype, integers as
        float64 up to 2**53 and as int64 beyond (see :func:`class_labels`); NaN
        where there is no decision.

    Raises
    ------
    ValueError
        As :func:`joint_class_densities`; with ``on_empty="raise"``, for a query
        without a decision; and for a query without a decision when the labels
        are integers beyond 2**53 (integers have no NaN).

    References
    ----------
    Parzen (1962); Rosenblatt (1956).

    Examples
    --------
    >>> parzen_classify([0.2, 1.9], [0.0, 1.0, 2.0], [0, 1, 1], 0.3).tolist()
    [0.0, 1.0]
    """
    log_joint = _log_joint(
        queries, keys, labels, width, kernel, classes, exclude_self, shift=True
    )
    _, cls = class_members(
        labels, as_points(keys, "keys").shape[0], classes, log_joint.device
    )
    undefined = torch.isneginf(log_joint).all(dim=1)
    _empty(
        int(undefined.sum()),
        log_joint.shape[0],
        kernel,
        on_empty,
        "the Parzen decision",
    )
    return argmax_labels(log_joint, cls, undefined)


def parzen_difference(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
) -> Tensor:
    r"""The two-class Parzen score :math:`\hat p(x, +1) - \hat p(x, -1)`.

    It equals :math:`\frac1n\sum_i y_i K_h(x - x_i)`; its sign is the Parzen
    decision, and it is exactly 0 where no point is inside a compact kernel's
    support. It is a value: where both joint densities underflow (a Gaussian far
    from every point) it is 0, so take decisions from :func:`parzen_classify`,
    which compares log densities.

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
        Any integrable kernel (not ``"constant"``).

    Returns
    -------
    Tensor, shape (n_q,)
        In units of 1/(units of x)^d; dtype as :func:`joint_class_densities`.

    Raises
    ------
    ValueError
        For labels other than -1 and +1, and as :func:`joint_class_densities`.

    References
    ----------
    Parzen (1962).

    Examples
    --------
    >>> d = parzen_difference([0.0, 3.0], [0.0, 1.0, 2.0], [1, -1, -1], 1.0)
    >>> print(", ".join(f"{v:+.4f}" for v in d.tolist()))
    +0.0343, -0.0972
    """
    yb = binary_labels(labels, as_points(keys, "keys").shape[0])
    joint = joint_class_densities(queries, keys, yb, width, kernel, classes=[-1.0, 1.0])
    return joint[:, 1] - joint[:, 0]
