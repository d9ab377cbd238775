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
from .panels import FigurePanel

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
    the loss curve are blitted onto them on every move.
    """

    def __init__(self, scores=(-1.0, 0.0, 3.0, 5.0), labels=None, true_class=3):
        super().__init__()
        K = len(scores)
        if not 2 <= K <= len(_COLORS):
            raise ValueError(f"give between 2 and {len(_COLORS)} scores, got {K}.")
        self.labels = list(labels) if labels is not None else [f"class {c}" for c in range(K)]
        opts = dict(style={"description_width": "initial"})
        self.score_sliders = [
            widgets.FloatSlider(value=float(s), min=-10, max=10, step=0.5, description=f"score {name}", **opts)
            for s, name in zip(scores, self.labels)
        ]
        self.temperature = widgets.FloatSlider(value=1.0, min=0.1, max=5.0, step=0.1, description="temperature T",
                                               **opts)
        self.true_class = widgets.Dropdown(options=[(name, c) for c, name in enumerate(self.labels)],
                                           value=true_class, description="true class")
        self.add_1000 = widgets.Checkbox(value=False, description="add 1000 to every score")
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
        colors = [_COLORS[k] for k in range(K)]
        size = (2.7, 2.3)
        self.plot_scores, self.plot_stable, self.plot_naive, self.plot_loss = (FigurePanel(figsize=size)
                                                                               for _ in range(4))
        ax = self.plot_scores.figure.subplots()
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylim(-10.5, 10.5)
        self._score_bars = ax.bar(x, np.zeros(K), color=colors, animated=True)
        self._prob_bars, self._prob_texts = [], []
        for plot in (self.plot_scores, self.plot_stable, self.plot_naive):
            a = plot.figure.axes[0] if plot.figure.axes else plot.figure.subplots()
            a.set_xticks(x)
            a.set_xticklabels([str(k) for k in range(K)])
            a.set_xlim(-0.6, K - 0.4)
            a.set_xlabel("class")
            if plot is not self.plot_scores:
                a.set_ylim(0, 1.15)
                self._prob_bars.append(a.bar(x, np.zeros(K), color=colors, animated=True))
                self._prob_texts.append([a.text(k, 0, "", ha="center", va="bottom", fontsize=8, animated=True)
                                         for k in range(K)])
        ax = self.plot_loss.figure.subplots()
        p = np.linspace(0.001, 1, 300)
        ax.plot(p, -np.log(p), color="gray")
        ax.set_ylim(0, 7)
        ax.set_xlabel("p of the true class")
        (self._loss_point,) = ax.plot([0.5], [1], "o", markersize=8, markeredgecolor="black", animated=True)
        for plot in (self.plot_scores, self.plot_stable, self.plot_naive, self.plot_loss):
            plot.freeze()

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

        for bar, v in zip(self._score_bars, z - (1000 if self.add_1000.value else 0)):
            bar.set_y(min(v, 0))
            bar.set_height(abs(v))
        self.plot_scores.show(self._score_bars)
        self.plot_scores.title = "scores z" + (" (+1000)" if self.add_1000.value else "")

        stable_title = "stable softmax(z)" if T == 1 else f"stable softmax(z / {T:g})"
        for plot, bars, texts, probs, title in (
                (self.plot_stable, self._prob_bars[0], self._prob_texts[0], self.probs, stable_title),
                (self.plot_naive, self._prob_bars[1], self._prob_texts[1], self.naive, "naive exp(z) / sum exp(z)")):
            finite = np.where(np.isfinite(probs), probs, 0.0)
            for k, (bar, text, v) in enumerate(zip(bars, texts, probs)):
                bar.set_height(finite[k])
                bar.set_edgecolor("black" if k == c else "none")
                bar.set_linewidth(2 if k == c else 0)
                text.set_y(min(finite[k], 1.0) + 0.02)
                text.set_text("nan" if not np.isfinite(v) else f"{v:.3f}")
                text.set_color("#b00020" if not np.isfinite(v) else "black")
            plot.show([*bars, *texts])
            plot.title = (title + f"\nsum = {np.sum(probs):.3f}" if np.all(np.isfinite(probs))
                          else title + "\noverflow: exp(1000) = inf, inf/inf = nan")

        self._loss_point.set_data([max(p_c, 0.001)], [min(self.loss, -np.log(0.001))])
        self._loss_point.set_color(_COLORS[c])
        self._loss_point.set_markeredgecolor("black")
        self.plot_loss.show([self._loss_point])
        self.plot_loss.title = f"loss -ln(p) of the true class ({c})\n= -ln({p_c:.4f}) = {self.loss:.4f}"
        self.info.value = (
            f"Probabilities (T = {T:g}): " + ", ".join(f"{v:.4f}" for v in self.probs)
            + f". Loss for true class {self.labels[c]}: <b>{self.loss:.4f}</b>."
        )
