"""The fast paths of the layers in :mod:`helpers.nn`: the same numbers, arranged for speed.

Read :mod:`helpers.nn` first: each layer there has its maths in a docstring and a forward and backward
pass of a few lines. Where a step is worth making fast, the layer calls a function of this module by
name (``fast_nn.conv_forward``, ``fast_nn.relu``, ``fast_nn.batch_norm_forward`` ...), the way
:mod:`helpers.conv` calls :mod:`helpers.fast_conv` (and cs231n keeps ``fast_layers.py`` apart from
``layers.py``). The tests check the layers against finite differences and against PyTorch.

Three ideas make a training step fast here:

- the convolutions are im2col and one matrix product (:mod:`helpers.fast_conv`), and the columns of a
  training pass are written into a buffer kept from one step to the next (:func:`reuse`);
- feature maps are stored channel-major in memory (:class:`ChannelMajor`), so that a convolution's
  output and its gradient need no copy;
- every big step (the products, im2col, ReLU, pooling, batch normalisation) is shared out over the CPU
  cores by :mod:`helpers._threads`, which says why.
"""
from __future__ import annotations

import numpy as np

from ._threads import by_channel, in_parallel, matmul, one_blas_thread  # matmul: a product on every core
from .fast_conv import col2im, conv_matrix, im2col

__all__ = ["ChannelMajor", "reuse", "matmul", "conv_forward", "conv_backward", "weight_gradient", "col2im_same_width",
           "relu", "relu_backward", "batch_norm_forward", "batch_norm_affine", "batch_norm_backward"]


class ChannelMajor:
    """Feature maps (N, C, H, W) *stored* channel-major, (C, N, H, W) in memory: the layers' one layout trick.

    A convolution computes its F feature maps as one matrix product, filters (F, K) @ columns
    (K, N*H'*W'), so they come out as (F, N, H', W') in memory. Copying them into (N, F, H', W') order
    would move every value of every map on every step for nothing; the layer hands out an (N, F, H', W')
    *view* of that memory instead (:meth:`from_matrix`). The layers after it keep the layout they get
    (``np.empty_like`` does), so ReLU and pooling write channel-major maps too; the next convolution's
    im2col then reads each channel's pixels in long runs, and on the way back the gradient of a
    channel-major map is an (F, N*H'*W') matrix at no cost (:meth:`to_matrix`). Shapes stay (N, C, H, W)
    everywhere and every number is the same: only the order in memory differs.
    """

    @staticmethod
    def from_matrix(m: np.ndarray, N: int, hw) -> np.ndarray:
        """(C, N*H*W) matrix -> (N, C, H, W), a view of the same memory."""
        return m.reshape(m.shape[0], N, *hw).transpose(1, 0, 2, 3)

    @staticmethod
    def to_matrix(x: np.ndarray) -> np.ndarray:
        """(N, C, H, W) -> (C, N*H*W): a view when x is stored channel-major, a copy otherwise."""
        return x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)

    @staticmethod
    def empty(shape, dtype) -> np.ndarray:
        """An uninitialised (N, C, H, W) array, stored channel-major."""
        N, C, H, W = shape
        return np.empty((C, N, H, W), dtype).transpose(1, 0, 2, 3)

    @staticmethod
    def holds(x: np.ndarray) -> bool:
        """Is x a batch (N, C, H, W) of more than one image, stored channel-major?"""
        return x.ndim == 4 and x.shape[0] > 1 and x.transpose(1, 0, 2, 3).flags.c_contiguous

    @staticmethod
    def copy(x: np.ndarray) -> np.ndarray:
        """A copy of x (N, C, H, W), stored channel-major."""
        return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)


def reuse(buffer, shape, dtype) -> np.ndarray:
    """``buffer`` if it has this shape and dtype, else a new empty array: a workspace kept between steps."""
    if buffer is None or buffer.shape != tuple(shape) or buffer.dtype != dtype:
        buffer = np.empty(shape, dtype=dtype)
    return buffer


# -- convolution ---------------------------------------------------------------------------------------
def conv_forward(x, W, b, stride, padding, dilation, out_hw, cols=None, groups=1) -> np.ndarray:
    """x (N, C, H, W), W (F, C/groups, kh, kw), b (F,) -> y (N, F, H', W'), stored channel-major; out_hw = (H', W').

    With ``cols`` (an array (C*kh*kw, N*H'*W') the caller keeps), the im2col columns are written there
    for the backward pass; without, the product is made a block of images at a time and nothing is kept
    (:func:`helpers.fast_conv.conv_matrix`: the columns of 1,000 images would take hundreds of MB).
    With ``groups`` > 1 the columns of group j are the rows j*K ... (j+1)*K - 1 (K = C/groups*kh*kw):
    one stacked product (groups, F/groups, K) @ (groups, K, N*H'*W') makes every group's maps at once.
    """
    F = W.shape[0]
    N = x.shape[0]
    if groups > 1:
        cols = im2col(x, W.shape[2:], stride, padding, dilation, out=cols)
        y = np.matmul(W.reshape(groups, F // groups, -1), cols.reshape(groups, -1, cols.shape[1])).reshape(F, -1)
    elif cols is not None:
        im2col(x, W.shape[2:], stride, padding, dilation, out=cols)
        y = matmul(W.reshape(F, -1), cols)                     # (F, K) @ (K, N*H'*W')
    else:
        y = conv_matrix(x, W, stride, padding, dilation)
    y += b[:, None]
    return ChannelMajor.from_matrix(y, N, out_hw)


def conv_backward(g, W, cols, x_shape, stride, padding, dilation, dcols=None, input_grad=True, groups=1):
    """The gradients of :func:`conv_forward` from g = dL/dy (N, F, H', W') and the forward pass's columns.

    Returns (dW, db, dx); dx is None when ``input_grad`` is False. ``dcols``: an optional workspace of
    the columns' shape for dL/d(columns). dx is stored channel-major. With ``groups``, each group's
    products are its own: dW_j = g_j @ cols_j.T, dcols_j = W_j.T @ g_j (stacked, one call each).
    """
    F, _, kh, kw = W.shape
    N, C, H, Wd = x_shape
    g = ChannelMajor.to_matrix(g)                              # (F, N*H'*W'), free if channel-major
    db = g.sum(axis=1)
    if groups > 1:
        g3, cols3 = g.reshape(groups, F // groups, -1), cols.reshape(groups, -1, cols.shape[1])
        W3 = W.reshape(groups, F // groups, -1)
        dW = np.matmul(g3, cols3.transpose(0, 2, 1)).reshape(W.shape)
    else:
        dW = weight_gradient(g, cols).reshape(W.shape)         # g @ cols.T
    if not input_grad:
        return dW, db, None
    dcols = reuse(dcols, cols.shape, W.dtype)
    if groups > 1:
        np.matmul(W3.transpose(0, 2, 1), g3, out=dcols.reshape(groups, -1, cols.shape[1]))
    else:
        matmul(W.reshape(F, -1).T, g, out=dcols)               # W.T @ g
    ph, pw = padding
    if tuple(stride) == (1, 1) and tuple(dilation) == (1, 1) and 2 * pw == kw - 1:
        return dW, db, col2im_same_width(dcols, x_shape, (kh, kw), padding)
    padded = ChannelMajor.empty((N, C, H + 2 * ph, Wd + 2 * pw), W.dtype)     # col2im zeroes it
    return dW, db, col2im(dcols, x_shape, (kh, kw), stride, padding, dilation, out=padded)


def col2im_same_width(dcols, x_shape, kernel_hw, padding) -> np.ndarray:
    """col2im (dL/dcolumns (C*kh*kw, N*H'*W) -> dL/dx (N, C, H, W), stored channel-major) for stride 1,
    dilation 1 and an output as wide as the input (padding "same" along the rows). Changes ``dcols``.

    The same sums as :func:`helpers.fast_conv.col2im`, added in the same order, in long runs: each image
    is one line of (H + 2ph) * W + 2pw values, its rows one after the other, with ph rows of zeros above
    and below and pw values at each end. Tap (m, n) of output pixel (i, j) reads input pixel
    (i + m - ph, j + n - pw), which sits at (i * W + j) + (m * W + n) on that line: a tap's H' * W values
    are added to the line shifted by m * W + n in one run per image, where col2im adds rows of W values.
    Where j + n - pw falls off the left or right edge, the place on the line belongs to the row above or
    below, not to the zero padding: those values are set to 0 first. (Notebook 07's second convolution:
    3.9 ms instead of 6.0 ms on one core.)
    """
    N, C, H, W = x_shape
    (kh, kw), (ph, pw) = kernel_hw, padding
    oh = dcols.shape[1] // (N * W)
    taps = dcols.reshape(C, kh, kw, N, oh, W)
    lines = np.empty((C, N, (H + 2 * ph) * W + 2 * pw), dtype=dcols.dtype)

    def gather(part):                                  # part: a slice of the batch
        lines[:, part] = 0
        for m in range(kh):
            for n in range(kw):
                tap, shift = taps[:, m, n, part], n - pw
                if shift < 0:
                    tap[..., :-shift] = 0
                elif shift > 0:
                    tap[..., W - shift :] = 0
                lines[:, part, m * W + n : m * W + n + oh * W] += tap.reshape(C, -1, oh * W)

    in_parallel(gather, N, values_per_item=C * kh * kw * oh * W)
    start = ph * W + pw                                # where the image's first pixel sits on its line
    return lines[:, :, start : start + H * W].reshape(C, N, H, W).transpose(1, 0, 2, 3)


def weight_gradient(g, cols) -> np.ndarray:
    """dL/dW = g (F, P) @ cols.T (P, K) -> (F, K); with more rows K than filters F, computed the other way
    round, (cols @ g.T).T.

    The same sums (bit for bit with numpy's OpenBLAS, measured); that BLAS makes the product with the
    taller matrix first faster (notebook 07's second convolution, K = 288, F = 64: 5.6 ms instead of
    7.2 ms on one core). The rows of ``cols`` are shared out over the cores, so each reads its own part
    of the columns and all of g: with few rows (the first convolution's K = 9) g would be read twice
    over for little, and the product is made as written.
    """
    if cols.shape[0] < g.shape[0]:
        return matmul(g, cols.T)
    out = np.empty((cols.shape[0], g.shape[0]), dtype=np.result_type(g, cols))
    with one_blas_thread():
        in_parallel(lambda part: np.matmul(cols[part], g.T, out=out[part]), cols.shape[0],
                    values_per_item=cols.shape[1])
    return np.ascontiguousarray(out.T)


# -- ReLU ----------------------------------------------------------------------------------------------
def relu(x: np.ndarray, keep_mask: bool = True):
    """(max(0, x), x > 0 or None), a range of channels on each core; both keep x's memory layout."""
    y = np.empty_like(x)
    mask = np.empty_like(x, dtype=bool) if keep_mask else None

    def part(ix):
        np.maximum(x[ix], 0, out=y[ix])
        if keep_mask:
            np.greater(x[ix], 0, out=mask[ix])
    by_channel(part, x)
    return y, mask


def relu_backward(grad: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """grad * mask, a range of channels on each core."""
    dx = np.empty_like(grad)
    by_channel(lambda ix: np.multiply(grad[ix], mask[ix], out=dx[ix]), grad)
    return dx


# -- batch normalisation, on rows (C, M): one row of M values per channel ----------------------------
def batch_norm_forward(rows, gamma, beta, eps):
    """Training: normalise each row by its own mean and (biased) variance, then scale and shift.

    rows (C, M) -> (y, mean, var, xhat, inv_std), y and xhat (C, M), the rest (C,).
    """
    C, M = rows.shape
    mean, var = np.empty(C, gamma.dtype), np.empty(C, gamma.dtype)
    xhat, y = np.empty_like(rows), np.empty_like(rows)

    def centre(part):                                  # part: a range of channels
        mean[part] = rows[part].mean(axis=1)
        np.subtract(rows[part], mean[part, None], out=xhat[part])
        var[part] = np.einsum("cm,cm->c", xhat[part], xhat[part]) / M
    in_parallel(centre, C, values_per_item=M)
    inv_std = (1 / np.sqrt(var + eps)).astype(gamma.dtype)

    def normalise(part):
        xhat[part] *= inv_std[part, None]
        np.multiply(xhat[part], gamma[part, None], out=y[part])
        y[part] += beta[part, None]
    in_parallel(normalise, C, values_per_item=M)
    return y, mean, var, xhat, inv_std


def batch_norm_affine(rows, a, b) -> np.ndarray:
    """Evaluation: y = rows * a + b per row (a, b (C,) from the running statistics)."""
    C, M = rows.shape
    y = np.empty_like(rows)

    def apply(part):
        np.multiply(rows[part], a[part, None], out=y[part])
        y[part] += b[part, None]
    in_parallel(apply, C, values_per_item=M)
    return y


def batch_norm_backward(g, xhat, inv_std, gamma, input_grad=True):
    """Training mode's gradients from g (C, M): (dgamma, dbeta, dx), dx None unless ``input_grad``.

    dx = gamma / sigma * (g - mean(g) - xhat * mean(g * xhat)), per row.
    """
    C, M = g.shape
    dbeta, dgamma = np.empty(C, gamma.dtype), np.empty(C, gamma.dtype)

    def sums(part):
        dbeta[part] = g[part].sum(axis=1)
        dgamma[part] = np.einsum("cm,cm->c", g[part], xhat[part])
    in_parallel(sums, C, values_per_item=M)
    if not input_grad:
        return dgamma, dbeta, None
    scale = gamma * inv_std
    mean_g, mean_gx = dbeta / M, dgamma / M
    dx = np.empty_like(g)

    def back(part):
        np.multiply(xhat[part], mean_gx[part, None], out=dx[part])
        np.subtract(g[part], dx[part], out=dx[part])
        dx[part] -= mean_g[part, None]
        dx[part] *= scale[part, None]
    in_parallel(back, C, values_per_item=M)
    return dgamma, dbeta, dx
