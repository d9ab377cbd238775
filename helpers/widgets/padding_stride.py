"""Padding, stride and dilation, drawn: where every kernel position lands and how big the output is.

:class:`PaddingStrideExplorer`  an n x n input, its zero border, the kernel windows and the output grid,
                                the output-size formula with the numbers, and the same settings on a photo.
:class:`ReceptiveFieldExplorer` stacked 3x3 convolutions: pick an output pixel, see the input region it
                                depends on (and through how many paths each input pixel reaches it).
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..conv import conv2d
from ..images import sample_photo
from ..kernels import box_blur
from ..shapes import tiling
from ._base import Explorer
from .panels import CellCanvas, ImagePanel

__all__ = ["PaddingStrideExplorer", "ReceptiveFieldExplorer"]

_ZERO, _PIXEL = (217, 217, 217), (255, 255, 255)       # a padding zero, a pixel of the input
_WINDOW = (31, 119, 180)
_FIELD = (158, 202, 225)
_LEFTOVER = "#d62728"


class PaddingStrideExplorer(Explorer):
    """Choose input size, kernel size, padding, stride and dilation; see windows, output and formula.

    Controls (attributes): ``n``, ``k``, ``padding``, ``stride``, ``dilation`` and ``position`` (which
    kernel window to highlight, counted row by row). After each redraw ``out_size`` holds the output
    side length, ``tiles`` the :func:`helpers.shapes.tiling` summary and ``photo_shape`` /
    ``photo_out_shape`` the shapes of the photo before and after the same convolution (a box blur of size k).
    """

    def __init__(self, n=7, k=3, padding=1, stride=2, dilation=1, photo=None):
        super().__init__()
        self.photo = np.asarray(sample_photo(gray=True) if photo is None else photo, dtype=np.float32)
        slider = dict(style={"description_width": "initial"})
        self.n = widgets.IntSlider(value=n, min=1, max=14, description="input size n", **slider)
        self.k = widgets.IntSlider(value=k, min=1, max=7, description="kernel size k", **slider)
        self.padding = widgets.IntSlider(value=padding, min=0, max=4, description="padding p", **slider)
        self.stride = widgets.IntSlider(value=stride, min=1, max=5, description="stride s", **slider)
        self.dilation = widgets.IntSlider(value=dilation, min=1, max=3, description="dilation d", **slider)
        self.position = widgets.IntSlider(value=0, min=0, max=0, description="highlighted window", **slider)
        self.info = widgets.HTML(value="")
        self.out_size = self.tiles = self.photo_out_shape = None
        self.photo_shape = self.photo.shape
        self.panel_input, self.panel_output = ImagePanel(), ImagePanel()
        self.panel_photo = ImagePanel(fmt="jpeg", max_side=260)
        try:
            self._fit_position()
        except ValueError:
            pass                                   # draw() shows the message
        self.watch(self.n, self.k, self.padding, self.stride, self.dilation, then=self._fit_position)
        self.watch(self.position)
        self.layout([[self.n, self.k, self.padding], [self.stride, self.dilation, self.position], self.info],
                    [[self.panel_input, self.panel_output, self.panel_photo]])

    def _settings(self):
        return tuple(c.value for c in (self.n, self.k, self.padding, self.stride, self.dilation))

    def _fit_position(self, change=None):
        """One highlighted window per output pixel: the position slider ends at the last one."""
        try:
            t = tiling(*self._settings())
        except ValueError:
            self.info.value = ""
            raise
        self.position.max = t["out"] * t["out"] - 1

    def draw(self) -> None:
        n, k, p, s, d = self._settings()
        try:
            t = tiling(n, k, p, s, d)
        except ValueError as exc:
            self.info.value = ""
            raise ValueError(str(exc)) from None
        self.tiles, self.out_size = t, t["out"]
        out, span, padded = t["out"], t["span"], t["padded"]
        pos = min(self.position.value, out * out - 1)
        i, j = divmod(pos, out)
        self.info.value = self._formula_html(n, k, p, s, d, t)
        cell = max(10, min(36, 330 // max(padded, out)))

        # 1. the padded input: zeros grey, pixels white, every window's centre, one window highlighted
        colors = np.empty((padded, padded, 3), np.uint8)
        colors[:] = _ZERO
        colors[p : p + n, p : p + n] = _PIXEL
        canvas = CellCanvas(colors, cell=cell, grid="#888888")
        if t["leftover"]:
            c0, left = t["covered"], t["leftover"]
            canvas.shade(0, c0, padded, left, color=(214, 39, 40), alpha=0.25)
            canvas.shade(c0, 0, left, c0, color=(214, 39, 40), alpha=0.25)
        if padded <= 12:
            for r in range(padded):
                for c in range(padded):
                    if not (p <= r < p + n and p <= c < p + n):
                        canvas.text(r, c, "0", color="#555555", size=max(8, min(12, cell // 3)))
        centres = np.arange(out) * s + (span - 1) / 2 + 0.5
        for cy in centres:
            for cx in centres:
                canvas.dot(cy, cx, radius=max(2, cell // 8), color=_WINDOW, alpha=0.35)
        r0, c0 = i * s, j * s
        for m in range(k):
            for q in range(k):
                canvas.shade(r0 + m * d, c0 + q * d, color=_WINDOW, alpha=0.45)
        canvas.box(r0, c0, span, span, color=_WINDOW, width=3)
        self.panel_input.show_canvas(canvas)
        self.panel_input.title = (f"padded input {padded}x{padded} ({n}x{n} + {p} zero(s) per side)\n"
                                  f"dots: the {out * out} window centres"
                                  + ("; red: never covered" if t["leftover"] else ""))

        # 2. the output grid (same cell size as the input), the highlighted window's output pixel filled in
        grid = np.full((out, out, 3), 255, np.uint8)
        grid[i, j] = _WINDOW
        self.panel_output.show_canvas(CellCanvas(grid, cell=cell, grid="#888888"))
        self.panel_output.title = f"output {out}x{out}\nhighlighted: row {i}, column {j}"

        # 3. the same settings on the photo (a k x k box blur): computed again only when they change
        if self.panel_photo.changed(k, p, s, d):
            with np.errstate(over="ignore", invalid="ignore"):
                res = conv2d(self.photo, box_blur(k), padding=p, stride=s, dilation=d)
            self.photo_out_shape = res.shape
            if not np.all(np.isfinite(res)):
                self.panel_photo.changed(None)            # draw it again once the settings change
                raise ValueError("the photo's blurred values are infinite or NaN: the photo holds NaN, infinite "
                                 "or too large values. Pass pixels 0..255.")
            self.panel_photo.show(res, "gray")
            self.panel_photo.title = (f"photo {self.photo.shape[0]}x{self.photo.shape[1]} -> "
                                      f"{res.shape[0]}x{res.shape[1]}\n({k}x{k} box blur, same p, s, d)")

    @staticmethod
    def _formula_html(n, k, p, s, d, t) -> str:
        kk = f"{d}*({k}-1)+1" if d > 1 else f"{k}"
        lines = [
            f"<b>output size</b> = floor((n + 2p - {'d(k-1)-1' if d > 1 else 'k'}) / s) + 1 = "
            f"floor(({n} + 2*{p} - {kk}) / {s}) + 1 = floor({n + 2 * p - t['span']} / {s}) + 1 = <b>{t['out']}</b>"
            + (f" &nbsp;(a dilated {k}x{k} kernel spans {t['span']}x{t['span']} pixels)" if d > 1 else "")
        ]
        if t["leftover"]:
            what = (f"{t['dropped_pixels']} of them real pixels" if t["dropped_pixels"]
                    else "all of them padding zeros")
            lines.append(
                f'<span style="color:{_LEFTOVER}">&#9888; does not tile evenly: {n + 2 * p - t["span"]} is not a '
                f"multiple of the stride {s}, so the last {t['leftover']} column(s) and row(s) of the padded input "
                f"({what}, shaded red) are never under a window. helpers.conv2d, PyTorch and Keras drop them; "
                f'TensorFlow\'s padding="same" would instead add the zeros unevenly, the extra one on the right and '
                f"bottom.</span>"
            )
        else:
            lines.append("The windows tile the padded input evenly: no pixel is left over.")
        return "<br>".join(lines)


class ReceptiveFieldExplorer(Explorer):
    """Stacked 3x3 convolutions (valid, stride 1): pick an output pixel, see the input pixels it depends on.

    Controls: ``layers`` (1 to 3 stacked convolutions), ``row`` and ``col`` of the output pixel (the
    output is 5x5). After each redraw ``field`` holds, for every input pixel, the number of paths from
    it to the chosen output pixel (0 outside the receptive field) and ``field_size`` the side of the
    receptive field: 1 + 2 * layers.
    """

    OUT = 5
    CELL = 22

    def __init__(self, layers=2, row=2, col=2):
        super().__init__()
        opts = dict(style={"description_width": "initial"})
        self.layers = widgets.IntSlider(value=layers, min=1, max=3, description="3x3 layers", **opts)
        self.row = widgets.IntSlider(value=row, min=0, max=self.OUT - 1, description="output row", **opts)
        self.col = widgets.IntSlider(value=col, min=0, max=self.OUT - 1, description="output column", **opts)
        self.field = self.field_size = None
        self.heading = widgets.HTML()
        self.panels = [ImagePanel() for _ in range(4)]
        self.watch(self.layers, self.row, self.col)
        self.layout([[self.layers, self.row, self.col]], [self.heading, self.panels])

    def draw(self) -> None:
        L, i, j = self.layers.value, self.row.value, self.col.value
        if not (1 <= L <= 3 and 0 <= i < self.OUT and 0 <= j < self.OUT):
            raise ValueError(f"choose 1 to 3 layers and an output pixel inside the {self.OUT}x{self.OUT} output.")
        # Walk back from the output: each 3x3 layer spreads a pixel's dependence over its 3x3 window.
        maps = [np.zeros((self.OUT, self.OUT))]
        maps[0][i, j] = 1
        for _ in range(L):
            maps.insert(0, conv2d(maps[0], np.ones((3, 3)), padding=2))   # "full" correlation: back one layer
        self.field = maps[0]
        rows, cols = np.nonzero(self.field)
        self.field_size = int(rows.max() - rows.min() + 1)
        names = ["input"] + [f"after conv {q}" for q in range(1, L)] + ["output"]
        for q, panel in enumerate(self.panels):
            panel.hide(q > L)
        for panel, m, name in zip(self.panels, maps, names):
            colors = np.where((m > 0)[..., None], np.array(_FIELD, np.uint8), np.uint8(255)).astype(np.uint8)
            if m is maps[-1]:
                colors[i, j] = _WINDOW
            canvas = CellCanvas(colors, cell=self.CELL, grid="#888888")
            if m is maps[0]:
                for r, c in zip(rows, cols):
                    canvas.text(r, c, f"{int(m[r, c])}", size=10)
            panel.show_canvas(canvas)
            panel.title = f"{name} {m.shape[0]}x{m.shape[1]}"
        self.heading.value = (f'<div style="font-size:14px">output pixel ({i}, {j}) depends on a '
                              f"{self.field_size}x{self.field_size} region of the input (1 + 2 x {L}); "
                              "numbers: paths from each input pixel</div>")
