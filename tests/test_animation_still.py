"""nwlib.plotting.animation_html_with_still: the player for the website, a still for
the PDF (the LaTeX builder takes image/png from the same output, _config.yml)."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402

from nwlib.plotting import animation_html_with_still  # noqa: E402


def _animation(frames: int = 3):
    fig, ax = plt.subplots(figsize=(2, 1.6), dpi=50)
    (line,) = ax.plot([0, 1], [0, 0])
    ax.set_ylim(0, frames)
    anim = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=frames)
    plt.close(fig)
    return anim


def test_bundle_has_player_and_first_frame():
    shown = animation_html_with_still(_animation(3), default_mode="once")
    bundle = shown._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert 'class="anim-slider"' in bundle["text/html"]
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert (width, height) == (100, 80)  # figsize (2, 1.6) at dpi 50
    # the still is the player's first frame, not its last
    assert f'frames[0] = "data:image/png;base64,{bundle["image/png"]}"' in shown.html
    assert "3 frames" in bundle["text/plain"]


def test_rejects_what_is_not_an_animation():
    with pytest.raises(TypeError, match="anim"):
        animation_html_with_still("<video>")
