"""What every explorer shares, and how to write a new one.

How to write an explorer (one short file; see pooling.py or filters.py for complete examples)::

    import ipywidgets as widgets

    from ..conv import conv2d
    from ..kernels import box_blur
    from ._base import Explorer
    from .panels import ColorBar, ImagePanel

    class BlurExplorer(Explorer):
        '''Blur a photo with a k x k box and see the result.'''

        def __init__(self, image):
            super().__init__()
            self.image = image
            self.k = widgets.IntSlider(value=3, min=1, max=15, description="k")   # continuous: redraws are cheap
            self.result = ImagePanel("blurred", fmt="jpeg", colorbar=ColorBar("gray", 0, 255))
            self.watch(self.k)                       # these controls redraw (wherever they sit in the layout)
            self.layout([self.k], [self.result])     # rows of controls, then rows of panels; draws once

        def draw(self):                              # read the controls, compute, show; raise ValueError
            out = conv2d(self.image, box_blur(self.k.value))          # with a learner-readable message
            self.result.show(out, "gray", 0, 255)    # an array through a colour map -> a PNG/JPEG panel
            self.result.title = f"{self.k.value}x{self.k.value} blur: min {out.min():.0f}, max {out.max():.0f}"

The API (small and stable):

- ``watch(*controls, then=None)``: redraw when the ``value`` of any of these controls changes; they may
  sit anywhere in the layout (inside boxes). ``then(change)`` runs first, e.g. to fit one control to
  another; whatever it changes, the redraw happens once. ``controls`` lists the watched controls (the
  widget tests move each one and check that the picture and its numbers change).
- ``layout(controls, view)``: build ``widget`` (rows of controls, the message line, rows of panels) and
  draw once. A row is a widget or a list of widgets (laid side by side, wrapping on narrow screens).
- ``hold()``: a context manager: changes made inside it (several sliders set from code) redraw once,
  at its end.
- ``draw()``: yours. Raise ``ValueError`` for settings that make no sense: ``update()`` shows its text
  in red above the picture (the last good picture stays) instead of a traceback.
- ``update()``: redraw now (what the watchers call). ``last_draw_seconds``: how long the last one took.
- ``snapshot()``: what the learner sees, as data (every picture's bytes and every text): tests compare
  it before and after moving a control.
- Panels (helpers.widgets.panels): ``ImagePanel`` (an array through a colour-map lookup table with
  ``show(values, cmap, vmin, vmax)``, RGB pixels with ``show_rgb``, or a ``CellCanvas`` of cells with
  their values written on them with ``show_canvas``; ``title`` is the text above it; ``if
  panel.changed(*key):`` skips re-encoding a picture whose inputs did not change), ``ColorBar``
  (gradient sent once, tick values as text: ``set_limits(vmin, vmax)``), ``FigurePanel`` (a small
  matplotlib plot: ``freeze()`` its static part once, then ``paint()``, ``pixel(ax, x, y)`` and
  ``show()`` per redraw; or ``show()`` alone to draw the whole figure). Titles and numbers are HTML,
  not pixels: cheap to change, sharp to read.

Why pictures in ipywidgets.Image, and not plt.show() in an Output widget: the picture is replaced in place
(no flicker, no output that grows with each slider move), it looks the same in JupyterLab, Colab
(ipywidgets 7) and nbviewer (the last pictures are saved with the notebook's widget state). Why many small
panels, and not one matplotlib figure: drawing a whole figure and compressing it into one large PNG on
every move took 70-270 ms and up to 600 KB; a panel is colour-mapped with a lookup table and encoded by
OpenCV in a few milliseconds, and only the panels that changed are sent. So sliders can update while
they are dragged (``continuous_update=True``, the ipywidgets default).
"""
from __future__ import annotations

import contextlib
import html
import time

import ipywidgets as widgets

__all__ = ["Explorer", "row", "error_html"]


def error_html(text: str) -> str:
    """A message for the learner, in red with a warning sign (HTML)."""
    return f'<span style="color:#b00020">&#9888; {html.escape(str(text))}</span>'


def row(items, **layout) -> widgets.Widget:
    """Widgets or panels side by side (wrapping when the screen is narrow); a single one is returned as it is."""
    if isinstance(items, widgets.Widget):
        return items
    if hasattr(items, "widget"):                   # a panel
        return items.widget
    items = [getattr(i, "widget", i) for i in items]
    return widgets.HBox(items, layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", **layout))


class Explorer:
    """Base class: controls that redraw, a message line, panels, and the laid-out ``widget``."""

    def __init__(self):
        self.message = widgets.HTML(value="")
        self.widget = None
        self.last_draw_seconds = None
        self.controls = []          # the watched controls, in the order watch() received them
        self._held = 0
        self._pending = False

    # -- for subclasses -------------------------------------------------------------------------------
    def draw(self) -> None:
        """Update the panels from the controls. Raise ValueError with a learner-readable text if invalid."""
        raise NotImplementedError

    def watch(self, *controls, then=None) -> None:
        """Redraw whenever the value of one of ``controls`` changes; ``then(change)`` runs first."""
        def changed(change):
            with self.hold():
                if then is not None:
                    try:
                        then(change)
                    except ValueError as exc:
                        self.message.value = error_html(exc)
                        self._pending = False
                        return
                self._pending = True
        for c in controls:
            c.observe(changed, names="value")
            self.controls.append(c)

    @contextlib.contextmanager
    def hold(self):
        """Redraw once at the end of the block, however many watched controls change inside it."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                self.update()

    def layout(self, controls, view) -> None:
        """Rows of ``controls``, the message line, rows of ``view`` (panels or widgets); then draw once."""
        self.widget = widgets.VBox([*(row(r) for r in controls), self.message,
                                    widgets.VBox([row(r) for r in view])])
        self.widget.add_class(f"explorer-{type(self).__name__}")   # lets a browser test find it on the page
        self.update()

    # -- public ---------------------------------------------------------------------------------------
    def update(self, change=None) -> None:
        """Redraw. An invalid combination of settings shows a message instead of a traceback."""
        if self._held:
            self._pending = True
            return
        start = time.perf_counter()
        try:
            self.draw()
        except ValueError as exc:
            self.message.value = error_html(exc)
            return
        self.message.value = ""
        self.last_draw_seconds = time.perf_counter() - start

    def snapshot(self) -> tuple:
        """Everything the learner sees, as data: the bytes of every picture and the text of every label."""
        out = []

        def walk(w):
            if isinstance(w, widgets.Image):
                out.append(bytes(w.value))
            elif isinstance(w, (widgets.HTML, widgets.Label)):
                out.append(w.value)
            for child in getattr(w, "children", ()):
                walk(child)

        walk(self.widget)
        return tuple(out)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
