"""Optimisers on a 2-D loss surface (notebook 09): pick SGD, momentum, Nesterov momentum, AdaGrad,
RMSProp or Adam, a learning rate and a momentum, and watch the path the weights take to the minimum (or
away from it). The steps are those of ``helpers.optim``'s optimisers, on the 2-D point as their only
parameter: what the explorer draws is what training a network with them does, one weight pair at a time.

:class:`OptimizerExplorer` shows the contours of the loss with the path of ``steps`` updates from a
fixed start, and the loss at each step. The surfaces are quadratics L(w) = w.A.w / 2 with their
minimum at (0, 0): a long narrow valley tilted by 30 degrees (curvature 25 across, 1 along, as in the
notebook) and a round bowl. The contours are drawn once per surface and the loss axes once per number
of steps; each redraw paints the path and the loss curve over them.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import optim
from ._base import Explorer
from .panels import FigurePanel

__all__ = ["OptimizerExplorer", "OPTIMIZERS", "SURFACES", "START", "make_optimizer", "optimizer_path"]


def _tilted(curvatures, degrees):
    a = np.deg2rad(degrees)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return R @ np.diag(curvatures) @ R.T


#: name -> the matrix A of the quadratic loss L(w) = w.A.w / 2
SURFACES = {"narrow valley": _tilted([1.0, 25.0], 30), "round bowl": _tilted([4.0, 4.0], 0)}
START = np.array([-4.0, 2.5])
_LOSS_FLOOR, _LOSS_CEILING = 1e-12, 1e14   # the loss plot's range: a diverged path ends near the top
_LIMIT = 1e6          # a path beyond this distance has diverged: stop following it
_XLIM, _YLIM = (-5.0, 5.0), (-3.5, 3.5)
OPTIMIZERS = ("SGD", "momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam")
#: the optimisers the momentum slider sets (Adam: as its beta1); the others ignore it
USES_MOMENTUM = ("momentum", "Nesterov", "Adam")
MAX_STEPS, MAX_MOMENTUM = 200, 0.99
_LR_MIN, _LR_MAX = 1e-3, 3.0      # the learning-rate slider's range


def _round(lr: float) -> float:
    return float(f"{lr:.6g}")     # 0.035, not 3.5 * 0.01 = 0.035000000000000003


def _lr_options(extra: float) -> list[tuple[str, float]]:
    """The learning-rate slider's values: 1, 1.5, 2, 2.5, ..., 5, 6, 7, 8, 9 times each power of ten
    from 0.001 to 3, and ``extra`` (the value the explorer starts at) if it is not one of them."""
    mantissas = (1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9)
    values = {_round(m * 10.0**e) for e in range(-3, 1) for m in mantissas}
    values = sorted(v for v in values | {_round(extra)} if _LR_MIN <= v <= _LR_MAX)
    return [(f"{v:g}", v) for v in values]


def _check_settings(optimizer, lr, momentum, steps, surface) -> None:
    """A clear error for a setting the explorer's controls cannot take (instead of a clamped slider)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}, got {optimizer!r}.")
    if not isinstance(surface, str) or surface not in SURFACES:
        raise ValueError(f"surface must be one of {', '.join(map(repr, SURFACES))}, got {surface!r}.")
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)):
        raise TypeError(f"lr must be a number, got {lr!r}.")
    if not _LR_MIN <= lr <= _LR_MAX:
        raise ValueError(f"lr must be between {_LR_MIN:g} and {_LR_MAX:g} (the slider's range), got {lr!r}.")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.integer, np.floating)):
        raise TypeError(f"momentum must be a number, got {momentum!r}.")
    if not 0 <= momentum <= MAX_MOMENTUM:
        raise ValueError(f"momentum must be between 0 and {MAX_MOMENTUM} (1 or more never slows down: the "
                         f"velocity would not decay), got {momentum!r}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"steps must be a whole number of steps, got {steps!r}.")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {steps!r}.")


class _Point:
    """The 2-D point w as the only parameter of a "layer", the way helpers.optim's optimisers see a
    network's weights: ``params["w"]`` changed in place by ``step()``, from ``grads["w"]``."""

    def __init__(self, w):
        self.params = {"w": np.array(w, dtype=np.float64)}
        self.grads = {}


def make_optimizer(optimizer: str, parameters, lr: float, momentum: float = 0.9, eps: float = 1e-8):
    """``helpers.optim``'s optimiser for one of the explorer's choices: "SGD", "momentum" and "Nesterov"
    are :class:`~helpers.optim.SGD` (momentum 0, ``momentum``, ``momentum`` with ``nesterov=True``);
    "AdaGrad" and "RMSProp" (rho 0.99) take no momentum; "Adam" uses ``momentum`` as its beta1.
    eps is 1e-8 (PyTorch's) for RMSProp and Adam, AdaGrad keeps its 1e-10."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}, got {optimizer!r}.")
    if optimizer == "SGD":
        return optim.SGD(parameters, lr=lr)
    if optimizer in ("momentum", "Nesterov"):
        # Nesterov with momentum 0 is plain SGD (w += 0 * v - lr * g), which SGD(nesterov=True) refuses
        return optim.SGD(parameters, lr=lr, momentum=momentum, nesterov=optimizer == "Nesterov" and momentum > 0)
    if optimizer == "AdaGrad":
        return optim.AdaGrad(parameters, lr=lr)
    if optimizer == "RMSProp":
        return optim.RMSProp(parameters, lr=lr, eps=eps)
    return optim.Adam(parameters, lr=lr, beta1=momentum, eps=eps)


def optimizer_path(A, optimizer: str, lr: float, momentum: float = 0.9, steps: int = 50, start=START,
                   eps: float = 1e-8) -> np.ndarray:
    """The points (steps + 1, 2) visited by ``helpers.optim``'s ``optimizer`` (one of :data:`OPTIMIZERS`,
    built by :func:`make_optimizer`) on L(w) = w.A.w / 2, whose gradient is A.w.

    A path that runs away (beyond 1e6) stops there.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a whole number of steps, 1 or more, got {steps!r}.")
    point = _Point(start)
    opt = make_optimizer(optimizer, [(point, "w")], lr, momentum, eps)   # checks optimizer, lr, momentum
    w = point.params["w"]                        # the optimiser changes this array in place
    path = np.empty((steps + 1, 2))
    path[0] = w
    for t in range(1, steps + 1):
        point.grads["w"] = A @ w
        opt.step()
        path[t] = w
        if not np.all(np.isfinite(w)) or np.abs(w).max() > _LIMIT:
            return path[: t + 1]
    return path


class OptimizerExplorer(Explorer):
    """Controls: ``optimizer`` (Dropdown: :data:`OPTIMIZERS`), ``lr`` (a slider over round values from 0.001
    to 3, evenly spaced on a log scale), ``momentum`` (0 to 0.99; Adam's beta1; AdaGrad and RMSProp ignore
    it), ``steps`` (1 to 200), ``surface``. A setting outside these ranges, or an unknown optimiser or
    surface, is a ValueError (or a TypeError for a wrong type) naming the argument.
    Laid out to fit an output area 840 pixels wide.

    After each redraw: ``path`` (the points visited), ``losses`` (the loss at each point),
    ``diverged`` (True if the path ran away or ended higher than it started) and ``info`` (an HTML line
    with the final loss).
    """

    def __init__(self, optimizer: str = "SGD", lr: float = 0.05, momentum: float = 0.9, steps: int = 50,
                 surface: str = "narrow valley"):
        super().__init__()
        _check_settings(optimizer, lr, momentum, steps, surface)
        # widths in pixels: the controls and both plots fit an 840 px wide output area without wrapping
        slider = dict(style={"description_width": "150px"}, layout=widgets.Layout(width="800px"))
        self.optimizer = widgets.Dropdown(options=OPTIMIZERS, value=optimizer, description="optimiser",
                                          layout=widgets.Layout(width="190px"),
                                          style={"description_width": "65px"})
        self.surface = widgets.Dropdown(options=list(SURFACES), value=surface, description="surface",
                                        layout=widgets.Layout(width="200px"),
                                        style={"description_width": "55px"})
        # the loss axes are drawn again when the number of steps changes: that slider updates on release
        self.steps = widgets.IntSlider(value=steps, min=1, max=MAX_STEPS, description="steps",
                                       continuous_update=False, layout=widgets.Layout(width="400px"),
                                       style={"description_width": "45px"})
        # round values, 1-1.5-2-...-9 in every decade: the values the notebook suggests are all on it
        self.lr = widgets.SelectionSlider(options=_lr_options(lr), value=_round(lr),
                                          description="learning rate", **slider)
        self.momentum = widgets.FloatSlider(value=momentum, min=0.0, max=MAX_MOMENTUM, step=0.01,
                                            description="momentum (Adam: beta1)", **slider)
        self.info = widgets.HTML(value="")
        self.path = self.losses = None
        self.diverged = False
        self.contours = FigurePanel("paths from the start (dot) to the minimum (star)", figsize=(4.5, 3.6))
        self.loss_plot = FigurePanel("loss at each step", figsize=(3.5, 3.6))
        self._frozen_surface = self._frozen_steps = None
        self.watch(self.optimizer, self.lr, self.momentum, self.steps, self.surface)
        self.layout([[self.optimizer, self.surface, self.steps], self.lr, self.momentum, self.info],
                    [[self.contours, self.loss_plot]])

    def _draw_contours(self, name):
        """The static part of the left panel, drawn once per surface: contours, start and minimum."""
        fig = self.contours.figure
        fig.clear()
        fig.set_layout_engine("constrained")
        ax = fig.subplots()
        g0, g1 = np.meshgrid(np.linspace(*_XLIM, 161), np.linspace(*_YLIM, 121))
        grid = np.stack([g0, g1], axis=-1)
        A = SURFACES[name]
        ax.contour(g0, g1, 0.5 * np.einsum("...i,ij,...j->...", grid, A, grid),
                   levels=np.geomspace(0.05, 150, 14), cmap="Greys", linewidths=0.8)
        ax.plot(*START, "ko")
        ax.plot(0, 0, "k*", ms=12)
        ax.set(xlim=_XLIM, ylim=_YLIM, aspect="equal", xlabel="w[0]", ylabel="w[1]")
        self._ax = ax
        self.contours.freeze()
        self._frozen_surface = name

    def _draw_loss_axes(self, steps: int) -> None:
        """The loss plot's axes, drawn once per number of steps: log scale from 1e-12 (lower losses sit on
        the bottom edge) to what a diverged path reaches."""
        fig = self.loss_plot.figure
        fig.clear()
        fig.set_layout_engine("constrained")
        bx = fig.subplots()
        bx.set_yscale("log")
        bx.set(xlim=(0, steps), ylim=(_LOSS_FLOOR, _LOSS_CEILING), xlabel="step", ylabel="loss (log scale)")
        bx.grid(alpha=0.3)
        self._bx = bx
        self.loss_plot.freeze()
        self._frozen_steps = steps

    def draw(self) -> None:
        A = SURFACES[self.surface.value]
        name = self.optimizer.value
        self.path = optimizer_path(A, name, self.lr.value, self.momentum.value, self.steps.value)
        self.losses = 0.5 * np.einsum("ni,ij,nj->n", self.path, A, self.path)
        self.diverged = len(self.path) < self.steps.value + 1 or self.losses[-1] > self.losses[0]

        if self._frozen_surface != self.surface.value:
            self._draw_contours(self.surface.value)
        d = self.contours.paint()
        shown = np.clip(self.path, [-50, -50], [50, 50])           # far-away points: drawn off the panel
        points = [self.contours.pixel(self._ax, x, y) for x, y in shown]
        d.line(points, fill=(31, 119, 180, 255), width=2)
        for px, py in points:
            d.ellipse([px - 2.5, py - 2.5, px + 2.5, py + 2.5], fill=(31, 119, 180, 255))
        self.contours.show()
        self.contours.title = f"{name}: {len(self.path) - 1} steps from the start (dot) towards the minimum (star)"

        if self._frozen_steps != self.steps.value:
            self._draw_loss_axes(self.steps.value)
        d = self.loss_plot.paint(clip=self._bx)
        curve = np.clip(self.losses, _LOSS_FLOOR, _LOSS_CEILING)
        d.line([self.loss_plot.pixel(self._bx, k, v) for k, v in enumerate(curve)], fill=(31, 119, 180, 255), width=2)
        self.loss_plot.show()
        self.loss_plot.title = "loss at each step" + (" (below 1e-12: on the bottom edge)"
                                                      if self.losses.min() < _LOSS_FLOOR else "")
        verdict = "diverged: the loss grew" if self.diverged else f"final loss {self.losses[-1]:.3g}"
        self.info.value = (f"<b>{name}</b>, learning rate {self.lr.value:.3g}"
                           + (f", {'beta1' if name == 'Adam' else 'momentum'} {self.momentum.value:.2f}"
                              if name in USES_MOMENTUM else "")
                           + f": {verdict}")
