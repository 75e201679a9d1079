"""Training helpers shared by the learned-width models (private).

The errors and warnings of a training run, the optimizer by name, the
"the loss did not move" check, and the offset that keeps digits when a model
computes in less precision than its data. Used by :mod:`nwlib.learn` (which
re-exports the two exception classes) and :mod:`nwlib.coordinate_widths` (its
argument check).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor

__all__ = [
    "FlatLossWarning",
    "DivergenceError",
    "offset",
    "describe",
    "make_optimizer",
    "check_steps_lr",
    "train",
    "warn_if_flat",
]


class FlatLossWarning(RuntimeWarning):
    r"""Training could not move the width: the loss is flat where it started.

    Raised as a warning by :meth:`~nwlib.learn.LearnedWidthNW.fit` and
    :func:`~nwlib.coordinate_widths.fit_coordinate_widths` when the loss changed by
    less than 1e-6 (relative) and the gradient is below 1e-8: the starting width
    was far too small (every query sees only its nearest key) or far too large
    (every key weighs the same). The message names the starting width.

    Examples
    --------
    >>> import warnings
    >>> from nwlib.learn import LearnedWidthNW
    >>> m = LearnedWidthNW([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], width=1e-3)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = m.fit(5, progress=False)
    >>> [w.category.__name__ for w in caught]
    ['FlatLossWarning']
    """


class DivergenceError(FloatingPointError):
    r"""Training produced a NaN/inf loss or an invalid width (the message says where).

    Raised by :meth:`~nwlib.learn.LearnedWidthNW.fit`, which first sets the
    parameter back to the last value at which the loss was finite. A
    ``FloatingPointError``.

    Examples
    --------
    >>> from nwlib.learn import LearnedWidthNW
    >>> x, y = [0.0, 1.0, 2.0], [0.0, 1.0, 0.0]
    >>> m = LearnedWidthNW(x, y, parameterization="inverse_squared")
    >>> try:
    ...     m.fit(5, lr=100.0, optimizer="sgd", progress=False)
    ... except DivergenceError as err:
    ...     print(str(err)[:47])
    the width became invalid at step 1: width = nan
    >>> float(m.width)  # set back to the last width with a finite loss
    1.0
    """


def offset(x: Tensor) -> Tensor | None:
    r"""The middle of ``x``'s range (dim 0) where it dominates the spread, else None.

    Subtracted in ``x``'s own precision before a cast to less precision, so that a
    large common offset (Unix time stamps, say) is not rounded into the differences.
    """
    lo, hi = torch.aminmax(x, dim=0)
    mid, spread = lo + (hi - lo) / 2, hi - lo
    c = torch.where(mid.abs() > spread, mid, torch.zeros_like(mid))
    return c if bool((c != 0).any()) else None


def describe(h: Tensor) -> str:
    h = h.detach().reshape(-1)
    if h.numel() == 1:
        return f"{float(h[0]):.4g}"
    return f"min {float(h.min()):.4g}, max {float(h.max()):.4g} over {h.numel()} widths"


def make_optimizer(
    optimizer: Any, params: list[Tensor], lr: float, kwargs: dict | None
) -> torch.optim.Optimizer:
    kwargs = dict(kwargs or {})
    if isinstance(optimizer, str):
        names = {
            n.lower(): n
            for n in dir(torch.optim)
            if isinstance(getattr(torch.optim, n), type)
            and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
            and n != "Optimizer"
        }
        key = optimizer.strip().lower()
        if key not in names:
            raise ValueError(
                f"optimizer {optimizer!r} is unknown; use a torch.optim class or "
                f"one of: {', '.join(sorted(names))}"
            )
        optimizer = getattr(torch.optim, names[key])
    if not callable(optimizer):
        raise TypeError(
            f"optimizer must be a name, a torch.optim class or a callable, "
            f"got {type(optimizer).__name__}"
        )
    return optimizer(params, lr=lr, **kwargs)


def check_steps_lr(steps: int, lr: float, min_steps: int) -> None:
    """``ValueError`` unless ``steps`` is an int >= ``min_steps`` and ``lr`` > 0."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < min_steps:
        raise ValueError(f"steps must be an int >= {min_steps}, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")


def train(
    raw: torch.nn.Parameter,
    objective: Callable[[int], Tensor],
    to_width: Callable[[Tensor], Tensor],
    *,
    steps: int,
    lr: float,
    optimizer: Any,
    optimizer_kwargs: dict | None,
    seed: int,
    progress: bool,
) -> tuple[list[float], list[np.ndarray], list[np.ndarray]]:
    """Full-batch optimizer steps on ``objective(step)``; the losses, raws, widths.

    ``objective`` returns the loss (its checks raise ``DivergenceError`` or
    ``ValueError``); each step differentiates it and steps the optimizer, with
    torch's generator seeded (global state restored) and a ``tqdm.auto`` bar.
    Each record is taken before its step's update. On an error ``raw`` is set
    back to the last value at which the loss was finite and the error re-raised.
    """
    from tqdm.auto import trange

    losses, widths, raws = [], [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        opt = make_optimizer(optimizer, [raw], lr, optimizer_kwargs)
        bar = trange(steps, disable=not progress, desc="fitting the width", leave=True)
        every = max(1, steps // 50)
        step = 0

        def closure() -> Tensor:
            opt.zero_grad()
            obj = objective(step)
            obj.backward()
            return obj

        last_good = raw.detach().clone()  # the last raw with a finite loss
        for step in bar:
            before = raw.detach().clone()
            try:
                obj = opt.step(closure)
            except (DivergenceError, ValueError):
                with torch.no_grad():
                    raw.copy_(last_good)
                bar.close()
                raise
            last_good = before
            losses.append(float(obj.detach()))
            raws.append(before.cpu().numpy())
            widths.append(to_width(before).cpu().numpy())
            if step % every == 0 or step == steps - 1:
                bar.set_postfix(
                    loss=f"{losses[-1]:.4g}",
                    width=describe(to_width(raw.detach())),
                    refresh=False,
                )
        bar.close()
    return losses, raws, widths


def warn_if_flat(
    losses: list[float], grad: float, start: str, advice: str, stacklevel: int
) -> None:
    """Warn (:class:`FlatLossWarning`) when training could not move the loss.

    Far too small a width (every query sees only its nearest key) or far too large
    (every key weighs the same) gives a loss whose gradient underflows to about 0:
    gradient descent then barely moves, which must not pass silently. ``start``
    describes the starting width(s), ``advice`` what to do instead.
    """
    if len(losses) < 2:
        return
    change = abs(losses[-1] - losses[0]) / max(abs(losses[0]), 1e-300)
    if change < 1e-6 and grad < 1e-8:
        warnings.warn(
            f"the loss did not change (relative change {change:.1e}, gradient "
            f"{grad:.1e}): it is flat at the starting {start}, far too small or too "
            f"large for gradient descent. {advice}",
            FlatLossWarning,
            stacklevel=stacklevel + 1,
        )
