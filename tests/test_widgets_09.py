"""Notebook 09's optimiser explorer: moving a control redraws the path, and the path is the update rule's."""
import numpy as np
import pytest

from helpers.widgets.optimizers import START, SURFACES, OptimizerExplorer, optimizer_path


def pictures(explorer) -> list:
    return [v for v in explorer.snapshot() if isinstance(v, bytes)]


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
        optimizer_path(A, "RMSprop", 0.1)
