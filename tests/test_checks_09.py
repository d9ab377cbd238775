"""Notebook 09's self-checks accept right answers and catch the usual mistakes with a specific hint."""
import re

import numpy as np
import pytest

from helpers.checks.training_well import (
    check_batchnorm_forward,
    check_batchnorm_param_grads,
    check_early_stopping,
    check_flip,
    check_momentum_step,
)


def verdict(capsys, fn, check):
    ok = check(fn)
    return bool(ok), capsys.readouterr().out


def momentum_right(w, v, g, lr, mu):
    v = mu * v - lr * g
    return w + v, v


@pytest.mark.parametrize("fn, hint", [
    (momentum_right, None),
    (lambda w, v, g, lr, mu: (w - lr * g, v), "plain SGD"),
    (lambda w, v, g, lr, mu: (w + v, mu * v - lr * g), "old velocity"),
    (lambda w, v, g, lr, mu: (w + mu * v + lr * g, mu * v + lr * g), "sign"),
    (lambda w, v, g, lr, mu: w, "two arrays"),
    (..., "Define your function"),
    (lambda w, v, g, lr, mu: 1 / 0, "ZeroDivisionError"),
])
def test_momentum(capsys, fn, hint):
    ok, out = verdict(capsys, fn, check_momentum_step)
    assert ok is (hint is None) and (hint is None or hint in out), out


@pytest.mark.parametrize("fn, hint", [
    (lambda x, g, b, eps: (x - x.mean(0)) / np.sqrt(x.var(0) + eps) * g + b, None),
    (lambda x, g, b, eps: (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps) * g + b, "axis=0"),
    (lambda x, g, b, eps: (x - x.mean(0)) / np.sqrt(x.var(0) + eps), "gamma and beta"),
    (lambda x, g, b, eps: (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) * g + b, "ddof"),
    (lambda x, g, b, eps: (x - x.mean(0)) / (x.var(0) + eps) * g + b, "standard deviation"),
    (lambda x, g, b, eps: None, "returned None"),
])
def test_batchnorm_forward(capsys, fn, hint):
    ok, out = verdict(capsys, fn, check_batchnorm_forward)
    assert ok is (hint is None) and (hint is None or hint in out), out


@pytest.mark.parametrize("fn, hint", [
    (lambda g, xh: ((g * xh).sum(0), g.sum(0)), None),
    (lambda g, xh: (g.sum(0), (g * xh).sum(0)), "swapped"),
    (lambda g, xh: (g * xh, g), "axis=0"),
    (lambda g, xh: ((g * xh).sum(0), g.mean(0)), "not the mean"),
])
def test_batchnorm_param_grads(capsys, fn, hint):
    ok, out = verdict(capsys, fn, check_batchnorm_param_grads)
    assert ok is (hint is None) and (hint is None or hint in out), out


def early_right(losses, patience):
    best, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(losses, 1):
        if loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited == patience:
                return best_epoch, epoch
    return best_epoch, len(losses)


@pytest.mark.parametrize("fn, hint", [
    (early_right, None),
    (lambda losses, p: (int(np.argmin(losses)) + 1, len(losses)), "every epoch"),
    (lambda losses, p: (int(np.argmin(losses[:5])), 6), "count from 1"),
    (lambda losses, p: (5, 7) if len(losses) > 3 else (3, 4), "keeps falling"),
    (lambda losses, p: 5, "two whole numbers"),
])
def test_early_stopping(capsys, fn, hint):
    ok, out = verdict(capsys, fn, check_early_stopping)
    assert ok is (hint is None) and (hint is None or hint in out), out


@pytest.mark.parametrize("fn, hint", [
    (lambda x: x[:, :, ::-1], None),
    (lambda x: x[..., ::-1].copy(), None),
    (lambda x: x[:, ::-1, :], "upside down"),
    (lambda x: x[::-1], "order of the images"),
    (lambda x: x.T, "shape"),
])
def test_flip(capsys, fn, hint):
    ok, out = verdict(capsys, fn, check_flip)
    assert ok is (hint is None) and (hint is None or hint in out), out


def early_previous(losses, patience):
    """The usual mistake: each loss compared with the epoch before, not with the best so far."""
    best_epoch, waited = 1, 0
    for epoch in range(2, len(losses) + 1):
        if losses[epoch - 1] < losses[epoch - 2]:
            best_epoch, waited = epoch, 0
        else:
            waited += 1
            if waited == patience:
                return best_epoch, epoch
    return best_epoch, len(losses)


def test_early_stopping_catches_a_comparison_with_the_previous_epoch(capsys):
    assert early_previous([0.5, 0.6, 0.55, 0.52, 0.7, 0.8], 2) == (4, 6)
    assert early_right([0.5, 0.6, 0.55, 0.52, 0.7, 0.8], 2) == (1, 3)
    ok, out = verdict(capsys, early_previous, check_early_stopping)
    assert not ok and "previous epoch" in out and "best so far" in out, out


@pytest.mark.parametrize("fn, hint", [
    (lambda x, g, b, eps: (x - x.mean(0)) / np.sqrt(x.var(0)) * g + b, "eps is missing"),
    (lambda x, g, b, eps: (x - x.mean(0)) / (np.sqrt(x.var(0)) + eps) * g + b, "inside the square root"),
    (lambda x, g, b, eps: (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) * g + b, "eps argument"),
])
def test_batchnorm_forward_names_eps_when_it_is_missing_or_misplaced(capsys, fn, hint):
    ok, out = verdict(capsys, fn, check_batchnorm_forward)
    assert not ok and hint in out, out


def test_batchnorm_forward_prints_enough_digits_to_see_the_difference(capsys):
    ok, out = verdict(capsys, lambda x, g, b, eps: ((x - x.mean(0)) / np.sqrt(x.var(0) + eps) * g + b) * (1 + 1e-4),
                      check_batchnorm_forward)
    got, expected = re.search(r"got (\S+), expected (\S+)\.", out).groups()
    assert not ok and got != expected, out


def test_momentum_names_the_pytorch_form(capsys):
    def pytorch_form(w, v, g, lr, mu):
        v = mu * v + g
        return w - lr * v, v

    ok, out = verdict(capsys, pytorch_form, check_momentum_step)
    assert not ok and "PyTorch" in out and "v = mu * v - lr * g" in out, out


def rmsprop_right(w, s, g, lr, rho, eps):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / (np.sqrt(s) + eps), s


@pytest.mark.parametrize("fn, hint", [
    (rmsprop_right, None),
    (lambda w, s, g, lr, rho, eps: (w - lr * g / (np.sqrt(s + g**2) + eps), s + g**2), "AdaGrad"),
    (lambda w, s, g, lr, rho, eps: (w - lr * g / (np.sqrt(rho * s + g**2) + eps), rho * s + g**2), "(1 - rho)"),
    (lambda w, s, g, lr, rho, eps: (w - lr * g / (np.sqrt(s) + eps), rho * s + (1 - rho) * g**2), "old s"),
    (lambda w, s, g, lr, rho, eps: (w - lr * g / np.sqrt(rho * s + (1 - rho) * g**2 + eps),
                                    rho * s + (1 - rho) * g**2), "outside the root"),
    (lambda w, s, g, lr, rho, eps: (w - lr * g / (rho * s + (1 - rho) * g**2 + eps),
                                    rho * s + (1 - rho) * g**2), "root"),
    (lambda w, s, g, lr, rho, eps: (w - lr * g / np.sqrt(rho * s + (1 - rho) * g**2),
                                    rho * s + (1 - rho) * g**2), "add eps"),
    (lambda w, s, g, lr, rho, eps: (w + lr * g / (np.sqrt(rho * s + (1 - rho) * g**2) + eps),
                                    rho * s + (1 - rho) * g**2), "sign"),
    (lambda w, s, g, lr, rho, eps: (w - lr * g, s), "differs"),                 # plain SGD, s unchanged
    (lambda w, s, g, lr, rho, eps: rmsprop_right(w, s, g, lr, rho, eps)[0], "two arrays"),
    (lambda w, s, g, lr, rho, eps: (w - lr * g / (np.sqrt(rho * s + (1 - rho) * g**2) + eps), "s"), "array"),
    (..., "Define your function"),
])
def test_rmsprop(capsys, fn, hint):
    from helpers.checks.training_well import check_rmsprop_step

    ok, out = verdict(capsys, fn, check_rmsprop_step)
    assert ok is (hint is None) and (hint is None or hint in out), out
    assert out.startswith("Correct:" if hint is None else "Not yet:"), out


def test_rmsprop_check_refuses_an_answer_off_in_the_sixth_digit(capsys):
    """A nearly right step (the learning rate 0.1% off) is refused: the check is not too lenient."""
    from helpers.checks.training_well import check_rmsprop_step

    def close(w, s, g, lr, rho, eps):
        return rmsprop_right(w, s, g, lr * 1.001, rho, eps)

    ok, out = verdict(capsys, close, check_rmsprop_step)
    assert not ok and "your new w differs" in out, out


def _ratio_right(before, after):
    return np.linalg.norm(after - before) / np.linalg.norm(before)


@pytest.mark.parametrize("fn, hint", [
    (_ratio_right, None),
    (lambda b, a: np.linalg.norm(b) / np.linalg.norm(a - b), "on top"),
    (lambda b, a: ((a - b) ** 2).sum() / (b**2).sum(), "square roots"),
    (lambda b, a: np.mean(np.abs((a - b) / b)), "per-entry"),
    (lambda b, a: np.linalg.norm(a - b) / np.linalg.norm(a), "before it"),
    (lambda b, a: np.linalg.norm(a - b), "expected"),
    (lambda b, a: "0.001", "expected"),
    (lambda b, a: [1, 2], "one number"),
    (..., "Define your function"),
])
def test_update_ratio(capsys, fn, hint):
    from helpers.checks.training_well import check_update_ratio

    ok, out = verdict(capsys, fn, check_update_ratio)
    assert ok is (hint is None) and (hint is None or hint in out), out
