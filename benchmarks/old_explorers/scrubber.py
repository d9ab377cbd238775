"""ConvolutionScrubber: step through a convolution one output pixel at a time (notebook 02).

For the window position chosen with the slider it shows, side by side and with every value written on
its cell: the image with the window framed, the patch under the window, the kernel, their element-wise
products, and the output map filled in up to this position (the new value framed).
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle

from helpers.conv import conv2d
from helpers.kernels import sobel_x

from ._base import Explorer
from .pixels import annotate_values

__all__ = ["ConvolutionScrubber", "default_scrubber_image"]


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
    return "{:.0f}" if np.allclose(v, np.round(v)) else "{:.3g}"


class ConvolutionScrubber(Explorer):
    """Slide a kernel over a small image step by step and watch the arithmetic.

    ``image`` (H, W) and ``kernel`` (kh, kw): small arrays (up to 12x12) so the values fit on the cells.
    Control (attribute): ``step``, the index of the output pixel, row by row. Results (attributes):
    ``position`` (i, j), ``patch``, ``products``, ``value`` (their sum), ``feature_map`` (the whole feature
    map, as helpers.conv2d computes it) and ``partial`` (the map filled in up to ``step``, NaN after).
    """

    png_compress_level = 3

    def __init__(self, image=None, kernel=None, step=0):
        super().__init__(figsize=(13, 3.1))
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
        self.feature_map = conv2d(self.image, self.kernel)           # raises a clear error if the kernel is too big
        n_steps = self.feature_map.size
        self.step = widgets.IntSlider(value=min(step, n_steps - 1), min=0, max=n_steps - 1, description="step")

        axes = self.figure.subplots(1, 5, gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.15]})
        self.ax_image, self.ax_patch, self.ax_kernel, self.ax_products, self.ax_output = axes
        kh, kw = self.kernel.shape
        lim = max(np.abs(self.kernel).max(), 1e-12)
        self.ax_image.imshow(self.image, cmap="gray")
        annotate_values(self.ax_image, self.image, fmt=_fmt(self.image), fontsize=8)
        self.ax_image.set_title(f"image {self.image.shape[0]}x{self.image.shape[1]}", fontsize=10)
        self._frame = Rectangle((0, 0), kw, kh, fill=False, edgecolor="gold", linewidth=3)
        self.ax_image.add_patch(self._frame)
        self.ax_kernel.imshow(self.kernel, cmap="RdBu_r", vmin=-lim, vmax=lim)
        annotate_values(self.ax_kernel, self.kernel, fmt=_fmt(self.kernel), fontsize=10,
                        cmap_values=-np.abs(self.kernel), vmin=-lim, vmax=0)
        self.ax_kernel.set_title("kernel", fontsize=10)
        lo, hi = float(self.image.min()), float(self.image.max())
        self._patch = self.ax_patch.imshow(np.zeros((kh, kw)), cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1)
        self._products = self.ax_products.imshow(np.zeros((kh, kw)), cmap="RdBu_r")
        out_lim = max(np.abs(self.feature_map).max(), 1e-12)
        self._partial = self.ax_output.imshow(np.full(self.feature_map.shape, np.nan), cmap="RdBu_r",
                                              vmin=-out_lim, vmax=out_lim)
        self._out_frame = Rectangle((0, 0), 1, 1, fill=False, edgecolor="gold", linewidth=3)
        self.ax_output.add_patch(self._out_frame)
        self.figure.colorbar(self._partial, ax=self.ax_output, shrink=0.8)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        self._texts = {"patch": [], "products": [], "output": []}
        self._finish([self.step])
        self.figure.set_layout_engine(None)       # keep the positions found once: redraws draw once

    def draw(self):
        s = self.step.value
        oh, ow = self.feature_map.shape
        if not 0 <= s < oh * ow:
            raise ValueError(f"step must be between 0 and {oh * ow - 1} (the output has {oh}x{ow} pixels), got {s}.")
        i, j = divmod(s, ow)
        kh, kw = self.kernel.shape
        self.position = (i, j)
        self.patch = self.image[i : i + kh, j : j + kw]
        self.products = self.patch * self.kernel + 0.0       # + 0.0 turns -0.0 into 0.0
        self.value = float(self.products.sum())
        self.partial = np.full(self.feature_map.shape, np.nan)
        self.partial.flat[: s + 1] = self.feature_map.flat[: s + 1]

        self._frame.set_xy((j - 0.5, i - 0.5))
        self._patch.set_data(self.patch)
        t = self._texts
        t["patch"] = annotate_values(self.ax_patch, self.patch, fmt=_fmt(self.image), texts=t["patch"], fontsize=10,
                                     vmin=self._patch.norm.vmin, vmax=self._patch.norm.vmax)
        self.ax_patch.set_title(f"patch at ({i}, {j})", fontsize=10)
        lim = max(np.abs(self.products).max(), 1e-12)
        self._products.set_data(self.products)
        self._products.set_clim(-lim, lim)
        fmt = _fmt(np.concatenate([self.products.ravel(), self.feature_map.ravel()]))
        t["products"] = annotate_values(self.ax_products, self.products, fmt=fmt, texts=t["products"], fontsize=10,
                                        cmap_values=-np.abs(self.products), vmin=-lim, vmax=0)
        self.ax_products.set_title("patch \u00d7 kernel", fontsize=10)
        self._partial.set_data(self.partial)
        lim_out = self._partial.norm.vmax
        t["output"] = annotate_values(self.ax_output, self.partial, fmt=fmt, texts=t["output"], fontsize=9,
                                      cmap_values=-np.abs(self.partial), vmin=-lim_out, vmax=0)
        self._out_frame.set_xy((j - 0.5, i - 0.5))
        self.ax_output.set_title(f"output[{i}, {j}] = sum = {fmt.format(self.value)}", fontsize=10)
