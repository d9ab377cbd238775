"""cosine_schedule's warmup, as its docstring states it and notebook 09 plots it: a linear rise to lr over
the first ``warmup`` epochs, then the same cosine as without warmup, started ``warmup`` epochs later."""
import numpy as np
import pytest

from helpers.optim import cosine_schedule


def test_warmup_rises_linearly_to_lr_then_follows_the_docstrings_cosine():
    lr, final, epochs, warmup = 2e-3, 2e-5, 18, 3
    s = cosine_schedule(lr, epochs, final_lr=final, warmup=warmup)
    rates = np.array([s(e) for e in range(1, epochs + 3)])
    np.testing.assert_allclose(rates[:warmup], lr * np.arange(1, warmup + 1) / (warmup + 1))
    assert rates[warmup] == pytest.approx(lr)                   # the top, at epoch warmup + 1
    e = np.arange(warmup + 1, epochs + 1)
    formula = final + (lr - final) * (1 + np.cos(np.pi * (e - 1 - warmup) / (epochs - 1 - warmup))) / 2
    np.testing.assert_allclose(rates[warmup:epochs], formula)
    assert rates[epochs - 1] == pytest.approx(final) and rates[epochs] == rates[epochs + 1] == pytest.approx(final)
    assert np.all(np.diff(rates[: warmup + 1]) > 0) and np.all(np.diff(rates[warmup:epochs]) < 0)


def test_no_warmup_is_the_plain_cosine_and_warmup_only_changes_the_first_epochs_and_the_pace():
    plain, warm = cosine_schedule(1.0, 10), cosine_schedule(1.0, 10, warmup=2)
    assert plain(1) == 1.0 and warm(1) == pytest.approx(1 / 3) and warm(3) == 1.0
    assert plain(10) == warm(10) == pytest.approx(0.0)
    assert all(warm(e) >= plain(e) for e in range(4, 10))      # the same descent, squeezed into fewer epochs
