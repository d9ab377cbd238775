"""Inside a trained CNN: any layer's feature maps for any test image (notebook 11).

:class:`FeatureMapExplorer` takes a trained network and test images. Controls choose the image (by its
class and which example of that class, when labels are given), the layer (any layer of the
convolutional part) and the channel; the picture shows the image with the receptive field of the
channel's strongest position outlined, that channel large with its colour bar, and every channel of the
layer side by side with the chosen one framed. It is laid out for an output area of about 840 x 700
pixels: two rows of controls, two lines of numbers, one row of pictures.
"""
from __future__ import annotations

import html
import math

import ipywidgets as widgets
import numpy as np

from ..interpret import feature_maps, receptive_field
from ..losses import softmax
from ..plotting import mosaic
from ._base import Explorer
from .panels import CellCanvas, ColorBar, ImagePanel, colorize

__all__ = ["FeatureMapExplorer"]

ALL = -1                  # the class dropdown's value for "every image, whatever its class"
SIDE = 168                # pixels of the image and of the chosen channel (28 x 6, 14 x 12, 7 x 24)
MOSAIC_SIDE = 372         # at most this many pixels for the grid of all channels


def _as_images(images) -> np.ndarray:
    """images (N, H, W) or (N, 1, H, W): uint8 or integers 0..255 (scaled to 0..1), or floats 0..1."""
    images = np.asarray(images)
    if images.dtype == bool or not (np.issubdtype(images.dtype, np.integer)
                                    or np.issubdtype(images.dtype, np.floating)):
        raise TypeError(f"images must be numbers (uint8 0..255 or floats 0..1), got dtype {images.dtype}.")
    if np.issubdtype(images.dtype, np.integer):
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ValueError(f"integer images must hold 0..255 like uint8, got values {images.min()}.."
                             f"{images.max()}; pass floats 0..1 instead.")
        images = images.astype(np.float32) / 255        # int64 0..255 as well as uint8: the same picture
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be a batch (N, 1, H, W) of at least one image, got shape {images.shape}.")
    return images.astype(np.float32)


def _index(value, name: str, n: int, what: str) -> int:
    """``value`` as an index 0..n-1, or a ValueError that says which range was allowed."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {value!r}.")
    if not 0 <= value < n:
        raise ValueError(f"{name} must be 0..{n - 1} ({what}), got {value}.")
    return int(value)


class FeatureMapExplorer(Explorer):
    """Feature maps of a trained network, layer by layer and channel by channel.

    ``model``: a trained helpers.nn.Sequential taking (N, 1, H, W). ``images``: (N, 1, H, W) or (N, H, W),
    floats 0..1 or integers 0..255 (uint8, int64: scaled to 0..1); ``labels`` (N,) ints, optional;
    ``class_names`` for the titles. ``image``, ``layer``, ``channel``: where to start (an image index
    0..N-1; a layer with feature maps, the first ReLU by default; a channel of that layer).

    With labels, the image is chosen by its class (``class_choice``, or "all classes") and which example
    of that class (``example``); without, ``example`` runs over all images. ``image_index`` is the image
    shown. After each redraw: ``maps`` (F, H', W'), the chosen layer's output for the chosen image;
    ``strongest`` (row, col) of the chosen channel's largest value; ``field`` (top, left, size) of the
    input patch that position sees (it may reach past the image's edge, into the padding);
    ``probabilities`` (classes,) for the image.
    """

    def __init__(self, model, images, labels=None, class_names=None, image: int = 0, layer: int | None = None,
                 channel: int = 0):
        super().__init__()
        images = _as_images(images)
        self.model, self.images = model, images
        self.labels = None if labels is None else self._check_labels(labels, len(images), class_names)
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
        image = _index(image, "image", len(images), f"one of the {len(images)} images")
        channel = _index(channel, "channel", self._channels[layer], f"layer {layer} has {self._channels[layer]} "
                         "channels")

        wide, narrow = {"description_width": "56px"}, widgets.Layout(width="300px")
        # which images the example slider runs over: all, or those of one class
        self._members = {ALL: np.arange(len(images))}
        class_options = [("all classes", ALL)]
        if self.labels is not None:
            for c in np.unique(self.labels):
                self._members[int(c)] = np.flatnonzero(self.labels == c)
                class_options.append((f"{self._name(int(c))} ({len(self._members[int(c)])})", int(c)))
        start_class = ALL if self.labels is None else int(self.labels[image])
        start_example = int(np.flatnonzero(self._members[start_class] == image)[0])
        self.class_choice = widgets.Dropdown(options=class_options, value=start_class, description="class",
                                             style=wide, layout=narrow)
        self.example = widgets.IntSlider(value=start_example, min=0, max=len(self._members[start_class]) - 1,
                                         description="example", style=wide, layout=widgets.Layout(width="460px"))
        self.layer = widgets.Dropdown(options=options, value=layer, description="layer", style=wide, layout=narrow)
        self.channel = widgets.IntSlider(value=channel, min=0, max=self._channels[layer] - 1, description="channel",
                                         style=wide, layout=widgets.Layout(width="460px"))
        self.info = widgets.HTML(layout=widgets.Layout(width="800px"))
        self._cache_key, self._all_maps = None, None
        self.panel_image = ImagePanel(width=SIDE + 12)
        # a signed map (a convolution's output) and a non-negative one (after ReLU or pooling) get different
        # colour maps; the colour bar's gradient is drawn once, so each has its own panel and one is hidden
        self.bar_signed = ColorBar("RdBu_r", -1, 1, height=SIDE)
        self.bar_positive = ColorBar("magma", 0, 1, height=SIDE)
        self.panel_signed = ImagePanel(colorbar=self.bar_signed, width=SIDE + 80)
        self.panel_positive = ImagePanel(colorbar=self.bar_positive, width=SIDE + 80)
        self.panel_all = ImagePanel(max_side=2000, width=MOSAIC_SIDE + 8)
        self.watch(self.class_choice, self.example, self.layer, self.channel, then=self._fit_sliders)
        choose = [self.class_choice, self.example] if self.labels is not None else [self.example]
        self.layout([choose, [self.layer, self.channel], self.info],
                    [[self.panel_image, self.panel_signed, self.panel_positive, self.panel_all]])

    @staticmethod
    def _check_labels(labels, n: int, class_names) -> np.ndarray:
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f"labels must hold one class per image: {n} images, got labels of shape "
                             f"{labels.shape}. Pass labels=y[:{n}] for images=x[:{n}].")
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be whole numbers (class indices), got dtype {labels.dtype}.")
        if labels.min() < 0 or (class_names is not None and labels.max() >= len(class_names)):
            top = "" if class_names is None else f"..{len(class_names) - 1}"
            raise ValueError(f"labels must be class indices 0{top}, got values {labels.min()}..{labels.max()}.")
        return labels.astype(np.int64)

    @property
    def image_index(self) -> int:
        """The index (into ``images``) of the image shown."""
        return int(self._members[self.class_choice.value][self.example.value])

    def _fit_sliders(self, change=None) -> None:
        if change is None:
            return
        if change["owner"] is self.layer:
            self.channel.max = self._channels[self.layer.value] - 1    # ipywidgets clips the value if it shrinks
        if change["owner"] is self.class_choice:
            self.example.value = 0                                     # first, so that max can shrink below it
            self.example.max = len(self._members[self.class_choice.value]) - 1

    def _maps_for(self, image: int) -> list:
        if self._cache_key != image:
            self._all_maps = feature_maps(self.model, self.images[image:image + 1])
            self._cache_key = image
        return self._all_maps

    def _name(self, k: int) -> str:
        return str(k) if self.class_names is None else str(self.class_names[k])

    def draw(self) -> None:
        i, layer = self.image_index, self.layer.value
        all_maps = self._maps_for(i)
        maps = all_maps[layer][1][0]
        c = _index(self.channel.value, "channel", len(maps), f"layer {layer} has {len(maps)} channels")
        m = maps[c]
        r, col = (int(v) for v in np.unravel_index(int(np.argmax(m)), m.shape))
        size, jump, start = receptive_field(self.model, layer)
        self.maps, self.strongest = maps, (r, col)
        self.field = (start + r * jump, start + col * jump, size)
        scores = all_maps[-1][1]
        self.probabilities = softmax(scores[0]) if scores.ndim == 2 else None

        # the image, with what the strongest position sees outlined: the part inside the image (a field
        # that reaches into the zero padding is cut at the image's edge, where the picture ends)
        x = self.images[i, 0]
        H, W = x.shape
        top, left = self.field[:2]
        rows = (max(top, 0), min(top + size, H))
        cols = (max(left, 0), min(left + size, W))
        self.field_inside = (rows[0], cols[0], rows[1] - rows[0], cols[1] - cols[0])
        canvas = CellCanvas(colorize(x, "gray_r", 0, 1), cell=max(1, SIDE // max(x.shape)), grid=None)
        canvas.box(rows[0], cols[0], rows[1] - rows[0], cols[1] - cols[0], color=(255, 127, 14), width=2)
        self.panel_image.show_canvas(canvas)
        title = f"test image {i}"
        if self.labels is not None:
            title += f": {self._name(int(self.labels[i]))}"
        seen = f"{size}x{size}" if (rows[1] - rows[0], cols[1] - cols[0]) == (size, size) else \
            f"{size}x{size} (in the image: {rows[1] - rows[0]}x{cols[1] - cols[0]})"
        self.panel_image.title = f"{title}\norange: the {seen} pixels the strongest position sees"

        # the chosen channel, large, on a symmetric scale if the layer's values are signed
        signed = bool(maps.min() < 0)
        lim = float(np.abs(m).max()) or 1.0
        panel, other = (self.panel_signed, self.panel_positive) if signed else (self.panel_positive, self.panel_signed)
        cmap, lo = ("RdBu_r", -lim) if signed else ("magma", 0.0)
        canvas = CellCanvas(colorize(m, cmap, lo, lim), cell=max(1, SIDE // max(m.shape)), grid=None)
        canvas.box(r, col, color=(44, 160, 44), width=2)
        panel.show_canvas(canvas)
        panel.colorbar.set_limits(lo, lim)
        panel.title = (f"layer {layer}, channel {c} ({m.shape[0]}x{m.shape[1]})\n"
                       f"max {m.max():.2f} at ({r}, {col}) (green)")
        panel.hide(False)
        other.hide(True)

        # every channel of the layer, each on its own scale, the chosen one framed; a square-ish grid
        scale = np.abs(maps).max(axis=(1, 2), keepdims=True) + 1e-12
        cols_grid = math.ceil(math.sqrt(len(maps)))
        tiles = mosaic(maps / scale, cols=cols_grid, gap=1)
        h, w = m.shape
        canvas = CellCanvas(colorize(tiles, cmap, -1 if signed else 0, 1), cell=max(1, MOSAIC_SIDE // max(tiles.shape)),
                            grid=None)
        rr, cc = divmod(c, cols_grid)
        canvas.box(rr * (h + 1) - 0.5, cc * (w + 1) - 0.5, h + 1, w + 1, color=(44, 160, 44), width=2)
        self.panel_all.show_canvas(canvas)
        self.panel_all.title = f"all {len(maps)} channels of layer {layer}, each on its own scale"

        # two lines of numbers; no break inside a class name or a number ("(100.0%)" never alone on a line)
        zeros = float(np.mean(maps == 0))
        lines = [f"Layer {layer} ({self.model.layers[layer].label}): {len(maps)} channels of {h}x{w}; "
                 f"{zeros:.0%} of its values are 0.",
                 f"Channel {c}: max {m.max():.3f}, mean {m.mean():.3f}."]
        if self.probabilities is not None:
            k = int(self.probabilities.argmax())
            lines[1] += f" The network says: {self._name(k)} ({self.probabilities[k]:.1%})."
        self.info.value = ('<div style="font-size:13px;line-height:1.35">'
                           + "<br>".join(self._keep_together(line) for line in lines) + "</div>")

    def _keep_together(self, line: str) -> str:
        """HTML for one line of text whose class name and percentage do not break apart."""
        text = html.escape(line)
        if self.probabilities is not None:
            k = int(self.probabilities.argmax())
            said = html.escape(f"{self._name(k)} ({self.probabilities[k]:.1%})")
            text = text.replace(said, said.replace(" ", "&nbsp;"))
        return text
