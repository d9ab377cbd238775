"""Self-checks for notebook 09 (training well): momentum, batch normalisation, early stopping, flips."""
from __future__ import annotations

import numpy as np

from . import call_learner as _call
from . import compare_array, largest_difference, report

__all__ = ["check_momentum_step", "check_batchnorm_forward", "check_batchnorm_param_grads",
           "check_early_stopping", "check_flip"]


def check_momentum_step(fn) -> bool:
    """Is ``fn(w, v, g, lr, mu)`` one step of SGD with momentum, returning (new w, new v)?

    v <- mu * v - lr * g,   w <- w + v
    """
    rng = np.random.default_rng(3)
    w, v, g = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)
    lr, mu = 0.1, 0.9
    got, why = _call(fn, w.copy(), v.copy(), g.copy(), lr, mu)
    if why:
        return report(False, why)
    if not (isinstance(got, tuple) and len(got) == 2):
        return report(False, "return two arrays, the new weights and the new velocity: `return w, v`.")
    v_new = mu * v - lr * g
    w_new = w + v_new
    ok_w, why_w = compare_array(got[0], w_new, "your new w")
    ok_v, why_v = compare_array(got[1], v_new, "your new v")
    if ok_w and ok_v:
        return report(True, "the velocity remembers past gradients (mu of it survives each step) and the weights "
                            "move by the velocity.")
    gw, gv = np.asarray(got[0], float), np.asarray(got[1], float)
    if gw.shape == w.shape and np.allclose(gw, w - lr * g):
        return report(False, "that is plain SGD: update v first (v = mu * v - lr * g), then move w by v.")
    if gw.shape == w.shape and np.allclose(gw, w + v):
        return report(False, "w moved by the old velocity: update v first, then add the new v to w.")
    if gv.shape == v.shape and np.allclose(gv, mu * v + g):
        return report(False, "that is PyTorch's form, v = mu * v + g and w -= lr * v, where the velocity leaves "
                             "the learning rate out. Here the velocity carries it: v = mu * v - lr * g, then "
                             "w += v (the same steps while lr is constant, not when it changes).")
    if gv.shape == v.shape and np.allclose(gv, mu * v + lr * g):
        return report(False, "the sign: the velocity goes *down* the gradient, v = mu * v - lr * g.")
    return report(False, why_v if not ok_v else why_w)


def _differs(got, right, name: str) -> str:
    """Where an array answer differs most, with enough digits to see the difference."""
    got, right = np.asarray(got, dtype=float), np.asarray(right, dtype=float)
    index = largest_difference(got, right)
    a, b = got[index], right[index]
    digits = 4
    while digits < 15 and f"{a:.{digits}g}" == f"{b:.{digits}g}":
        digits += 1
    return f"{name} differs at index {index}: got {a:.{digits}g}, expected {b:.{digits}g}."


def check_batchnorm_forward(fn) -> bool:
    """Is ``fn(x, gamma, beta, eps)`` batch normalisation of x (N, D) in training mode?

    The check passes eps = 0.1, large enough that leaving eps out, or adding it outside the square root,
    changes the output visibly (with 1e-5 those differ from the right answer in the 6th digit).
    """
    rng = np.random.default_rng(5)
    x = rng.normal(3, 2, (8, 4))
    gamma, beta, eps = rng.normal(1, 0.3, 4), rng.normal(0, 1, 4), 0.1
    got, why = _call(fn, x.copy(), gamma, beta, eps)
    if why:
        return report(False, why)
    mean, var = x.mean(axis=0), x.var(axis=0)
    right = (x - mean) / np.sqrt(var + eps) * gamma + beta
    ok, why = compare_array(got, right, "your output")
    if not ok and "differs at" in why:
        why = _differs(got, right, "your output")
    if ok:
        return report(True, "each feature (column) has mean beta and standard deviation gamma over the batch.")
    a = np.asarray(got, dtype=float)
    if a.shape == x.shape:
        if np.allclose(a, (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
                       * gamma + beta):
            return report(False, "you normalised each example (row, axis=1); batch normalisation normalises each "
                                 "feature over the batch: axis=0.")
        if np.allclose(a, (x - mean) / np.sqrt(var + eps)):
            return report(False, "normalised, but gamma and beta are missing: y = xhat * gamma + beta.")
        if np.allclose(a, (x - mean) / np.sqrt(x.var(axis=0, ddof=1) + eps) * gamma + beta):
            return report(False, "use the batch's own variance (divide by N, np.var's default), not ddof=1.")
        if np.allclose(a, (x - mean) / (var + eps) * gamma + beta):
            return report(False, "divide by the standard deviation, sqrt(var + eps), not by the variance.")
        if np.allclose(a, (x - mean) / np.sqrt(var) * gamma + beta):
            return report(False, "eps is missing: divide by sqrt(var + eps). eps keeps the division safe when a "
                                 "feature barely varies over the batch.")
        if np.allclose(a, (x - mean) / (np.sqrt(var) + eps) * gamma + beta):
            return report(False, "eps goes inside the square root: sqrt(var + eps), not sqrt(var) + eps.")
        if np.allclose(a, (x - mean) / np.sqrt(var + 1e-5) * gamma + beta):
            return report(False, "use the eps argument the function receives, not a number of your own.")
    return report(False, why)


def check_batchnorm_param_grads(fn) -> bool:
    """Is ``fn(g, xhat)`` the pair (dL/dgamma, dL/dbeta) of batch normalisation, for g = dL/dy (N, D)?"""
    rng = np.random.default_rng(6)
    g, xhat = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    got, why = _call(fn, g.copy(), xhat.copy())
    if why:
        return report(False, why)
    if not (isinstance(got, tuple) and len(got) == 2):
        return report(False, "return two arrays: `return dgamma, dbeta`.")
    dgamma, dbeta = (g * xhat).sum(axis=0), g.sum(axis=0)
    ok_g, why_g = compare_array(got[0], dgamma, "your dgamma")
    ok_b, why_b = compare_array(got[1], dbeta, "your dbeta")
    if ok_g and ok_b:
        return report(True, "y = gamma * xhat + beta: beta's gradient sums g over the batch, gamma's sums g * xhat.")
    a0, a1 = np.asarray(got[0], float), np.asarray(got[1], float)
    if a0.shape == dbeta.shape and a1.shape == dgamma.shape and np.allclose(a0, dbeta) and np.allclose(a1, dgamma):
        return report(False, "swapped: return dgamma first, then dbeta.")
    if a0.shape == (6, 3) or a1.shape == (6, 3):
        return report(False, "gamma and beta have one value per feature: sum over the batch (axis=0).")
    if a1.shape == dbeta.shape and np.allclose(a1, g.mean(axis=0)):
        return report(False, "sum over the batch, not the mean: each example adds its share to the loss's gradient.")
    return report(False, why_g if not ok_g else why_b)


def check_early_stopping(fn) -> bool:
    """Is ``fn(val_losses, patience)`` the (1-based) epoch whose weights early stopping keeps, and the epoch at
    which it stops: ``(best_epoch, stop_epoch)``?"""
    losses = [0.60, 0.45, 0.41, 0.43, 0.40, 0.42, 0.44, 0.45, 0.39]
    got, why = _call(fn, list(losses), 2)
    if why:
        return report(False, why)
    if not (isinstance(got, tuple) and len(got) == 2):
        return report(False, "return two whole numbers: `return best_epoch, stop_epoch`.")
    if tuple(int(v) for v in got) == (5, 7):
        got_b, why_b = _call(fn, [0.5, 0.4, 0.3], 2)
        if why_b:
            return report(False, why_b)
        if tuple(int(v) for v in got_b) != (3, 3):
            return report(False, f"when the loss keeps falling, training runs to the end and keeps the last epoch: "
                                 f"for [0.5, 0.4, 0.3] expected (3, 3), got {got_b}.")
        # comparing each loss with the previous epoch's instead of the best so far also gives (5, 7) above
        got_c, why_c = _call(fn, [0.5, 0.6, 0.55, 0.52, 0.7, 0.8], 2)
        if why_c:
            return report(False, why_c)
        if not (isinstance(got_c, tuple) and len(got_c) == 2):
            return report(False, "return two whole numbers: `return best_epoch, stop_epoch`.")
        if tuple(int(v) for v in got_c) == (4, 6):
            return report(False, "you compared each loss with the previous epoch's; compare it with the best so far. "
                                 "On [0.5, 0.6, 0.55, 0.52, 0.7, 0.8] with patience 2, 0.55 and 0.52 beat the epoch "
                                 "before them but not epoch 1's 0.5: expected (1, 3), got (4, 6).")
        if tuple(int(v) for v in got_c) != (1, 3):
            return report(False, f"for [0.5, 0.6, 0.55, 0.52, 0.7, 0.8] with patience 2 expected (1, 3) (nothing "
                                 f"beats epoch 1's 0.5), got {got_c}.")
        return report(True, "epoch 5 was the best; epochs 6 and 7 did not beat it (patience 2), so training stops "
                            "at epoch 7 and restores epoch 5's weights (the 0.39 of epoch 9 is never seen).")
    if tuple(int(v) for v in got) == (9, 9):
        return report(False, "that looks at every epoch; early stopping stops once `patience` epochs in a row "
                             "have not beaten the best so far.")
    if tuple(int(v) for v in got) == (3, 5):
        return report(False, "an epoch that beats the best so far resets the count: epoch 5 (0.40) beats epoch 3.")
    if tuple(int(v) for v in got) in ((4, 6), (4, 7)):
        return report(False, "epochs count from 1: the first loss is epoch 1.")
    return report(False, f"got {got}. Walk through the losses keeping the best one and how many epochs ago it was.")


def check_flip(fn) -> bool:
    """Is ``fn(x)`` every image of the batch x (N, H, W) mirrored left-right?"""
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    got, why = _call(fn, x.copy())
    if why:
        return report(False, why)
    ok, why = compare_array(got, x[:, :, ::-1], "your flipped batch")
    if ok:
        return report(True, "reversing the last axis (the columns) mirrors each image left-right.")
    a = np.asarray(got)
    if a.shape == x.shape and np.array_equal(a, x[:, ::-1, :]):
        return report(False, "that is upside down: reverse the columns (last axis), not the rows.")
    if a.shape == x.shape and np.array_equal(a, x[::-1]):
        return report(False, "that reversed the order of the images; reverse each image's columns: x[:, :, ::-1].")
    return report(False, why)


def check_rmsprop_step(fn) -> bool:
    """Is ``fn(w, s, g, lr, rho, eps)`` one step of RMSProp, returning (new w, new s)?

    s <- rho * s + (1 - rho) * g**2,   w <- w - lr * g / (sqrt(s) + eps)

    The check passes eps = 0.1 and gradients of about 0.1, so that eps inside the root, or left out,
    changes the step visibly.
    """
    rng = np.random.default_rng(7)
    w, g = rng.standard_normal(5), rng.standard_normal(5) * 0.1
    s = rng.uniform(0.001, 0.02, 5)
    lr, rho, eps = 0.01, 0.9, 0.1
    got, why = _call(fn, w.copy(), s.copy(), g.copy(), lr, rho, eps)
    if why:
        return report(False, why)
    if not (isinstance(got, tuple) and len(got) == 2):
        return report(False, "return two arrays, the new weights and the new running mean: `return w, s`.")
    s_new = rho * s + (1 - rho) * g**2
    w_new = w - lr * g / (np.sqrt(s_new) + eps)
    ok_w, why_w = compare_array(got[0], w_new, "your new w", atol=1e-9)
    ok_s, why_s = compare_array(got[1], s_new, "your new s", atol=1e-9)
    if ok_w and ok_s:
        return report(True, "s is a running mean of the squared gradients (old ones fade by rho each step), and "
                            "each weight's step is its gradient divided by the root of its own s.")
    try:
        gw, gs = np.asarray(got[0], dtype=float), np.asarray(got[1], dtype=float)
    except (TypeError, ValueError):
        return report(False, why_s if not ok_s else why_w)
    near = lambda a, b: a.shape == b.shape and np.allclose(a, b, atol=1e-9)   # noqa: E731
    if near(gs, s + g**2):
        return report(False, "that is AdaGrad's sum, s + g**2, which only grows: RMSProp keeps a running mean, "
                             "s = rho * s + (1 - rho) * g**2.")
    if near(gs, rho * s + g**2):
        return report(False, "the new squared gradient needs its weight (1 - rho): s = rho * s + (1 - rho) * g**2.")
    if not ok_s:
        return report(False, why_s)
    if near(gw, w - lr * g / (np.sqrt(s) + eps)):
        return report(False, "w moved with the old s: update s first, then divide by the root of the new s.")
    if near(gw, w - lr * g / np.sqrt(s_new + eps)):
        return report(False, "eps goes outside the root, added to sqrt(s): lr * g / (np.sqrt(s) + eps).")
    if near(gw, w - lr * g / (s_new + eps)):
        return report(False, "divide by the square *root* of s (a typical gradient's size), not by s.")
    if near(gw, w - lr * g / np.sqrt(s_new)):
        return report(False, "add eps to the root: it keeps the step finite where s is (almost) 0.")
    if near(gw, w + lr * g / (np.sqrt(s_new) + eps)):
        return report(False, "the sign: the weights go *down* the gradient, w - lr * g / (...).")
    return report(False, why_w)


__all__ += ["check_rmsprop_step"]


def check_update_ratio(fn) -> bool:
    """Is ``fn(w_before, w_after)`` the update-to-weight ratio ||w_after - w_before|| / ||w_before||?

    The norms are over the whole tensor (every entry of a kernel or weight matrix at once), not entry by entry.
    """
    rng = np.random.default_rng(11)
    w = rng.standard_normal((4, 3, 3, 3))
    step = rng.standard_normal(w.shape) * 1e-3 * (1 + rng.uniform(0, 4, w.shape))
    got, why = _call(fn, w.copy(), w + step)
    if why:
        return report(False, why)
    try:
        value = float(got)
    except (TypeError, ValueError):
        return report(False, f"return one number (a float), not {type(got).__name__}.")
    right = np.linalg.norm(step) / np.linalg.norm(w)
    if np.isclose(value, right, rtol=1e-6):
        return report(True, f"{value:.3g}: the size of this step is about a thousandth of the size of the "
                            "weights, the rule of thumb's ratio.")
    hints = {
        "you divided the weights' norm by the update's: the update goes on top.": np.linalg.norm(w)
        / np.linalg.norm(step),
        "that is the ratio of squared norms (or sums of squares): take the square roots, np.linalg.norm.":
            (step**2).sum() / (w**2).sum(),
        "that is a mean of per-entry ratios: divide the norm of the whole update by the norm of the whole "
        "tensor instead (one entry near zero would make a per-entry ratio huge).": np.mean(np.abs(step / w)),
        "you divided by the norm of the weights *after* the step: use the weights before it.":
            np.linalg.norm(step) / np.linalg.norm(w + step),
    }
    for hint, value_wrong in hints.items():
        if np.isclose(value, value_wrong, rtol=1e-6):
            return report(False, hint)
    return report(False, f"got {value:.4g}, expected {right:.4g}: ||w_after - w_before|| / ||w_before||.")


__all__ += ["check_update_ratio"]
