r"""A Nadaraya-Watson regressor whose width is learned by gradient descent.

The model keeps its training pairs as keys :math:`k_i` and values :math:`v_i`
and predicts :math:`f(q) = \sum_i a(q, k_i)\, v_i` with the attention weights of
:func:`nwlib.pooling.nadaraya_watson`. The only trainable thing is the width
:math:`h`, held through an unconstrained parameter ``raw``: ``"log"``
(:math:`h = e^s`, the default), ``"inverse"`` (:math:`h = 1/|w|`) or
``"inverse_squared"`` (:math:`h = 1/\sqrt v`), the parameterizations of
:mod:`nwlib.parameterization`. Only ``"log"`` keeps every value of the parameter
valid; with the others training can stop with :class:`DivergenceError`.

The width can be one number (``per="scalar"``), one per input coordinate
(``per="coordinate"``, shape (d,)) or one per key (``per="key"``, shape
(n_k, 1)). A per-key width belongs to a training pair: the model can predict
at any new query, but its key set is fixed once trained. Per-key kernels are
unnormalized, :math:`K((q - k_i)/h_i)`: this is not the variable-bandwidth
(sample-point) estimator of density estimation, which divides each key's kernel
by :math:`h_i^d`, and it is not the Parzen classifier's ratio
(:mod:`nwlib.parzen`).

Training (:meth:`LearnedWidthNW.fit`) uses full batches: every query against
every key in one (n_q, n_k) matrix, no Python loop over queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._engine import check_p
from ._training import (
    DivergenceError,
    FlatLossWarning,
    check_steps_lr,
    describe,
    offset,
    train,
    warn_if_flat,
)
from ._validate import ArrayLike, as_float_tensor, as_points, compute_dtype, precision
from .kernels import Kernel, get_kernel
from .parameterization import PARAMETERIZATIONS, raw_to_width, width_to_raw
from .pooling import nadaraya_watson

Tensor = torch.Tensor

__all__ = [
    "FlatLossWarning",
    "LearnedWidthNW",
    "FitHistory",
    "DivergenceError",
    "PARAMETERIZATIONS",
    "width_to_raw",
    "raw_to_width",
]

_PER = ("scalar", "coordinate", "key")


@dataclass
class FitHistory:
    r"""What :meth:`LearnedWidthNW.fit` returns: the loss and width at each step.

    ``len(history)`` is the number of steps taken.

    Parameters
    ----------
    loss : ndarray, shape (steps,)
        The objective at each step, evaluated before that step's update (float64;
        squared units of the values).
    width : ndarray, shape (steps,) + the width's shape
        The width at which ``loss[t]`` was evaluated, in the units of the keys.
    raw : ndarray, shape (steps,) + the width's shape
        The trainable parameter (``s``, ``w`` or ``v``) at each step.

    Examples
    --------
    >>> m = LearnedWidthNW([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 0.0, 1.0], 0.5)
    >>> hist = m.fit(3, progress=False)
    >>> len(hist), hist.width.shape
    (3, (3,))
    """

    loss: np.ndarray
    width: np.ndarray
    raw: np.ndarray

    def __len__(self) -> int:
        return len(self.loss)


class LearnedWidthNW(nn.Module):
    r"""Nadaraya-Watson regression with a trainable width (a ``torch.nn.Module``).

    ``model(queries)`` (or ``model.predict(queries)``, without a graph) predicts;
    ``model.loss()`` is the leave-one-out squared error on the training pairs,
    differentiable in the width; ``model.fit(steps)`` trains the width by
    full-batch gradient descent and returns a :class:`FitHistory`. ``model.width``
    is the current width (detached).

    Parameters
    ----------
    keys : Tensor or array_like, shape (n_k,) or (n_k, d)
        Training inputs.
    values : Tensor or array_like, shape (n_k,) or (n_k, m)
        Training targets.
    width : float or array_like or Tensor, default 1.0
        Initial width :math:`h_0 > 0`, in the units of the keys: a number
        (broadcast to the chosen shape) or an array of the chosen shape ((d,) per
        coordinate, (n_k,) or (n_k, 1) per key).
    kernel : str or Kernel, default "gaussian"
        A kernel of :mod:`nwlib.kernels` with a gradient (not boxcar or constant,
        for training).
    per : {"scalar", "coordinate", "key"}, default "scalar"
        One width, one per input coordinate, or one per key (training pair).
    p : float, default 2.0
        Order of the Minkowski distance (>= 1 or ``math.inf``), as
        :func:`nwlib.pooling.nadaraya_watson`.
    parameterization : {"log", "inverse", "inverse_squared"}, default "log"
        How the width is written in terms of the trainable ``raw``
        (:mod:`nwlib.parameterization`).
    dtype : torch.dtype, optional
        Compute dtype; by default the promoted floating dtype of ``keys`` and
        ``values``: integers and Python numbers as float64 (float32 would round
        integers above 2**24), float16/bfloat16 in float32 (too few bits for sums
        over many keys). A ``dtype`` with less precision than the data (float32 for
        float64 Unix time stamps, say) is a fast path: keys and queries are first
        translated by a common offset, and the values by theirs, in the data's own
        precision (NW is translation equivariant: :math:`f(q + b; k + b) = f(q; k)`,
        and shifting the values shifts the predictions), so that the answer is
        within the dtype's accuracy of the float64 one.

    Attributes
    ----------
    keys : Tensor, shape (n_k, d)
        The training inputs in the compute dtype, minus ``key_offset``.
    values : Tensor, shape (n_k,) or (n_k, m)
        The training targets in the compute dtype, minus ``value_offset``.
    key_offset, value_offset : Tensor, float64
        The offsets subtracted before the cast: zero unless ``dtype`` holds less
        precision than the data and the data lie far from the origin compared
        with their spread. Predictions add ``value_offset`` back.
    raw : torch.nn.Parameter
        The trainable parameter, shape () / (d,) / (n_k, 1) by ``per``.

    Raises
    ------
    ValueError
        No keys, values not matching the keys, a width that is not finite and > 0
        or that the parameterization cannot hold in the compute dtype (see
        :func:`width_to_raw`), a width array whose shape does not match ``per``
        (for example a per-key width whose length is not the number of keys), or
        an unknown ``per`` or ``parameterization``, or ``p < 1``.
    TypeError
        For a bool width or non-numeric keys or values.

    References
    ----------
    Nadaraya (1964); Watson (1964); the leave-one-out loss is least-squares
    cross-validation (Härdle, Hall and Marron 1988 study the width it chooses).

    Examples
    --------
    >>> from nwlib.data import running_example
    >>> split = running_example(50, 50, seed=0)
    >>> m = LearnedWidthNW(split.x_train, split.y_train, width=1.0)
    >>> hist = m.fit(30, lr=0.15, progress=False)
    >>> loo = float(m.loss().detach())  # leave-one-out error at the learned width
    >>> print(f"{hist.loss[0]:.4f} -> {loo:.4f}, width {float(m.width):.4f}")
    0.7112 -> 0.3595, width 0.2108
    """

    def __init__(
        self,
        keys: ArrayLike,
        values: ArrayLike,
        width: ArrayLike = 1.0,
        *,
        kernel: str | Kernel = "gaussian",
        per: str = "scalar",
        p: float = 2.0,
        parameterization: str = "log",
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.p = check_p(p)
        k = as_points(keys, "keys")
        v = as_float_tensor(values, "values")
        if v.ndim not in (1, 2):
            raise ValueError(
                f"values must have shape (n_keys,) or (n_keys, m), got {tuple(v.shape)}"
            )
        if v.shape[0] != k.shape[0]:
            raise ValueError(
                f"values must have one row per key: got {v.shape[0]} values "
                f"for {k.shape[0]} keys"
            )
        if per not in _PER:
            raise ValueError(f"per must be one of {_PER}, got {per!r}")
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"parameterization must be one of {PARAMETERIZATIONS}, "
                f"got {parameterization!r}"
            )
        dt = compute_dtype(dtype) if dtype is not None else compute_dtype(k, v)
        self.kernel = get_kernel(kernel)
        self.per = per
        self.parameterization = parameterization
        k, v = k.detach(), v.detach()
        k_off = offset(k) if precision(dt) > precision(k.dtype) else None
        v_off = offset(v) if precision(dt) > precision(v.dtype) else None
        d = k.shape[1]
        self.register_buffer(
            "key_offset",
            torch.zeros(d, dtype=torch.float64, device=k.device)
            if k_off is None
            else k_off.to(torch.float64),
        )
        m_shape = v.shape[1:]
        self.register_buffer(
            "value_offset",
            torch.zeros(m_shape, dtype=torch.float64, device=v.device)
            if v_off is None
            else v_off.to(torch.float64),
        )
        self.register_buffer("keys", (k if k_off is None else k - k_off).to(dt).clone())
        self.register_buffer(
            "values", (v if v_off is None else v - v_off).to(dt).clone()
        )
        h0 = self._initial_width(width, dt)
        self.raw = nn.Parameter(width_to_raw(h0, parameterization, dtype=dt))

    def _initial_width(self, width: ArrayLike, dt: torch.dtype) -> Tensor:
        if isinstance(width, bool):
            raise TypeError("width must be a positive number or array, got bool")
        h = as_float_tensor(width, "width").detach()
        n_k, d = self.keys.shape
        shape = {"scalar": (), "coordinate": (d,), "key": (n_k, 1)}[self.per]
        if h.numel() == 1:
            h = h.reshape(()).expand(shape).clone()
        elif self.per == "key":
            if h.numel() != n_k or (h.ndim == 2 and h.shape[1] != 1) or h.ndim > 2:
                raise ValueError(
                    f"a per-key width needs one entry per key: got width of shape "
                    f"{tuple(h.shape)} for {n_k} keys (expected ({n_k},) or ({n_k}, 1))"
                )
            h = h.reshape(n_k, 1).clone()
        elif tuple(h.shape) != shape:
            raise ValueError(
                f"width for per={self.per!r} must be a number or have shape {shape}, "
                f"got shape {tuple(h.shape)}"
            )
        if (h <= 0).any():
            raise ValueError(
                f"width must be > 0 everywhere, got a value of {float(h.min()):g}"
            )
        return h  # cast to the compute dtype, with checks, by width_to_raw

    def width_tensor(self) -> Tensor:
        """The current width, differentiable with respect to ``raw``."""
        return raw_to_width(self.raw, self.parameterization)

    @property
    def width(self) -> Tensor:
        """The current width, detached: a 0-d tensor, (d,) or (n_k, 1)."""
        return self.width_tensor().detach()

    def forward(
        self, queries: ArrayLike | None = None, *, exclude_self: bool = False
    ) -> Tensor:
        r"""Predictions :math:`f(q_j)`, shape (n_q,) or (n_q, m).

        ``queries=None`` predicts at the keys themselves; ``exclude_self=True`` then
        leaves each key out of its own prediction (the diagonal of the (n_k, n_k)
        score matrix is masked: leave-one-out).
        """
        f = self._centred_forward(queries, exclude_self)
        if not bool(self.value_offset.any()):
            return f
        return (f.to(torch.float64) + self.value_offset).to(f.dtype)

    def _centred_forward(self, queries: ArrayLike | None, exclude_self: bool) -> Tensor:
        """Predictions minus ``value_offset``, in the compute dtype (for the loss)."""
        if queries is None:
            q = self.keys
        else:
            q = as_points(queries, "queries", device=self.keys.device)
            if q.shape[1] != self.keys.shape[1]:
                raise ValueError(
                    f"queries must have d={self.keys.shape[1]} coordinates like "
                    f"the keys, got d={q.shape[1]}"
                )
            if bool(
                self.key_offset.any()
            ):  # translated in their own precision, then cast
                q = q.to(torch.promote_types(q.dtype, torch.float64)) - self.key_offset
            q = q.to(self.keys.dtype)
        h = self.width_tensor()
        if not bool(torch.isfinite(h).all()) or bool((h <= 0).any()):
            raise ValueError(
                f"the width is not a finite positive number (width = {describe(h)}, "
                f"{self.parameterization} parameter = {describe(self.raw)})"
            )
        return nadaraya_watson(
            q,
            self.keys,
            self.values,
            h,
            self.kernel,
            p=self.p,
            exclude_self=exclude_self,
        )

    @torch.no_grad()
    def predict(self, queries: ArrayLike) -> Tensor:
        """Predictions at new queries, without a graph."""
        return self.forward(queries)

    def loss(
        self,
        queries: ArrayLike | None = None,
        targets: ArrayLike | None = None,
        *,
        exclude_self: bool = True,
    ) -> Tensor:
        r"""Mean squared error :math:`\frac1n\sum_j (t_j - f(q_j))^2` (differentiable).

        Without ``queries``/``targets`` it is the error on the training pairs, with each
        pair left out of its own prediction when ``exclude_self`` is true.
        """
        if (queries is None) != (targets is None):
            raise ValueError(
                "give both queries and targets, or neither (then the keys and values "
                "are used)"
            )
        if queries is None:
            pred, t = self._centred_forward(None, exclude_self), self.values
        else:
            if exclude_self:
                raise ValueError(
                    "exclude_self only applies when the queries are the keys "
                    "(call loss() without queries and targets)"
                )
            pred = self._centred_forward(queries, False)
            t = as_float_tensor(targets, "targets", device=pred.device)
            if bool(
                self.value_offset.any()
            ):  # residuals formed in the targets' precision
                t = (
                    t.to(torch.promote_types(t.dtype, torch.float64))
                    - self.value_offset
                )
            t = t.to(pred.dtype)
            if t.shape != pred.shape:
                raise ValueError(
                    f"targets must have shape {tuple(pred.shape)}, got {tuple(t.shape)}"
                )
        return ((pred - t) ** 2).mean()

    def fit(
        self,
        steps: int = 200,
        *,
        lr: float = 0.05,
        optimizer: Any = "adam",
        exclude_self: bool = True,
        queries: ArrayLike | None = None,
        targets: ArrayLike | None = None,
        penalty: Callable[[Tensor], Tensor] | None = None,
        seed: int = 0,
        progress: bool = True,
        optimizer_kwargs: dict | None = None,
    ) -> FitHistory:
        r"""Train the width for ``steps`` full-batch steps; return the history.

        Parameters
        ----------
        steps : int, default 200
            Number of optimizer steps (each: one forward and backward over all queries).
        lr : float, default 0.05
            Learning rate.
        optimizer : str, torch.optim class or callable, default "adam"
            ``"adam"``, ``"sgd"``, ... (any ``torch.optim`` name, case-insensitive), or
            a class/callable ``optimizer(params, lr=lr, **optimizer_kwargs)``.
        exclude_self : bool, default True
            Leave each training pair out of its own prediction (leave-one-out).
            With ``False`` the loss can be driven to 0 by shrinking the width.
        queries, targets : Tensor or array_like, optional
            Train on these pairs instead of the training pairs (for example a
            validation split); ``exclude_self`` is ignored then.
        penalty : callable, optional
            ``penalty(width) -> scalar tensor`` added to the loss, e.g.
            ``lambda h: 0.1 * h.reciprocal().sqrt().sum()`` for :math:`+0.1\sqrt{w}`.
        seed : int, default 0
            Seeds torch's generator for the duration of the fit (global state restored).
        progress : bool, default True
            Show a ``tqdm.auto`` progress bar (notebook widget or terminal).
        optimizer_kwargs : dict, optional
            More keyword arguments of the optimizer.

        Returns
        -------
        FitHistory
            The loss, width and parameter before each step.

        Raises
        ------
        DivergenceError
            When the loss becomes NaN/inf or the width stops being finite and positive;
            the message names the step and the width there. The parameter is set back
            to the last value at which the loss was finite.
        ValueError
            For ``steps`` or ``lr`` out of range, ``exclude_self`` with a single
            training pair, an unknown optimizer name, or a kernel without a gradient
            (boxcar, constant).
        """
        check_steps_lr(steps, lr, min_steps=0)
        if queries is not None:
            exclude_self = False
        elif self.keys.shape[0] < 2 and exclude_self:
            raise ValueError(
                "exclude_self needs at least 2 training pairs: with 1 pair no "
                "other key is left to predict it"
            )

        def objective(step: int) -> Tensor:
            h = self.width_tensor()
            if not bool(torch.isfinite(h).all()) or bool((h <= 0).any()):
                raise DivergenceError(
                    f"the width became invalid at step {step}: "
                    f"width = {describe(h)} "
                    f"({self.parameterization} parameter = {describe(self.raw)}). "
                    f"Try a smaller lr or the 'log' parameterization."
                )
            obj = self.loss(queries, targets, exclude_self=exclude_self)
            if penalty is not None:
                obj = obj + penalty(h)
            if not obj.requires_grad:
                raise ValueError(
                    f"the loss does not depend smoothly on the width with the "
                    f"{self.kernel.name!r} kernel (its gradient is 0 wherever it "
                    f"exists): choose this width with "
                    f"nwlib.selection.select_width_grid instead"
                )
            if not bool(torch.isfinite(obj)):
                raise DivergenceError(
                    f"the loss became {float(obj.detach())} at step {step} "
                    f"(width = {describe(h)}). "
                    f"Try a smaller lr, another initial width, or a kernel with "
                    f"unbounded support such as 'gaussian' (a compact kernel "
                    f"gives 0/0 when a query has no key within one width)."
                )
            return obj

        losses, raws, widths = train(
            self.raw,
            objective,
            lambda raw: raw_to_width(raw, self.parameterization),
            steps=steps,
            lr=lr,
            optimizer=optimizer,
            optimizer_kwargs=optimizer_kwargs,
            seed=seed,
            progress=progress,
        )
        self._warn_if_stalled(raws, losses)
        shape = (0,) + tuple(self.raw.shape)
        return FitHistory(
            np.asarray(losses, dtype=np.float64),
            np.asarray(widths).reshape(-1, *self.raw.shape)
            if widths
            else np.empty(shape),
            np.asarray(raws).reshape(-1, *self.raw.shape) if raws else np.empty(shape),
        )

    def _warn_if_stalled(self, raws: list, losses: list[float]) -> None:
        """Warn when training could not move the loss (flat where it started).

        Far too small a width (every query sees only its nearest key) or far too large
        (every key weighs the same) gives a loss whose gradient underflows to about 0:
        gradient descent then barely moves, which must not pass silently.
        """
        if self.raw.grad is None:
            return
        start = raw_to_width(self.raw.new_tensor(raws[0]), self.parameterization)
        warn_if_flat(
            losses,
            float(self.raw.grad.abs().max()),
            f"width {describe(start)}",
            "Start from a rule-of-thumb width such as "
            "nwlib.selection.silverman_width(x).",
            stacklevel=3,
        )

    def extra_repr(self) -> str:
        return (
            f"n_keys={self.keys.shape[0]}, d={self.keys.shape[1]}, "
            f"kernel={self.kernel.name!r}, "
            f"per={self.per!r}, p={self.p:g}, "
            f"parameterization={self.parameterization!r}, "
            f"width={describe(self.width)}"
        )
