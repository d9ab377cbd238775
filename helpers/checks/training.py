"""Self-checks for notebooks 07 (training) and 08 (architectures)."""
from __future__ import annotations

import numpy as np

from . import compare_array, report

__all__ = ["check_relu_backward", "check_leaky_relu_backward", "check_avgpool_backward", "check_dense_weight_grad",
           "check_conv_params", "check_dense_params", "check_receptive_field"]


def check_relu_backward(fn) -> bool:
    """Is ``fn(grad, x)`` the backward pass of ReLU: grad where x > 0, and 0 elsewhere?"""
    if fn is ... or fn is None:
        return report(False, "Define your function first, then pass it (without calling it) to the check.")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 5))
    x[0, 0, :2] = 0.0
    g = rng.standard_normal(x.shape)
    try:
        got = fn(g.copy(), x.copy())
    except Exception as exc:   # the learner's code
        return report(False, f"your function raised {type(exc).__name__}: {exc}")
    if got is None:
        return report(False, "your function returned None: end it with `return` and the gradient.")
    right = g * (x > 0)
    ok, why = compare_array(got, right, "your gradient")
    if ok:
        return report(True, "the gradient flows where x > 0 and is blocked elsewhere.")
    got = np.asarray(got, dtype=float)
    if got.shape == x.shape:
        if np.allclose(got, np.maximum(g, 0)):
            return report(False, "you applied ReLU to the gradient. The mask comes from the layer's *input* x: "
                                 "grad * (x > 0).")
        if np.allclose(got, (x > 0).astype(float)):
            return report(False, "that is the local derivative alone; multiply it by the incoming gradient "
                                 "(chain rule).")
        if np.allclose(got, g * (x >= 0)):
            return report(False, "almost: at x = 0 exactly, use 0 (ReLU is flat on the left), so x > 0, not x >= 0.")
    return report(False, why)


def _call(fn, *args):
    """Run the learner's function; (result, None) or (None, a message saying what went wrong)."""
    if fn is ... or fn is None or not callable(fn):
        return None, "Define your function first, then pass it (without calling it) to the check."
    try:
        got = fn(*(a.copy() for a in args))
    except Exception as exc:   # the learner's code
        return None, f"your function raised {type(exc).__name__}: {exc}"
    if got is None:
        return None, "your function returned None: end it with `return` and the gradient."
    return got, None


def check_leaky_relu_backward(fn, slope: float = 0.1) -> bool:
    """Is ``fn(grad, x)`` the backward pass of a leaky ReLU (y = x if x > 0, else slope * x)?"""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 5))
    x[0, 0, :2] = 0.0
    g = rng.standard_normal(x.shape)
    got, problem = _call(fn, g, x)
    if problem:
        return report(False, problem)
    right = g * np.where(x > 0, 1.0, slope)
    ok, why = compare_array(got, right, "your gradient")
    if ok:
        return report(True, f"the gradient passes unchanged where x > 0 and is scaled by {slope} elsewhere.")
    got = np.asarray(got, dtype=float)
    if got.shape == x.shape:
        if np.allclose(got, np.where(x > 0, 1.0, slope)):
            return report(False, "that is the local slope alone; multiply it by the incoming gradient (chain rule).")
        if np.allclose(got, g * (x > 0)):
            return report(False, "that is the plain ReLU's backward pass: on the negative side the slope is "
                                 f"{slope}, not 0.")
        if np.allclose(got, np.where(g > 0, g, slope * g)):
            return report(False, "the choice between the two slopes depends on the layer's *input* x, not on the "
                                 "gradient.")
        if np.allclose(got, g * np.where(x >= 0, 1.0, slope)):
            return report(False, f"almost: at x = 0 exactly, use the slope {slope} (x > 0, not x >= 0).")
    return report(False, why)


def check_avgpool_backward(fn) -> bool:
    """Is ``fn(grad)`` the backward pass of 2x2 average pooling with stride 2, for one feature map?"""
    rng = np.random.default_rng(12)
    g = rng.standard_normal((3, 4))
    got, problem = _call(fn, g)
    if problem:
        return report(False, problem)
    right = np.kron(g, np.ones((2, 2))) / 4
    ok, why = compare_array(got, right, "your dL/dx")
    if ok:
        return report(True, "each of the 4 pixels of a window gets a quarter of its output's gradient.")
    got = np.asarray(got, dtype=float)
    if got.shape == right.shape:
        if np.allclose(got, right * 4):
            return report(False, "each pixel counts for a quarter of the mean: divide by 4.")
        if np.allclose(got[::2, ::2], g) or np.allclose(got[::2, ::2], g / 4):
            return report(False, "that sends the gradient to one pixel per window, like max pooling; with the mean "
                                 "every pixel of the window gets its share.")
    elif got.shape == g.shape:
        return report(False, f"dL/dx has the shape of the input, {right.shape}: twice as tall and wide as grad.")
    return report(False, why)


def check_dense_weight_grad(answer, x, grad) -> bool:
    """Is ``answer`` dL/dW = x.T @ grad for a dense layer y = x @ W + b?"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with your expression for dL/dW.")
    x, grad = np.asarray(x, dtype=float), np.asarray(grad, dtype=float)
    right = x.T @ grad
    ok, why = compare_array(answer, right, "your dL/dW")
    if ok:
        return report(True, f"dL/dW = x.T @ grad, shape {right.shape} like W: each weight W[i, j] collects "
                            "x[n, i] * grad[n, j] over the batch.")
    a = np.asarray(answer, dtype=float) if np.ndim(answer) else None
    if a is not None and a.shape == right.T.shape and np.allclose(a, right.T):
        return report(False, "transposed: dL/dW must have W's shape (inputs, outputs). Use x.T @ grad.")
    if a is not None and a.shape == right.shape and np.allclose(a, right / len(x)):
        return report(False, "no division here: the loss already averages over the batch, so grad carries the 1/N.")
    return report(False, why)


def check_conv_params(answer, in_channels: int, out_channels: int, k: int) -> bool:
    """Is ``answer`` the number of parameters of a conv layer (weights and biases)?"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a number (or an expression).")
    right = k * k * in_channels * out_channels + out_channels
    if answer == right:
        return report(True, f"{k} x {k} x {in_channels} x {out_channels} weights + {out_channels} biases = {right:,}.")
    if answer == k * k * in_channels * out_channels:
        return report(False, "you have the weights; every filter also has one bias.")
    if answer == k * k * out_channels + out_channels:
        return report(False, f"each filter spans all {in_channels} input channels, not one.")
    return report(False, f"{answer} is not it. Count per filter: k x k x (input channels) weights + 1 bias.")


def check_dense_params(answer, n_in: int, n_out: int) -> bool:
    """Is ``answer`` the parameter count of a dense layer n_in -> n_out?"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a number (or an expression).")
    right = n_in * n_out + n_out
    if answer == right:
        return report(True, f"{n_in:,} x {n_out:,} weights + {n_out:,} biases = {right:,}.")
    if answer == n_in * n_out:
        return report(False, "you have the weights; add one bias per output.")
    return report(False, f"{answer} is not it: every input connects to every output, plus a bias per output.")


def check_receptive_field(answer, layers) -> bool:
    """Is ``answer`` the receptive field (in input pixels) of one output of ``layers``, a list of
    (kernel, stride) pairs?"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a number.")
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    if answer == r:
        return report(True, f"{r} x {r} input pixels.")
    naive = 1 + sum(k - 1 for k, _ in layers)
    if answer == naive:
        return report(False, "you ignored the strides: after a stride-s layer, each further tap reaches s times "
                             "farther in the input.")
    return report(False, f"{answer} is not it. Track r += (k - 1) * jump, then jump *= stride, layer by layer.")
