"""What a trained CNN learned: its first-layer filters and their feature maps, epoch by epoch (notebook 07).

:class:`FilterExplorer` takes snapshots of the first convolution's weights saved after each epoch and
a few test images. Sliders choose the epoch and the image; the picture shows the filters (3x3 each, as
a grid) and the feature maps they produce on that image, after ReLU.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..conv import conv2d
from ..plotting import mosaic
from ._base import Explorer
from .panels import ColorBar, ImagePanel, colorize

__all__ = ["FilterExplorer"]


class FilterExplorer(Explorer):
    """Filters and feature maps of a first conv layer, with a slider over the saved epochs.

    ``snapshots``: {epoch: (W (F, 1, kh, kw), b (F,))}, epoch 0 being the random initialisation.
    ``images``: (K, H, W) uint8 or float 0..1 test images; ``labels`` optional names for their titles.
    After each redraw: ``maps`` (F, H', W'), the feature maps shown.
    """

    def __init__(self, snapshots: dict, images, labels=None, padding="same"):
        super().__init__()
        if not snapshots:
            raise ValueError("no snapshots: pass {epoch: (W, b)} saved during training.")
        self.snapshots = {int(k): (np.asarray(w), np.asarray(b)) for k, (w, b) in sorted(snapshots.items())}
        images = np.asarray(images)
        if images.ndim != 3 or len(images) == 0:
            raise ValueError(f"images must be a stack (K, H, W) of at least one gray image, got shape {images.shape}.")
        self.images = images.astype(np.float32) / 255 if images.dtype == np.uint8 else images.astype(np.float32)
        self.labels = labels
        self.padding = padding
        epochs = list(self.snapshots)
        self.epoch = widgets.SelectionSlider(options=epochs, value=epochs[-1], description="after epoch",
                                             style={"description_width": "initial"})
        self.image = widgets.IntSlider(value=0, min=0, max=len(self.images) - 1, description="test image")
        self.maps = None
        self.panel_image = ImagePanel()
        self.filters_colorbar = ColorBar("RdBu_r", -1, 1, label="weight", height=200)
        self.panel_filters = ImagePanel(colorbar=self.filters_colorbar)
        self.panel_maps = ImagePanel(max_side=2000)
        self.watch(self.epoch, self.image)
        self.layout([[self.epoch, self.image]], [[self.panel_image, self.panel_filters, self.panel_maps]])

    def draw(self) -> None:
        W, b = self.snapshots[self.epoch.value]
        x = self.images[self.image.value]
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"the filters saved after epoch {self.epoch.value} hold NaN or infinite weights: "
                             "training diverged (try a smaller learning rate).")
        with np.errstate(over="ignore", invalid="ignore"):
            maps = np.maximum(conv2d(x[None], W, b, padding=self.padding), 0)
        if not np.all(np.isfinite(maps)):
            raise ValueError(f"the feature maps after epoch {self.epoch.value} overflow (infinite values): the "
                             f"weights are too large (largest |weight| {np.abs(W).max():.3g}).")
        self.maps = maps
        if self.panel_image.changed(self.image.value):
            self.panel_image.show(x, "gray", 0, 1, scale=max(1, 140 // max(x.shape)))
            title = f"test image {self.image.value}"
            if self.labels is not None:
                title += f"\n{self.labels[self.image.value]}"
            self.panel_image.title = title
        w = W[:, 0]
        if self.panel_filters.changed(self.epoch.value):
            lim = float(np.abs(w).max()) or 1.0
            tiles = mosaic(w, cols=4)
            rgb = colorize(tiles, "RdBu_r", -lim, lim)
            rgb[np.isnan(tiles)] = (110, 110, 110)        # dark gaps: near-zero (white) weights stay apart
            self.panel_filters.show_rgb(rgb, scale=max(1, 260 // max(tiles.shape)))
            self.filters_colorbar.set_limits(-lim, lim)
            self.panel_filters.title = f"{len(w)} filters {w.shape[1]}x{w.shape[2]} (red +, blue -)"
        scaled = maps / (maps.max(axis=(1, 2), keepdims=True) + 1e-12)        # each map on its own scale
        tiles = mosaic(scaled, cols=8)
        self.panel_maps.show(tiles, "magma", 0, 1, scale=max(1, 480 // max(tiles.shape)))
        self.panel_maps.title = (f"feature maps after ReLU, epoch {self.epoch.value} (each on its own scale: "
                                 f"black 0, bright its maximum; largest {maps.max():.3g})")
