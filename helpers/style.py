"""One look for every figure of the course: the same resolution and font sizes in every notebook.

Each notebook calls ``use_course_style()`` once, after importing pyplot. Besides the sizes, it makes
the notebook warn, under any figure it shows, when some text of that figure would be too small to read:
JupyterLab and Colab show a figure in an output area about 840 pixels wide and shrink a wider picture
to fit, so a 14-inch figure at 100 dpi is shown at 60% and its 10-point labels at 8 pixels.
"""
from __future__ import annotations

import sys

import matplotlib as mpl
from matplotlib.backends.backend_agg import RendererAgg

#: dots per inch of every figure: a 10-inch-wide figure is 1,000 pixels, sharp in JupyterLab and Colab.
DPI = 100
#: the base font size in points; titles and labels use it, ticks and legends one point less.
FONT_SIZE = 11
#: width in pixels of the output area where JupyterLab and Colab show a figure (a laptop screen with
#: JupyterLab's file browser open); a wider picture is scaled down to this width.
DISPLAY_WIDTH = 840
#: the smallest text, in pixels as shown on screen, that the course accepts in a figure.
MIN_TEXT_PX = 9.0


def _drawn_texts(fig, renderer) -> list[tuple[str, float]]:
    """Draw ``fig`` with ``renderer`` without painting anything; return (text, size in points) of each text drawn.

    Only what is really drawn counts: tick labels of a hidden axis or empty strings are not drawn.
    """
    texts = []

    def record_text(gc, x, y, s, prop, *args, **kwargs):
        if s.strip():
            texts.append((s, prop.get_size_in_points()))

    def skip(*args, **kwargs):
        return None

    painters = [name for name in dir(renderer) if name.startswith("draw_")]
    saved = {name: renderer.__dict__.get(name) for name in painters}
    try:
        for name in painters:   # nothing is painted: only the texts are noted
            setattr(renderer, name, skip)
        renderer.draw_text = record_text
        renderer.draw_tex = lambda gc, x, y, s, prop, *args, **kwargs: record_text(gc, x, y, s, prop)
        fig.draw(renderer)
    finally:
        for name, old in saved.items():
            if old is None:
                delattr(renderer, name)
            else:
                setattr(renderer, name, old)
    return texts


def shown_width_px(fig, tight: bool = True) -> float:
    """Width in pixels of the picture Jupyter makes of ``fig``: its tight bounding box plus the padding
    (Jupyter saves figures with ``bbox_inches="tight"``), or the whole figure when ``tight`` is False."""
    if not tight:
        return fig.get_figwidth() * fig.dpi
    box = fig.get_tightbbox()
    return (box.width + 2 * mpl.rcParams["savefig.pad_inches"]) * fig.dpi


def text_sizes_px(fig, display_width: float = DISPLAY_WIDTH, tight: bool = True) -> list[tuple[str, float]]:
    """Each text drawn in ``fig`` with its height in pixels as shown in an output area ``display_width`` wide.

    Shown size = font size in points * dpi / 72 * min(1, display_width / width of the picture in pixels):
    a picture wider than the output area is scaled down to fit it.
    """
    if display_width <= 0:
        raise ValueError(f"display_width must be a positive number of pixels, got {display_width!r}.")
    width, height = fig.bbox.width, fig.bbox.height
    renderer = RendererAgg(max(int(width), 1), max(int(height), 1), fig.dpi)
    texts = _drawn_texts(fig, renderer)
    scale = min(1.0, display_width / shown_width_px(fig, tight))
    return [(s, points * fig.dpi / 72 * scale) for s, points in texts]


def smallest_text_px(fig, display_width: float = DISPLAY_WIDTH, tight: bool = True) -> float:
    """The height in pixels of the smallest text of ``fig`` as shown ``display_width`` pixels wide.

    ``inf`` for a figure with no text. The course wants at least MIN_TEXT_PX (9 pixels).
    """
    sizes = [px for _, px in text_sizes_px(fig, display_width, tight)]
    return min(sizes, default=float("inf"))


def small_text_warning(fig, display_width: float = DISPLAY_WIDTH, minimum: float = MIN_TEXT_PX) -> str | None:
    """The warning to show under ``fig`` if some of its text is shown under ``minimum`` pixels, else None."""
    sizes = text_sizes_px(fig, display_width)
    small = sorted((px, s) for s, px in sizes if px < minimum)
    if not small:
        return None
    px, example = small[0]
    example = " ".join(example.split())
    example = example if len(example) <= 30 else example[:27] + "..."
    width = shown_width_px(fig)
    return (f"Warning: {len(small)} text(s) of this figure show smaller than {minimum:g} px in a "
            f"{display_width:g} px wide output (the smallest, {example!r}, at {px:.1f} px; the picture is "
            f"{width:.0f} px wide). Make the figure narrower or its fonts larger.")


def _warn_then(print_figure):
    """Wrap Jupyter's figure printer so that it first warns about text too small to read."""
    def print_and_check(fig, *args, **kwargs):
        try:
            message = small_text_warning(fig)
        except Exception:   # a figure the check cannot measure is still shown
            message = None
        if message:
            print(message, file=sys.stderr)
        return print_figure(fig, *args, **kwargs)
    print_and_check.checks_text_size = True
    return print_and_check


def _watch_shown_figures(shell) -> None:
    """Make the PNG printer of figures in ``shell`` warn about small text (once; again if it was replaced).

    A display formatter rather than a hook after each cell: ``plt.show()`` shows and closes the figures
    in the middle of a cell, before any such hook could see them.
    """
    from matplotlib.figure import Figure

    png = shell.display_formatter.formatters["image/png"]
    current = png.type_printers.get(Figure)
    if current is not None and not getattr(current, "checks_text_size", False):
        png.for_type(Figure, _warn_then(current))


def use_course_style() -> None:
    """Set the course's figure resolution and font sizes for every figure drawn afterwards.

    In a notebook, also warn under every figure shown whose text would be too small to read.
    """
    shell = _ipython_shell()
    if shell is not None and "matplotlib.pyplot" in sys.modules:
        # Load the notebook's plotting backend now: it registers how figures are shown (and sets its
        # own defaults) when loaded, which would otherwise happen at the first figure, after this.
        import matplotlib.pyplot as plt
        plt.switch_backend(mpl.rcParams["backend"])
    mpl.rcParams.update({
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "font.size": FONT_SIZE,
        "axes.titlesize": FONT_SIZE,
        "axes.labelsize": FONT_SIZE,
        "figure.titlesize": FONT_SIZE + 1,
        "xtick.labelsize": FONT_SIZE - 1,
        "ytick.labelsize": FONT_SIZE - 1,
        "legend.fontsize": FONT_SIZE - 1,
    })
    if shell is not None:
        _watch_shown_figures(shell)
        # again before each cell, in case the figure formats were changed (e.g. %matplotlib inline)
        callbacks = shell.events.callbacks["pre_run_cell"]
        if not any(getattr(f, "__name__", "") == "_rewatch" for f in callbacks):
            def _rewatch(*args):
                _watch_shown_figures(shell)
            shell.events.register("pre_run_cell", _rewatch)


def _ipython_shell():
    """The running IPython shell, or None outside IPython."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython
    return get_ipython()
