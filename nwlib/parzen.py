r"""Parzen-window densities, the Parzen classifier, and its relation to NW classification.

A Parzen-window (kernel) density estimate from points :math:`x_1, \dots, x_n` in
:math:`\mathbb R^d` is

.. math::

    \hat p(x) = \frac1n \sum_i K_h(x - x_i), \qquad
    K_h(z) = \frac{K(\lVert z / h\rVert)}{c_d(K)\, \prod_c h_c},
    \qquad c_d(K) = \int_{\mathbb R^d} K(\lVert u\rVert)\, du ,

with the kernel profiles of :mod:`nwlib.kernels` (radial in the scaled
coordinates :math:`u = z/h`), so that :math:`K_h` integrates to 1. The constant
kernel has :math:`c_d = \infty`: it has no Parzen density and asking for one is
a ``ValueError``.

With labels, :math:`\hat p(x, c) = \frac1n \sum_{i: y_i = c} K_h(x - x_i)` (a joint
density; :math:`\sum_c \hat p(x, c) = \hat p(x)`). For labels :math:`y_i \in \{-1, +1\}`

.. math::

    \hat p(x, +1) - \hat p(x, -1) = \frac1n \sum_i y_i K_h(x - x_i)
    = \hat f_{\mathrm{NW}}(x)\, \hat p(x),

where :math:`\hat f_{\mathrm{NW}}(x) = \sum_i y_i K_h(x - x_i) / \sum_j K_h(x - x_j)`
is the Nadaraya-Watson estimate of the labels. Where :math:`\hat p(x) > 0` the two
have the same sign (the same classifier) but are different numbers. Where no
training point lies inside a compact kernel's support, :math:`\hat p(x) = 0`: the
Parzen difference is exactly 0 (a tie, no decision) while the NW output is 0/0;
this module returns NaN there with a ``RuntimeWarning`` (or raises with
``on_empty="raise"``), as :mod:`nwlib.pooling` does. The same holds for many
classes: :math:`\arg\max_c \hat p(x, c) = \arg\max_c \hat P(c \mid x)`.

The relation needs one width shared by all training points (a scalar or one
width per coordinate): the normalizing factor :math:`1/(c_d \prod_c h_c)` is then
the same for every point and cancels in the NW ratio. With one width per
training point, the Parzen density is the sample-point (variable-bandwidth)
estimate, whose bump i is divided by its own :math:`c_d \prod_c h_{ic}`, while NW
pooling (:mod:`nwlib.pooling`, the per-key model of :mod:`nwlib.learn`) weighs
the unnormalized :math:`K((x - x_i)/h_i)`. The factors differ from point to point
and do not cancel: neither the relation nor the agreement of the two
classifiers holds, and :func:`parzen_nw_relation` refuses such widths.

Shapes are queries x training points: ``x`` (n_x,) or (n_x, d), ``data``
(n,) or (n, d), ``labels`` (n,). Widths as in :mod:`nwlib.pooling`: a scalar,
(d,) per coordinate, or (n, 1)/(n, d) per training point (densities and
classifiers accept all of them; the relation only the shared ones). All
densities are computed in the log domain (log-sum-exp), so tiny Gaussian
widths do not turn into 0/0.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import NamedTuple

import numpy as np
import torch

from ._engine import check_exclude_self, is_gaussian, ordinary, prepare, shifted_sq_dist
from ._validate import ArrayLike, as_float_tensor, as_points, as_width, compute_dtype
from .kernels import KERNELS, Kernel, get_kernel
from .pooling import log_scores, nadaraya_watson

Tensor = torch.Tensor

__all__ = [
    "kernel_integral",
    "log_parzen_density",
    "parzen_density",
    "class_labels",
    "joint_class_densities",
    "class_conditional_densities",
    "parzen_classify",
    "parzen_difference",
    "nw_binary_output",
    "nw_class_probabilities",
    "nw_classify",
    "ParzenNWRelation",
    "parzen_nw_relation",
]


def _unit_ball_volume(d: int) -> float:
    return math.pi ** (d / 2) / math.gamma(d / 2 + 1)


# c_d(K) = integral of K(|u|) over R^d, for the registry's kernels.
_INTEGRALS = {
    "gaussian": lambda d: (2 * math.pi) ** (d / 2),
    "boxcar": _unit_ball_volume,
    "epanechnikov": lambda d: 3 * _unit_ball_volume(d) / (2 * (d + 2)),
    "triangular": lambda d: _unit_ball_volume(d) / (d + 1),
}


def _check_dim(d: int) -> None:
    if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")


def _numerical_integral(kern: Kernel, d: int) -> float:
    """Radial integral S_{d-1} int_0^R K(r) r^{d-1} dr for a user-defined kernel."""
    from scipy.integrate import IntegrationWarning, quad

    def integrand(r: float) -> float:
        return float(kern.profile(torch.tensor([r], dtype=torch.float64))[0]) * r ** (
            d - 1
        )

    with warnings.catch_warnings():
        warnings.simplefilter("error", IntegrationWarning)
        try:
            val, _ = quad(integrand, 0.0, kern.radius, limit=200)
        except IntegrationWarning:
            val = math.inf
    if not math.isfinite(val) or val <= 0:
        raise ValueError(
            f"the {kern.name!r} kernel does not have a finite, positive integral "
            f"in d={d}: it cannot be normalized into a density"
        )
    return d * _unit_ball_volume(d) * val


def kernel_integral(kernel: str | Kernel, d: int) -> float:
    r"""The normalizing constant :math:`c_d(K) = \int_{\mathbb R^d} K(\lVert u\rVert)\, du`.

    ============  ===================================
    gaussian      :math:`(2\pi)^{d/2}`
    boxcar        :math:`V_d = \pi^{d/2} / \Gamma(d/2 + 1)` (unit-ball volume)
    epanechnikov  :math:`3 V_d / (2(d + 2))` (1 in d = 1)
    triangular    :math:`V_d / (d + 1)` (1 in d = 1)
    constant      not integrable: ``ValueError``
    ============  ===================================

    A user-defined :class:`~nwlib.kernels.Kernel` is integrated numerically in
    radial coordinates (needs scipy).

    Dtype: Python floats (float64).

    Raises
    ------
    ValueError
        For the constant kernel (its integral over :math:`\mathbb R^d` is infinite),
        any other kernel without a finite integral, or a bad ``d``.
    """
    kern = get_kernel(kernel)
    _check_dim(d)
    if kern.name == "constant" and kern is KERNELS["constant"]:
        raise ValueError(
            "the 'constant' kernel is not integrable (its integral over R^d is "
            "infinite), so it has no Parzen density; it still works for NW pooling, "
            "where constant factors cancel. Use 'gaussian', 'boxcar', "
            "'epanechnikov' or 'triangular'."
        )
    if kern is KERNELS.get(kern.name) and kern.name in _INTEGRALS:
        return _INTEGRALS[kern.name](d)
    return _numerical_integral(kern, d)


def _log_width_volume(width: Tensor, n: int, d: int) -> Tensor:
    """log of prod_c h_c: shape () for a shared width, (n,) for per-point widths."""
    lh = torch.log(width)
    if width.ndim == 0 or (width.ndim == 1 and width.shape[0] == 1 and d != 1):
        return d * lh.reshape(())
    if width.ndim == 1:  # (d,) per coordinate (pooling has checked the shape)
        return lh.sum()
    if width.shape[1] == 1:  # (n, 1) per point
        return d * lh[:, 0]
    return lh.sum(1)  # (n, d)


def _log_kernel_matrix(
    x: ArrayLike,
    data: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel,
    exclude_self: bool,
    shift: bool = False,
) -> tuple[Tensor, int]:
    """log K_h(x_j - x_i), shape (n_x, n), and the number of points each sum runs over.

    ``shift=True`` (for decisions, which only compare within a row): a Gaussian with a
    width outside [1e-10, 1e10] gets each row shifted by its nearest point before the
    division by h^2 (``_engine.shifted_sq_dist``), so no row is all ``-inf``.
    """
    kern = get_kernel(kernel)
    pts = as_points(data, "data")
    n, d = pts.shape
    log_c = math.log(kernel_integral(kern, d))
    q, k, hp = prepare(x, pts, width)
    if shift and is_gaussian(kern) and not ordinary(q, k, hp):
        if exclude_self:
            check_exclude_self(q, k)
        mask = torch.eye(n, dtype=torch.bool) if exclude_self else None
        s = -0.5 * shifted_sq_dist(q, k, hp, 2.0, mask)
        if mask is not None:
            s = s.masked_fill(mask, -math.inf)
        return s, n - int(exclude_self)
    s = log_scores(x, pts, width, kern, exclude_self=exclude_self)
    h = as_width(width).to(s.dtype)
    return s - log_c - _log_width_volume(h, n, d), n - int(exclude_self)


def log_parzen_density(
    x: ArrayLike,
    data: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
) -> Tensor:
    r"""Log of the Parzen density :math:`\log \hat p(x_j)`, shape (n_x,); ``-inf`` where it is 0.

    Dtype: as :func:`nwlib.pooling.log_scores` (the inputs' floating dtype; integers
    as float64; float16/bfloat16 in float32), summed by log-sum-exp.

    Parameters
    ----------
    x : (n_x,) or (n_x, d)
        Where to evaluate.
    data : (n,) or (n, d)
        The sample.
    width : scalar, (d,), or (n, 1)/(n, d)
        :math:`h > 0`.
    kernel : str or Kernel
        Any integrable kernel (not ``"constant"``).
    exclude_self : bool
        Leave-one-out: ``x`` must be ``data``; point j's own kernel is left out
        and the average runs over the other n - 1 points.
    """
    logk, m = _log_kernel_matrix(x, data, width, kernel, exclude_self)
    return torch.logsumexp(logk, dim=1) - math.log(m)


def parzen_density(
    x: ArrayLike,
    data: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    exclude_self: bool = False,
) -> Tensor:
    r"""Parzen density :math:`\hat p(x_j) = \frac1n\sum_i K_h(x_j - x_i)`, shape (n_x,).

    Exactly 0 where no point lies inside a compact kernel's support. See
    :func:`log_parzen_density` for the arguments.

    Dtype: as :func:`log_parzen_density`; exponentiated last, so it underflows to 0
    only where the true density is below the dtype's smallest number.
    """
    return torch.exp(
        log_parzen_density(x, data, width, kernel, exclude_self=exclude_self)
    )


def _labels(labels: ArrayLike, n: int, name: str = "labels") -> Tensor:
    y = as_float_tensor(labels, name)
    if y.ndim == 2 and y.shape[1] == 1:  # a column (a one-column DataFrame, say)
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{name} must have shape (n,), one label per point, got shape {tuple(y.shape)}"
        )
    if y.shape[0] != n:
        raise ValueError(
            f"{name} must have one entry per data point: got {y.shape[0]} for {n} points"
        )
    return y


def _binary_labels(y: ArrayLike, n: int) -> Tensor:
    t = _labels(y, n, "y")
    if not ((t == 1) | (t == -1)).all():
        bad = sorted({float(v) for v in t[(t != 1) & (t != -1)].unique()[:5]})
        raise ValueError(f"y must contain only the labels -1 and +1, found {bad}")
    return t


_EXACT = 2**53  # float64 holds every integer of magnitude up to this, exactly


def _int_array(x: ArrayLike) -> np.ndarray | None:
    """``x`` as a numpy integer array when it is integer-valued input (else None)."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
            return None
        return x.detach().cpu().numpy()
    if isinstance(x, (str, bytes)) or x is None:
        return None
    try:
        arr = np.asarray(x)
    except Exception:
        return None
    return arr if arr.dtype.kind in "iu" else None


def _beyond_float64(arr: np.ndarray | None) -> bool:
    """True for integers that float64 would round (some magnitude above 2**53)."""
    if arr is None or arr.size == 0:
        return False
    return int(arr.max()) > _EXACT or int(arr.min()) < -_EXACT


def _exact_classes(
    labels: ArrayLike, n: int, classes: ArrayLike | None, device: torch.device
) -> tuple[Tensor, Tensor] | None:
    """Membership (C, n) and the classes as an exact integer tensor, for integer labels
    (or classes) beyond 2**53; None when float64 holds every label exactly.

    Labels are compared as integers (never through a float), so 2**53 and 2**53 + 1
    stay two classes; the classes come back as int64 (uint64 above 2**63 - 1).
    """
    y = _int_array(labels)
    c = None if classes is None else _int_array(classes)
    if not (_beyond_float64(y) or _beyond_float64(c)):
        return None
    if y is None:
        raise TypeError(
            "labels must be integers when classes holds integers beyond 2**53 "
            "(float64 cannot tell such labels apart)"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"labels must have shape (n,), one label per point, got shape {y.shape}"
        )
    if y.shape[0] != n:
        raise ValueError(
            f"labels must have one entry per data point: got {y.shape[0]} for {n} points"
        )
    if classes is None:
        cls = np.unique(y)
    else:
        if c is None:
            raise TypeError(
                "classes must be integers when labels holds integers beyond 2**53 "
                "(float64 cannot tell such labels apart)"
            )
        cls = c.reshape(-1)
        if np.unique(cls).size != cls.size:
            raise ValueError("classes must not repeat a label")
    # exact comparison whatever the integer dtypes: as Python ints where they differ
    if y.dtype != cls.dtype:
        y, cls = y.astype(object), cls.astype(object)
    member = torch.from_numpy(np.ascontiguousarray(y[None, :] == cls[:, None])).to(
        device
    )
    return member, _int_tensor(cls).to(device)


def _int_tensor(cls: np.ndarray) -> Tensor:
    """Integer classes as an exact torch tensor: int64, or uint64 above 2**63 - 1."""
    if cls.size and int(cls.max()) > np.iinfo(np.int64).max:
        if int(cls.min()) < 0:
            raise ValueError(
                "labels mix negative integers with integers above 2**63 - 1: "
                "no integer dtype holds both"
            )
        return torch.from_numpy(np.ascontiguousarray(cls.astype(np.uint64)))
    return torch.from_numpy(np.ascontiguousarray(cls.astype(np.int64)))


def _class_members(
    labels: ArrayLike, n: int, classes: ArrayLike | None, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Membership matrix (C, n) of the labels in the classes, and the classes (C,).

    Labels that float64 holds exactly (floating labels; integers up to 2**53) are
    compared in their own floating dtype (integers as float64); larger integers
    exactly as integers (see :func:`_exact_classes`).
    """
    exact = _exact_classes(labels, n, classes, device)
    if exact is not None:
        return exact
    y = _labels(labels, n).to(device)
    cls = _classes(y, classes)
    return y.unsqueeze(0) == cls.unsqueeze(1), cls


def class_labels(labels: ArrayLike) -> Tensor:
    """The distinct labels in increasing order, shape (C,): the column order used below.

    Dtype: floating labels in their own dtype; integer labels as float64 when
    float64 holds them exactly (magnitudes up to 2**53), else as exact int64
    (uint64 above 2**63 - 1), so that 2**53 and 2**53 + 1 stay two classes.

    Examples
    --------
    >>> class_labels([2, 0, 2]).tolist()
    [0.0, 2.0]
    >>> class_labels([2**53, 2**53 + 1]).tolist()
    [9007199254740992, 9007199254740993]
    """
    y = _int_array(labels)
    if _beyond_float64(y):
        return _int_tensor(np.unique(y.reshape(-1)))
    return torch.unique(as_float_tensor(labels, "labels").reshape(-1))


def _classes(labels: Tensor, classes: ArrayLike | None) -> Tensor:
    if classes is None:
        return torch.unique(labels)
    c = as_float_tensor(classes, "classes").reshape(-1).to(labels.dtype)
    if torch.unique(c).numel() != c.numel():
        raise ValueError("classes must not repeat a label")
    return c


def joint_class_densities(
    x: ArrayLike,
    data: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
    exclude_self: bool = False,
) -> Tensor:
    r"""Joint densities :math:`\hat p(x_j, c) = \frac1n \sum_{i: y_i = c} K_h(x_j - x_i)`.

    Dtype: as :func:`log_parzen_density`: one log-sum-exp per class, exponentiated
    last. Labels are compared exactly: floating labels in their dtype, integers as
    integers (2**53 and 2**53 + 1 are two classes).

    Returns
    -------
    Tensor, shape (n_x, C), columns in the order of ``classes`` (default
    :func:`class_labels`). Rows sum to :func:`parzen_density`.
    """
    return torch.exp(_log_joint(x, data, labels, width, kernel, classes, exclude_self))


def _log_joint(
    x: ArrayLike,
    data: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel,
    classes: ArrayLike | None,
    exclude_self: bool,
    shift: bool = False,
) -> Tensor:
    r""":math:`\log \hat p(x_j, c)`, (n_x, C): one log-sum-exp per class, never exp first.

    ``shift=True``: up to a constant per row (enough to compare classes).

    Labels are compared exactly (see :func:`_class_members`).
    """
    logk, m = _log_kernel_matrix(x, data, width, kernel, exclude_self, shift)
    member, _ = _class_members(labels, logk.shape[1], classes, logk.device)  # (C, n)
    cols = [
        torch.logsumexp(logk.masked_fill(~member[c], -math.inf), dim=1)
        for c in range(member.shape[0])
    ]
    return torch.stack(cols, dim=1) - math.log(m)


def class_conditional_densities(
    x: ArrayLike,
    data: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
) -> Tensor:
    r"""Class-conditional densities :math:`\hat p(x_j \mid c) = \frac1{n_c}\sum_{i: y_i = c} K_h(x_j - x_i)`.

    Each column is a Parzen density of one class's points; shape (n_x, C).
    A class listed in ``classes`` with no points is a ``ValueError``.

    Dtype: as :func:`joint_class_densities`.
    """
    joint = joint_class_densities(x, data, labels, width, kernel, classes=classes)
    n = as_points(data, "data").shape[0]
    member, cls = _class_members(labels, n, classes, joint.device)
    counts = member.sum(1).to(joint.dtype)
    if (counts == 0).any():
        raise ValueError(
            f"classes {cls[counts == 0].tolist()} have no points in labels"
        )
    return joint * (n / counts)


def _empty(
    n_empty: int, n_x: int, kernel: str | Kernel, on_empty: str, what: str
) -> None:
    if on_empty not in ("nan", "raise"):
        raise ValueError(f"on_empty must be 'nan' or 'raise', got {on_empty!r}")
    if n_empty:
        kern = get_kernel(kernel)
        if kern.compact:
            msg = (
                f"{n_empty} of {n_x} points have no training point inside the support of the "
                f"{kern.name!r} kernel: p(x) = 0 there, so {what} is undefined and "
                f"returned as NaN. Use a wider width or the 'gaussian' kernel."
            )
        else:
            msg = (
                f"{n_empty} of {n_x} points got density 0 from the {kern.name!r} kernel "
                f"(a width or distance beyond the dtype's range), so {what} is returned "
                f"as NaN. Compute in float64 or rescale data and width together."
            )
        if on_empty == "raise":
            raise ValueError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)


def _argmax_labels(scores: Tensor, cls: Tensor, undefined: Tensor) -> Tensor:
    """The label of each row's largest score, in the labels' dtype (exact); NaN where undefined."""
    scores = torch.where(scores.isnan(), -math.inf, scores)
    pred = cls[scores.argmax(dim=1)]
    if not cls.is_floating_point():
        if bool(undefined.any()):
            raise ValueError(
                f"{int(undefined.sum())} of {undefined.numel()} points have no decision (no "
                f"training point inside the kernel's support), and labels beyond 2**53 are "
                f"returned as exact integers, which have no NaN to mark them: use a wider "
                f"width or the 'gaussian' kernel"
            )
        return pred
    return pred.masked_fill(undefined, torch.nan)


def parzen_classify(
    x: ArrayLike,
    data: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
    exclude_self: bool = False,
    on_empty: str = "nan",
) -> Tensor:
    r"""The Parzen (plug-in Bayes) classifier :math:`\arg\max_c \hat p(x, c)`, shape (n_x,).

    Priors are the class frequencies, built into the joint densities. Where every
    :math:`\hat p(x, c)` is 0 (no point in a compact kernel's support) there is
    no decision: NaN with a ``RuntimeWarning``, or ``ValueError`` with
    ``on_empty="raise"``. Other ties go to the first class in ``classes``.
    ``exclude_self=True`` (``x`` is ``data``) classifies each point from the
    others: leave-one-out.

    Dtype: the classes' log joint densities (log-sum-exp, in the dtype of
    :func:`log_parzen_density`) are compared, never the densities: a Gaussian
    density that underflows (tiny width, far query) still has a decision, in
    float64, float32, float16 and bfloat16 alike. The labels returned are exact:
    in the labels' floating dtype, integers as float64 up to 2**53 and as int64
    beyond (see :func:`class_labels`; an undefined decision is then a ValueError,
    since integers have no NaN).
    """
    log_joint = _log_joint(
        x, data, labels, width, kernel, classes, exclude_self, shift=True
    )
    _, cls = _class_members(
        labels, as_points(data, "data").shape[0], classes, log_joint.device
    )
    undefined = torch.isneginf(log_joint).all(dim=1)
    _empty(
        int(undefined.sum()),
        log_joint.shape[0],
        kernel,
        on_empty,
        "the Parzen decision",
    )
    return _argmax_labels(log_joint, cls, undefined)


def parzen_difference(
    x: ArrayLike,
    data: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
) -> Tensor:
    r"""The two-class Parzen score :math:`\hat p(x, +1) - \hat p(x, -1)`, shape (n_x,).

    ``y`` holds labels in {-1, +1}. Its sign is the Parzen decision; it equals
    :math:`\frac1n\sum_i y_i K_h(x - x_i)` and is exactly 0 where no point is
    inside a compact kernel's support.

    Dtype: as :func:`joint_class_densities`. It is a value: where both joint densities
    underflow (a Gaussian far from every point) it is 0, so take decisions from
    :func:`parzen_classify`, which compares log densities.
    """
    yb = _binary_labels(y, as_points(data, "data").shape[0])
    joint = joint_class_densities(x, data, yb, width, kernel, classes=[-1.0, 1.0])
    return joint[:, 1] - joint[:, 0]


def nw_binary_output(
    x: ArrayLike,
    data: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    on_empty: str = "nan",
) -> Tensor:
    r"""NW estimate of labels in {-1, +1}: :math:`\sum_i y_i K_h / \sum_j K_h`, in [-1, 1], shape (n_x,).

    It is :math:`\hat P(+1 \mid x) - \hat P(-1 \mid x)`; its sign is the NW
    classifier. NaN (with a ``RuntimeWarning``) where the kernel sum is 0/0.
    With one width per point the kernels are the unnormalized
    :math:`K((x - x_i)/h_i)` of :func:`nwlib.pooling.nadaraya_watson`, so the
    output is then not :func:`parzen_difference` divided by :func:`parzen_density`.

    Dtype: as :func:`nwlib.pooling.nadaraya_watson` (weights normalized in the log
    domain).
    """
    yb = _binary_labels(y, as_points(data, "data").shape[0])
    return nadaraya_watson(x, data, yb, width, kernel, on_empty=on_empty)


def nw_class_probabilities(
    x: ArrayLike,
    data: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
    exclude_self: bool = False,
    on_empty: str = "nan",
) -> Tensor:
    r"""NW estimate of one-hot labels: :math:`\hat P(c \mid x_j)`, shape (n_x, C).

    Rows sum to 1; a row is NaN (with a ``RuntimeWarning``) where the weights are 0/0.
    For a width shared by all points (scalar or (d,)) it equals
    :func:`joint_class_densities` divided by :func:`parzen_density` where the
    density is positive; with one width per point it does not (see the module
    docstring).

    Dtype: as :func:`nwlib.pooling.nadaraya_watson` (weights normalized in the log
    domain); one-hot labels in the data's compute dtype.
    """
    pts = as_points(data, "data")
    member, _ = _class_members(labels, pts.shape[0], classes, pts.device)
    onehot = member.T.to(compute_dtype(pts))
    return nadaraya_watson(
        x, data, onehot, width, kernel, exclude_self=exclude_self, on_empty=on_empty
    )


def nw_classify(
    x: ArrayLike,
    data: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
    *,
    classes: ArrayLike | None = None,
    exclude_self: bool = False,
    on_empty: str = "nan",
) -> Tensor:
    r"""The NW classifier :math:`\arg\max_c \hat P(c \mid x)`, shape (n_x,); NaN where 0/0.

    ``exclude_self=True`` (``x`` is ``data``) gives leave-one-out predictions.

    Dtype: as :func:`nw_class_probabilities` (probabilities normalized before the
    comparison, so nothing underflows); labels returned exactly, as in
    :func:`parzen_classify`.
    """
    probs = nw_class_probabilities(
        x,
        data,
        labels,
        width,
        kernel,
        classes=classes,
        exclude_self=exclude_self,
        on_empty=on_empty,
    )
    _, cls = _class_members(
        labels, as_points(data, "data").shape[0], classes, probs.device
    )
    return _argmax_labels(probs, cls, probs.isnan().any(dim=1))


class ParzenNWRelation(NamedTuple):
    """The pieces of :math:`\\hat p(x,+1) - \\hat p(x,-1) = \\hat f_{NW}(x)\\, \\hat p(x)`, each (n_x,)."""

    difference: Tensor
    """Parzen score :math:`\\hat p(x,+1) - \\hat p(x,-1)`."""
    nw: Tensor
    """NW output in [-1, 1]; NaN where undefined (0/0)."""
    density: Tensor
    """:math:`\\hat p(x)`."""
    empty: Tensor
    """Boolean: no training point inside the kernel's support (0/0 for NW)."""
    max_error: float
    """:math:`\\max |\\text{difference} - \\text{nw}\\cdot\\text{density}|` over the non-empty points."""
    max_difference_where_empty: float
    """:math:`\\max |\\text{difference}|` over the empty points (0 when there are none)."""


def parzen_nw_relation(
    x: ArrayLike,
    data: ArrayLike,
    y: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
) -> ParzenNWRelation:
    r"""Compute both sides of the Parzen/NW relation and how far apart they are.

    The difference comes from the class densities, the NW output from
    :func:`nwlib.pooling.nadaraya_watson`, the density from :func:`parzen_density`:
    three separate computations. Points where NW is 0/0 are reported in ``empty``
    (no warning is raised here: they are part of the answer), and there the
    relation reads ``difference == 0``.

    Dtype: as the three functions it calls.

    Raises
    ------
    ValueError
        If ``width`` has one row per training point ((n, 1) or (n, d)): the
        relation holds for a width shared by all points only, because the
        normalizing factors :math:`1/\prod_c h_{ic}` of the Parzen bumps differ
        from point to point and do not cancel in the NW ratio.

    Examples
    --------
    >>> rel = parzen_nw_relation([0.0, 0.5], [0.0, 1.0, 2.0], [1.0, -1.0, 1.0], 0.7)
    >>> rel.max_error < 1e-15
    True
    """
    if as_width(width).ndim == 2:
        raise ValueError(
            "width: the Parzen/NW relation holds for one width shared by all "
            "training points (a scalar or one per coordinate); with one width "
            "per point the Parzen bumps are divided by different volumes "
            "prod_c h_ic, NW pooling uses the unnormalized kernels, and the "
            "factors do not cancel"
        )
    diff = parzen_difference(x, data, y, width, kernel)
    dens = parzen_density(x, data, width, kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nw = nw_binary_output(x, data, y, width, kernel)
    empty = torch.isneginf(log_scores(x, data, width, kernel)).all(dim=1)
    gap = (diff - nw * dens).abs()
    max_err = float(gap[~empty].max()) if (~empty).any() else 0.0
    max_empty = float(diff[empty].abs().max()) if empty.any() else 0.0
    return ParzenNWRelation(diff, nw, dens, empty, max_err, max_empty)
