"""Padding, stride and dilation, drawn: where every kernel position lands and how big the output is.

:class:`PaddingStrideExplorer`  an n x n input, its zero border, the kernel windows and the output grid,
                                the output-size formula with the numbers, and the same settings on a photo.
:class:`ReceptiveFieldExplorer` stacked 3x3 convolutions: pick an output pixel, see the input region it
                                depends on (and through how many paths each input pixel reaches it).
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from helpers.conv import conv2d, output_size
from helpers.images import sample_photo
from helpers.kernels import box_blur

from ._base import Explorer

__all__ = ["PaddingStrideExplorer", "ReceptiveFieldExplorer", "tiling"]

_PAD_CMAP = ListedColormap(["#d9d9d9", "#ffffff"])      # 0: a padding zero, 1: a pixel of the input
_WINDOW = "#1f77b4"
_LEFTOVER = "#d62728"


def tiling(n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> dict:
    """How the windows of a convolution tile one axis of the input.

    Returns ``out`` (the output length), ``span`` (pixels one window covers, d(k-1)+1), ``padded``
    (n + 2p), ``covered`` (how far the last window reaches, (out-1)s + span), ``leftover`` (padded
    pixels past the last window, which are dropped) and ``dropped_pixels`` (how many of those are real
    input pixels rather than padding zeros).
    """
    out = output_size(n, k, padding, stride, dilation)
    span = dilation * (k - 1) + 1
    covered = (out - 1) * stride + span
    padded = n + 2 * padding
    return {
        "out": out, "span": span, "padded": padded, "covered": covered, "leftover": padded - covered,
        "dropped_pixels": max(0, padding + n - covered),
    }


def _grid(ax, rows: int, cols: int) -> None:
    """Thin lines between the cells of an image drawn with imshow (only over its cells), no ticks."""
    ax.hlines(np.arange(-0.5, rows, 1), -0.5, cols - 0.5, color="#888888", linewidth=0.5)
    ax.vlines(np.arange(-0.5, cols, 1), -0.5, rows - 0.5, color="#888888", linewidth=0.5)
    ax.set_xticks([])
    ax.set_yticks([])


class PaddingStrideExplorer(Explorer):
    """Choose input size, kernel size, padding, stride and dilation; see windows, output and formula.

    Controls (attributes): ``n``, ``k``, ``padding``, ``stride``, ``dilation`` and ``position`` (which
    kernel window to highlight, counted row by row). After each redraw ``out_size`` holds the output
    side length, ``tiles`` the :func:`tiling` summary and ``photo_shape`` / ``photo_out_shape`` the
    shapes of the photo before and after the same convolution (a box blur of size k).
    """

    def __init__(self, n=7, k=3, padding=1, stride=2, dilation=1, photo=None):
        super().__init__(figsize=(11, 4))
        self.photo = np.asarray(sample_photo(gray=True) if photo is None else photo, dtype=np.float32)
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        self.n = widgets.IntSlider(value=n, min=1, max=14, description="input size n", **slider)
        self.k = widgets.IntSlider(value=k, min=1, max=7, description="kernel size k", **slider)
        self.padding = widgets.IntSlider(value=padding, min=0, max=4, description="padding p", **slider)
        self.stride = widgets.IntSlider(value=stride, min=1, max=5, description="stride s", **slider)
        self.dilation = widgets.IntSlider(value=dilation, min=1, max=3, description="dilation d", **slider)
        self.position = widgets.IntSlider(value=0, min=0, max=0, description="highlighted window", **slider)
        self.info = widgets.HTML(value="")
        self.out_size = self.tiles = self.photo_out_shape = None
        self.photo_shape = self.photo.shape
        self._photo_cache = {}
        self._busy = False
        row1 = widgets.HBox([self.n, self.k, self.padding])
        row2 = widgets.HBox([self.stride, self.dilation, self.position])
        self._controls = [self.n, self.k, self.padding, self.stride, self.dilation, self.position]
        for c in self._controls:
            c.observe(self.update, names="value")
        self.widget = widgets.VBox([row1, row2, self.info, self.message, self.output])
        self.widget.add_class(f"explorer-{type(self).__name__}")
        self.update()

    def update(self, change=None) -> None:
        if self._busy:        # setting position.max below may move position.value: draw once, not twice
            return
        self._busy = True
        try:
            super().update(change)
        finally:
            self._busy = False

    def _photo_output(self, k, p, s, d):
        key = (k, p, s, d)
        if key not in self._photo_cache:
            self._photo_cache.clear()          # keep one result: the photo is large
            self._photo_cache[key] = conv2d(self.photo, box_blur(k), padding=p, stride=s, dilation=d)
        return self._photo_cache[key]

    def draw(self) -> None:
        n, k, p, s, d = (c.value for c in (self.n, self.k, self.padding, self.stride, self.dilation))
        try:
            t = tiling(n, k, p, s, d)
        except ValueError as exc:
            self.info.value = ""
            raise ValueError(str(exc)) from None
        self.tiles, self.out_size = t, t["out"]
        out, span, padded = t["out"], t["span"], t["padded"]
        self.position.max = out * out - 1
        pos = min(self.position.value, out * out - 1)
        i, j = divmod(pos, out)
        self.info.value = self._formula_html(n, k, p, s, d, t)

        fig = self.figure
        fig.clear()
        ax_in, ax_out, ax_photo = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.25, 1, 1.1]})

        # 1. the padded input: zeros grey, pixels white, every window's centre, one window highlighted
        mask = np.zeros((padded, padded))
        mask[p : p + n, p : p + n] = 1
        ax_in.imshow(mask, cmap=_PAD_CMAP, vmin=0, vmax=1)
        _grid(ax_in, padded, padded)
        if t["leftover"]:
            c0 = t["covered"] - 0.5
            for rect in (Rectangle((c0, -0.5), t["leftover"], padded), Rectangle((-0.5, c0), padded, t["leftover"])):
                rect.set(facecolor=_LEFTOVER, alpha=0.25, edgecolor="none")
                ax_in.add_patch(rect)
        centres = np.arange(out) * s + (span - 1) / 2
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        ax_in.scatter(cx.ravel(), cy.ravel(), s=12, color=_WINDOW, alpha=0.35, linewidths=0)
        r0, c0 = i * s, j * s
        for m in range(k):
            for q in range(k):
                ax_in.add_patch(Rectangle((c0 + q * d - 0.5, r0 + m * d - 0.5), 1, 1,
                                          facecolor=_WINDOW, alpha=0.45, edgecolor="none"))
        ax_in.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), span, span, fill=False, edgecolor=_WINDOW, linewidth=2.5))
        if padded <= 12:
            for r in range(padded):
                for c in range(padded):
                    if not (p <= r < p + n and p <= c < p + n):
                        ax_in.text(c, r, "0", ha="center", va="center", fontsize=8, color="#555555")
        ax_in.set_title(f"padded input {padded}x{padded} ({n}x{n} + {p} zero(s) per side)\n"
                        f"dots: the {out * out} window centres"
                        + ("; red: never covered" if t["leftover"] else ""), fontsize=10)

        # 2. the output grid, the highlighted window's output pixel filled in
        grid = np.zeros((out, out))
        grid[i, j] = 1
        ax_out.imshow(grid, cmap=ListedColormap(["#ffffff", _WINDOW]), vmin=0, vmax=1)
        _grid(ax_out, out, out)
        ax_out.set_xlim(-0.5, max(out, padded) - 0.5)
        ax_out.set_ylim(max(out, padded) - 0.5, -0.5)   # same cell size as the input panel
        ax_out.set_title(f"output {out}x{out}\nhighlighted: row {i}, column {j}", fontsize=10)
        for spine in ax_out.spines.values():
            spine.set_visible(False)

        # 3. the same settings on the photo (a k x k box blur)
        res = self._photo_output(k, p, s, d)
        self.photo_out_shape = res.shape
        ax_photo.imshow(res, cmap="gray")
        ax_photo.set_xticks([])
        ax_photo.set_yticks([])
        ax_photo.set_title(f"photo {self.photo.shape[0]}x{self.photo.shape[1]} -> {res.shape[0]}x{res.shape[1]}\n"
                           f"({k}x{k} box blur, same p, s, d)", fontsize=10)

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

    def __init__(self, layers=2, row=2, col=2):
        super().__init__(figsize=(11, 3.8))
        opts = dict(continuous_update=False, style={"description_width": "initial"})
        self.layers = widgets.IntSlider(value=layers, min=1, max=3, description="3x3 layers", **opts)
        self.row = widgets.IntSlider(value=row, min=0, max=self.OUT - 1, description="output row", **opts)
        self.col = widgets.IntSlider(value=col, min=0, max=self.OUT - 1, description="output column", **opts)
        self.field = self.field_size = None
        self._finish([widgets.HBox([self.layers, self.row, self.col])])
        for c in (self.layers, self.row, self.col):
            c.observe(self.update, names="value")

    def draw(self) -> None:
        L, i, j = self.layers.value, self.row.value, self.col.value
        # Walk back from the output: each 3x3 layer spreads a pixel's dependence over its 3x3 window.
        maps = [np.zeros((self.OUT, self.OUT))]
        maps[0][i, j] = 1
        for _ in range(L):
            maps.insert(0, conv2d(maps[0], np.ones((3, 3)), padding=2))   # "full" correlation: back one layer
        self.field = maps[0]
        rows, cols = np.nonzero(self.field)
        self.field_size = int(rows.max() - rows.min() + 1)
        fig = self.figure
        fig.clear()
        axes = fig.subplots(1, L + 1, gridspec_kw={"width_ratios": [m.shape[0] for m in maps]})
        names = ["input"] + [f"after conv {q}" for q in range(1, L)] + ["output"]
        for ax, m, name in zip(axes, maps, names):
            ax.imshow(m > 0, cmap=ListedColormap(["#ffffff", "#9ecae1"]), vmin=0, vmax=1)
            _grid(ax, *m.shape)
            if m is maps[0]:
                for r, c in zip(rows, cols):
                    ax.text(c, r, f"{int(m[r, c])}", ha="center", va="center", fontsize=8)
            ax.set_title(f"{name} {m.shape[0]}x{m.shape[1]}", fontsize=10)
        axes[-1].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=_WINDOW, edgecolor="none"))
        fig.suptitle(f"output pixel ({i}, {j}) depends on a {self.field_size}x{self.field_size} region of the input "
                     f"(1 + 2 x {L}); numbers: paths from each input pixel", fontsize=11)
