"""SobelExplorer: the two Sobel responses, the gradient they make, and a check against OpenCV (03).

Top row: Gx (the vertical-edge response), Gy (the horizontal-edge response), the gradient magnitude
sqrt(Gx^2 + Gy^2). Bottom row: the gradient direction (shown only where the edge is strong enough),
the edges (magnitude above the threshold), and the difference between helpers.conv2d and cv2.Sobel
for the chosen border handling. The top row does not depend on the controls: it is drawn once.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..conv import conv2d
from ..images import sample_photo
from ..kernels import sobel_x, sobel_y
from ._base import Explorer
from .panels import ColorBar, ImagePanel, fit_side

__all__ = ["SobelExplorer", "BORDERS"]

#: Border handling offered for the OpenCV side: label -> cv2 border constant name.
BORDERS = {
    "zeros (cv2.BORDER_CONSTANT, = helpers)": "BORDER_CONSTANT",
    "reflect (cv2's default, BORDER_REFLECT_101)": "BORDER_DEFAULT",
}


class SobelExplorer(Explorer):
    """Sobel x and y, gradient magnitude and direction, an edge threshold, helpers against cv2.

    Controls (attributes): ``threshold`` (fraction of the largest magnitude), ``border`` (how cv2
    treats the border). Results: ``gx``, ``gy`` (helpers.conv2d with zero padding, "same" size),
    ``magnitude``, ``direction`` (degrees, -180..180, arctan2(gy, gx)), ``edges`` (bool),
    ``cv2_gx`` (cv2.Sobel in x with the chosen border), ``max_difference`` (max |gx - cv2_gx|).
    """

    CORNER = 24          # side of the corner shown magnified in the helpers-vs-cv2 panel
    SIDE = 215           # pixels of the longer side of each picture: three panels and bars fit 840 pixels

    def __init__(self, image=None, threshold=0.2):
        super().__init__()
        self.image = np.asarray(sample_photo(gray=True) if image is None else image, dtype=np.float32)
        if self.image.ndim != 2 or min(self.image.shape) < 3:
            raise ValueError(f"the Sobel explorer needs a gray image (H, W) of at least 3x3, got {self.image.shape}.")
        self.threshold = widgets.FloatSlider(value=threshold, min=0.0, max=1.0, step=0.01,
                                             description="threshold", readout_format=".2f",
                                             layout=widgets.Layout(width="420px"))
        self.border = widgets.Dropdown(options=list(BORDERS), description="cv2 border",
                                       layout=widgets.Layout(width="420px"))
        self.threshold_label = widgets.HTML("(edge threshold, as a fraction of the largest gradient magnitude)")

        with np.errstate(over="ignore", invalid="ignore"):      # checked in draw(): a message, not a warning
            self.gx = conv2d(self.image, sobel_x(), padding="same")
            self.gy = conv2d(self.image, sobel_y(), padding="same")
            self.magnitude = np.hypot(self.gx, self.gy)
            self.direction = np.degrees(np.arctan2(self.gy, self.gx))
        self._small_direction = fit_side(self.direction, self.SIDE, nearest=True)
        self._small_magnitude = fit_side(self.magnitude, self.SIDE, nearest=True)
        self._cv2_border = None

        def panel(title, cmap, vmin, vmax, label, fmt="jpeg"):
            return ImagePanel(title, fmt=fmt, max_side=self.SIDE,
                              colorbar=ColorBar(cmap, vmin, vmax, label=label, height=self.SIDE - 20))

        finite = np.isfinite(self.magnitude)          # (draw() refuses an image with non-finite gradients)

        def limit(values):
            v = float(np.percentile(values[finite], 99.5)) if finite.any() else 1.0
            return v if np.isfinite(v) and v > 0 else 1.0

        lim, mag_lim = limit(np.abs(self.gx)), limit(self.magnitude)
        self.panel_gx = panel("Gx = Sobel x: vertical edges", "RdBu_r", -lim, lim, "dark\u2192bright: red")
        self.panel_gy = panel("Gy = Sobel y: horizontal edges", "RdBu_r", -lim, lim, "dark\u2192bright: red")
        self.panel_mag = panel("magnitude \u221a(Gx\u00b2 + Gy\u00b2)", "magma", 0, mag_lim, "edge strength")
        self.panel_gx.show(self.gx, "RdBu_r", -lim, lim)
        self.panel_gy.show(self.gy, "RdBu_r", -lim, lim)
        self.panel_mag.show(self.magnitude, "magma", 0, mag_lim)
        self.panel_dir = panel("edge direction arctan2(Gy, Gx)", "twilight", -180, 180,
                               "degrees; blank: no edge", fmt="png")
        self.panel_edges = panel("edges", "gray", 0, 1, "1 = edge, 0 = not", fmt="png")
        self.diff_colorbar = ColorBar("magma", 0, 1, label="|difference|", height=self.SIDE - 20)
        self.panel_diff = ImagePanel(fmt="png", colorbar=self.diff_colorbar)

        self.watch(self.threshold, self.border)
        self.layout([[self.threshold, self.threshold_label], self.border],
                    [[self.panel_gx, self.panel_gy, self.panel_mag],
                     [self.panel_dir, self.panel_edges, self.panel_diff]])

    def _compare_with_cv2(self):
        import cv2

        self._cv2_border = self.border.value
        flag = getattr(cv2, BORDERS[self.border.value])
        self.cv2_gx = cv2.Sobel(self.image, cv2.CV_32F, 1, 0, ksize=3, borderType=flag)
        diff = self.gx - self.cv2_gx
        self.max_difference = float(np.abs(diff).max())
        inner = np.abs(diff[1:-1, 1:-1]).max() if min(diff.shape) > 2 else 0.0
        # The differences sit in one-pixel lines along the border: show the top-left corner, magnified.
        corner = np.abs(diff[: self.CORNER, : self.CORNER])
        top = max(float(corner.max()), 1e-6)
        self.diff_colorbar.set_limits(0, top)
        self.panel_diff.show(corner, "magma", 0, top, scale=max(1, 168 // max(corner.shape)))
        self.panel_diff.title = (f"|helpers \u2212 cv2| in Gx, top-left {corner.shape[0]}x{corner.shape[1]}\n"
                                 f"max {self.max_difference:.4g} (away from the border: {inner:.2g})")

    def draw(self):
        if not np.all(np.isfinite(self.magnitude)):
            raise ValueError("the gradient is infinite or NaN in places: the image holds NaN, infinite or too "
                             "large values (float32 ends at 3.4e38). Use pixels 0..255.")
        t = self.threshold.value
        if not 0 <= t <= 1:
            raise ValueError(f"the threshold is a fraction of the largest magnitude, between 0 and 1; got {t}.")
        if self._cv2_border != self.border.value:
            self._compare_with_cv2()
        level = t * float(self.magnitude.max())
        self.edges = self.magnitude > level
        # shrunk by area: a block that is partly edge is drawn gray, so thin edges do not vanish
        self.panel_edges.show(self.edges.astype(np.float32), "gray", 0, 1)
        small_edges = self._small_magnitude > level          # direction: every n-th pixel (angles do not average)
        self.panel_edges.title = f"edges: magnitude > {level:.0f} ({self.edges.mean():.1%} of pixels)"
        self.panel_dir.show(np.where(small_edges, self._small_direction, np.nan), "twilight", -180, 180)
