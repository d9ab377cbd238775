"""Pooling, drawn: window size, stride, max or average, and what a small shift of the input changes.

:class:`PoolingExplorer` pools the worked examples of notebook 05 (values on the cells), an MNIST digit
or a Sobel feature map of the photo, then shifts the input right by a few pixels and counts how much
of the pooled output stays the same.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..conv import conv2d
from ..images import load_sample, sample_photo
from ..kernels import sobel_x
from ..pooling import EXAMPLE_4X4, EXAMPLE_6X6, pool2d, shift_right, unchanged_fraction
from ._base import Explorer
from .panels import CellCanvas, ImagePanel, colorize

__all__ = ["PoolingExplorer"]


def _sobel_map() -> np.ndarray:
    """A real feature map: the ReLU of the vertical-edge Sobel response of the photo, at a quarter size."""
    small = pool2d(sample_photo(gray=True).astype(np.float32), 4, mode="avg")       # 150 x 128
    return np.maximum(conv2d(small, sobel_x()), 0)


class PoolingExplorer(Explorer):
    """Window size, stride and max/average on a choice of inputs, and the effect of shifting the input.

    Controls: ``source`` (Dropdown), ``size``, ``stride``, ``mode`` ("max" or "avg") and ``shift``
    (pixels to the right). After each redraw: ``x``, ``pooled``, ``shifted``, ``pooled_shifted``, and
    ``unchanged`` / ``raw_unchanged``: :func:`helpers.pooling.unchanged_fraction` of the pooled outputs
    and of the raw inputs before and after the shift. Panels: ``panel_input``, ``panel_pooled``, ``panel_shifted``,
    ``panel_pooled_shifted``.
    """

    SOURCES = ("worked example 4x4", "example 6x6", "MNIST digit 28x28", "Sobel map of the photo 148x126")
    SIDE = 240            # about how many pixels each panel is wide

    def __init__(self, source="worked example 4x4", size=2, stride=2, mode="max", shift=0):
        super().__init__()
        self._inputs = {}
        opts = dict(style={"description_width": "initial"})
        self.source = widgets.Dropdown(options=list(self.SOURCES), value=source, description="input")
        self.size = widgets.IntSlider(value=size, min=1, max=4, description="window", **opts)
        self.stride = widgets.IntSlider(value=stride, min=1, max=4, description="stride", **opts)
        self.mode = widgets.ToggleButtons(options=["max", "avg"], value=mode, description="pooling")
        self.shift = widgets.IntSlider(value=shift, min=0, max=3, description="shift input right by", **opts)
        self.info = widgets.HTML(value="")
        self.x = self.pooled = self.shifted = self.pooled_shifted = None
        self.unchanged = self.raw_unchanged = None
        self.panel_input, self.panel_pooled, self.panel_shifted, self.panel_pooled_shifted = (
            ImagePanel() for _ in range(4))
        self.watch(self.source, self.size, self.stride, self.mode, self.shift)
        self.layout([[self.source, self.mode], [self.size, self.stride, self.shift], self.info],
                    [[self.panel_input, self.panel_pooled, self.panel_shifted, self.panel_pooled_shifted]])

    def _input(self, name) -> np.ndarray:
        if name not in self._inputs:
            if name == self.SOURCES[0]:
                x = EXAMPLE_4X4
            elif name == self.SOURCES[1]:
                x = EXAMPLE_6X6
            elif name == self.SOURCES[2]:
                x = load_sample("mnist_sample")["images"][0]
            else:
                x = _sobel_map()
            self._inputs[name] = np.asarray(x, dtype=np.float32)
        return self._inputs[name]

    def draw(self) -> None:
        x = self._input(self.source.value)
        size, stride, mode, shift = self.size.value, self.stride.value, self.mode.value, self.shift.value
        if size > min(x.shape):
            raise ValueError(f"a {size}x{size} window does not fit in the {x.shape[0]}x{x.shape[1]} input.")
        self.x = x
        self.pooled = pool2d(x, size, stride, mode)
        self.shifted = shift_right(x, shift)
        self.pooled_shifted = pool2d(self.shifted, size, stride, mode)
        self.unchanged = unchanged_fraction(self.pooled, self.pooled_shifted)
        self.raw_unchanged = unchanged_fraction(x, self.shifted)
        oh, ow = self.pooled.shape
        dropped = (x.shape[0] - ((oh - 1) * stride + size), x.shape[1] - ((ow - 1) * stride + size))
        self.info.value = (
            f"{x.shape[0]}x{x.shape[1]} -> <b>{oh}x{ow}</b> with a {size}x{size} window and stride {stride}"
            + (f" (the last {dropped[0]} row(s) / {dropped[1]} column(s) fit no window and are dropped)"
               if any(dropped) else "")
            + (f".<br>Shift by {shift} pixel(s): <b>{self.unchanged:.0%}</b> of the pooled values stay the same, "
               f"against {self.raw_unchanged:.0%} of the raw pixels (counting only non-zero positions)."
               if shift else ". Move the shift slider to test robustness to small shifts.")
        )
        vmax = float(max(x.max(), 1e-9))
        cell = max(2, min(48, self.SIDE // max(x.shape)))
        changed = ~np.isclose(self.pooled, self.pooled_shifted)
        key = (self.source.value, size, stride, mode)
        if self.panel_input.changed(*key):
            self.panel_input.show_canvas(self._canvas(x, vmax, cell, windows=(size, stride, oh, ow)))
            self.panel_input.title = f"input {x.shape[0]}x{x.shape[1]}"
        if self.panel_pooled.changed(*key):
            self.panel_pooled.show_canvas(self._canvas(self.pooled, vmax, cell * stride))
            self.panel_pooled.title = f"{mode} pooled {oh}x{ow}"
        if self.panel_shifted.changed(*key, shift):
            self.panel_shifted.show_canvas(self._canvas(self.shifted, vmax, cell, windows=(size, stride, oh, ow)))
            self.panel_shifted.title = f"input shifted right by {shift}"
        if self.panel_pooled_shifted.changed(*key, shift):
            differs = changed if shift else None
            canvas = self._canvas(self.pooled_shifted, vmax, cell * stride,
                                  tint=differs if oh * ow > 400 else None)      # many cells: tint them red
            if differs is not None and oh * ow <= 400:
                for r, c in zip(*np.nonzero(differs)):
                    canvas.box(r, c, color=(230, 0, 0), width=2)                # few cells: frame them
            self.panel_pooled_shifted.show_canvas(canvas)
            self.panel_pooled_shifted.title = f"its {mode} pooled output\n(red: differs, {self.unchanged:.0%} same)"

    @staticmethod
    def _canvas(img, vmax, cell, windows=None, tint=None) -> CellCanvas:
        """The values as viridis cells (numbers written on small grids), with the pooling windows outlined
        and the cells where ``tint`` is True blended with red."""
        colors = colorize(img, "viridis", 0, vmax)
        if tint is not None:
            colors[tint] = (0.45 * np.array([255, 40, 0]) + 0.55 * colors[tint]).astype(np.uint8)
        canvas = CellCanvas(colors, cell=cell, grid="#a0a0a0" if cell >= 12 else None)
        if img.shape[0] <= 8 and img.shape[1] <= 8:
            canvas.values(img, colors, fmt="{:g}", size=max(9, min(16, cell // 3)))
        if windows is not None:
            size, stride, oh, ow = windows
            if oh * ow <= 64:
                for i in range(oh):
                    for j in range(ow):
                        if i or j:
                            canvas.box(i * stride, j * stride, size, size, color=(255, 255, 255, 220), width=2)
                canvas.box(0, 0, size, size, color=(255, 127, 14), width=3)     # the first window
        return canvas
