"""Self-checks for notebook 10 (modern architectures)."""
from __future__ import annotations

import numbers

import numpy as np

from . import call_learner as _call
from . import compare_array, report

__all__ = ["check_pointwise_conv", "check_stacked_3x3", "check_gap_backward", "check_residual_backward",
           "check_separable_madds"]


def check_pointwise_conv(fn) -> bool:
    """Is ``fn(x, W, b)`` a 1x1 convolution: x (N, C, H, W), W (F, C), b (F,) -> (N, F, H, W)?"""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 4, 5))
    W = rng.standard_normal((6, 3))
    b = rng.standard_normal(6)
    got, why = _call(fn, x.copy(), W.copy(), b.copy())
    if why:
        return report(False, why)
    right = np.einsum("fc,nchw->nfhw", W, x) + b[None, :, None, None]
    ok, why = compare_array(got, right, "your output")
    if ok:
        return report(True, "at every pixel the C channel values are mixed into F new ones by the same "
                            "F x C matrix: a dense layer applied pixel by pixel.")
    got = np.asarray(got, dtype=float)
    if got.shape == right.shape and np.allclose(got, right - b[None, :, None, None]):
        return report(False, "the bias is missing: add b[f] to every pixel of output map f.")
    if got.shape == (2, 4, 5, 6):
        return report(False, "the channels are last: move them back to axis 1, (N, F, H, W).")
    if got.shape == right.shape and np.allclose(got, np.einsum("cf,nchw->nfhw", W.reshape(3, 6), x)
                                                + b[None, :, None, None]):
        return report(False, "W reshaped instead of transposed: W is (F, C), so use W.T (or W @ ...), not "
                             "W.reshape(C, F).")
    return report(False, why + " Hint: put the channels last, multiply by W.T, add b, put them back.")


def check_stacked_3x3(params, field, n: int = 2, channels: int = 64) -> bool:
    """``params``: weights of ``n`` stacked 3x3 convolutions channels -> channels (no biases);
    ``field``: the receptive field (side) of the stack."""
    if params is ... or field is ... or params is None or field is None:
        return report(False, "Replace both ... with numbers (or expressions).")
    right_params, right_field = n * 9 * channels * channels, 2 * n + 1
    big = right_field ** 2 * channels * channels
    if params == right_params and field == right_field:
        return report(True, f"{n} layers of 3 x 3 x {channels} x {channels} = {right_params:,} weights see "
                            f"{right_field}x{right_field} pixels; one {right_field}x{right_field} layer needs "
                            f"{big:,} ({big / right_params:.2f} times as many) and has one ReLU instead of {n}.")
    if params != right_params:
        if params == 9 * channels * channels:
            return report(False, f"that is one layer; the stack has {n}.")
        if params == n * 9 * channels:
            return report(False, f"each filter spans all {channels} input channels, and there are {channels} "
                                 "filters per layer.")
        if params == big:
            return report(False, f"that is the single {right_field}x{right_field} layer; count the 3x3 stack.")
        return report(False, f"the weight count is not right: per layer, 3 x 3 x (inputs) x (filters), "
                             f"times {n} layers.")
    if field == 3 * n:
        return report(False, "the fields overlap: each extra 3x3 layer adds 2 pixels to the side, not 3.")
    if field == 3 ** n:
        return report(False, "the field grows by adding, not multiplying: r = r + (k - 1) for stride 1.")
    return report(False, "the weight count is right; the receptive field is not. Start at 1 and add k - 1 = 2 "
                         "per layer.")


def check_gap_backward(fn) -> bool:
    """Is ``fn(grad, shape)`` the backward pass of global average pooling, grad (N, C) -> (N, C, H, W)?"""
    rng = np.random.default_rng(11)
    shape = (2, 3, 4, 5)
    g = rng.standard_normal(shape[:2])
    got, why = _call(fn, g.copy(), shape)
    if why:
        return report(False, why)
    right = np.broadcast_to(g[:, :, None, None] / 20, shape)
    ok, why = compare_array(got, right, "your gradient")
    if ok:
        return report(True, "every pixel of a map gets 1 / (H x W) of the gradient of the map's mean.")
    got = np.asarray(got, dtype=float)
    if got.shape == shape and np.allclose(got, right * 20):
        return report(False, "almost: the mean divides by H x W, so each pixel's share is grad / (H * W).")
    if got.shape == shape[:2] or got.ndim != 4:
        return report(False, f"the gradient must have the input's shape {shape}: spread each value over its map.")
    return report(False, why)


def check_residual_backward(fn) -> bool:
    """Is ``fn(g, body_backward)`` dL/dx of y = body(x) + x, given g = dL/dy and the body's backward?"""
    rng = np.random.default_rng(12)
    M = rng.standard_normal((4, 4))
    g = rng.standard_normal((3, 4))
    got, why = _call(fn, g.copy(), lambda grad: grad @ M.T)
    if why:
        return report(False, why)
    right = g @ M.T + g
    ok, why = compare_array(got, right, "your dL/dx")
    if ok:
        return report(True, "the sum copies g to both paths, and the two gradients add: body's + g.")
    got = np.asarray(got, dtype=float)
    if got.shape == right.shape and np.allclose(got, g @ M.T):
        return report(False, "that is the body's path only; the shortcut adds g itself (d(x)/dx = 1).")
    if got.shape == right.shape and np.allclose(got, g):
        return report(False, "that is the shortcut's path only; add what the body's backward gives for g.")
    if got.shape == right.shape and np.allclose(got, (g @ M.T) * g):
        return report(False, "the two paths add (y is a sum), they do not multiply.")
    return report(False, why)


def _separable_counts(c_in: int, c_out: int, kernel: int, stride: int, size: int) -> dict:
    """The multiply-adds per image of a depthwise-separable block and of the layers it could be mixed up
    with, asked from the layers (``helpers.models.multiply_adds``) on a size x size input."""
    from ..models import multiply_adds
    from ..nn import Conv2D, DepthwiseSeparable, Sequential

    def madds(layers, side=size):
        return sum(m for _, m in multiply_adds(Sequential(layers), (c_in, side, side)))

    block = DepthwiseSeparable(c_in, c_out, kernel, stride=stride, padding=kernel // 2, rng=0)
    depthwise, pointwise = madds(block.layers[:1]), madds(block.layers) - madds(block.layers[:1])
    return {"right": madds([block]), "depthwise": depthwise, "pointwise": pointwise,
            "params": block.n_params, "params_no_bias": block.n_params - c_in - c_out,
            "standard": madds([Conv2D(c_in, c_out, kernel, stride=stride, padding=kernel // 2, rng=0)]),
            "no_stride": madds([DepthwiseSeparable(c_in, c_out, kernel, padding=kernel // 2, rng=0)]),
            "dense_depthwise": depthwise * c_in + pointwise}


def check_separable_madds(answer, c_in: int = 64, c_out: int = 128, kernel: int = 5, stride: int = 2,
                          size: int = 32) -> bool:
    """Is ``answer`` the multiply-adds per image of ``DepthwiseSeparable(c_in, c_out, kernel, stride)``
    (padding kernel // 2) on a ``size`` x ``size`` input? (The explorer's block "depthwise-separable" counts
    the same two convolutions.)"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a number (or an expression).")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return report(False, f"give a number, not {type(answer).__name__}.")
    n = _separable_counts(c_in, c_out, kernel, stride, size)
    side = (size - 1) // stride + 1
    if answer == n["right"]:
        return report(True, f"the depthwise {kernel}x{kernel} does {side} x {side} x {c_in} x {kernel * kernel} = "
                            f"{n['depthwise']:,}, the pointwise 1x1 {side} x {side} x {c_out} x {c_in} = "
                            f"{n['pointwise']:,}: {n['right']:,} in all, {n['standard'] / n['right']:.1f} times "
                            f"fewer than a standard {kernel}x{kernel} convolution ({n['standard']:,}).")
    hints = [
        ("standard", f"that is a standard {kernel}x{kernel} convolution {c_in} -> {c_out}; the block splits it "
                     "into a depthwise and a pointwise convolution."),
        ("no_stride", f"the stride of {stride} shrinks the output: the block's maps are {side} x {side}, "
                      f"not {size} x {size}."),
        ("depthwise", "that is the depthwise convolution alone; add the pointwise 1x1's."),
        ("pointwise", "that is the pointwise 1x1 alone; add the depthwise convolution's."),
        ("dense_depthwise", f"a depthwise kernel sees one channel, not all {c_in}: {kernel} x {kernel} "
                            "multiply-adds per output value."),
        ("params", "that is the block's parameter count; multiply-adds count each weight once per output "
                   "position."),
        ("params_no_bias", "that is the block's weight count; multiply-adds count each weight once per "
                           "output position."),
    ]
    for key, hint in hints:
        if answer == n[key]:
            return report(False, hint)
    return report(False, f"{answer:,} is not it. Count each of the two convolutions: output values x "
                         "(input channels one filter sees) x (kernel taps), then add them.")
