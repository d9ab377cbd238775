"""What every explorer shares: a matplotlib figure drawn to a PNG inside an ipywidgets.Image.

Why a PNG in an Image widget, and not plt.show() in an Output widget: the picture is replaced in place
(no flicker, no output that grows with each slider move), it looks the same in JupyterLab, Colab
(ipywidgets 7) and nbviewer (the last image is saved with the notebook's widget state), and a test can
read ``explorer.png`` before and after moving a slider.

A subclass builds its controls and its figure in ``__init__``, draws in ``draw()``, and ends
``__init__`` with ``self._finish(controls)``.
"""
from __future__ import annotations

import io
import time

import ipywidgets as widgets
from matplotlib.figure import Figure


class Explorer:
    """Base class: owns ``figure``, the ``output`` Image widget, a ``message`` line and the layout ``widget``."""

    #: dots per inch of the PNG: 100 keeps a 9-inch-wide figure at 900 pixels, sharp and quick to draw.
    dpi = 100
    #: zlib level of the PNG (0-9): 6 is PIL's default; 3 encodes a photo-heavy figure ~1.5x faster for a
    #: file a few per cent larger, which matters when the figure is redrawn on every slider move.
    png_compress_level = 6

    def __init__(self, figsize=(9, 4)):
        self.figure = Figure(figsize=figsize, layout="constrained")
        # align_self: shown at its own pixel size; a VBox would otherwise stretch (and blur) it to full width
        self.output = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start", max_width="100%"))
        self.message = widgets.HTML(value="")
        self.last_draw_seconds = None
        self.widget = None

    # -- for subclasses -------------------------------------------------------------------------------
    def draw(self) -> None:
        """Update the figure from the controls. Raise ValueError with a learner-readable text if invalid."""
        raise NotImplementedError

    def _finish(self, controls) -> None:
        """Lay out ``controls`` above the picture, draw once, and redraw whenever a control changes."""
        controls = list(controls)
        for c in controls:
            if hasattr(c, "observe") and hasattr(c, "value"):
                c.observe(self.update, names="value")
        self.widget = widgets.VBox([*controls, self.message, self.output])
        self.widget.add_class(f"explorer-{type(self).__name__}")   # lets a browser test find it on the page
        self.update()

    # -- public ---------------------------------------------------------------------------------------
    @property
    def png(self) -> bytes:
        """The picture currently shown, as PNG bytes."""
        return bytes(self.output.value)

    def update(self, change=None) -> None:
        """Redraw. An invalid combination of settings shows a message instead of a traceback."""
        start = time.perf_counter()
        try:
            self.draw()
        except ValueError as exc:
            self.message.value = f'<span style="color:#b00020">&#9888; {exc}</span>'
            return
        self.message.value = ""
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=self.dpi, pil_kwargs={"compress_level": self.png_compress_level})
        self.output.value = buf.getvalue()
        self.last_draw_seconds = time.perf_counter() - start

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
