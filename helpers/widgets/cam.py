"""Where the network looks, by class: choose an image, a class, a network and a method (notebook 11).

:class:`CamExplorer` takes trained networks by name, test images and their labels. Controls choose the
image, the class whose score is explained (its true class by default), the network and the method:

- **saliency**: |d score / d pixel|, 28x28 (helpers.interpret.input_gradient, saliency_map);
- **Grad-CAM**: the last feature maps weighted by the mean gradient of the score, through ReLU
  (helpers.cam.grad_cam), at that layer's size (7x7 for notebook 07's CNN and 10's ResNet);
- **CAM**: the classifier's weights applied to the maps, through ReLU like Grad-CAM (helpers.cam.cam); only
  for a network whose global average pooling feeds its Dense classifier directly (a red message otherwise).

The picture shows the image, the map at its own resolution (one colour scale from 0 to its largest value,
with the colour bar), and the map upsampled (bilinear) over the image. A move costs one forward and one
backward pass of one image (a few milliseconds): nothing needs precomputing. Laid out for an output area
of about 840 x 700 pixels.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from ..cam import cam, grad_cam, last_feature_maps, upsample
from ..interpret import input_gradient, saliency_map
from ..losses import softmax
from ..nn import Dense, GlobalAvgPool2D, Sequential
from ._base import Explorer
from .inside import _as_images, _index
from .panels import ColorBar, ImagePanel, colorize

__all__ = ["CamExplorer", "METHODS"]

SIDE = 140                # pixels of each picture (28 x 5)
METHODS = ("saliency", "Grad-CAM", "CAM")
TRUE_CLASS = -1           # the class control's first option: each image's own class


def has_cam(model) -> bool:
    """True if the model's global average pooling feeds its Dense classifier directly (CAM is defined)."""
    return len(model.layers) >= 2 and isinstance(model.layers[-2], GlobalAvgPool2D) \
        and isinstance(model.layers[-1], Dense)


class CamExplorer(Explorer):
    """Saliency, Grad-CAM and CAM for one image, one class and one network at a time.

    ``networks``: {name: trained helpers.nn.Sequential}, each taking (N, 1, H, W) and giving (N, classes).
    ``images`` (N, 1, H, W) or (N, H, W), floats 0..1 or integers 0..255; ``labels`` (N,) the true classes;
    ``class_names`` for the text. ``image``, ``network`` (a name), ``method`` (one of :data:`METHODS`) and
    ``target`` (a class index, or None for each image's true class): where to start.

    After each redraw: ``map`` (h, w) the map shown (>= 0), ``overlay`` (H, W) it upsampled to the image,
    ``probabilities`` (classes,) and ``explained`` the class index explained.
    """

    def __init__(self, networks, images, labels, class_names=None, image: int = 0, network: str | None = None,
                 method: str = "Grad-CAM", target: int | None = None):
        super().__init__()
        if not isinstance(networks, dict) or not networks:
            raise TypeError("networks must be a dict {name: trained helpers.nn.Sequential}, e.g. {'CNN': net}.")
        for name, model in networks.items():
            if not isinstance(model, Sequential):
                raise TypeError(f"networks[{name!r}] must be a helpers.nn.Sequential, got {type(model).__name__}.")
        self.networks, self.images = dict(networks), _as_images(images)
        labels = np.asarray(labels)
        if labels.shape != (len(self.images),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must hold one class index per image: {len(self.images)} images, got "
                             f"labels of shape {labels.shape} and dtype {labels.dtype}.")
        self.labels = labels.astype(np.int64)
        n_classes = int(next(iter(self.networks.values())).predict(self.images[:1]).shape[1])
        if class_names is not None and len(class_names) != n_classes:
            raise ValueError(f"class_names must name the {n_classes} classes, got {len(class_names)} names.")
        self.class_names, self.n_classes = class_names, n_classes
        image = _index(image, "image", len(self.images), f"one of the {len(self.images)} images")
        network = next(iter(self.networks)) if network is None else network
        if network not in self.networks:
            raise ValueError(f"network must be one of {list(self.networks)}, got {network!r}.")
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
        target = TRUE_CLASS if target is None else _index(target, "target", n_classes, "a class index")

        wide = {"description_width": "56px"}
        self.image = widgets.IntSlider(value=image, min=0, max=len(self.images) - 1, description="image",
                                       style=wide, layout=widgets.Layout(width="380px"))
        self.target = widgets.Dropdown(options=[("its true class", TRUE_CLASS)]
                                       + [(self._name(c), c) for c in range(n_classes)],
                                       value=target, description="class", style=wide,
                                       layout=widgets.Layout(width="260px"))
        self.network = widgets.Dropdown(options=list(self.networks), value=network, description="network",
                                        style=wide, layout=widgets.Layout(width="300px"))
        self.method = widgets.ToggleButtons(options=list(METHODS), value=method, description="method",
                                            style={**wide, "button_width": "88px"})
        self.info = widgets.HTML(layout=widgets.Layout(width="800px"))
        self.panel_image = ImagePanel(width=SIDE + 12)
        self.bar = ColorBar("magma", 0, 1, height=SIDE)
        self.panel_map = ImagePanel(colorbar=self.bar, width=SIDE + 80)
        self.panel_overlay = ImagePanel(width=SIDE + 12)
        self.watch(self.image, self.target, self.network, self.method)
        self.layout([[self.image, self.target], [self.network, self.method], self.info],
                    [[self.panel_image, self.panel_map, self.panel_overlay]])

    def _name(self, k: int) -> str:
        return str(k) if self.class_names is None else str(self.class_names[k])

    def _map(self, model, x, c: int, method: str):
        """(the map (h, w) >= 0, a line saying what it is) for one image x (1, C, H, W) and class c."""
        if method == "saliency":
            grad, _ = input_gradient(model, x, c)
            return saliency_map(grad)[0], "|d score / d pixel|, the largest over the colour channels"
        layer = last_feature_maps(model, x.shape)
        where = f"layer {layer} ({model.layers[layer].label})"
        if method == "Grad-CAM":
            maps, _, _ = grad_cam(model, x, c, layer=layer)
            return maps[0], f"Grad-CAM at {where}"
        if not has_cam(model):
            raise ValueError(f"CAM needs global average pooling right before the classifier; "
                             f"{self.network.value} ends in {model.layers[-2].label}, {model.layers[-1].label}. "
                             "Choose Grad-CAM (CAM's generalisation) or a GAP-headed network.")
        maps, _ = cam(model, x, c)
        return np.maximum(maps[0], 0), f"CAM (its negative part cut off, as in Grad-CAM) at {where}"

    def draw(self) -> None:
        i, method, name = self.image.value, self.method.value, self.network.value
        model, x, y = self.networks[name], self.images[i:i + 1], int(self.labels[i])
        c = y if self.target.value == TRUE_CLASS else int(self.target.value)
        m, what = self._map(model, x, c, method)
        self.map, self.explained = m, c
        self.probabilities = softmax(model.predict(x).astype(np.float64))[0]
        H, W = x.shape[-2:]
        self.overlay = upsample(m[None], (H, W))[0]
        top = float(m.max())
        vmax = top if top > 0 else 1.0

        if self.panel_image.changed(i):
            self.panel_image.show(x[0, 0], "gray_r", 0, 1, nearest=True, scale=SIDE // W)
            self.panel_image.title = f"test image {i}\n{self._name(y)}"
        h, w = m.shape
        self.panel_map.show(m, "magma", 0, vmax, nearest=True, scale=max(1, SIDE // w))
        self.bar.set_limits(0, vmax)
        self.panel_map.title = f"{method}, {h}x{w}\nfor {self._name(c)}"
        # the map upsampled to the picture's size, laid over the image (ink dark)
        heat = colorize(upsample(m[None], SIDE)[0], "magma", 0, vmax).astype(np.float32)
        gray = colorize(np.repeat(np.repeat(x[0, 0], SIDE // W, 0), SIDE // W, 1), "gray_r", 0, 1)
        self.panel_overlay.show_rgb((0.6 * heat + 0.4 * gray).astype(np.uint8))
        self.panel_overlay.title = "over the image\n(bilinear)"

        said = int(self.probabilities.argmax())
        cell = f"each cell covers {H // h}x{W // w} pixels" if (h, w) != (H, W) else "one value per pixel"
        line1 = f"{name} says {self._name(said)} ({self.probabilities[said]:.1%}); true class {self._name(y)}."
        line2 = (f"Explaining {self._name(c)} (p {self.probabilities[c]:.1%}): {what}, {h}x{w}, {cell}; "
                 f"largest value {top:.3g}" + ("" if top > 0 else ": nothing positive, the map is blank") + ".")
        self.info.value = ('<div style="font-size:13px;line-height:1.35">' + html.escape(line1) + "<br>"
                           + html.escape(line2) + "</div>")
