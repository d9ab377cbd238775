"""Pooling: summarise each window of a feature map by one number (its maximum or its average).

    max:      Y[i, j] = max  over the window starting at (i*s, j*s)
    average:  Y[i, j] = mean over that window

Windows slide over the last two axes, so x may be (H, W), (C, H, W) or (N, C, H, W) and each channel is
pooled on its own. As in PyTorch and Keras, windows that would hang over the border are dropped: a 7x7
map pooled 2x2 with stride 2 gives 3x3 and the last row and column are never seen.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_real_array, float_dtype, positive_pair
from .conv import output_size

__all__ = ["pool2d", "pool2d_loops", "pool2d_backward"]

MODES = ("max", "avg")


def _prepare(x, size, stride, mode):
    x = as_real_array(x, "x")
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"x must be (H, W), (C, H, W) or (N, C, H, W), got shape {x.shape}.")
    if mode not in MODES:
        raise ValueError(f'mode must be "max" or "avg", got {mode!r}.')
    kh, kw = positive_pair(size, "size")
    sh, sw = positive_pair(size if stride is None else stride, "stride")
    H, W = x.shape[-2:]
    if kh > H or kw > W:
        raise ValueError(f"the pooling window {(kh, kw)} is larger than the input {(H, W)}. Use a smaller size.")
    out_hw = output_size(H, kh, 0, sh), output_size(W, kw, 0, sw)
    return x, (kh, kw), (sh, sw), out_hw


def _windows(x, size, stride, out_hw):
    """Stack the pixels each window position sees: x (..., H, W) -> (kh*kw, ..., H', W'), tap by tap."""
    (kh, kw), (sh, sw), (oh, ow) = size, stride, out_hw
    return np.stack(
        [x[..., m : m + sh * (oh - 1) + 1 : sh, n : n + sw * (ow - 1) + 1 : sw] for m in range(kh) for n in range(kw)]
    )


def pool2d(x, size=2, stride=None, mode="max", return_indices=False):
    """Max or average pooling over the last two axes.

    x (..., H, W) -> (..., H', W') with H' = floor((H - size) / stride) + 1. ``stride`` defaults to
    ``size`` (windows side by side, no overlap). Max pooling keeps the dtype; average pooling returns
    floats. With ``return_indices=True`` (max only) also returns, for every output pixel, which tap of
    its window (0 .. kh*kw - 1, row by row) held the maximum: what :func:`pool2d_backward` needs.
    """
    x, size, stride, out_hw = _prepare(x, size, stride, mode)
    windows = _windows(x, size, stride, out_hw)
    if mode == "avg":
        if return_indices:
            raise ValueError("return_indices is for max pooling: every pixel of an average window matters.")
        return windows.astype(float_dtype(x), copy=False).mean(axis=0)
    if not return_indices:
        return windows.max(axis=0)
    idx = windows.argmax(axis=0)
    return np.take_along_axis(windows, idx[None], axis=0)[0], idx


def pool2d_backward(grad_out, x_shape, size=2, stride=None, mode="max", indices=None):
    """Send the gradient of the pooled output back to the input.

    Max: each output gradient goes to the one pixel that won its window (``indices`` from
    :func:`pool2d`). Average: it is shared equally among the kh*kw pixels. Overlapping windows add up.
    grad_out (..., H', W') -> (..., H, W).
    """
    kh, kw = positive_pair(size, "size")
    sh, sw = positive_pair(size if stride is None else stride, "stride")
    grad_out = np.asarray(grad_out)
    oh, ow = grad_out.shape[-2:]
    grad_x = np.zeros(x_shape, dtype=float_dtype(grad_out))
    for t, (m, n) in enumerate((m, n) for m in range(kh) for n in range(kw)):
        share = grad_out / (kh * kw) if mode == "avg" else np.where(indices == t, grad_out, 0)
        grad_x[..., m : m + sh * (oh - 1) + 1 : sh, n : n + sw * (ow - 1) + 1 : sw] += share
    return grad_x


def pool2d_loops(x, size=2, stride=None, mode="max"):
    """The definition of :func:`pool2d` as loops, for reading and for testing."""
    x, (kh, kw), (sh, sw), (oh, ow) = _prepare(x, size, stride, mode)
    lead = x.shape[:-2]
    out = np.zeros(lead + (oh, ow), dtype=x.dtype if mode == "max" else float_dtype(x))
    for idx in np.ndindex(*lead):
        for i in range(oh):
            for j in range(ow):
                window = x[idx][i * sh : i * sh + kh, j * sw : j * sw + kw]
                out[idx + (i, j)] = window.max() if mode == "max" else window.sum() / window.size
    return out
