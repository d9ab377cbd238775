"""What a trained CNN learned: its first-layer filters and their feature maps, epoch by epoch (notebook 07).

:class:`FilterExplorer` takes snapshots of the first convolution's weights saved after each epoch and
a few test images. Sliders choose the epoch and the image; the picture shows the filters (3x3 each, as
a grid) and the feature maps they produce on that image, after ReLU.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from helpers.conv import conv2d

from ._base import Explorer

__all__ = ["FilterExplorer", "mosaic"]


def mosaic(tiles: np.ndarray, cols: int = 8, gap: int = 1, fill=np.nan) -> np.ndarray:
    """Tiles (K, h, w) -> one 2-D array with the tiles in a grid of ``cols`` columns, ``gap`` pixels apart."""
    tiles = np.asarray(tiles, dtype=float)
    k, h, w = tiles.shape
    rows = -(-k // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = t
    return out


class FilterExplorer(Explorer):
    """Filters and feature maps of a first conv layer, with a slider over the saved epochs.

    ``snapshots``: {epoch: (W (F, 1, kh, kw), b (F,))}, epoch 0 being the random initialisation.
    ``images``: (K, H, W) uint8 or float 0..1 test images; ``labels`` optional names for their titles.
    After each redraw: ``maps`` (F, H', W'), the feature maps shown.
    """

    def __init__(self, snapshots: dict, images, labels=None, padding="same"):
        super().__init__(figsize=(11, 4.2))
        if not snapshots:
            raise ValueError("no snapshots: pass {epoch: (W, b)} saved during training.")
        self.snapshots = {int(k): (np.asarray(w), np.asarray(b)) for k, (w, b) in sorted(snapshots.items())}
        images = np.asarray(images)
        self.images = images.astype(np.float32) / 255 if images.dtype == np.uint8 else images.astype(np.float32)
        self.labels = labels
        self.padding = padding
        epochs = list(self.snapshots)
        self.epoch = widgets.SelectionSlider(options=epochs, value=epochs[-1], description="after epoch",
                                             continuous_update=False, style={"description_width": "initial"})
        self.image = widgets.IntSlider(value=0, min=0, max=len(self.images) - 1, description="test image",
                                       continuous_update=False)
        self.ax_img, self.ax_w, self.ax_maps = self.figure.subplots(
            1, 3, gridspec_kw={"width_ratios": [1, 1.6, 3.2]})
        self.maps = None
        self._finish([widgets.HBox([self.epoch, self.image])])
        for c in (self.epoch, self.image):     # inside a box, so _finish does not see them
            c.observe(self.update, names="value")

    def draw(self) -> None:
        W, b = self.snapshots[self.epoch.value]
        x = self.images[self.image.value]
        self.maps = np.maximum(conv2d(x[None], W, b, padding=self.padding), 0)
        for ax in (self.ax_img, self.ax_w, self.ax_maps):
            ax.clear()
            ax.set_axis_off()
        title = f"test image {self.image.value}"
        if self.labels is not None:
            title += f"\n{self.labels[self.image.value]}"
        self.ax_img.imshow(x, cmap="gray", vmin=0, vmax=1)
        self.ax_img.set_title(title, fontsize=9)
        w = W[:, 0]
        lim = float(np.abs(w).max()) or 1.0
        self.ax_w.imshow(mosaic(w, cols=4), cmap="RdBu_r", vmin=-lim, vmax=lim)
        self.ax_w.set_title(f"{len(w)} filters {w.shape[1]}x{w.shape[2]} (red +, blue -)", fontsize=9)
        maps = self.maps / (self.maps.max(axis=(1, 2), keepdims=True) + 1e-12)   # each map on its own scale
        self.ax_maps.imshow(mosaic(maps, cols=8), cmap="magma", vmin=0, vmax=1)
        self.ax_maps.set_title(f"feature maps after ReLU, epoch {self.epoch.value}", fontsize=9)
