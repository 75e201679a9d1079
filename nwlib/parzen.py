r"""Parzen-window densities, the Parzen classifier, and their relation to NW.

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

Shapes are queries x training points: ``queries`` (n_q,) or (n_q, d), ``keys``
(n,) or (n, d), ``labels`` (n,). Widths as in :mod:`nwlib.pooling`: a scalar,
(d,) per coordinate, or (n, 1)/(n, d) per training point (densities and
classifiers accept all of them; the relation only the shared ones). All
densities are computed in the log domain (log-sum-exp), so tiny Gaussian
widths do not turn into 0/0.

The densities live in :mod:`nwlib.density`, the classifiers in
:mod:`nwlib.parzen_classifier` and :mod:`nwlib.nw_classifier`; this module holds
the relation between them and re-exports all three, so
``from nwlib.parzen import parzen_density`` keeps working.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch

from ._validate import ArrayLike, as_width
from .density import (
    kernel_integral,
    log_parzen_density,
    log_parzen_kernels,
    parzen_density,
)
from .kernels import Kernel
from .nw_classifier import nw_binary_output, nw_class_probabilities, nw_classify
from .parzen_classifier import (
    class_conditional_densities,
    class_labels,
    joint_class_densities,
    parzen_classify,
    parzen_difference,
)
from .pooling import log_scores

Tensor = torch.Tensor

__all__ = [
    "kernel_integral",
    "log_parzen_kernels",
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


class ParzenNWRelation(NamedTuple):
    r"""Both sides of :math:`\hat p(x,+1) - \hat p(x,-1) = \hat f_{NW}(x)\,\hat p(x)`.

    What :func:`parzen_nw_relation` returns; the tensors have one entry per
    query.

    Parameters
    ----------
    difference : Tensor, shape (n_q,)
        Parzen score :math:`\hat p(x,+1) - \hat p(x,-1)`, in 1/(units of x)^d.
    nw : Tensor, shape (n_q,)
        NW output in [-1, 1]; NaN where undefined (0/0).
    density : Tensor, shape (n_q,)
        :math:`\hat p(x)`, in 1/(units of x)^d.
    empty : Tensor, shape (n_q,), bool
        No training point inside the kernel's support (0/0 for NW).
    max_error : float
        :math:`\max |\text{difference} - \text{nw}\cdot\text{density}|` over
        the non-empty points.
    max_difference_where_empty : float
        :math:`\max |\text{difference}|` over the empty points (0 when there are
        none).

    Examples
    --------
    >>> rel = parzen_nw_relation([0.0, 5.0], [0.0, 1.0], [1, -1], 0.6, "boxcar")
    >>> rel.empty.tolist(), rel.max_difference_where_empty
    ([False, True], 0.0)
    """

    difference: Tensor
    nw: Tensor
    density: Tensor
    empty: Tensor
    max_error: float
    max_difference_where_empty: float


def parzen_nw_relation(
    queries: ArrayLike,
    keys: ArrayLike,
    labels: ArrayLike,
    width: ArrayLike,
    kernel: str | Kernel = "gaussian",
) -> ParzenNWRelation:
    r"""Compute both sides of the Parzen/NW relation and how far apart they are.

    The difference comes from the class densities, the NW output from
    :func:`nwlib.pooling.nadaraya_watson`, the density from :func:`parzen_density`:
    three separate computations. Points where NW is 0/0 are reported in ``empty``
    (no warning is raised here: they are part of the answer), and there the
    relation reads ``difference == 0``.

    Parameters
    ----------
    queries : Tensor or array_like, shape (n_q,) or (n_q, d)
        Where to compare.
    keys : Tensor or array_like, shape (n,) or (n, d)
        The training points, in the units of the queries.
    labels : Tensor or array_like, shape (n,)
        Labels in {-1, +1}.
    width : float or array_like or Tensor, shape () or (d,)
        One width :math:`h > 0` shared by all training points, or one per
        coordinate, in the units of the queries.
    kernel : str or Kernel, default "gaussian"
        Any integrable kernel (not ``"constant"``).

    Returns
    -------
    ParzenNWRelation
        The three sides, the empty points and the two largest gaps. Dtype: as
        the three functions it calls.

    Raises
    ------
    ValueError
        If ``width`` has one row per training point ((n, 1) or (n, d)): the
        relation holds for a width shared by all points only, because the
        normalizing factors :math:`1/\prod_c h_{ic}` of the Parzen bumps differ
        from point to point and do not cancel in the NW ratio. Also for labels
        other than -1 and +1, and as :func:`parzen_density`.

    References
    ----------
    Parzen (1962); Nadaraya (1964); Watson (1964).

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
    diff = parzen_difference(queries, keys, labels, width, kernel)
    dens = parzen_density(queries, keys, width, kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nw = nw_binary_output(queries, keys, labels, width, kernel)
    empty = torch.isneginf(log_scores(queries, keys, width, kernel)).all(dim=1)
    gap = (diff - nw * dens).abs()
    max_err = float(gap[~empty].max()) if (~empty).any() else 0.0
    max_empty = float(diff[empty].abs().max()) if empty.any() else 0.0
    return ParzenNWRelation(diff, nw, dens, empty, max_err, max_empty)
