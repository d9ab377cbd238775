"""Softmax and cross-entropy, live: score sliders, a temperature, probabilities and the loss.

:class:`SoftmaxExplorer` shows the scores, the probabilities softmax makes of them, the cross-entropy
loss of a chosen true class on the curve -ln(p), and the naive softmax (no max subtracted) next to the
stable one, which breaks once 1000 is added to every score.
"""
from __future__ import annotations

import warnings

import ipywidgets as widgets
import numpy as np

from helpers.losses import softmax, softmax_naive

from ._base import Explorer

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
    """

    def __init__(self, scores=(-1.0, 0.0, 3.0, 5.0), labels=None, true_class=3):
        super().__init__(figsize=(11, 3.6))
        K = len(scores)
        if not 2 <= K <= len(_COLORS):
            raise ValueError(f"give between 2 and {len(_COLORS)} scores, got {K}.")
        self.labels = list(labels) if labels is not None else [f"class {c}" for c in range(K)]
        opts = dict(continuous_update=False, style={"description_width": "initial"})
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
        half = (K + 1) // 2
        self._finish([
            widgets.HBox(self.score_sliders[:half]), widgets.HBox(self.score_sliders[half:]),
            widgets.HBox([self.temperature, self.true_class, self.add_1000]), widgets.HBox([self.info]),
        ])   # in boxes: _finish observes only widgets with a value, and info must not trigger a redraw
        for c in (*self.score_sliders, self.temperature, self.true_class, self.add_1000):
            c.observe(self.update, names="value")

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
        K = z.size
        x = np.arange(K)
        colors = [_COLORS[k] for k in range(K)]

        fig = self.figure
        fig.clear()
        ax_s, ax_p, ax_n, ax_l = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1.2, 1.2, 1]})
        ax_s.bar(x, z - (1000 if self.add_1000.value else 0), color=colors)
        ax_s.axhline(0, color="black", linewidth=0.8)
        ax_s.set_title("scores z" + (" (+1000)" if self.add_1000.value else ""), fontsize=10)
        ax_s.set_ylim(-10.5, 10.5)

        for ax, probs, title in ((ax_p, self.probs, "stable softmax(z)" if T == 1 else f"stable softmax(z / {T:g})"),
                                 (ax_n, self.naive, "naive exp(z) / sum exp(z)")):
            finite = np.where(np.isfinite(probs), probs, 0.0)
            bars = ax.bar(x, finite, color=colors)
            bars[c].set_edgecolor("black")
            bars[c].set_linewidth(2)
            for k, v in enumerate(probs):
                ax.text(k, min(finite[k], 1.0) + 0.02, "nan" if not np.isfinite(v) else f"{v:.3f}",
                        ha="center", va="bottom", fontsize=8, color="#b00020" if not np.isfinite(v) else "black")
            ax.set_ylim(0, 1.15)
            ax.set_title(title + f"\nsum = {np.sum(probs):.3f}" if np.all(np.isfinite(probs))
                         else title + "\noverflow: exp(1000) = inf, inf/inf = nan", fontsize=10)
        for ax in (ax_s, ax_p, ax_n):
            ax.set_xticks(x)
            ax.set_xticklabels([str(k) for k in range(K)])
            ax.set_xlabel("class")

        p = np.linspace(0.001, 1, 300)
        ax_l.plot(p, -np.log(p), color="gray")
        ax_l.plot([max(p_c, 0.001)], [min(self.loss, -np.log(0.001))], "o", color=colors[c], markersize=8,
                  markeredgecolor="black")
        ax_l.set_xlabel(f"p of the true class ({c})")
        ax_l.set_ylim(0, 7)
        ax_l.set_title(f"loss -ln(p) = -ln({p_c:.4f})\n= {self.loss:.4f}", fontsize=10)
        self.info.value = (
            f"Probabilities (T = {T:g}): " + ", ".join(f"{v:.4f}" for v in self.probs)
            + f". Loss for true class {self.labels[c]}: <b>{self.loss:.4f}</b>."
        )
