"""Softmax and cross-entropy, live: score sliders, a temperature, probabilities and the loss.

:class:`SoftmaxExplorer` shows the scores, the probabilities softmax makes of them, the cross-entropy
loss of a chosen true class on the curve -ln(p), and the naive softmax (no max subtracted) next to the
stable one, which breaks once 1000 is added to every score.
"""
from __future__ import annotations

import warnings

import ipywidgets as widgets
import numpy as np

from ..losses import softmax, softmax_naive
from ._base import Explorer
from .panels import FigurePanel, font

__all__ = ["SoftmaxExplorer"]

_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")


def naive_quietly(z) -> np.ndarray:
    """:func:`helpers.losses.softmax_naive` with numpy's overflow warnings silenced (nan/inf are the point)."""
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return softmax_naive(z)


class SoftmaxExplorer(Explorer):
    """Sliders for the scores of ``len(scores)`` classes and a temperature; bars of the probabilities.

    Controls: ``score_sliders`` (one FloatSlider per class), ``temperature``, ``true_class`` (Dropdown)
    and ``add_1000`` (Checkbox). After each redraw: ``scores`` (what softmax received, including the
    1000 if ticked), ``probs`` (stable softmax with the temperature), ``naive`` (the naive formula on the
    same scores divided by the temperature) and ``loss`` = -ln(probs[true class]).

    The plots are matplotlib figures whose axes are drawn once; the bars, their numbers and the point on
    the loss curve are painted onto those pixels on every move.
    """

    def __init__(self, scores=(-1.0, 0.0, 3.0, 5.0), labels=None, true_class=3):
        super().__init__()
        K = len(scores)
        if not 2 <= K <= len(_COLORS):
            raise ValueError(f"give between 2 and {len(_COLORS)} scores, got {K}.")
        self.labels = list(labels) if labels is not None else [f"class {c}" for c in range(K)]
        opts = dict(style={"description_width": "initial"}, layout=widgets.Layout(width="400px"))  # two a row
        self.score_sliders = [
            widgets.FloatSlider(value=float(s), min=-10, max=10, step=0.5, description=f"score {name}", **opts)
            for s, name in zip(scores, self.labels)
        ]
        self.temperature = widgets.FloatSlider(value=1.0, min=0.1, max=5.0, step=0.1, description="temperature T",
                                               **opts)
        self.true_class = widgets.Dropdown(options=[(name, c) for c, name in enumerate(self.labels)],
                                           value=true_class, description="true class",
                                           layout=widgets.Layout(width="210px"))
        self.add_1000 = widgets.Checkbox(value=False, description="add 1000 to every score", indent=False,
                                         layout=widgets.Layout(width="200px"))
        self.info = widgets.HTML(value="")
        self.scores = self.probs = self.naive = self.loss = None
        self._build_plots(K)
        self.watch(*self.score_sliders, self.temperature, self.true_class, self.add_1000)
        half = (K + 1) // 2
        self.layout([self.score_sliders[:half], self.score_sliders[half:],
                     [self.temperature, self.true_class, self.add_1000], self.info],
                    [[self.plot_scores, self.plot_stable, self.plot_naive, self.plot_loss]])

    def _build_plots(self, K):
        x = np.arange(K)
        size = (2.0, 2.0)               # four side by side fit an 840-pixel output area
        self.plot_scores, self.plot_stable, self.plot_naive, self.plot_loss = (FigurePanel(figsize=size)
                                                                               for _ in range(4))
        self._axes = {}
        for plot in (self.plot_scores, self.plot_stable, self.plot_naive):
            ax = plot.figure.subplots()
            ax.set_xticks(x)
            ax.set_xticklabels([str(k) for k in range(K)])
            ax.set_xlim(-0.6, K - 0.4)
            ax.set_xlabel("class")
            ax.set_ylim(*((-10.5, 10.5) if plot is self.plot_scores else (0, 1.15)))
            self._axes[id(plot)] = ax
        self._axes[id(self.plot_scores)].axhline(0, color="black", linewidth=0.8)
        ax = self.plot_loss.figure.subplots()
        p = np.linspace(0.001, 1, 300)
        ax.plot(p, -np.log(p), color="gray")
        ax.set_ylim(0, 7)
        ax.set_xlabel("p of the true class")
        self._axes[id(self.plot_loss)] = ax
        for plot in (self.plot_scores, self.plot_stable, self.plot_naive, self.plot_loss):
            plot.freeze()

    def _bars(self, plot, heights, labels=None, framed=None, bottoms=None):
        """Paint one bar per class (0.8 wide, as matplotlib's bar) and, optionally, its number on top."""
        ax = self._axes[id(plot)]
        d = plot.paint()
        f = font(11)
        for k, h in enumerate(heights):
            base = 0.0 if bottoms is None else bottoms[k]
            x0, y0 = plot.pixel(ax, k - 0.4, base)
            x1, y1 = plot.pixel(ax, k + 0.4, base + h)
            box = [x0, min(y0, y1), x1, max(y0, y1)]
            d.rectangle(box, fill=_COLORS[k], outline="black" if k == framed else None,
                        width=2 if k == framed else 0)
            if labels is not None:
                text, colour = labels[k]
                tx, ty = plot.pixel(ax, k, min(max(base + h, 0), 1.0) + 0.02)
                d.text((tx, ty), text, fill=colour, font=f, anchor="mb")
        if bottoms is not None:                                     # the zero line, over the bars
            (x0, y0), (x1, _) = plot.pixel(ax, -0.6, 0), plot.pixel(ax, len(heights) - 0.4, 0)
            d.line([(x0, y0), (x1, y0)], fill="black", width=1)
        plot.show()

    def draw(self) -> None:
        z = np.array([s.value for s in self.score_sliders]) + (1000.0 if self.add_1000.value else 0.0)
        T, c = self.temperature.value, self.true_class.value
        if T <= 0:
            raise ValueError("the temperature must be positive.")
        self.scores = z
        self.probs = softmax(z, temperature=T)
        self.naive = naive_quietly(z / T)
        p_c = float(self.probs[c])
        self.loss = float(-np.log(p_c)) if p_c > 0 else float("inf")

        shown = z - (1000 if self.add_1000.value else 0)
        self._bars(self.plot_scores, np.abs(shown), bottoms=np.minimum(shown, 0))
        self.plot_scores.title = "scores z" + (" (+1000)" if self.add_1000.value else "")

        stable_title = "stable softmax(z)" if T == 1 else f"stable softmax(z / {T:g})"
        for plot, probs, title in ((self.plot_stable, self.probs, stable_title),
                                   (self.plot_naive, self.naive, "naive exp(z) / sum exp(z)")):
            finite = np.where(np.isfinite(probs), probs, 0.0)
            labels = [("nan", "#b00020") if not np.isfinite(v) else (f"{v:.3f}", "black") for v in probs]
            self._bars(plot, finite, labels=labels, framed=c)
            plot.title = (title + f"\nsum = {np.sum(probs):.3f}" if np.all(np.isfinite(probs))
                          else title + "\noverflow: exp(1000) = inf, inf/inf = nan")

        ax = self._axes[id(self.plot_loss)]
        d = self.plot_loss.paint()
        px, py = self.plot_loss.pixel(ax, max(p_c, 0.001), min(self.loss, -np.log(0.001)))
        d.ellipse([px - 5, py - 5, px + 5, py + 5], fill=_COLORS[c], outline="black", width=1)
        self.plot_loss.show()
        self.plot_loss.title = f"loss -ln(p) of the true class ({c})\n= -ln({p_c:.4f}) = {self.loss:.4f}"
        self.info.value = (
            f"Probabilities (T = {T:g}): " + ", ".join(f"{v:.4f}" for v in self.probs)
            + f". Loss for true class {self.labels[c]}: <b>{self.loss:.4f}</b>."
        )
