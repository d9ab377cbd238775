"""SobelExplorer: the two Sobel responses, the gradient they make, and a check against OpenCV (03).

Top row: Gx (the vertical-edge response), Gy (the horizontal-edge response), the gradient magnitude
sqrt(Gx^2 + Gy^2). Bottom row: the gradient direction (shown only where the edge is strong enough),
the edges (magnitude above the threshold), and the difference between helpers.conv2d and cv2.Sobel
for the chosen border handling.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from helpers.conv import conv2d
from helpers.images import sample_photo
from helpers.kernels import sobel_x, sobel_y

from ._base import Explorer
from .pixels import shrink_for_display

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

    png_compress_level = 3
    CORNER = 24          # side of the corner shown magnified in the helpers-vs-cv2 panel

    def __init__(self, image=None, threshold=0.2):
        super().__init__(figsize=(11, 7))
        self.image = np.asarray(sample_photo(gray=True) if image is None else image, dtype=np.float32)
        if self.image.ndim != 2 or min(self.image.shape) < 3:
            raise ValueError(f"the Sobel explorer needs a gray image (H, W) of at least 3x3, got {self.image.shape}.")
        self.threshold = widgets.FloatSlider(value=threshold, min=0.0, max=1.0, step=0.01,
                                             description="threshold", readout_format=".2f")
        self.border = widgets.Dropdown(options=list(BORDERS), description="cv2 border",
                                       layout=widgets.Layout(width="420px"))
        self.threshold_label = widgets.HTML("(edge threshold, as a fraction of the largest gradient magnitude)")

        self.gx = conv2d(self.image, sobel_x(), padding="same")
        self.gy = conv2d(self.image, sobel_y(), padding="same")
        self.magnitude = np.hypot(self.gx, self.gy)
        self.direction = np.degrees(np.arctan2(self.gy, self.gx))
        self._cv2_border = None

        axes = self.figure.subplots(2, 3)
        (self.ax_gx, self.ax_gy, self.ax_mag), (self.ax_dir, self.ax_edges, self.ax_diff) = axes
        H, W = self.image.shape
        extent = (-0.5, W - 0.5, H - 0.5, -0.5)

        def show(ax, data, cmap, vmin, vmax, title, label):
            im = ax.imshow(shrink_for_display(data), cmap=cmap, vmin=vmin, vmax=vmax, extent=extent)
            ax.set_title(title, fontsize=10)
            self.figure.colorbar(im, ax=ax, shrink=0.85, label=label)
            ax.set_xticks([])
            ax.set_yticks([])
            return im

        lim = float(np.percentile(np.abs(self.gx), 99.5)) or 1.0
        show(self.ax_gx, self.gx, "RdBu_r", -lim, lim, "Gx = Sobel x: vertical edges", "dark\u2192bright: red")
        show(self.ax_gy, self.gy, "RdBu_r", -lim, lim, "Gy = Sobel y: horizontal edges", "dark\u2192bright: red")
        show(self.ax_mag, self.magnitude, "magma", 0, float(np.percentile(self.magnitude, 99.5)) or 1.0,
             "magnitude \u221a(Gx\u00b2 + Gy\u00b2)", "edge strength")
        self._dir = show(self.ax_dir, self.direction, "twilight", -180, 180, "direction",
                         "arctan2(Gy, Gx) in degrees")
        self._edges = show(self.ax_edges, np.zeros_like(self.image), "gray", 0, 1, "edges", "1 = edge, 0 = not")
        corner = np.zeros((self.CORNER, self.CORNER))
        self._diff = self.ax_diff.imshow(corner, cmap="magma", vmin=0, vmax=1)
        self.figure.colorbar(self._diff, ax=self.ax_diff, shrink=0.85, label="|difference|")
        self._finish([widgets.HBox([self.threshold, self.threshold_label]), self.border])
        self.figure.set_layout_engine(None)       # keep the positions found once: redraws draw once
        self.threshold.observe(self.update, names="value")   # it sits in an HBox

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
        self._diff.set_data(corner)
        self._diff.set_clim(0, max(float(corner.max()), 1e-6))
        self.ax_diff.set_title(f"|helpers \u2212 cv2| in Gx, top-left {self.CORNER}x{self.CORNER}\n"
                               f"max {self.max_difference:.4g} (away from the border: {inner:.2g})", fontsize=10)

    def draw(self):
        t = self.threshold.value
        if not 0 <= t <= 1:
            raise ValueError(f"the threshold is a fraction of the largest magnitude, between 0 and 1; got {t}.")
        if self._cv2_border != self.border.value:
            self._compare_with_cv2()
        level = t * float(self.magnitude.max())
        self.edges = self.magnitude > level
        self._edges.set_data(shrink_for_display(self.edges.astype(np.float32)))
        self.ax_edges.set_title(f"edges: magnitude > {level:.0f} ({self.edges.mean():.1%} of pixels)", fontsize=10)
        self._dir.set_data(shrink_for_display(np.where(self.edges, self.direction, np.nan), nearest=True))
        self.ax_dir.set_title("direction of the edges' gradient", fontsize=10)
