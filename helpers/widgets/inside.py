"""Inside a trained CNN: any layer's feature maps for any test image (notebook 11).

:class:`FeatureMapExplorer` takes a trained network and test images. Controls choose the image, the
layer (any layer of the convolutional part) and the channel; the picture shows the image with the
receptive field of the channel's strongest position outlined, that channel large with its colour bar,
and every channel of the layer side by side with the chosen one framed.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle

from ..interpret import feature_maps, receptive_field
from ..losses import softmax
from ._base import Explorer
from .filters import mosaic

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
        super().__init__(figsize=(11, 4.4))
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
        self.image = widgets.IntSlider(value=int(image), min=0, max=len(images) - 1, description="test image",
                                       continuous_update=False)
        self.layer = widgets.Dropdown(options=options, value=first_relu if layer is None else layer,
                                      description="layer")
        self.channel = widgets.IntSlider(value=0, min=0, max=1, description="channel", continuous_update=False)
        self.info = widgets.HTML()
        self._cache_key, self._all_maps = None, None
        self._fit_channel_slider()
        self.channel.value = min(int(channel), self.channel.max)
        self.ax_img, self.ax_map, self.cax, self.ax_all = self.figure.subplots(
            1, 4, gridspec_kw={"width_ratios": [1, 1.2, 0.06, 2.6]})
        self.layer.observe(self._fit_channel_slider, names="value")
        self._finish([widgets.HBox([self.image, self.layer, self.channel]), self.info])
        for c in (self.image, self.layer, self.channel):     # inside a box, so _finish does not see them
            c.observe(self.update, names="value")

    def _fit_channel_slider(self, change=None) -> None:
        self.channel.max = self._channels[self.layer.value] - 1    # ipywidgets clips the value if it shrinks

    def _maps_for(self, image: int) -> list:
        if self._cache_key != image:
            self._all_maps = feature_maps(self.model, self.images[image:image + 1])
            self._cache_key = image
        return self._all_maps

    def draw(self) -> None:
        i, layer = self.image.value, self.layer.value
        all_maps = self._maps_for(i)
        maps = all_maps[layer][1][0]
        c = min(self.channel.value, len(maps) - 1)
        self.maps = maps
        m = maps[c]
        r, col = np.unravel_index(int(np.argmax(m)), m.shape)
        self.strongest = (int(r), int(col))
        size, jump, start = receptive_field(self.model, layer)
        self.field = (start + r * jump, start + col * jump, size)
        self.probabilities = softmax(all_maps[-1][1][0]) if all_maps[-1][1].ndim == 2 else None

        for ax in (self.ax_img, self.ax_map, self.ax_all, self.cax):
            ax.clear()
        for ax in (self.ax_img, self.ax_map, self.ax_all):
            ax.set_axis_off()
        name = lambda k: str(k) if self.class_names is None else self.class_names[k]   # noqa: E731
        title = f"test image {i}"
        if self.labels is not None:
            title += f": {name(int(self.labels[i]))}"
        self.ax_img.imshow(self.images[i, 0], cmap="gray_r", vmin=0, vmax=1)
        top, left, _ = self.field
        self.ax_img.add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, ec="C1", lw=2))
        self.ax_img.set_title(title + f"\norange: what the strongest\nposition sees ({size}x{size})", fontsize=9)

        signed = bool(maps.min() < 0)
        lim = float(np.abs(m).max()) or 1.0
        cmap, lo = ("RdBu_r", -lim) if signed else ("magma", 0.0)
        im = self.ax_map.imshow(m, cmap=cmap, vmin=lo, vmax=lim)
        self.ax_map.plot(col, r, "o", mfc="none", mec="C2", ms=8, mew=1.5)
        self.ax_map.set_title(f"layer {layer}, channel {c} ({m.shape[0]}x{m.shape[1]})\nmax {m.max():.2f} "
                              f"at ({r}, {col}) (green)", fontsize=9)
        self.figure.colorbar(im, cax=self.cax)

        scale = np.abs(maps).max(axis=(1, 2), keepdims=True) + 1e-12       # each channel on its own scale
        cols = 8 if len(maps) <= 32 else 16
        grid = mosaic(maps / scale, cols=cols, gap=1)
        self.ax_all.imshow(grid, cmap=cmap, vmin=-1 if signed else 0, vmax=1)
        h, w = m.shape
        rr, cc = divmod(c, cols)
        self.ax_all.add_patch(Rectangle((cc * (w + 1) - 1, rr * (h + 1) - 1), w + 1, h + 1, fill=False, ec="C2", lw=2))
        self.ax_all.set_title(f"all {len(maps)} channels of {self.model.layers[layer].label}, each on its own scale",
                              fontsize=9)

        zeros = float(np.mean(maps == 0))
        text = (f"layer {layer} ({self.model.layers[layer].label}): {len(maps)} channels of {h}x{w}; "
                f"{zeros:.0%} of its values are 0. Channel {c}: max {m.max():.3f}, mean {m.mean():.3f}.")
        if self.probabilities is not None:
            k = int(self.probabilities.argmax())
            text += f" The network says: {name(k)} ({self.probabilities[k]:.1%})."
        self.info.value = text
