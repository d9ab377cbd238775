"""Pooling: summarise each window of a feature map by one number (its maximum or its average).

    max:      Y[i, j] = max  over the window starting at (i*s, j*s)
    average:  Y[i, j] = mean over that window

Windows slide over the last two axes, so x may be (H, W), (C, H, W) or (N, C, H, W) and each channel is
pooled on its own. As in PyTorch and Keras, windows that would hang over the border are dropped: a 7x7
map pooled 2x2 with stride 2 gives 3x3 and the last row and column are never seen.

Read :func:`pool2d_loops` (the definition), then :func:`pool2d` and :func:`pool2d_backward`. At the
end, the fast path for the case every CNN of the course uses, 2x2 windows side by side: the same
numbers, with one byte per window to remember which pixel won.

What pooling buys, measured: :func:`shift_right` moves an image a few pixels and
:func:`unchanged_fraction` counts how much of a (pooled) map stayed the same. ``EXAMPLE_4X4`` and
``EXAMPLE_6X6`` are notebook 05's worked examples.
"""
from __future__ import annotations

import numpy as np

from ._arguments import as_real_array, float_dtype, positive_pair
from ._threads import by_channel
from .shapes import output_size, window_tap

__all__ = ["pool2d", "pool2d_loops", "pool2d_backward", "shift_right", "unchanged_fraction",
           "EXAMPLE_4X4", "EXAMPLE_6X6"]

MODES = ("max", "avg")

#: The worked example of notebook 05: 2x2 max pooling gives [[9, 7], [8, 8]].
EXAMPLE_4X4 = np.array([[2, 5, 6, 1], [9, 3, 7, 3], [8, 5, 7, 8], [6, 6, 1, 1]])
#: A 6x6 image whose top-left 3x3 window holds 1, 0, 4, 8, 2, 5, 20, 13, 25 (its maximum is 25).
EXAMPLE_6X6 = np.array([
    [1, 0, 4, 7, 3, 9],
    [8, 2, 5, 1, 12, 6],
    [20, 13, 25, 4, 0, 2],
    [3, 11, 6, 2, 8, 15],
    [9, 4, 1, 18, 5, 7],
    [0, 10, 3, 6, 14, 2],
])


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


def pool2d(x, size=2, stride=None, mode="max", return_indices=False):
    """Max or average pooling over the last two axes.

    x (..., H, W) -> (..., H', W') with H' = floor((H - size) / stride) + 1. ``stride`` defaults to
    ``size`` (windows side by side, no overlap). Max pooling keeps the dtype; average pooling returns
    floats. With ``return_indices=True`` (max only) also returns, for every output pixel, which tap of
    its window (0 .. kh*kw - 1, row by row) held the maximum (the first one if several tie): what
    :func:`pool2d_backward` needs. An empty batch (N = 0) gives an empty result.
    """
    x, size, stride, out_hw = _prepare(x, size, stride, mode)
    if mode == "avg" and return_indices:
        raise ValueError("return_indices is for max pooling: every pixel of an average window matters.")
    if mode == "max" and _is_2x2(x.shape, size, stride):
        return _max_2x2(x, return_indices)
    # every tap of every window, stacked: (kh*kw, ..., H', W')
    windows = np.stack([window_tap(x, m, n, out_hw, stride) for m in range(size[0]) for n in range(size[1])])
    if mode == "avg":
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
    if mode not in MODES:
        raise ValueError(f'mode must be "max" or "avg", got {mode!r}.')
    if mode == "max" and (indices is None or np.shape(indices) != grad_out.shape):
        raise ValueError("max pooling's backward pass needs indices of the gradient's shape "
                         f"{grad_out.shape}, from pool2d(x, ..., return_indices=True); got "
                         f"{None if indices is None else np.shape(indices)}.")
    if mode == "max" and _is_2x2(x_shape, (kh, kw), (sh, sw)):
        return _max_2x2_backward(grad_out, indices, x_shape)
    out_hw = grad_out.shape[-2:]
    grad_x = np.zeros(x_shape, dtype=float_dtype(grad_out))
    for t, (m, n) in enumerate((m, n) for m in range(kh) for n in range(kw)):
        share = grad_out / (kh * kw) if mode == "avg" else np.where(indices == t, grad_out, 0)
        window_tap(grad_x, m, n, out_hw, (sh, sw))[...] += share
    return grad_x


def shift_right(x, pixels: int) -> np.ndarray:
    """Move an image (..., H, W) ``pixels`` columns to the right; zeros come in on the left."""
    if not isinstance(pixels, (int, np.integer)) or isinstance(pixels, bool):
        raise TypeError(f"pixels must be an int (columns to move right), got {pixels!r}.")
    if pixels < 0:
        raise ValueError(f"pixels must be 0 or more (columns to move right), got {pixels}.")
    x = as_real_array(x, "x", empty_ok=True)
    if x.ndim < 2:
        raise ValueError(f"x must be an image (..., H, W), got shape {x.shape}.")
    out = np.zeros_like(x)
    if pixels < x.shape[-1]:
        out[..., pixels:] = x[..., : x.shape[-1] - pixels]
    return out


def unchanged_fraction(a, b) -> float:
    """Of the positions where ``a`` or ``b`` is non-zero, the fraction where they are equal (0..1).

    Background zeros that stay zero are left out: every metric looks good on an empty background.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    active = (a != 0) | (b != 0)
    if not active.any():
        return 1.0
    return float((np.isclose(a, b) & active).sum() / active.sum())

def _prepare(x, size, stride, mode):
    x = as_real_array(x, "x", empty_ok=True)
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


# -- The fast path: 2x2 max pooling, stride 2, even sides --------------------------------------------------
def _is_2x2(x_shape, size, stride) -> bool:
    return tuple(size) == (2, 2) and tuple(stride) == (2, 2) and x_shape[-1] % 2 == 0 and x_shape[-2] % 2 == 0


_TAPS_2X2 = ((0, 0), (0, 1), (1, 0), (1, 1))


def _max_2x2(x, return_indices):
    """pool2d(x, 2, return_indices=...), on four strided views, a range of channels per CPU core.

    The winner of each window is one byte, 0..3 (the first if several tie, as argmax), built from
    "is it not tap t" flags as  winner = nb0 * (1 + nb1 * (1 + nb2)): no (4, ..., H', W') stack.
    The result is laid out in memory as x is (the training code keeps feature maps channel-major).
    """
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape)       # (N, C, H, W): the split over channels is on axis 1
    out_hw = (x.shape[-2] // 2, x.shape[-1] // 2)
    y = np.empty_like(x4, shape=x4.shape[:2] + out_hw)
    winner = np.empty_like(y, dtype=np.uint8) if return_indices else None

    def pool(ix):                                      # ix selects some of the channels
        taps = [window_tap(x4[ix], m, n, out_hw, (2, 2)) for m, n in _TAPS_2X2]
        yp = np.maximum(np.maximum(taps[0], taps[1]), np.maximum(taps[2], taps[3]), out=y[ix])
        if return_indices:
            w = winner[ix]
            np.not_equal(taps[2], yp, out=w.view(bool))
            w += np.uint8(1)
            w *= np.not_equal(taps[1], yp).view(np.uint8)
            w += np.uint8(1)
            w *= np.not_equal(taps[0], yp).view(np.uint8)
    by_channel(pool, x4)
    y = y.reshape(x.shape[:-2] + out_hw)
    return (y, winner.reshape(y.shape)) if return_indices else y


def _max_2x2_backward(grad_out, winner, x_shape):
    """pool2d_backward for :func:`_max_2x2`: each window's gradient to its winner, the others 0.

    The result is laid out in memory as the gradient is.
    """
    g4 = grad_out.reshape((1,) * (4 - grad_out.ndim) + grad_out.shape)
    w4 = np.asarray(winner).reshape(g4.shape)
    dx = np.empty_like(g4, shape=g4.shape[:2] + tuple(x_shape[-2:]), dtype=float_dtype(g4))

    def unpool(ix):                                    # ix selects some of the channels
        for t, (m, n) in enumerate(_TAPS_2X2):
            np.multiply(g4[ix], w4[ix] == t, out=window_tap(dx[ix], m, n, g4.shape[-2:], (2, 2)))
    by_channel(unpool, dx)
    return dx.reshape(x_shape)
