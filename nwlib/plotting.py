"""Plots shared by the chapters: kernels, fits and attention heatmaps.

Every function draws on a matplotlib ``Axes`` (a new one when ``ax`` is
``None``), labels its axes and returns the ``Axes``, so chapters can combine
them in subplots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from .kernels import KERNELS, get_kernel

__all__ = ["plot_kernels", "plot_fit", "plot_attention", "animation_html_with_still"]


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (5, 3.5)) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=figsize)[1]


def plot_kernels(
    names: Iterable[str] = tuple(KERNELS), *, umax: float = 2.5, ax: Axes | None = None
) -> Axes:
    """Plot kernel profiles K(u) against the scaled distance u = (q - k)/h.

    Parameters
    ----------
    names : iterable of str, default every kernel of ``KERNELS``
        Kernel names (or :class:`~nwlib.kernels.Kernel` objects), one line each.
    umax : float, default 2.5
        The plot spans :math:`-u_{max} \\le u \\le u_{max}` (unitless).
    ax : matplotlib Axes, optional
        Where to draw (default: a new 5 x 3.5 inch figure).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, labelled, with a legend.

    Raises
    ------
    ValueError
        For an unknown kernel name.

    Examples
    --------
    >>> ax = plot_kernels(["gaussian", "triangular"])
    >>> [line.get_label() for line in ax.get_lines()]
    ['gaussian', 'triangular']
    >>> plt.close(ax.figure)
    """
    ax = _axes(ax)
    u = torch.linspace(-umax, umax, 801, dtype=torch.float64)
    for name in names:
        ax.plot(_np(u), _np(get_kernel(name)(u)), label=name)
    ax.set_xlabel("scaled distance u = (q - k) / h")
    ax.set_ylabel("K(u)")
    ax.legend(fontsize="small")
    return ax


def plot_fit(
    x_train,
    y_train,
    queries,
    estimate,
    *,
    truth=None,
    label: str = "estimate",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot training pairs (dots), the NW estimate at the queries and the truth.

    Parameters
    ----------
    x_train : array_like or Tensor, shape (n,)
        Training inputs (keys).
    y_train : array_like or Tensor, shape (n,)
        Training outputs (values).
    queries : array_like or Tensor, shape (n_q,)
        Where the estimate was computed, sorted (drawn as a line).
    estimate : array_like or Tensor, shape (n_q,)
        The estimate at ``queries``.
    truth : array_like or Tensor, shape (n_q,), optional
        The true function at ``queries`` (dashed), if known.
    label : str, default "estimate"
        Legend label of the estimate.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, labelled, with a legend.

    Examples
    --------
    >>> ax = plot_fit([0, 1, 2], [0, 1, 4], [0.0, 2.0], [0.5, 3.0], label="NW")
    >>> [line.get_label() for line in ax.get_lines()]
    ['training data', 'NW']
    >>> plt.close(ax.figure)
    """
    ax = _axes(ax)
    ax.plot(
        _np(x_train),
        _np(y_train),
        "o",
        ms=3,
        alpha=0.5,
        color="tab:gray",
        label="training data",
    )
    if truth is not None:
        ax.plot(_np(queries), _np(truth), "--", color="black", lw=1, label="truth")
    ax.plot(_np(queries), _np(estimate), color="tab:blue", lw=2, label=label)
    ax.set_xlabel("x (queries)")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_attention(
    weights,
    *,
    queries: Sequence[float] | None = None,
    keys: Sequence[float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    colorbar: bool = True,
) -> Axes:
    """Heatmap of attention weights: queries on the vertical axis, keys across.

    Parameters
    ----------
    weights : array_like or Tensor, shape (n_q, n_k)
        Attention weights, queries x keys (rows usually sum to 1).
    queries : sequence of float, shape (n_q,), optional
        Sorted query positions; with ``keys``, the axes show positions, not indices.
    keys : sequence of float, shape (n_k,), optional
        Sorted key positions.
    ax : matplotlib Axes, optional
        Where to draw (default: a new 4.2 x 3.6 inch figure).
    title : str, optional
        Axes title.
    colorbar : bool, default True
        Add a colour bar labelled "attention weight".

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If ``weights`` is not a matrix.

    Examples
    --------
    >>> ax = plot_attention([[0.7, 0.3], [0.2, 0.8]], colorbar=False)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('keys (index)', 'queries (index)')
    >>> plt.close(ax.figure)
    """
    ax = _axes(ax, (4.2, 3.6))
    w = _np(weights)
    if w.ndim != 2:
        raise ValueError(
            f"weights must be a (n_queries, n_keys) matrix, got shape {w.shape}"
        )
    extent = None
    if queries is not None and keys is not None:
        q, k = _np(queries), _np(keys)
        extent = (float(k.min()), float(k.max()), float(q.max()), float(q.min()))
    im = ax.imshow(
        w, cmap="Reds", aspect="auto", extent=extent, interpolation="nearest", vmin=0
    )
    ax.set_xlabel("keys" + (" (x of training points)" if extent else " (index)"))
    ax.set_ylabel("queries" + (" (x)" if extent else " (index)"))
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="attention weight")
    return ax


# The first frame that to_jshtml() embeds: frames[0] = "data:image/png;base64,...".
_FIRST_FRAME = r'frames\[0\] = "data:(image/(?:png|jpeg));base64,([^"]+)"'


class AnimationWithStill:
    """An animation's player for the website and its first frame for print.

    Made by :func:`animation_html_with_still`. In a notebook or on the website it
    shows the ``to_jshtml()`` player (``text/html``); a builder that cannot show HTML,
    such as the book's PDF (LaTeX), takes the still image of the first frame from the
    same output instead.
    """

    def __init__(self, html: str, mime: str, still_base64: str, frames: int) -> None:
        self.html = html
        self.mime = mime
        self.still_base64 = still_base64
        self.frames = frames

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {
            "text/html": self.html,
            self.mime: self.still_base64,
            "text/plain": f"<animation of {self.frames} frames (first frame shown)>",
        }


def animation_html_with_still(anim, **jshtml_kwargs) -> AnimationWithStill:
    """Show a matplotlib animation as a player on the website and a still in print.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        The animation (e.g. a ``FuncAnimation``); its figure is best closed first
        (``plt.close(fig)``) so that the notebook does not also show it as a figure.
    **jshtml_kwargs
        Passed to ``anim.to_jshtml`` (e.g. ``default_mode="once"``, ``fps``).

    Returns
    -------
    AnimationWithStill
        The last expression of a cell: a display bundle of the player (``text/html``)
        and of its first frame (``image/png``, or ``image/jpeg`` when matplotlib's
        ``animation.frame_format`` says so), so that the book's PDF shows a still
        where the website shows the player.

    Raises
    ------
    TypeError
        If ``anim`` has no ``to_jshtml`` method.
    ValueError
        If the player embeds no first frame (``animation.embed_limit`` exceeded).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from matplotlib.animation import FuncAnimation
    >>> fig, ax = plt.subplots(figsize=(2, 1.5))
    >>> (line,) = ax.plot([0, 1], [0, 0])
    >>> anim = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=3)
    >>> plt.close(fig)
    >>> shown = animation_html_with_still(anim, default_mode="once")
    >>> sorted(shown._repr_mimebundle_())
    ['image/png', 'text/html', 'text/plain']
    """
    if not callable(getattr(anim, "to_jshtml", None)):
        raise TypeError(
            f"anim must be a matplotlib animation, got {type(anim).__name__}"
        )
    import re

    html = anim.to_jshtml(**jshtml_kwargs)
    match = re.search(_FIRST_FRAME, html)
    if match is None:
        raise ValueError(
            "anim: the player embeds no first frame (raise matplotlib's "
            "rcParams['animation.embed_limit'])"
        )
    frames = len(re.findall(r"frames\[\d+\] = ", html))
    return AnimationWithStill(html, match.group(1), match.group(2), frames)
