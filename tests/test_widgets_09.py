"""Notebook 09's optimiser explorer: moving a control redraws the path, and the path is the update rule's."""
import numpy as np
import pytest
from _explorers import pictures

from helpers.widgets.optimizers import OPTIMIZERS, START, SURFACES, OptimizerExplorer, optimizer_path


def moved(explorer, control, value):
    """Set a control; return whether every picture changed."""
    before = pictures(explorer)
    control.value = value
    assert explorer.message.value == "", explorer.message.value
    return all(a != b for a, b in zip(before, pictures(explorer)))


def test_explorer_redraws_for_every_control():
    e = OptimizerExplorer()
    assert all(p.startswith(b"\x89PNG") for p in pictures(e)) and len(pictures(e)) == 2
    assert len(e.path) == 51 and not e.diverged
    assert len(e.controls) == 5
    for control, value in [(e.optimizer, "momentum"), (e.lr, 0.01), (e.momentum, 0.5), (e.steps, 80),
                           (e.surface, "round bowl"), (e.optimizer, "Adam")]:
        assert moved(e, control, value), control.description
    assert "Adam" in e.info.value and len(e.path) == 81


def test_sgd_path_is_the_update_rule_and_too_large_a_rate_diverges():
    A = SURFACES["narrow valley"]
    path = optimizer_path(A, "SGD", 0.05, steps=3)
    w = START.copy()
    for k in range(1, 4):
        w = w - 0.05 * A @ w
        np.testing.assert_allclose(path[k], w)
    e = OptimizerExplorer(optimizer="SGD", lr=0.05)
    assert not e.diverged and e.losses[-1] < e.losses[0]
    e.lr.value = 0.1                      # above 2 / 25, the valley's stability limit for SGD
    assert e.diverged and "diverged" in e.info.value


def test_momentum_reaches_the_minimum_faster_than_sgd_along_the_valley():
    A = SURFACES["narrow valley"]
    loss = lambda p: 0.5 * p[-1] @ A @ p[-1]   # noqa: E731
    sgd = loss(optimizer_path(A, "SGD", 0.07, steps=50))
    mom = loss(optimizer_path(A, "momentum", 0.03, 0.7, steps=50))
    assert mom < sgd / 10
    with pytest.raises(ValueError, match="optimizer"):
        optimizer_path(A, "Adadelta", 0.1)


def _by_hand(A, name, lr, mu, steps, rho=0.99, b2=0.999, eps=1e-8):
    """Each update rule written out on its own (as notebook 09 writes them), not with helpers.optim."""
    w, v, s, m = START.copy(), np.zeros(2), np.zeros(2), np.zeros(2)
    path = [w]
    for t in range(1, steps + 1):
        g = A @ w
        if name == "SGD":
            w = w - lr * g
        elif name in ("momentum", "Nesterov"):
            v = mu * v - lr * g
            w = w + (mu * v - lr * g if name == "Nesterov" else v)
        elif name == "AdaGrad":
            s = s + g * g
            w = w - lr * g / (np.sqrt(s) + 1e-10)
        elif name == "RMSProp":
            s = rho * s + (1 - rho) * g * g
            w = w - lr * g / (np.sqrt(s) + eps)
        else:
            m, s = mu * m + (1 - mu) * g, b2 * s + (1 - b2) * g * g
            w = w - lr * (m / (1 - mu**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
        path.append(w)
    return np.array(path)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_choice_steps_helpers_optim_and_follows_its_update_rule(name, monkeypatch):
    """The path is helpers.optim's (its step() is what moves the point) and equals the rule written out."""
    import helpers.optim

    A = SURFACES["narrow valley"]
    np.testing.assert_allclose(optimizer_path(A, name, 0.03, 0.7, steps=30), _by_hand(A, name, 0.03, 0.7, 30),
                               rtol=1e-9, atol=1e-12)
    steps = []
    for cls in (helpers.optim.SGD, helpers.optim.AdaGrad, helpers.optim.RMSProp, helpers.optim.Adam):
        monkeypatch.setattr(cls, "step", lambda self, _step=cls.step: (steps.append(1), _step(self))[1])
    optimizer_path(A, name, 0.03, 0.7, steps=30)
    assert len(steps) == 30, f"{name}: the path did not come from helpers.optim's step()"
    e = OptimizerExplorer(optimizer=name, lr=0.03, momentum=0.7, steps=30)
    assert e.message.value == "" and f"<b>{name}</b>" in e.info.value
    assert ("0.70" in e.info.value) is (name in ("momentum", "Nesterov", "Adam"))


def test_nesterov_damps_what_momentum_overshoots_and_at_momentum_0_is_sgd():
    A = SURFACES["narrow valley"]
    loss = lambda p: 0.5 * p[-1] @ A @ p[-1]   # noqa: E731
    assert loss(optimizer_path(A, "Nesterov", 0.03, 0.9, steps=50)) < loss(optimizer_path(A, "momentum", 0.03, 0.9,
                                                                                         steps=50)) / 10
    np.testing.assert_array_equal(optimizer_path(A, "Nesterov", 0.05, 0.0, 20), optimizer_path(A, "SGD", 0.05, 0, 20))
    e = OptimizerExplorer(optimizer="Nesterov", momentum=0.0)
    assert e.message.value == "" and not e.diverged


# -- bad settings: a clear error naming the argument, never a silently clamped slider -------------------
@pytest.mark.parametrize("kwargs, error, words", [
    (dict(optimizer="Adadelta"), ValueError,
     "optimizer must be one of 'SGD', 'momentum', 'Nesterov', 'AdaGrad', 'RMSProp', 'Adam'"),
    (dict(surface="saddle"), ValueError, "surface must be one of 'narrow valley', 'round bowl'"),
    (dict(lr=-1), ValueError, "lr must be between"),
    (dict(lr=10.0), ValueError, "lr must be between"),
    (dict(lr="0.1"), TypeError, "lr must be a number"),
    (dict(momentum=1), ValueError, "momentum must be between 0 and 0.99"),
    (dict(momentum=-0.5), ValueError, "momentum must be between"),
    (dict(steps=0), ValueError, "steps must be between 1 and 200"),
    (dict(steps=500), ValueError, "steps must be between 1 and 200"),
    (dict(steps=2.5), TypeError, "steps must be a whole number"),
])
def test_bad_settings_are_named_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        OptimizerExplorer(**kwargs)


def test_optimizer_path_refuses_a_fractional_or_zero_number_of_steps():
    for steps in (0, 2.5, True):
        with pytest.raises(ValueError, match="steps must be a whole number"):
            optimizer_path(SURFACES["round bowl"], "SGD", 0.1, steps=steps)


def test_the_learning_rates_the_notebook_suggests_are_on_the_slider():
    """The text asks for SGD past 0.08, momentum, and Adam at 0.03 and at 1: each is a value of the slider,
    exactly, and the path drawn is the update rule's at that rate."""
    e = OptimizerExplorer(optimizer="Adam")
    values = [v for _, v in e.lr.options]
    for lr in (0.001, 0.01, 0.03, 0.05, 0.07, 0.08, 0.1, 0.3, 1.0, 3.0):
        assert lr in values, lr
    assert values == sorted(values) and len(values) >= 40
    ratios = np.diff(np.log10(values))
    assert ratios.max() < 0.2                         # at most a factor 1.6 between neighbours
    e.lr.value = 0.03
    assert e.message.value == ""
    np.testing.assert_allclose(e.path, optimizer_path(SURFACES["narrow valley"], "Adam", 0.03, 0.9, 50))
    assert "0.03" in e.info.value
    assert 0.04 in [v for _, v in OptimizerExplorer(lr=0.04).lr.options]   # a start off the grid is kept


def _px(widget) -> int:
    width = widget.layout.width
    assert width and width.endswith("px"), f"{getattr(widget, 'description', widget)} has no width in px"
    return int(width[:-2])


def test_the_explorer_fits_an_840_by_700_output_area():
    """Controls and both plots side by side in JupyterLab's output area (about 840 px wide), without
    wrapping: every row's widths (plus a few pixels of margin each) add up to less than 840 px, the steps
    slider shares its row, and the controls and plots together are under 700 px tall."""
    e = OptimizerExplorer()
    children = list(e.widget.children)
    assert e.info in children
    rows = children[: children.index(e.info) + 1]     # the rows of controls (then the message, the panels,
                                                      # the line under every explorer)
    height = 0
    for r in rows:
        if r is e.info:
            height += 24
            continue
        items = list(getattr(r, "children", [r]))
        assert sum(_px(w) + 4 for w in items) <= 840, [w.description for w in items]
        height += 36
    steps_row = next(r for r in rows if e.steps in getattr(r, "children", ()))
    assert len(steps_row.children) > 1
    assert _px(e.momentum) >= 600 and _px(e.lr) >= 600              # long tracks: fine steps to drag
    widths = [p.image.width for p in (e.contours, e.loss_plot)]
    heights = [p.image.height for p in (e.contours, e.loss_plot)]
    assert sum(int(w) + 8 for w in widths) <= 840, widths          # each panel has an 8 px margin
    assert height + 24 + 22 + 20 + max(int(h) for h in heights) <= 700, (height, heights)
