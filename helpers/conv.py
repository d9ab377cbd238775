"""2-D convolution (cross-correlation, as deep-learning libraries compute it).

    Y[i, j] = sum_m sum_n X[i*s + m, j*s + n] * W[m, n] + b

Read this file top to bottom, as notebooks 02 and 04 meet it:

1. :func:`output_size`   how big the feature map is: floor((n + 2p - d(k-1) - 1) / s) + 1
2. :func:`conv2d_loops`  the definition written as plain Python loops: slow, easy to read
3. :func:`im2col`        every window laid out as a column (and :func:`col2im`, its way back)
4. :func:`conv2d`        the same numbers, vectorized: im2col and one matrix product

How ``conv2d`` is made fast (bands of rows that stay in the CPU cache, all the cores) is kept apart
in ``helpers/fast_conv.py``: the same numbers, which the tests check against this file.

Shapes (``x`` is the input, ``kernel`` the filter bank)::

    x               kernel            output
    (H, W)          (kh, kw)          (H', W')          one image, one kernel
    (C, H, W)       (C, kh, kw)       (H', W')          channels summed into one feature map
    (C, H, W)       (F, C, kh, kw)    (F, H', W')       F filters -> F feature maps
    (N, C, H, W)    (F, C, kh, kw)    (N, F, H', W')    a batch, as in training
    (N, C, H, W)    (C, kh, kw)       (N, H', W')

A 2-D input has one channel (C = 1); a 2-D kernel likewise.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import fast_conv
from ._arguments import as_real_array, float_dtype, positive_pair
from .shapes import output_size, resolve_padding, window_tap

__all__ = ["output_size", "resolve_padding", "conv2d", "conv2d_loops", "im2col", "col2im"]

# 1. The output size -----------------------------------------------------------------------------------
# Along an axis of n pixels, with p zeros added on each side, a kernel spanning k pixels fits
# floor((n + 2p - k) / s) + 1 times when it steps s pixels at a time (a dilation d makes it span
# d(k - 1) + 1 pixels):   output_size(28, 3) == 26,   output_size(7, 3, padding=1, stride=2) == 4.
# output_size, and resolve_padding ("same" -> the zeros per side), are written in helpers/shapes.py
# because pooling needs them too; imported above, helpers.conv.output_size is the same function.


# 2. The definition, as loops ----------------------------------------------------------------------------
def conv2d_loops(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """The definition of :func:`conv2d`, written as loops. Same arguments, same result, ~1000x slower.

    Read this one: for every image, every filter and every output pixel (i, j), put the kernel on the
    window whose top-left corner is (i*stride, j*stride), multiply element-wise and sum.
    """
    a = _prepare(x, kernel, bias, stride, padding, dilation)
    N, C, H, W = a.x.shape
    F, _, kh, kw = a.kernel.shape
    (sh, sw), (ph, pw), (dh, dw), (oh, ow) = a.stride, a.padding, a.dilation, a.out_hw
    padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=a.x.dtype)
    padded[:, :, ph : ph + H, pw : pw + W] = a.x
    out = np.zeros((N, F, oh, ow), dtype=a.x.dtype)
    for img in range(N):
        for f in range(F):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for c in range(C):
                        for m in range(kh):
                            for n in range(kw):
                                total += padded[img, c, i * sh + m * dh, j * sw + n * dw] * a.kernel[f, c, m, n]
                    out[img, f, i, j] = total + (a.bias[f] if a.bias is not None else 0.0)
    return a.shaped_like_input(out)


# 3. im2col: every window as a column --------------------------------------------------------------------
def im2col(x, kernel_hw, stride=1, padding=0, dilation=1):
    """Lay every window (receptive field) out as a column, so that convolution becomes one matrix product.

    x (N, C, H, W) -> cols (C*kh*kw, N*H'*W'). Column ``(img, i, j)`` holds the window under output
    pixel (i, j) of image img, flattened in the order of a kernel (C, kh, kw): row ``(c*kh + m)*kw + n``
    is tap (m, n) of channel c. So a filter bank w (F, C, kh, kw) matches it as ``w.reshape(F, -1)``.
    ``padding``: an int or a pair, or "valid"/"same".

    Not one loop per window: one per kernel tap (m, n), which copies that tap's pixel for every window at
    once (see :func:`helpers.shapes.window_tap`): kh*kw copies, whatever the size of the image.
    """
    x = np.asarray(x)
    N, C, H, W = x.shape
    kh, kw = kernel_hw
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    ph, pw = resolve_padding(padding, (kh, kw), dilation)
    oh, ow = output_size(H, kh, ph, stride[0], dilation[0]), output_size(W, kw, pw, stride[1], dilation[1])
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((C, kh, kw, N, oh, ow), dtype=x.dtype)
    for m in range(kh):
        for n in range(kw):
            # tap (m, n) of every window of every image: (N, C, H', W'), put channels first
            cols[:, m, n] = window_tap(padded, m, n, (oh, ow), stride, dilation).transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * oh * ow)


def col2im(cols, x_shape, kernel_hw, stride=1, padding=0, dilation=1):
    """The way back from :func:`im2col`: add every column entry onto the pixel it came from.

    cols (C*kh*kw, N*H'*W') -> (N, C, H, W). Where windows overlap, their values add up: this is how
    the gradient dL/dx of a convolution is gathered (notebook 07).
    """
    N, C, H, W = x_shape
    kh, kw = kernel_hw
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    ph, pw = resolve_padding(padding, (kh, kw), dilation)
    oh, ow = output_size(H, kh, ph, stride[0], dilation[0]), output_size(W, kw, pw, stride[1], dilation[1])
    cols = np.asarray(cols).reshape(C, kh, kw, N, oh, ow)
    padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for m in range(kh):
        for n in range(kw):
            window_tap(padded, m, n, (oh, ow), stride, dilation)[...] += cols[:, m, n].transpose(1, 0, 2, 3)
    return padded[:, :, ph : ph + H, pw : pw + W]


# 4. conv2d: im2col and one matrix product ----------------------------------------------------------------
#: False: conv2d computes with the readable im2col path below instead of helpers/fast_conv.py.
FAST = True


def conv2d(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """Slide ``kernel`` over ``x``; at each position multiply element-wise and sum (plus ``bias``).

    Parameters
    ----------
    x : array (H, W), (C, H, W) or (N, C, H, W)
        Image(s). Integer images (uint8) are converted to float first, so nothing wraps around.
    kernel : array (kh, kw), (C, kh, kw) or (F, C, kh, kw)
        One kernel or a bank of F filters; C must match the channels of ``x``.
    bias : float or array (F,), optional
        Added to every pixel of the matching feature map.
    stride : int or (int, int)
        Step between neighbouring windows (rows, cols). At least 1.
    padding : "valid", "same", int or (int, int)
        Zeros added around the border of each side. "valid" adds none (the map shrinks by k - 1);
        "same" keeps the size at stride 1 and needs an odd kernel.
    dilation : int or (int, int)
        Spacing between kernel taps; 1 is an ordinary kernel.

    Returns
    -------
    feature map(s): see the table in the module docstring. H' = output_size(H, kh, ph, sh, dh).
    Computed in the smallest float type that holds every input exactly (numpy's promotion with
    float32): uint8 images with a uint8 or float32 kernel give float32; float64 or int64 anywhere gives
    float64.

    How: every output pixel is a dot product of the flattened kernel with the flattened window under
    it, so all of them together are one matrix product, kernels (F, C*kh*kw) @ windows (C*kh*kw, pixels).
    """
    a = _prepare(x, kernel, bias, stride, padding, dilation)     # everything as a batch (N, C, H, W)
    N, F = a.x.shape[0], a.kernel.shape[0]
    if FAST:
        out = fast_conv.conv2d(a.x, a.kernel, a.stride, a.padding, a.dilation)    # the same numbers, faster
    else:
        cols = im2col(a.x, a.kernel.shape[2:], a.stride, a.padding, a.dilation)  # (C*kh*kw, N*H'*W')
        out = a.kernel.reshape(F, -1) @ cols                                       # (F, N*H'*W')
        out = out.reshape(F, N, *a.out_hw).transpose(1, 0, 2, 3)                   # (N, F, H', W')
    if a.bias is not None:
        out += a.bias[None, :, None, None]                 # out is a new array: add in place
    return np.ascontiguousarray(a.shaped_like_input(out))


# The arguments: every layout brought to a batch, every mistake named ------------------------------------
class _Conv(NamedTuple):
    """A convolution's arguments, checked, as a batch: what conv2d and conv2d_loops compute from."""
    x: np.ndarray                  # (N, C, H, W), float
    kernel: np.ndarray             # (F, C, kh, kw), same dtype
    bias: np.ndarray | None        # (F,) or None
    stride: tuple[int, int]
    padding: tuple[int, int]       # zeros per side
    dilation: tuple[int, int]
    out_hw: tuple[int, int]        # (H', W')
    squeeze: tuple[int, ...]       # batch axes the caller did not give, to drop from (N, F, H', W')

    def shaped_like_input(self, out: np.ndarray) -> np.ndarray:
        return out.squeeze(axis=self.squeeze) if self.squeeze else out


def _prepare(x, kernel, bias, stride, padding, dilation) -> _Conv:
    x, kernel = as_real_array(x, "x"), as_real_array(kernel, "kernel")
    if x.ndim not in (2, 3, 4):
        raise ValueError(
            f"x must be (H, W), (C, H, W) or (N, C, H, W), got {x.ndim} dimensions with shape {x.shape}. "
            "A colour photo from imread is (H, W, 3): use x.transpose(2, 0, 1) or helpers.images.to_gray."
        )
    if kernel.ndim not in (2, 3, 4):
        raise ValueError(f"kernel must be (kh, kw), (C, kh, kw) or (F, C, kh, kw), got shape {kernel.shape}.")
    dtype = float_dtype(x, kernel)
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape).astype(dtype, copy=False)
    w4 = kernel.reshape((1,) * (4 - kernel.ndim) + kernel.shape).astype(dtype, copy=False)
    if x4.shape[1] != w4.shape[1]:
        raise ValueError(
            f"x has {x4.shape[1]} channel(s) (shape {x.shape}) but kernel has {w4.shape[1]} (shape {kernel.shape}). "
            "A kernel needs one slice per input channel: give it shape (C, kh, kw) or (F, C, kh, kw) with the "
            "same C as x."
            + (" If x is a colour photo (H, W, 3), put channels first with x.transpose(2, 0, 1) or make it "
               "gray with helpers.images.to_gray(x)." if x.ndim == 3 and x.shape[2] in (3, 4) else "")
        )
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    (kh, kw), (H, W) = w4.shape[2:], x4.shape[2:]
    padding = resolve_padding(padding, (kh, kw), dilation)
    out_hw = tuple(output_size(n, k, p, s, d) for n, k, p, s, d in zip((H, W), (kh, kw), padding, stride, dilation))
    b = None
    if bias is not None:
        b = as_real_array(bias, "bias").astype(dtype, copy=False).reshape(-1)
        if b.size == 1:
            b = np.repeat(b, w4.shape[0])
        if b.shape != (w4.shape[0],):
            raise ValueError(f"bias needs one value per filter ({w4.shape[0]}), got shape {np.shape(bias)}.")
    squeeze = tuple(axis for axis, given in ((0, x.ndim == 4), (1, kernel.ndim == 4)) if not given)
    return _Conv(x4, w4, b, stride, padding, dilation, out_hw, squeeze)
