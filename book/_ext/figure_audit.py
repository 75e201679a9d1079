"""IPython startup file: record what every figure a chapter draws shows as text.

``make site`` copies this file into ``_build/ipython/profile_default/startup/`` and
builds the book with ``IPYTHONDIR`` pointing there and ``FIGURE_AUDIT_DIR`` set, so it
runs once in each chapter's kernel before the first cell (and nowhere else: a learner's
Jupyter, nbval and the PDF build never see it). It adds nothing to the pages: each time
matplotlib renders a figure to an image (the inline backend's PNG, or the first frame
of a ``to_jshtml()`` animation) it notes, for every text artist actually drawn (titles,
axis labels, tick labels, legend texts, annotations, colourbar labels), its string,
font size in image pixels and bounding box, and writes them with the image's natural
width to ``$FIGURE_AUDIT_DIR/kernel-<pid>.json``, keyed by the SHA-1 of the code cell
that drew it. ``tests/test_site.py`` maps the cells to the chapters and judges: text
smaller than 9 px as displayed in the 688 px column, overlapping texts, text cut off at
the image's edge. It leaves no name in the kernel's namespace.
"""


def _figure_audit_install() -> None:
    import hashlib
    import json
    import os
    from pathlib import Path

    out_dir = os.environ.get("FIGURE_AUDIT_DIR")
    if not out_dir:
        return
    try:
        from IPython import get_ipython
        from matplotlib import animation
        from matplotlib.backend_bases import FigureCanvasBase
        from matplotlib.text import Text
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    out = Path(out_dir) / f"kernel-{os.getpid()}.json"
    # cell: SHA-1 of the running cell's source; drawn: id(text) -> record of the
    # current render; anim: None, or {"done": bool} while an animation is being saved
    state = {
        "cell": None,
        "head": "",
        "index": 0,
        "drawn": None,
        "renderer": None,
        "anim": None,
    }
    figures: list[dict] = []

    def pre_run_cell(info) -> None:
        source = (getattr(info, "raw_cell", "") or "").strip()
        state["cell"] = hashlib.sha1(source.encode("utf-8")).hexdigest()
        state["head"] = source.splitlines()[0][:80] if source else ""
        state["index"] = 0

    shell.events.register("pre_run_cell", pre_run_cell)

    original_text_draw = Text.draw

    def text_draw(self, renderer, *args, **kwargs):
        result = original_text_draw(self, renderer, *args, **kwargs)
        drawn = state["drawn"]
        if drawn is None or not self.get_visible() or not self.get_text().strip():
            return result
        if self.get_alpha() == 0:
            return result
        if renderer is not state["renderer"]:  # a new pass (bbox_inches="tight")
            drawn.clear()
            state["renderer"] = renderer
        try:
            box = self.get_window_extent(renderer)
            clip = self.get_clip_box() if self.get_clip_on() else None
            if clip is not None:
                x0, y0 = max(box.x0, clip.x0), max(box.y0, clip.y0)
                x1, y1 = min(box.x1, clip.x1), min(box.y1, clip.y1)
                if x1 <= x0 or y1 <= y0:
                    return result  # clipped away: not seen
                box = type(box).from_extents(x0, y0, x1, y1)
            size = float(renderer.points_to_pixels(self.get_fontsize()))
        except Exception:
            return result
        drawn[id(self)] = {
            "text": " ".join(self.get_text().split())[:60],
            "px": round(size, 2),
            "box": [round(v, 1) for v in (box.x0, box.y0, box.x1, box.y1)],
        }
        return result

    Text.draw = text_draw

    def title_of(fig) -> str:
        sup = getattr(fig, "_suptitle", None)
        if sup is not None and sup.get_text().strip():
            return sup.get_text().strip()
        titles = [ax.get_title().strip() for ax in fig.axes if ax.get_title().strip()]
        return " | ".join(titles)[:120]

    def write() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "figures": figures}))
        tmp.replace(out)

    original_print_figure = FigureCanvasBase.print_figure

    def print_figure(self, filename, *args, **kwargs):
        anim = state["anim"]
        if state["drawn"] is not None or (anim is not None and anim["done"]):
            return original_print_figure(self, filename, *args, **kwargs)
        state["drawn"], state["renderer"] = {}, None
        try:
            result = original_print_figure(self, filename, *args, **kwargs)
            renderer, drawn = state["renderer"], state["drawn"]
        finally:
            state["drawn"] = None
        try:
            width = getattr(renderer, "width", None)
            height = getattr(renderer, "height", None)
            if width is None:
                data = filename.getvalue()[:24]
                width = int.from_bytes(data[16:20], "big")
                height = int.from_bytes(data[20:24], "big")
            figures.append(
                {
                    "cell": state["cell"],
                    "cell_head": state["head"],
                    "index": state["index"],
                    "kind": "animation" if anim is not None else "figure",
                    "title": title_of(self.figure),
                    "width": int(width),
                    "height": int(height),
                    "texts": list(drawn.values()),
                }
            )
            state["index"] += 1
            write()
        except Exception:
            pass  # the audit never breaks a chapter; the test reports missing figures
        if anim is not None:
            anim["done"] = True  # an animation counts once, on its first frame
        return result

    FigureCanvasBase.print_figure = print_figure

    original_save = animation.Animation.save

    def save(self, *args, **kwargs):
        previous, state["anim"] = state["anim"], {"done": False}
        try:
            return original_save(self, *args, **kwargs)
        finally:
            state["anim"] = previous

    animation.Animation.save = save


_figure_audit_install()
del _figure_audit_install
