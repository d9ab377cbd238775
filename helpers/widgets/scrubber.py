"""ConvolutionScrubber: step through a convolution one output pixel at a time (notebook 02).

For the window position chosen with the slider it shows, side by side and with every value written on
its cell: the image with the window framed, the patch under the window, the kernel, their element-wise
products, and the output map filled in up to this position (the new value framed).
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..conv import conv2d
from ..kernels import sobel_x
from ._base import Explorer
from .panels import CellCanvas, ColorBar, ImagePanel, colorize

__all__ = ["ConvolutionScrubber", "default_scrubber_image"]

GOLD = (255, 190, 0)


def default_scrubber_image() -> np.ndarray:
    """A 7x7 image: dark on the left, bright on the right, with a bright dot: edges to find."""
    img = np.zeros((7, 7))
    img[:, 4:] = 9
    img[1, 1] = 5
    return img


def _fmt(values) -> str:
    """A format that shows whole numbers exactly, and anything else with 3 significant digits."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return "{:.0f}" if np.allclose(v, np.round(v)) and (v.size == 0 or np.abs(v).max() < 1e6) else "{:.3g}"


def _limit(values) -> float:
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    return max(float(v.max()) if v.size else 0.0, 1e-12)


class ConvolutionScrubber(Explorer):
    """Slide a kernel over a small image step by step and watch the arithmetic.

    ``image`` (H, W) and ``kernel`` (kh, kw): small arrays (up to 12x12) so the values fit on the cells.
    Control (attribute): ``step``, the index of the output pixel, row by row. Results (attributes):
    ``position`` (i, j), ``patch``, ``products``, ``value`` (their sum), ``feature_map`` (the whole feature
    map, as helpers.conv2d computes it) and ``partial`` (the map filled in up to ``step``, NaN after).
    """

    def __init__(self, image=None, kernel=None, step=0):
        super().__init__()
        image = default_scrubber_image() if image is None else image
        kernel = sobel_x() if kernel is None else kernel
        self.image = np.asarray(image, dtype=float)
        self.kernel = np.asarray(kernel, dtype=float)
        if self.image.ndim != 2 or self.kernel.ndim != 2:
            raise ValueError(f"the scrubber takes a 2-D image and a 2-D kernel, got {self.image.shape} and "
                             f"{self.kernel.shape}.")
        if max(self.image.shape) > 12:
            raise ValueError(f"the scrubber writes every value on its cell, so the image can be at most 12x12; "
                             f"got {self.image.shape}. Crop it, e.g. image[:8, :8].")
        with np.errstate(over="ignore", invalid="ignore"):
            self.feature_map = conv2d(self.image, self.kernel)    # raises a clear error if the kernel is too big
        n_steps = self.feature_map.size
        self.step = widgets.IntSlider(value=min(step, n_steps - 1), min=0, max=n_steps - 1, description="step",
                                      layout=widgets.Layout(width="500px"))

        kh, kw = self.kernel.shape
        self.cell = max(22, min(32, 230 // max(self.image.shape)))     # five panels side by side fit 900 px
        self._fmt_image = _fmt(self.image)
        finite = self.image[np.isfinite(self.image)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self._image_limits = (lo, hi if hi > lo else lo + 1)
        self._image_colors = colorize(self.image, "gray", *self._image_limits)
        self._kernel_lim = _limit(self.kernel)
        self._out_lim = _limit(self.feature_map)

        self.panel_image = ImagePanel(f"image {self.image.shape[0]}x{self.image.shape[1]}")
        self.panel_patch = ImagePanel()
        self.panel_kernel = ImagePanel("kernel")
        self.panel_products = ImagePanel("patch \u00d7 kernel")
        self.output_colorbar = ColorBar("RdBu_r", -self._out_lim, self._out_lim,
                                        height=max(80, self.cell * self.feature_map.shape[0]))
        self.panel_output = ImagePanel(colorbar=self.output_colorbar)
        kcolors = colorize(self.kernel, "RdBu_r", -self._kernel_lim, self._kernel_lim)
        self.panel_kernel.show_canvas(CellCanvas(kcolors, cell=self._big_cell(kh, kw))
                                      .values(self.kernel, kcolors, fmt=_fmt(self.kernel)))
        self.watch(self.step)
        self.layout([self.step], [[self.panel_image, self.panel_patch, self.panel_kernel, self.panel_products,
                                   self.panel_output]])

    @staticmethod
    def _big_cell(h, w):
        return max(28, min(40, 120 // max(h, w)))

    def draw(self):
        s = self.step.value
        oh, ow = self.feature_map.shape
        if not 0 <= s < oh * ow:
            raise ValueError(f"step must be between 0 and {oh * ow - 1} (the output has {oh}x{ow} pixels), got {s}.")
        if not (np.all(np.isfinite(self.image)) and np.all(np.isfinite(self.kernel))):
            raise ValueError("the image or the kernel holds NaN or infinite values: give numbers.")
        if not np.all(np.isfinite(self.feature_map)):
            raise ValueError("the products overflow: some sums are infinite or NaN (largest |kernel value| "
                             f"{np.abs(self.kernel).max():.3g}, largest |pixel| {np.abs(self.image).max():.3g}). "
                             "Use smaller numbers.")
        i, j = divmod(s, ow)
        kh, kw = self.kernel.shape
        self.position = (i, j)
        self.patch = self.image[i : i + kh, j : j + kw]
        self.products = self.patch * self.kernel + 0.0       # + 0.0 turns -0.0 into 0.0
        self.value = float(self.products.sum())
        self.partial = np.full(self.feature_map.shape, np.nan)
        self.partial.flat[: s + 1] = self.feature_map.flat[: s + 1]

        if not hasattr(self, "_image_canvas"):          # the image and its values: drawn once
            self._image_canvas = (CellCanvas(self._image_colors, cell=self.cell)
                                  .values(self.image, self._image_colors, fmt=self._fmt_image))
        self.panel_image.show_canvas(self._image_canvas.copy().box(i, j, kh, kw, color=GOLD, width=3))
        big = self._big_cell(kh, kw)
        pcolors = colorize(self.patch, "gray", *self._image_limits)
        self.panel_patch.show_canvas(CellCanvas(pcolors, cell=big).values(self.patch, pcolors, fmt=self._fmt_image))
        self.panel_patch.title = f"patch at ({i}, {j})"
        lim = _limit(self.products)
        fmt = _fmt(np.concatenate([self.products.ravel(), self.feature_map.ravel()]))
        qcolors = colorize(self.products, "RdBu_r", -lim, lim)
        self.panel_products.show_canvas(CellCanvas(qcolors, cell=big).values(self.products, qcolors, fmt=fmt))
        ocolors = colorize(self.partial, "RdBu_r", -self._out_lim, self._out_lim)
        self.panel_output.show_canvas(CellCanvas(ocolors, cell=self.cell).values(self.partial, ocolors, fmt=fmt)
                                      .box(i, j, color=GOLD, width=3))
        self.panel_output.title = f"output[{i}, {j}] = sum = {fmt.format(self.value)}"
