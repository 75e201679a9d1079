"""The width explorer and animation: right curves, right artists, small output."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nwlib.data import running_example, true_function  # noqa: E402
from nwlib.explorer import WidthSweep, width_explorer, width_sweep_animation  # noqa: E402
from nwlib.pooling import nadaraya_watson  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors


@pytest.fixture(scope="module")
def sweep():
    s = running_example(n_train=30, seed=4)
    return WidthSweep(
        s.x_train, s.y_train, widths=np.geomspace(0.02, 5, 12), truth=true_function
    )


def test_curves_are_in_sample_and_leave_one_out(sweep):
    ins, loo = sweep.curves("gaussian")
    x, y = sweep.x.numpy(), sweep.y.numpy()
    for k, h in enumerate(sweep.widths):
        w = np.exp(-(((x[:, None] - x[None]) / h) ** 2) / 2)
        assert ins[k] == pytest.approx(np.mean((w @ y / w.sum(1) - y) ** 2), rel=1e-10)
        np.fill_diagonal(w, 0)
        assert loo[k] == pytest.approx(np.mean((w @ y / w.sum(1) - y) ** 2), rel=1e-10)


@pytest.mark.parametrize("include_self", [False, True])
def test_draw_shows_the_chosen_predictions(sweep, include_self):
    fig, axes = plt.subplots(1, 2)
    sweep.draw(axes, 0.8, "epanechnikov", include_self)
    crosses = [ln for ln in axes[0].lines if ln.get_marker() == "x"][0]
    expected = nadaraya_watson(
        sweep.x, sweep.x, sweep.y, 0.8, "epanechnikov", exclude_self=not include_self
    ).numpy()
    np.testing.assert_allclose(crosses.get_ydata(), expected)
    assert axes[1].get_xscale() == "log" and len(axes[1].lines) == 3
    plt.close(fig)


def test_animation_and_widget(sweep):
    anim = width_sweep_animation(sweep, frames=3, dpi=30)
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == 3
    w = width_explorer(sweep, width=0.5)
    assert [c.description for c in w.children[:3]] == [
        "width h",
        "kernel",
        "include self",
    ]
    plt.close("all")


def test_bad_data():
    with pytest.raises(ValueError, match="same length"):
        WidthSweep([1.0, 2.0], [1.0])
