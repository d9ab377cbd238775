"""Adversarial examples: move epsilon and watch an image, its perturbation and the class probabilities (notebook 11).

:class:`AdversarialExplorer` takes a trained network, test images and their labels. One slider chooses the
image, another epsilon, how far the fast gradient sign method may move each pixel. The picture shows the
image, the perturbation (adversarial image minus image, red brighter and blue darker, on a fixed scale of
+-the slider's largest epsilon), the adversarial image, and the network's 10 class probabilities for it
beside those for the untouched image. The loss's gradient is computed once per image (10 backward passes);
a move of epsilon costs one forward pass. Laid out for an output area of about 840 x 700 pixels.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from ..adversarial import fgsm_step, loss_gradient
from ..losses import softmax
from ._base import Explorer
from .inside import _as_images, _index
from .panels import ColorBar, FigurePanel, ImagePanel

__all__ = ["AdversarialExplorer"]

SIDE = 140                # pixels of each picture (28 x 5)


class AdversarialExplorer(Explorer):
    """The fast gradient sign method on one image at a time, with an epsilon slider.

    ``model``: a trained helpers.nn.Sequential taking (N, 1, H, W) and giving (N, classes) scores.
    ``images`` (N, 1, H, W) or (N, H, W), floats 0..1 or integers 0..255; ``labels`` (N,) the true classes
    (the step raises the loss of the true class); ``class_names`` for the text. ``image``, ``epsilon``: where
    to start; ``max_epsilon``: the slider's end (and the perturbation's colour scale).

    After each redraw: ``adversarial`` (1, H, W), ``perturbation`` (1, H, W) = adversarial - image,
    ``probabilities`` (classes,) for the adversarial image and ``clean_probabilities`` for the image.
    """

    def __init__(self, model, images, labels, class_names=None, image: int = 0, epsilon: float = 0.0,
                 max_epsilon: float = 0.2):
        super().__init__()
        self.model, self.images = model, _as_images(images)
        labels = np.asarray(labels)
        if labels.shape != (len(self.images),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must hold one class index per image: {len(self.images)} images, got "
                             f"labels of shape {labels.shape} and dtype {labels.dtype}.")
        self.labels, self.class_names = labels.astype(np.int64), class_names
        image = _index(image, "image", len(self.images), f"one of the {len(self.images)} images")
        if not (isinstance(max_epsilon, (int, float, np.floating)) and 0 < max_epsilon <= 1):
            raise ValueError(f"max_epsilon must be a number in (0, 1] (pixels are 0..1), got {max_epsilon!r}.")
        if not (isinstance(epsilon, (int, float, np.floating)) and 0 <= epsilon <= max_epsilon):
            raise ValueError(f"epsilon must be a number in 0..max_epsilon = {max_epsilon}, got {epsilon!r}.")
        self.max_epsilon = float(max_epsilon)

        wide = {"description_width": "56px"}
        self.image = widgets.IntSlider(value=image, min=0, max=len(self.images) - 1, description="image",
                                       style=wide, layout=widgets.Layout(width="380px"))
        self.epsilon = widgets.FloatSlider(value=float(epsilon), min=0.0, max=self.max_epsilon, step=0.005,
                                           readout_format=".3f", description="epsilon", style=wide,
                                           layout=widgets.Layout(width="420px"))
        self.info = widgets.HTML(layout=widgets.Layout(width="800px"))
        self.panel_image = ImagePanel(width=SIDE + 12)
        self.bar = ColorBar("RdBu_r", -self.max_epsilon, self.max_epsilon, height=SIDE)
        self.panel_change = ImagePanel(colorbar=self.bar, width=SIDE + 80)
        self.panel_adversarial = ImagePanel(width=SIDE + 12)
        self.plot = self._probability_plot()
        self._grad_key, self._grad, self._clean = None, None, None
        self.watch(self.image, self.epsilon)
        self.layout([[self.image, self.epsilon], self.info],
                    [[self.panel_image, self.panel_change, self.panel_adversarial, self.plot]])

    def _probability_plot(self) -> FigurePanel:
        """Horizontal bars for the classes, axes drawn once (freeze); the bars are painted per move."""
        plot = FigurePanel(figsize=(2.6, 2.0))
        ax = plot.figure.subplots()
        n = len(self.class_names) if self.class_names is not None else int(self.model.predict(
            self.images[:1]).shape[1])
        self._n_classes, self._ax = n, ax
        ax.set_yticks(range(n), [self._name(c) for c in range(n)], fontsize=9)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=9)
        ax.tick_params(length=2)
        self._ticks = ax.get_yticklabels()
        plot.freeze()
        return plot

    def _paint_bars(self, probs, clean, y: int, said: int) -> None:
        ax, d = self._ax, self.plot.paint()
        for c in range(self._n_classes):
            x0, y0 = self.plot.pixel(ax, 0, c - 0.35)
            x1, y1 = self.plot.pixel(ax, float(probs[c]), c + 0.35)
            colour = "#d62728" if c == said and said != y else "#1f77b4"
            d.rectangle([x0, min(y0, y1), max(x0, x1), max(y0, y1)], fill=colour)
            cx, _ = self.plot.pixel(ax, float(clean[c]), c)
            d.line([(cx, min(y0, y1) - 1), (cx, max(y0, y1) + 1)], fill="black", width=2)
        x0, y0 = self.plot.pixel(ax, 0, y - 0.48)                    # the true class: framed
        x1, y1 = self.plot.pixel(ax, 1, y + 0.48)
        d.rectangle([x0, min(y0, y1), x1, max(y0, y1)], outline="black", width=1)
        self.plot.show()

    def _name(self, k: int) -> str:
        return str(k) if self.class_names is None else str(self.class_names[k])

    def _gradient(self, i: int):
        """The loss's gradient for image i and its probabilities: computed once per image."""
        if self._grad_key != i:
            self._grad, probs = loss_gradient(self.model, self.images[i:i + 1], self.labels[i])
            self._clean, self._grad_key = probs[0], i
        return self._grad, self._clean

    def draw(self) -> None:
        i, eps = self.image.value, float(self.epsilon.value)
        x = self.images[i:i + 1]
        grad, clean = self._gradient(i)
        adversarial = fgsm_step(x, grad, eps)
        self.adversarial, self.perturbation = adversarial[0], (adversarial - x)[0]
        self.clean_probabilities = clean
        self.probabilities = softmax(self.model.predict(adversarial).astype(np.float64))[0]
        y = int(self.labels[i])

        if self.panel_image.changed(i):
            self.panel_image.show(x[0, 0], "gray_r", 0, 1, nearest=True, scale=SIDE // x.shape[-1])
            self.panel_image.title = f"test image {i}\n{self._name(y)}"
        self.panel_change.show(self.perturbation[0], "RdBu_r", -self.max_epsilon, self.max_epsilon,
                               nearest=True, scale=SIDE // x.shape[-1])
        moved = float(np.abs(self.perturbation).max())
        self.panel_change.title = f"perturbation\nlargest |change| {moved:.3f}"
        self.panel_adversarial.show(self.adversarial[0], "gray_r", 0, 1, nearest=True,
                                    scale=SIDE // x.shape[-1])
        said = int(self.probabilities.argmax())
        self.panel_adversarial.title = f"image + perturbation\nsays: {self._name(said)}"

        self._paint_bars(self.probabilities, clean, y, said)
        self.plot.title = "probabilities; black lines: untouched\nimage; the true class framed"

        before = int(clean.argmax())
        verdict = "still right" if said == y else ("wrong" if before == y else "still wrong")
        line1 = (f"Epsilon {eps:.3f}: every pixel moves by {eps:.3f} along the sign of the loss's gradient "
                 f"(less where 0..1 clips it).")
        line2 = (f"Untouched: {self._name(before)} ({clean[before]:.1%}). With the step: {self._name(said)} "
                 f"({self.probabilities[said]:.1%}), {verdict}; p(true class) {clean[y]:.1%} -> "
                 f"{self.probabilities[y]:.1%}.")
        self.info.value = ('<div style="font-size:13px;line-height:1.35">' + html.escape(line1) + "<br>"
                           + html.escape(line2) + "</div>")
