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
- Displaying an explorer (the last line of a cell) shows two outputs: the widget, and a still picture of
  it (``still_bundle()``; see still.py) for pages that cannot run widgets, with a line saying that a
  running notebook makes it move. Where the widget is drawn, it hides the still: one picture, not two.
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

import base64
import contextlib
import html
import time

import ipywidgets as widgets

from .still import STILL_NOTE, hiding_rule, mime_of, render, still_file

__all__ = ["Explorer", "row", "error_html", "WIDGET_VIEW"]

#: the MIME type of a widget's view in a notebook output
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: under every explorer: where the stored state draws the widget without a kernel, controls move but
#: pictures do not, and this says why
LIVE_NOTE = "The pictures follow the controls while the notebook runs (a saved page keeps the last ones)."


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
        self._hidden_stills = []    # CSS rules hiding this explorer's still pictures where the widget is drawn
        self.footer = widgets.HTML(value=self._footer_html())

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
                                    widgets.VBox([row(r) for r in view]), self.footer])
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

    def _footer_html(self) -> str:
        style = f"<style>{' '.join(self._hidden_stills)}</style>" if self._hidden_stills else ""
        return f'{style}<div style="font-size:11px;color:#6e6e6e">{html.escape(LIVE_NOTE)}</div>'

    def still(self):
        """What the explorer shows now, drawn as one picture (H, W, 3) uint8 (without the line under it)."""
        return render(self.widget, skip=(self.footer,))

    def still_bundle(self) -> dict:
        """The still picture as a display output: a PNG (a JPEG if it shows photos), and a text saying what
        it is. The widget learns to hide this picture (a CSS rule in its footer), so a front end that draws
        the widget shows one picture, not two.
        """
        data = still_file(self.still(), "jpeg" if self._shows_photos() else "png")
        self._hidden_stills.append(hiding_rule(data))
        self.footer.value = self._footer_html()
        return {mime_of(data): base64.b64encode(data).decode("ascii"),
                "text/plain": f"[{type(self).__name__}] {STILL_NOTE}"}

    def _shows_photos(self) -> bool:
        """True if a picture on show is a JPEG (a photo, or a feature map of one)."""
        found = []

        def walk(w):
            if getattr(w.layout, "display", None) == "none":
                return
            if isinstance(w, widgets.Image) and w.format == "jpeg" and len(w.value):
                found.append(w)
            for child in getattr(w, "children", ()):
                walk(child)

        walk(self.widget)
        return bool(found)

    def view_bundle(self) -> dict:
        """The widget as a display output (what ipywidgets 7 and 8 send), with a short text form."""
        if hasattr(self.widget, "_handle_displayed"):           # ipywidgets 7: on_displayed callbacks
            self.widget._handle_displayed()
        return {WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id},
                "text/plain": f"{type(self).__name__}: an interactive explorer (it moves in a running notebook)"}

    def _ipython_display_(self):
        """Two outputs: the widget, then its still picture (shown where the widget cannot be)."""
        from IPython.display import display

        still = self.still_bundle()              # first: the widget's footer then carries the rule hiding it
        display(self.view_bundle(), raw=True)
        display(still, raw=True)
