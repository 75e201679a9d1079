"""Interactive and animated views of the width: the fit and both loss curves.

* :func:`width_explorer` is an ``ipywidgets.interactive`` panel (width slider,
  kernel picker, include-self toggle) for Jupyter; a built website shows its
  initial state.
* :func:`width_sweep_animation` is a small matplotlib animation of the same
  sweep; ``.to_jshtml()`` turns it into a player that works on a static page.

Left panel: training pairs, the estimate on a grid of queries, and the
predictions at the training inputs (each point included in its own prediction,
or left out), with their residuals. Right panel: the in-sample error and the
leave-one-out error against the width (log scale), the current width marked.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes

from ._validate import ArrayLike, as_float_tensor
from .pooling import nadaraya_watson
from .selection import error_curve

__all__ = ["WidthSweep", "width_explorer", "width_sweep_animation"]


class WidthSweep:
    """The data and precomputed loss curves behind the explorer and the animation.

    Dtype: x and y keep their floating dtype (integers and Python numbers become
    float64); fits and curves are computed as in
    :func:`nwlib.pooling.nadaraya_watson`.

    Parameters
    ----------
    x, y : (n,) arrays
        One-dimensional training pairs (n >= 2).
    widths : (n_w,) array, optional
        Widths for the loss curves; default 60 log-spaced values from 0.01 to 10.
    truth : callable, optional
        The noise-free function, drawn as a dashed line when given.

    Attributes
    ----------
    x, y : torch.Tensor
        The training pairs, shape (n,).
    widths : numpy.ndarray
        The widths of the loss curves, shape (n_w,).
    grid : torch.Tensor
        300 queries spanning x and 5 % beyond each end, where the fit is drawn.

    Raises
    ------
    ValueError
        When x and y differ in length or hold fewer than 2 pairs.
    TypeError
        When x or y is not numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from nwlib.data import running_example
    >>> data = running_example(n_train=30, seed=4)
    >>> sweep = WidthSweep(data.x_train, data.y_train, np.geomspace(0.02, 5, 12))
    >>> sweep.grid.shape
    torch.Size([300])
    >>> WidthSweep([0.0], [1.0])
    Traceback (most recent call last):
    ...
    ValueError: x and y must be 1-D with the same length >= 2, got (1,) and (1,)
    """

    def __init__(
        self,
        x: ArrayLike,
        y: ArrayLike,
        widths: ArrayLike | None = None,
        truth: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.x = as_float_tensor(x, "x").reshape(-1)
        self.y = as_float_tensor(y, "y").reshape(-1)
        if self.x.shape != self.y.shape or self.x.numel() < 2:
            raise ValueError(
                f"x and y must be 1-D with the same length >= 2, got "
                f"{tuple(self.x.shape)} and {tuple(self.y.shape)}"
            )
        self.widths = (
            np.geomspace(0.01, 10, 60) if widths is None else np.asarray(widths, float)
        )
        lo, hi = float(self.x.min()), float(self.x.max())
        pad = 0.05 * (hi - lo)
        self.grid = torch.linspace(lo - pad, hi + pad, 300, dtype=self.x.dtype)
        self.truth = truth
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def curves(self, kernel: str) -> tuple[np.ndarray, np.ndarray]:
        """(in-sample errors, leave-one-out errors) over ``self.widths``, cached.

        Parameters
        ----------
        kernel : str
            A kernel name of :mod:`nwlib.kernels`.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            The mean squared errors on the training pairs, each point included
            in its own prediction or left out, shape (n_w,) each.

        Examples
        --------
        >>> import numpy as np
        >>> from nwlib.data import running_example
        >>> data = running_example(n_train=30, seed=4)
        >>> sweep = WidthSweep(data.x_train, data.y_train, np.geomspace(0.02, 5, 12))
        >>> ins, loo = sweep.curves("gaussian")
        >>> ins.shape, bool((loo >= ins).all())
        ((12,), True)
        """
        if kernel not in self._curves:
            self._curves[kernel] = (
                error_curve(self.x, self.y, self.widths, kernel, exclude_self=False),
                error_curve(self.x, self.y, self.widths, kernel),
            )
        return self._curves[kernel]

    def draw(
        self,
        axes: Sequence[Axes],
        width: float,
        kernel: str = "gaussian",
        include_self: bool = False,
    ) -> None:
        """Draw the state at one width on two axes (fit, loss curves).

        Parameters
        ----------
        axes : sequence of two matplotlib Axes
            The fit is drawn on the first, both loss curves on the second.
        width : float
            The width drawn (and marked on the loss curves).
        kernel : str, default "gaussian"
            A kernel name of :mod:`nwlib.kernels`.
        include_self : bool, default False
            Predict each training point with itself included (in-sample) or
            left out (leave-one-out).

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from nwlib.data import running_example
        >>> data = running_example(n_train=30, seed=4)
        >>> sweep = WidthSweep(data.x_train, data.y_train, np.geomspace(0.02, 5, 12))
        >>> fig, axes = plt.subplots(1, 2)
        >>> sweep.draw(axes, 0.3)
        >>> axes[0].get_title()
        'gaussian kernel, width h = 0.3'
        >>> plt.close(fig)
        """
        ax_fit, ax_loss = axes
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = nadaraya_watson(self.grid, self.x, self.y, width, kernel).numpy()
            at_train = nadaraya_watson(
                self.x, self.x, self.y, width, kernel, exclude_self=not include_self
            ).numpy()
        x, y = self.x.numpy(), self.y.numpy()
        ax_fit.plot(x, y, "o", ms=3, color="0.6", label="training pairs")
        if self.truth is not None:
            ax_fit.plot(
                self.grid.numpy(),
                self.truth(self.grid).numpy(),
                "--",
                color="black",
                lw=1,
                label="truth",
            )
        ax_fit.plot(self.grid.numpy(), fit, color="tab:blue", lw=2, label="estimate")
        which = "itself included" if include_self else "left out"
        ax_fit.vlines(x, y, at_train, color="#f4a582", lw=0.8)
        ax_fit.plot(
            x,
            at_train,
            "x",
            ms=4,
            color="tab:red",
            label=f"prediction at $x_i$, {which}",
        )
        ax_fit.set_xlabel("x")
        ax_fit.set_ylabel("y")
        ax_fit.set_title(f"{kernel} kernel, width h = {width:.3g}")
        ax_fit.legend(fontsize="x-small", loc="upper left")
        ins, loo = self.curves(kernel)
        styles = {True: dict(lw=2.5), False: dict(lw=1.2, ls="--")}
        ax_loss.plot(
            self.widths,
            ins,
            color="tab:orange",
            label="in-sample (self included)",
            **styles[include_self],
        )
        ax_loss.plot(
            self.widths,
            loo,
            color="tab:green",
            label="leave-one-out",
            **styles[not include_self],
        )
        ax_loss.axvline(width, color="black", lw=0.8)
        ax_loss.set_xscale("log")
        ax_loss.set_xlabel("width h (log scale)")
        ax_loss.set_ylabel("mean squared error on training pairs")
        ax_loss.set_title("both loss curves")
        ax_loss.legend(fontsize="x-small", loc="upper left")


def width_explorer(
    sweep: WidthSweep,
    *,
    width: float = 0.3,
    kernels: Sequence[str] = ("gaussian", "epanechnikov", "triangular", "boxcar"),
):
    """An ``ipywidgets.interactive`` panel: width slider, kernel, include-self.

    Parameters
    ----------
    sweep : WidthSweep
        The data and loss curves.
    width : float, default 0.3
        The slider's starting width; it moves on a log scale over
        ``sweep.widths``.
    kernels : sequence of str
        The kernel picker's choices (the first is selected).

    Returns
    -------
    ipywidgets.interactive
        Display it in Jupyter; each change redraws :meth:`WidthSweep.draw`.

    Examples
    --------
    >>> import contextlib, io
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from nwlib.data import running_example
    >>> data = running_example(n_train=30, seed=4)
    >>> sweep = WidthSweep(data.x_train, data.y_train, np.geomspace(0.02, 5, 12))
    >>> with contextlib.redirect_stdout(io.StringIO()):  # the panel's first draw
    ...     panel = width_explorer(sweep)
    >>> [c.description for c in panel.children[:3]]
    ['width h', 'kernel', 'include self']
    >>> plt.close("all")
    """
    import ipywidgets as widgets

    def show(width: float, kernel: str, include_self: bool) -> None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        sweep.draw(axes, width, kernel, include_self)
        fig.tight_layout()
        plt.show()

    lo, hi = np.log10(sweep.widths[0]), np.log10(sweep.widths[-1])
    return widgets.interactive(
        show,
        width=widgets.FloatLogSlider(
            value=width,
            base=10,
            min=lo,
            max=hi,
            step=0.05,
            description="width h",
            continuous_update=False,
        ),
        kernel=widgets.Dropdown(
            options=list(kernels), value=kernels[0], description="kernel"
        ),
        include_self=widgets.Checkbox(value=False, description="include self"),
    )


def width_sweep_animation(
    sweep: WidthSweep,
    *,
    kernel: str = "gaussian",
    frames: int = 16,
    include_self: bool = False,
    dpi: int = 60,
) -> FuncAnimation:
    """A small animation sweeping the width over ``sweep.widths`` in log steps.

    Call ``.to_jshtml()`` on the result for a static web page; the figure is
    closed so that it is not shown twice.

    Parameters
    ----------
    sweep : WidthSweep
        The data and loss curves.
    kernel : str, default "gaussian"
        A kernel name of :mod:`nwlib.kernels`.
    frames : int, default 16
        Widths shown, log-spaced from the first to the last of ``sweep.widths``.
    include_self : bool, default False
        As in :meth:`WidthSweep.draw`.
    dpi : int, default 60
        Resolution of each frame (8.5 x 3.2 inches).

    Returns
    -------
    matplotlib.animation.FuncAnimation

    Examples
    --------
    >>> import numpy as np
    >>> from nwlib.data import running_example
    >>> data = running_example(n_train=30, seed=4)
    >>> sweep = WidthSweep(data.x_train, data.y_train, np.geomspace(0.02, 5, 12))
    >>> player = width_sweep_animation(sweep, frames=2).to_jshtml()
    >>> "<script" in player
    True
    """
    hs = np.geomspace(sweep.widths[0], sweep.widths[-1], frames)
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), dpi=dpi)

    def frame(i: int):
        for ax in axes:
            ax.clear()
        sweep.draw(axes, float(hs[i]), kernel, include_self)
        fig.tight_layout()
        return list(axes)

    anim = FuncAnimation(fig, frame, frames=frames, interval=600)
    plt.close(fig)
    return anim
