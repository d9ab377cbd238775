"""PixelInspector: look at an image as the numbers it is made of (notebook 01).

Four views of one image, redrawn as the sliders move:

- the whole image, with a yellow frame around the zoom window;
- the zoom window, every cell labelled with its value (of the gray image, or of one colour channel);
- the binary image (only 0 and 255) that a threshold makes of the gray image;
- the red, green and blue channels of a colour image, each as its own picture.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle

from helpers.images import load_sample, sample_photo, to_gray

from ._base import Explorer

__all__ = ["PixelInspector", "annotate_values"]

CHANNELS = ("gray", "R", "G", "B")
CHANNEL_CMAPS = {"R": "Reds_r", "G": "Greens_r", "B": "Blues_r"}


def annotate_values(ax, values, fmt="{:.0f}", texts=None, cmap_values=None, vmin=None, vmax=None, fontsize=8):
    """Write each value of the 2-D array ``values`` on its cell of an ``imshow`` in ``ax``.

    The text is white on dark cells and black on light ones (judged from ``cmap_values``, by default the
    values themselves, scaled between ``vmin`` and ``vmax``). Pass the list returned by an earlier call
    as ``texts`` to remove those labels first. Returns the new list of Text objects.
    """
    for t in texts or ():
        t.remove()
    values = np.asarray(values)
    shade = np.asarray(values if cmap_values is None else cmap_values, dtype=float)
    lo = np.nanmin(shade) if vmin is None else vmin
    hi = np.nanmax(shade) if vmax is None else vmax
    span = (hi - lo) or 1.0
    out = []
    for (r, c), v in np.ndenumerate(values):
        if isinstance(v, float) and np.isnan(v):
            continue
        level = (shade[r, c] - lo) / span
        colour = "white" if level < 0.5 else "black"
        out.append(ax.text(c, r, fmt.format(v + 0), ha="center", va="center", fontsize=fontsize, color=colour))
    return out


def shrink_for_display(img, max_side=320, nearest=False):
    """A smaller copy of ``img`` for showing only (area-averaged, or every n-th pixel if ``nearest``,
    for values that must not be averaged such as angles): a 600-pixel photo drawn in a 300-pixel
    panel looks the same, and the figure is drawn several times faster."""
    import cv2

    img = np.asarray(img)
    H, W = img.shape[:2]
    if max(H, W) <= max_side:
        return img
    scale = max_side / max(H, W)
    return cv2.resize(img, (max(1, round(W * scale)), max(1, round(H * scale))),
                      interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def _check_image(image) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"an image must be gray (H, W) or colour (H, W, 3), got shape {arr.shape}.")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"an image must hold numbers, got dtype {arr.dtype}.")
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0                      # a normalised image: back to the 0..255 scale
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    return arr


class PixelInspector(Explorer):
    """Zoom into an image and read its pixel values; split the channels; threshold to black and white.

    ``images``: a dict name -> image (uint8 (H, W) or (H, W, 3)); by default Grace Hopper's photo and a
    handwritten digit. Controls (attributes): ``source``, ``row``, ``col``, ``size``, ``channel``,
    ``threshold``. Results (attributes): ``window`` (the values in the zoom window), ``gray`` (the gray
    image) and ``binary`` (0 where gray <= threshold, 255 above).
    """

    png_compress_level = 3

    def __init__(self, images=None, size=8, threshold=128):
        super().__init__(figsize=(10.5, 6.1))
        if images is None:
            digits = load_sample("mnist_sample")
            eight = int(np.flatnonzero(digits["labels"] == 8)[0])
            images = {"photo": sample_photo(), "digit 8": digits["images"][eight]}
        elif not isinstance(images, dict):
            images = {"image": images}
        self.images = {name: _check_image(img) for name, img in images.items()}

        first = next(iter(self.images.values()))
        self.source = widgets.Dropdown(options=list(self.images), description="image")
        self.size = widgets.IntSlider(value=size, min=2, max=16, description="window")
        self.row = widgets.IntSlider(value=first.shape[0] // 3, min=0, max=first.shape[0] - size, description="row")
        self.col = widgets.IntSlider(value=first.shape[1] // 3, min=0, max=first.shape[1] - size, description="column")
        self.channel = widgets.Dropdown(options=CHANNELS, value="gray", description="values of")
        self.threshold = widgets.IntSlider(value=threshold, min=0, max=255, description="threshold")
        self.source.observe(self._fit_sliders, names="value")
        self.size.observe(self._fit_sliders, names="value")

        gs = self.figure.add_gridspec(2, 4, height_ratios=[1.45, 1])
        self.ax_image = self.figure.add_subplot(gs[0, 0:2])
        self.ax_zoom = self.figure.add_subplot(gs[0, 2])
        self.ax_binary = self.figure.add_subplot(gs[0, 3])
        self.ax_channels = [self.figure.add_subplot(gs[1, i]) for i in range(3)]
        self.ax_colour = self.figure.add_subplot(gs[1, 3])
        for ax in (self.ax_image, self.ax_binary, *self.ax_channels, self.ax_colour):
            ax.set_axis_off()
        self._drawn_source = None
        self._texts = []
        self._finish([
            widgets.HBox([self.source, self.channel]),
            widgets.HBox([self.row, self.col]),
            widgets.HBox([self.size, self.threshold]),
        ])
        self.figure.set_layout_engine(None)       # keep the positions found once: redraws draw once

    def _finish(self, controls):
        super()._finish(controls)
        for box in controls:                      # the sliders sit in HBoxes: observe them too
            for c in getattr(box, "children", ()):
                c.observe(self.update, names="value")

    def _fit_sliders(self, change=None):
        """Keep the window inside the image when the image or the window size changes."""
        img = self.images[self.source.value]
        size = self.size.value
        self._hold = True                         # one redraw at the end, not one per slider
        try:
            for slider, n in ((self.row, img.shape[0]), (self.col, img.shape[1])):
                top = max(0, n - size)
                slider.value = min(slider.value, top)
                slider.max = top
        finally:
            self._hold = False

    def update(self, change=None):
        if not getattr(self, "_hold", False):
            super().update(change)

    # ------------------------------------------------------------------------------------------------
    def draw(self):
        img = self.images[self.source.value]
        H, W = img.shape[:2]
        r, c, k = self.row.value, self.col.value, self.size.value
        if r + k > H or c + k > W:
            raise ValueError(
                f"the {k}x{k} window at row {r}, column {c} runs off the {H}x{W} image: "
                f"row can be at most {H - k} and column at most {W - k}."
            )
        colour = img.ndim == 3
        if self.channel.value != "gray" and not colour:
            raise ValueError(
                f"this image is grayscale (shape {img.shape}): it has no {self.channel.value} channel. "
                "Choose 'gray', or a colour image."
            )
        self.gray = to_gray(img)
        shown = self.gray if self.channel.value == "gray" else img[..., "RGB".index(self.channel.value)]
        self.window = shown[r : r + k, c : c + k].copy()
        self.binary = np.where(self.gray > self.threshold.value, 255, 0).astype(np.uint8)

        if self._drawn_source != self.source.value:
            self._draw_static(img)
        self._frame.set_bounds(c - 0.5, r - 0.5, k, k)
        self._zoom.set_data(self.window)
        self._zoom.set_extent((-0.5, k - 0.5, k - 0.5, -0.5))
        self._zoom.set_cmap(CHANNEL_CMAPS.get(self.channel.value, "gray"))
        self.ax_zoom.set_xticks(range(k), [str(c + j) for j in range(k)], fontsize=6)
        self.ax_zoom.set_yticks(range(k), [str(r + i) for i in range(k)], fontsize=6)
        self.ax_zoom.set_title(f"{self.channel.value} values, rows {r}-{r + k - 1}, cols {c}-{c + k - 1}", fontsize=9)
        self._texts = annotate_values(self.ax_zoom, self.window, texts=self._texts, vmin=0, vmax=255,
                                      fontsize=max(5, 10 - k // 3))
        self._binary.set_data(shrink_for_display(self.binary))
        share = (self.binary == 255).mean()
        self.ax_binary.set_title(f"gray > {self.threshold.value} \u2192 255 ({share:.0%} white)", fontsize=9)

    def _draw_static(self, img):
        """Draw what depends only on the chosen image (done again only when the image changes)."""
        self._drawn_source = self.source.value
        for ax in (self.ax_image, self.ax_zoom, self.ax_binary, *self.ax_channels, self.ax_colour):
            ax.clear()
        self._texts = []
        H, W = img.shape[:2]
        kind = f"colour {img.shape}" if img.ndim == 3 else f"gray {img.shape}"
        extent = (-0.5, W - 0.5, H - 0.5, -0.5)               # pixel coordinates of the full image
        small = shrink_for_display(img)
        self.ax_image.imshow(small, cmap=None if img.ndim == 3 else "gray", vmin=0, vmax=255, extent=extent)
        self.ax_image.set_title(f"{self.source.value}: {kind}, {img.dtype}", fontsize=9)
        self._frame = Rectangle((0, 0), 1, 1, fill=False, edgecolor="yellow", linewidth=2)
        self.ax_image.add_patch(self._frame)
        self._zoom = self.ax_zoom.imshow(np.zeros((2, 2)), cmap="gray", vmin=0, vmax=255)
        self._binary = self.ax_binary.imshow(np.zeros(small.shape[:2]), cmap="gray", vmin=0, vmax=255, extent=extent)
        if img.ndim == 3:
            for i, (ax, name) in enumerate(zip(self.ax_channels, "RGB")):
                ax.imshow(small[..., i], cmap=CHANNEL_CMAPS[name], vmin=0, vmax=255, extent=extent)
                ax.set_title(f"{name} channel: img[..., {i}]", fontsize=9)
            self.ax_colour.imshow(small, extent=extent)
            self.ax_colour.set_title("all three together", fontsize=9)
        else:
            self.ax_channels[1].text(0.5, 0.5, "a grayscale image has one channel:\nno R, G, B to split",
                                     ha="center", va="center", fontsize=11, transform=self.ax_channels[1].transAxes)
        for ax in (self.ax_image, self.ax_binary, *self.ax_channels, self.ax_colour):
            ax.set_axis_off()
