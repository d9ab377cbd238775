"""The live plot of a training run: loss and accuracy curves, redrawn in place while fit runs.

    history = fit(model, x, y, optimizer, plot=LivePlot("CNN"))
"""
from __future__ import annotations

import numpy as np
from IPython.display import display

from .panels import FigurePanel

__all__ = ["LivePlot"]


class LivePlot:
    """Loss and accuracy curves drawn into one image that is replaced in place while training runs.

    Pass it to fit (``fit(..., plot=LivePlot("CNN"))``): it shows itself on its first update. The picture
    is a PNG in an ipywidgets.Image, drawn the way the explorers draw their plots (helpers.widgets.panels.FigurePanel),
    so the output does not grow with each update.
    """

    def __init__(self, title: str = "", figsize=(9, 3.2)):
        self.panel = FigurePanel(figsize=figsize, dpi=80)
        self.figure = self.panel.figure
        self.ax_loss, self.ax_acc = self.figure.subplots(1, 2)
        self.title = title
        self.widget = self.panel.image
        self._shown = False

    def update(self, history, steps_per_epoch: int) -> None:
        """Draw the curves of ``history`` (a helpers.training.History); shown in the notebook the first time."""
        if not self._shown:
            display(self.widget)
            self._shown = True
        ax, bx = self.ax_loss, self.ax_acc
        ax.clear()
        bx.clear()
        steps = np.arange(1, len(history.step_loss) + 1) / steps_per_epoch
        if len(steps):
            ax.plot(steps, history.step_loss, color="0.75", lw=0.6, label="each step")
            k = max(1, steps_per_epoch // 20)
            if len(steps) >= k:
                smooth = np.convolve(history.step_loss, np.ones(k) / k, mode="valid")
                ax.plot(steps[k - 1:], smooth, color="C0", lw=1.5, label="training (smoothed)")
        if history.val_loss:
            ax.plot(history.epoch, history.val_loss, "o-", color="C1", label="validation")
            bx.plot(history.epoch, history.val_acc, "o-", color="C1", label="validation")
        if history.train_acc:
            bx.plot(history.epoch, history.train_acc, "o-", color="C0", label="training")
        ax.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"{self.title} loss".strip())
        bx.set(xlabel="epoch", ylabel="accuracy", title=f"{self.title} accuracy".strip())
        for a in (ax, bx):
            if a.lines:
                a.legend(loc="best", fontsize=8)
            a.grid(alpha=0.3)
        self.panel.show()        # the axes change with the data: the whole figure is drawn
