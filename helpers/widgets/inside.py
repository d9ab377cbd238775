"""Inside a trained CNN: any layer's feature maps for any test image (notebook 11).

:class:`FeatureMapExplorer` takes a trained network and test images. Controls choose the image, the
layer (any layer of the convolutional part) and the channel; the picture shows the image with the
receptive field of the channel's strongest position outlined, that channel large with its colour bar,
and every channel of the layer side by side with the chosen one framed.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..interpret import feature_maps, receptive_field
from ..losses import softmax
from ._base import Explorer
from .filters import mosaic
from .panels import CellCanvas, ColorBar, ImagePanel, colorize

__all__ = ["FeatureMapExplorer"]


class FeatureMapExplorer(Explorer):
    """Feature maps of a trained network, layer by layer and channel by channel.

    ``model``: a trained helpers.nn.Sequential taking (N, 1, H, W). ``images``: (N, 1, H, W) floats 0..1
    (or uint8 (N, H, W)); ``labels`` (N,) ints, optional; ``class_names`` for the titles.
    After each redraw: ``maps`` (F, H', W'), the chosen layer's output for the chosen image;
    ``strongest`` (row, col) of the chosen channel's largest value; ``field`` (top, left, size) of the
    input patch that position sees; ``probabilities`` (classes,) for the image.
    """

    def __init__(self, model, images, labels=None, class_names=None, image: int = 0, layer: int | None = None,
                 channel: int = 0):
        super().__init__()
        images = np.asarray(images)
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / 255
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"images must be a batch (N, 1, H, W) of at least one image, got shape {images.shape}.")
        self.model, self.images = model, images.astype(np.float32)
        self.labels = None if labels is None else np.asarray(labels)
        self.class_names = class_names
        # the layers whose output is a stack of feature maps: the convolutional part
        shape, options, self._channels = (1, *images.shape[1:]), [], {}
        for i, lay in enumerate(model.layers):
            shape = lay.output_shape(shape)
            if len(shape) != 4:
                break
            options.append((f"{i}: {lay.label}", i))
            self._channels[i] = shape[1]
        if not options:
            raise ValueError("the model has no layer whose output is a stack of feature maps.")
        first_relu = next((i for _, i in options if model.layers[i].label == "ReLU"), options[0][1])
        layer = first_relu if layer is None else layer
        if layer not in self._channels:
            raise ValueError(f"layer must be one of {list(self._channels)} (the layers with feature maps), "
                             f"got {layer}.")
        self.image = widgets.IntSlider(value=int(image), min=0, max=len(images) - 1, description="test image")
        self.layer = widgets.Dropdown(options=options, value=layer, description="layer")
        self.channel = widgets.IntSlider(value=0, min=0, max=self._channels[layer] - 1, description="channel")
        self.channel.value = min(int(channel), self.channel.max)
        self.info = widgets.HTML()
        self._cache_key, self._all_maps = None, None
        self.panel_image = ImagePanel()
        # a signed map (a convolution's output) and a non-negative one (after ReLU or pooling) get different
        # colour maps; the colour bar's gradient is drawn once, so each has its own panel and one is hidden
        self.bar_signed = ColorBar("RdBu_r", -1, 1, height=196)
        self.bar_positive = ColorBar("magma", 0, 1, height=196)
        self.panel_signed = ImagePanel(colorbar=self.bar_signed)
        self.panel_positive = ImagePanel(colorbar=self.bar_positive)
        self.panel_all = ImagePanel(max_side=2000)
        self.watch(self.image, self.layer, self.channel, then=self._fit_channel_slider)
        self.layout([[self.image, self.layer, self.channel], self.info],
                    [[self.panel_image, self.panel_signed, self.panel_positive, self.panel_all]])

    def _fit_channel_slider(self, change=None) -> None:
        if change is not None and change["owner"] is self.layer:
            self.channel.max = self._channels[self.layer.value] - 1    # ipywidgets clips the value if it shrinks

    def _maps_for(self, image: int) -> list:
        if self._cache_key != image:
            self._all_maps = feature_maps(self.model, self.images[image:image + 1])
            self._cache_key = image
        return self._all_maps

    def _name(self, k: int) -> str:
        return str(k) if self.class_names is None else str(self.class_names[k])

    def draw(self) -> None:
        i, layer = self.image.value, self.layer.value
        all_maps = self._maps_for(i)
        maps = all_maps[layer][1][0]
        c = min(self.channel.value, len(maps) - 1)
        m = maps[c]
        r, col = (int(v) for v in np.unravel_index(int(np.argmax(m)), m.shape))
        size, jump, start = receptive_field(self.model, layer)
        self.maps, self.strongest = maps, (r, col)
        self.field = (start + r * jump, start + col * jump, size)
        scores = all_maps[-1][1]
        self.probabilities = softmax(scores[0]) if scores.ndim == 2 else None

        # the image, with what the strongest position sees outlined
        x = self.images[i, 0]
        cell = max(1, 196 // max(x.shape))
        canvas = CellCanvas(colorize(x, "gray_r", 0, 1), cell=cell, grid=None)
        canvas.box(self.field[0], self.field[1], size, size, color=(255, 127, 14), width=2)
        self.panel_image.show_canvas(canvas)
        title = f"test image {i}"
        if self.labels is not None:
            title += f": {self._name(int(self.labels[i]))}"
        self.panel_image.title = f"{title}\norange: the {size}x{size} pixels the\nstrongest position sees"

        # the chosen channel, large, on a symmetric scale if the layer's values are signed
        signed = bool(maps.min() < 0)
        lim = float(np.abs(m).max()) or 1.0
        panel, other = (self.panel_signed, self.panel_positive) if signed else (self.panel_positive, self.panel_signed)
        cmap, lo = ("RdBu_r", -lim) if signed else ("magma", 0.0)
        cell = max(1, 196 // max(m.shape))
        canvas = CellCanvas(colorize(m, cmap, lo, lim), cell=cell, grid=None)
        canvas.box(r, col, color=(44, 160, 44), width=2)
        panel.show_canvas(canvas)
        panel.colorbar.set_limits(lo, lim)
        panel.title = (f"layer {layer}, channel {c} ({m.shape[0]}x{m.shape[1]})\n"
                       f"max {m.max():.2f} at ({r}, {col}) (green)")
        panel.hide(False)
        other.hide(True)

        # every channel of the layer, each on its own scale, the chosen one framed
        scale = np.abs(maps).max(axis=(1, 2), keepdims=True) + 1e-12
        cols = 8
        tiles = mosaic(maps / scale, cols=cols, gap=1)
        h, w = m.shape
        cell = max(1, round(440 / max(tiles.shape)))
        canvas = CellCanvas(colorize(tiles, cmap, -1 if signed else 0, 1), cell=cell, grid=None)
        rr, cc = divmod(c, cols)
        canvas.box(rr * (h + 1) - 0.5, cc * (w + 1) - 0.5, h + 1, w + 1, color=(44, 160, 44), width=2)
        self.panel_all.show_canvas(canvas)
        self.panel_all.title = f"all {len(maps)} channels of layer {layer}, each on its own scale"

        zeros = float(np.mean(maps == 0))
        text = (f"layer {layer} ({self.model.layers[layer].label}): {len(maps)} channels of {h}x{w}; "
                f"{zeros:.0%} of its values are 0. Channel {c}: max {m.max():.3f}, mean {m.mean():.3f}.")
        if self.probabilities is not None:
            k = int(self.probabilities.argmax())
            text += f" The network says: {self._name(k)} ({self.probabilities[k]:.1%})."
        self.info.value = text
