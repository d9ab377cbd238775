"""PixelInspector: look at an image as the numbers it is made of (notebook 01).

Four views of one image, redrawn as the sliders move:

- the whole image, with a yellow frame around the zoom window;
- the zoom window, every cell labelled with its value (of the gray image, or of one colour channel);
- the binary image (only 0 and 255) that a threshold makes of the gray image;
- the red, green and blue channels of a colour image, each as its own picture (drawn once per image).
"""
from __future__ import annotations

import cv2
import ipywidgets as widgets
import numpy as np

from ..images import load_sample, sample_photo, to_gray
from ._base import Explorer
from .panels import CellCanvas, ImagePanel, colorize, fit_side

__all__ = ["PixelInspector", "shrink_for_display"]

CHANNELS = ("gray", "R", "G", "B")
CHANNEL_CMAPS = {"R": "Reds_r", "G": "Greens_r", "B": "Blues_r"}


def shrink_for_display(img, max_side=320, nearest=False):
    """A smaller copy of ``img`` for showing only (area-averaged, or every n-th pixel if ``nearest``,
    for values that must not be averaged such as angles): a 600-pixel photo shown in a 300-pixel
    panel looks the same, and is sent and drawn several times faster."""
    return fit_side(img, max_side, nearest=nearest)


def _check_image(image) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"an image must be gray (H, W) or colour (H, W, 3), got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"the image is empty (shape {arr.shape}): it needs at least one pixel.")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"an image must hold numbers, got dtype {arr.dtype}.")
        if not np.all(np.isfinite(arr)):
            raise ValueError("the image holds NaN or infinite values: pixels must be numbers 0..255 (or 0..1).")
        if np.issubdtype(arr.dtype, np.floating) and float(np.max(arr)) <= 1.0:
            arr = arr * 255.0                      # a normalised image: back to the 0..255 scale
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    return arr


class PixelInspector(Explorer):
    """Zoom into an image and read its pixel values; split the channels; threshold to black and white.

    ``images``: a dict name -> image (uint8 (H, W) or (H, W, 3)); by default Grace Hopper's photo and a
    handwritten digit. Controls (attributes): ``source``, ``row``, ``col``, ``size``, ``channel``,
    ``threshold``. Results (attributes): ``window`` (the values in the zoom window), ``gray`` (the gray
    image) and ``binary`` (0 where gray <= threshold, 255 above). The window never exceeds the image:
    on an image smaller than ``size`` it is the whole image.
    """

    SIDE = 260           # pixels of the longer side of the whole image: three panels fit 840 pixels
    SMALL = 180          # ... and of each channel: four in a row

    def __init__(self, images=None, size=8, threshold=128):
        super().__init__()
        if images is None:
            digits = load_sample("mnist_sample")
            eight = int(np.flatnonzero(digits["labels"] == 8)[0])
            images = {"photo": sample_photo(), "digit 8": digits["images"][eight]}
        elif not isinstance(images, dict):
            images = {"image": images}
        self.images = {name: _check_image(img) for name, img in images.items()}
        if not self.images:
            raise ValueError("give at least one image.")

        first = next(iter(self.images.values()))
        H, W = first.shape[:2]
        k = max(1, min(size, 16, H, W))
        wide = widgets.Layout(width="400px")     # two to a row; a track of about 250 pixels to drag
        self.source = widgets.Dropdown(options=list(self.images), description="image", layout=wide)
        self.size = widgets.IntSlider(value=k, min=1, max=min(16, max(H, W)), description="window", layout=wide)
        self.row = widgets.IntSlider(value=min(H // 3, H - k), min=0, max=H - k, description="row", layout=wide)
        self.col = widgets.IntSlider(value=min(W // 3, W - k), min=0, max=W - k, description="column", layout=wide)
        self.channel = widgets.Dropdown(options=CHANNELS, value="gray", description="values of", layout=wide)
        self.threshold = widgets.IntSlider(value=threshold, min=0, max=255, description="threshold", layout=wide)

        self.whole = ImagePanel(fmt="jpeg", max_side=self.SIDE)
        self.zoom = ImagePanel()
        self.binary_panel = ImagePanel(fmt="png", max_side=self.SIDE)
        self.channel_panels = [ImagePanel(fmt="jpeg", max_side=self.SMALL) for _ in range(4)]
        self.note = widgets.HTML()
        self._drawn_source = None

        self.watch(self.source, self.size, then=self._fit_sliders)
        self.watch(self.row, self.col, self.channel, self.threshold)
        self.layout([[self.source, self.channel], [self.row, self.col], [self.size, self.threshold]],
                    [[self.whole, self.zoom, self.binary_panel], [*self.channel_panels, self.note]])

    def _fit_sliders(self, change=None):
        """Keep the window inside the image when the image or the window size changes."""
        img = self.images[self.source.value]
        H, W = img.shape[:2]
        if self.size.value > min(H, W):
            self.size.value = min(H, W)            # a window no larger than the image
        size = self.size.value
        for slider, n in ((self.row, H), (self.col, W)):
            top = max(0, n - size)
            slider.value = min(slider.value, top)
            slider.max = top

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
        if self._drawn_source != self.source.value:
            self._draw_static(img)
        shown = self.gray if self.channel.value == "gray" else img[..., "RGB".index(self.channel.value)]
        self.window = shown[r : r + k, c : c + k].copy()

        # the whole image with the window framed (the frame drawn on the pixels shown)
        pixels = self._small.copy()
        s = pixels.shape[0] / H
        x0, y0 = int(np.floor(c * s)), int(np.floor(r * s))
        x1, y1 = max(x0 + 1, int(np.ceil((c + k) * s)) - 1), max(y0 + 1, int(np.ceil((r + k) * s)) - 1)
        if min(pixels.shape[:2]) > 60 and x1 - x0 < 10:      # a small window on a large image: a frame
            grow = (10 - (x1 - x0)) // 2 + 2                  # you can see, around it
            x0, y0, x1, y1 = x0 - grow, y0 - grow, x1 + grow, y1 + grow
        cv2.rectangle(pixels, (x0, y0), (x1, y1), (255, 215, 0), 2 if min(pixels.shape[:2]) > 60 else 1)
        self.whole.show_rgb(pixels, scale=self._scale)

        cmap = CHANNEL_CMAPS.get(self.channel.value, "gray")
        colors = colorize(self.window, cmap, 0, 255)
        cell = max(20, 280 // k)                       # 16 cells of 20 pixels still leave room beside
        canvas = CellCanvas(colors, cell=cell, grid="#bbbbbb", row_labels=range(r, r + k), col_labels=range(c, c + k))
        canvas.values(self.window, colors, size=max(9, min(14, cell // 3)))
        self.zoom.show_canvas(canvas)
        self.zoom.title = f"{self.channel.value} values, rows {r}-{r + k - 1}, cols {c}-{c + k - 1}"

        if self.binary_panel.changed(self.source.value, self.threshold.value):
            self.binary = np.where(self.gray > self.threshold.value, 255, 0).astype(np.uint8)
            self.binary_panel.show(self.binary, "gray", 0, 255, scale=self._scale)
            share = (self.binary == 255).mean()
            self.binary_panel.title = f"gray > {self.threshold.value} \u2192 255 ({share:.0%} white)"

    def _draw_static(self, img):
        """Draw what depends only on the chosen image (done again only when the image changes)."""
        self._drawn_source = self.source.value
        self.gray = to_gray(img)
        H, W = img.shape[:2]
        self._scale = max(1, 200 // max(H, W))        # a 28x28 digit is enlarged, pixel for pixel
        small = fit_side(img, self.SIDE)
        self._small = np.ascontiguousarray(small if img.ndim == 3 else np.repeat(small[..., None], 3, axis=2))
        kind = f"colour {img.shape}" if img.ndim == 3 else f"gray {img.shape}"
        self.whole.title = f"{self.source.value}: {kind}, {img.dtype}"
        if img.ndim == 3:
            scale = max(1, 150 // max(H, W))
            for i, (p, name) in enumerate(zip(self.channel_panels, "RGB")):
                p.hide(False)
                p.show(img[..., i], CHANNEL_CMAPS[name], 0, 255, scale=scale)
                p.title = f"{name} channel: img[..., {i}]"
            self.channel_panels[3].hide(False)
            self.channel_panels[3].show_rgb(img, scale=scale)
            self.channel_panels[3].title = "all three together"
            self.note.value = ""
        else:
            for p in self.channel_panels:
                p.hide()
            self.note.value = ('<div style="padding:20px;font-size:14px">a grayscale image has one channel: '
                               "no R, G, B to split</div>")
