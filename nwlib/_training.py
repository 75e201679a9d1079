"""Training helpers shared by the learned-width models (private).

The errors and warnings of a training run, the optimizer by name, the
"the loss did not move" check, and the offset that keeps digits when a model
computes in less precision than its data. Used by :mod:`nwlib.learn` and
:mod:`nwlib.coordinate_widths`, which re-export the two exception classes.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

Tensor = torch.Tensor

__all__ = [
    "FlatLossWarning",
    "DivergenceError",
    "offset",
    "describe",
    "make_optimizer",
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
