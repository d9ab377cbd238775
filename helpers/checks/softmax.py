"""Self-checks for notebook 06 (softmax and cross-entropy)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import compare_array, report

__all__ = ["check_softmax_function", "check_cross_entropy_value", "check_ce_gradient"]


def check_softmax_function(fn) -> bool:
    """Is ``fn(z)`` a softmax over the last axis that survives large scores and works on a batch (N, K)?

    Stable means stable row by row: a batch whose rows are far apart, [[0, 1], [-2000, -1999]], gives nan
    when the maximum of the whole batch is subtracted instead of each row's own.
    """
    from helpers.losses import softmax

    if fn is ... or fn is None:
        return report(False, "Define your function first, then pass it (without calling it) to the check.")
    cases = [
        ("the worked example [-1, 0, 3, 5]", np.array([-1.0, 0, 3, 5])),
        ("large scores [1000, 1001, 1002]", np.array([1000.0, 1001, 1002])),
        ("a batch of 3 rows of 4 scores", np.random.default_rng(0).normal(size=(3, 4)) * 5),
        # rows far apart: only a maximum taken row by row keeps the second row from underflowing to 0 / 0
        ("the batch [[0, 1], [-2000, -1999]]", np.array([[0.0, 1.0], [-2000.0, -1999.0]])),
    ]
    for name, z in cases:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                got = fn(z.copy())
        except Exception as exc:   # the learner's code
            return report(False, f"on {name} your function raised {type(exc).__name__}: {exc}")
        if got is None:
            return report(False, "your function returned None: end it with `return` and the probabilities.")
        got = np.asarray(got, dtype=float)
        if z.ndim == 2 and got.shape == z.shape and not np.all(np.isfinite(got)) and np.all(np.isfinite(got[0])):
            return report(False, f"on {name} the second row is nan: you subtracted the largest score of the whole "
                                 "batch (1), so every exponential of that row underflows to 0 and 0 / 0 is nan. Each "
                                 "row needs its own maximum: z.max(axis=-1, keepdims=True).")
        if got.shape == z.shape and not np.all(np.isfinite(got)):
            return report(False, f"on {name} you get nan or inf: exp(1000) overflows. Subtract the largest score "
                                 "before exponentiating (it cancels out).")
        if z.ndim == 2 and got.shape == z.shape and np.allclose(got.sum(), 1):
            return report(False, "on a batch you divided by the sum over *all* entries. Each row is its own "
                                 "distribution: sum with axis=-1, keepdims=True (and take the max the same way).")
        ok, why = compare_array(got, softmax(z), f"your output on {name}")
        if not ok:
            if got.shape == z.shape and not np.allclose(got.sum(axis=-1), 1):
                return report(False, why + " Your probabilities do not sum to 1: divide by the sum of the "
                                           "exponentials.")
            return report(False, why)
    return report(True, "your softmax matches helpers.losses.softmax, is stable at 1000, and handles a batch row "
                       "by row, even when its rows are 2000 apart.")


def check_cross_entropy_value(answer, probs, label: int) -> bool:
    """Is ``answer`` the cross-entropy -ln(probs[label]) of one prediction?"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with your number (or a numpy expression), then run the cell again.")
    probs = np.asarray(probs, dtype=float)
    p = float(probs[label])
    right = -math.log(p)
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return report(False, f"the loss is one number, got {answer!r}.")
    if math.isclose(value, right, rel_tol=1e-3, abs_tol=1e-4):
        return report(True, f"L = -ln(p[{label}]) = -ln({p:g}) = {right:.4f}.")
    if math.isclose(value, -right, rel_tol=1e-3):
        return report(False, "mind the sign: ln of a probability is negative, the loss is -ln(p), positive.")
    if math.isclose(value, -math.log10(p), rel_tol=1e-3):
        return report(False, "that is log base 10; cross-entropy uses the natural log, np.log.")
    if math.isclose(value, 1 - p, rel_tol=1e-3):
        return report(False, "1 - p is not the loss; take -ln(p).")
    for j, q in enumerate(probs):
        if j != label and q > 0 and math.isclose(value, -math.log(q), rel_tol=1e-3):
            return report(False, f"you used the probability of class {j}; the true class is {label}.")
    return report(False, f"{value:.4g} is not it. Only the probability of the true class matters: -ln(p[{label}]).")


def check_ce_gradient(answer, logits, label: int) -> bool:
    """Is ``answer`` the gradient of -log softmax(logits)[label] with respect to the logits?"""
    from helpers.losses import one_hot, softmax

    if answer is ... or answer is None:
        return report(False, "Replace the ... with your gradient (an array with one value per class).")
    p = softmax(np.asarray(logits, dtype=float))
    y = one_hot(label, p.size)
    right = p - y
    ok, why = compare_array(answer, right, "your gradient")
    if ok:
        return report(True, f"dL/dz = p - onehot = {np.round(right, 4)}.")
    try:
        a = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return report(False, why)
    if a.shape == right.shape:
        if np.allclose(a, y - p):
            return report(False, "the sign is flipped: the gradient is p - onehot (raising the true score lowers "
                                 "the loss, so its gradient is negative).")
        if np.allclose(a, p):
            return report(False, "almost: subtract 1 at the true class (p - onehot).")
        if np.allclose(a, -1 / p[label] * y):
            return report(False, "that is the gradient with respect to the probability p, not the score z. Chain it "
                                 "through the softmax: the result is p - onehot.")
    return report(False, why)
