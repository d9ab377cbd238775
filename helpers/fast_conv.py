"""The fast paths of the convolution: the same numbers as :mod:`helpers.conv`, arranged for speed.

Read :mod:`helpers.conv` first: it has the definition (``conv2d_loops``) and the idea (``im2col`` and
one matrix product). This module computes the same thing faster, the way cs231n keeps
``fast_layers.py`` apart from ``layers.py``; ``conv.conv2d`` calls :func:`conv2d` here, and the tests
check every path against the readable version and the loops.

- :func:`conv2d`        picks one of three routes for x (N, C, H, W) and a kernel bank (F, C, kh, kw):
    * one photo (N = 1): :func:`_banded`, im2col one band of rows at a time, so that the columns stay in
      the CPU cache, with a stride split into phases (every s-th row and column) read in whole rows;
    * a batch with few values per window (grayscale, C*kh*kw < 32): :func:`_per_image`, one small
      product per image, written once, in place;
    * a batch with many channels: :func:`conv_matrix`, im2col and a large product, both shared out over
      the cores, a block of images at a time.
- :func:`conv_matrix`   the filters (F, C*kh*kw) times the im2col columns of a batch, block by block:
  the columns of a batch hold every window, kh*kw times the batch's values (225 MB of float32 for
  1,000 Fashion-MNIST images at notebook 07's second convolution), so they are made for a block of
  images at a time, never for the whole batch (``helpers.nn.Conv2D`` uses it when it evaluates).
- :func:`im2col` / :func:`col2im`  as in ``helpers.conv``, shared out over the CPU cores, and able to
  write into a buffer the caller keeps (the training code reuses one from step to step).

How the work is shared out over the cores, and why, is in ``helpers._threads``.
"""
from __future__ import annotations

import numpy as np

from . import _threads
from ._arguments import positive_pair
from ._threads import in_parallel, matmul, one_blas_thread, scratch
from .shapes import output_size, resolve_padding, window_tap

__all__ = ["conv2d", "conv_matrix", "im2col", "col2im", "pad"]


def conv2d(x4, w4, stride=(1, 1), padding=(0, 0), dilation=(1, 1)) -> np.ndarray:
    """x4 (N, C, H, W), w4 (F, C, kh, kw), same float dtype -> (N, F, H', W'), a new array.

    ``stride``, ``padding``, ``dilation``: pairs, checked already (see ``helpers.conv._prepare``).
    """
    N, C = x4.shape[:2]
    F, _, kh, kw = w4.shape
    if N == 1:
        return _banded(x4, w4, stride, padding, dilation)
    if C * kh * kw < 32:
        return _per_image(x4, w4, stride, padding, dilation)
    out = conv_matrix(x4, w4, stride, padding, dilation)                      # (F, N*H'*W')
    return out.reshape(F, N, *_out_hw(x4.shape, (kh, kw), stride, padding, dilation)).transpose(1, 0, 2, 3)


#: At most this many values of im2col columns at once (16 MB of float32): about the size at which a
#: product still runs at full speed, and small next to a learner's share of a shared server's memory.
BLOCK_VALUES = 2**22


def conv_matrix(x4, w4, stride=(1, 1), padding=(0, 0), dilation=(1, 1)) -> np.ndarray:
    """x4 (N, C, H, W), w4 (F, C, kh, kw) -> (F, N*H'*W'): the filters as rows times the im2col columns.

    The product ``w4.reshape(F, -1) @ im2col(x4)``, column for column, made for a block of images at a
    time (at most :data:`BLOCK_VALUES` values of columns), so that memory holds the block's columns,
    never the whole batch's. Column n*H'*W' + i*W' + j is image n, output pixel (i, j).
    """
    N = x4.shape[0]
    F, C, kh, kw = w4.shape
    oh, ow = _out_hw(x4.shape, (kh, kw), stride, padding, dilation)
    out = np.empty((F, N * oh * ow), dtype=np.result_type(x4, w4))
    per_image = C * kh * kw * oh * ow                                          # values of columns per image
    block = max(1, BLOCK_VALUES // max(1, per_image))                          # images per block
    weights = w4.reshape(F, -1)
    for n0 in range(0, N, block):
        n1 = min(N, n0 + block)
        cols = im2col(x4[n0:n1], (kh, kw), stride, padding, dilation)         # (C*kh*kw, block*H'*W')
        matmul(weights, cols, out=out[:, n0 * oh * ow : n1 * oh * ow])
        del cols                                       # before the next block's are made, not after
    return out


def _out_hw(x_shape, kernel_hw, stride, padding, dilation):
    H, W = x_shape[-2:]
    return (output_size(H, kernel_hw[0], padding[0], stride[0], dilation[0]),
            output_size(W, kernel_hw[1], padding[1], stride[1], dilation[1]))


def pad(x4: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Surround each image with ph rows and pw columns of zeros (N, C, H, W) -> (N, C, H+2ph, W+2pw).

    Like np.pad, but faster, and the result is laid out in memory as x4 is (np.zeros_like keeps the
    order of the axes in memory: the training code stores its feature maps channel-major).
    """
    if ph == 0 and pw == 0:
        return x4
    N, C, H, W = x4.shape
    xp = np.zeros_like(x4, shape=(N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph : ph + H, pw : pw + W] = x4
    return xp


def im2col(x, kernel_hw, stride=1, padding=0, dilation=1, out=None) -> np.ndarray:
    """:func:`helpers.conv.im2col`, the taps copied on every core: x (N, C, H, W) -> (C*kh*kw, N*H'*W').

    ``out``: an optional C-contiguous array of that shape and x's dtype to write into (a training loop
    reuses one between steps instead of allocating a new one each time).
    """
    x4 = np.asarray(x)
    kh, kw = kernel_hw
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    ph, pw = resolve_padding(padding, (kh, kw), dilation)
    N, C = x4.shape[:2]
    out_hw = _out_hw(x4.shape, (kh, kw), stride, (ph, pw), dilation)
    xp = pad(x4, ph, pw)
    shape = (C, kh, kw, N) + out_hw
    if out is None:
        cols = np.empty(shape, dtype=x4.dtype)
    else:
        if out.shape != (C * kh * kw, N * out_hw[0] * out_hw[1]) or out.dtype != x4.dtype \
                or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous {x4.dtype} array of shape "
                             f"{(C * kh * kw, N * out_hw[0] * out_hw[1])}, got {out.dtype} {out.shape}.")
        cols = out.reshape(shape)
    taps = [(m, n) for m in range(kh) for n in range(kw)]

    def copy_taps(part):                               # the CPU cores share the taps out between them
        for m, n in taps[part]:
            cols[:, m, n] = window_tap(xp, m, n, out_hw, stride, dilation).transpose(1, 0, 2, 3)

    in_parallel(copy_taps, len(taps), values_per_item=C * N * out_hw[0] * out_hw[1])
    return cols.reshape(C * kh * kw, N * out_hw[0] * out_hw[1])


def col2im(cols, x_shape, kernel_hw, stride=1, padding=0, dilation=1, out=None) -> np.ndarray:
    """:func:`helpers.conv.col2im`, a slice of the batch on each core: (C*kh*kw, N*H'*W') -> (N, C, H, W).

    ``out``: an optional array (N, C, H + 2ph, W + 2pw) to gather into (it is zeroed first; any memory
    layout, e.g. a channel-major one); the result is a view of it.
    """
    kh, kw = kernel_hw
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    ph, pw = resolve_padding(padding, (kh, kw), dilation)
    N, C, H, W = x_shape
    out_hw = _out_hw(x_shape, (kh, kw), stride, (ph, pw), dilation)
    cols6 = np.asarray(cols).reshape(C, kh, kw, N, *out_hw)
    if out is None:
        xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols6.dtype)
    else:
        if out.shape != (N, C, H + 2 * ph, W + 2 * pw):
            raise ValueError(f"out must have shape {(N, C, H + 2 * ph, W + 2 * pw)}, got {out.shape}.")
        xp = out

    def gather(part):                                  # part: a slice of the batch, one per CPU core
        if out is not None:
            xp[part] = 0
        for m in range(kh):
            for n in range(kw):
                window_tap(xp[part], m, n, out_hw, stride, dilation)[...] += \
                    cols6[:, m, n, part].transpose(1, 0, 2, 3)

    in_parallel(gather, N, values_per_item=C * kh * kw * out_hw[0] * out_hw[1])
    return xp[:, :, ph : ph + H, pw : pw + W]


def _per_image(x4, w4, stride, padding, dilation):
    """x4 (N, C, H, W), w4 (F, C, kh, kw) -> (N, F, H', W') as N products (F, K) @ (K, H'*W').

    A grayscale batch has few values per window, so writing the output is what costs: one small
    product per image writes it once, in place, with no transpose. The images are shared out over
    the CPU cores, a block of images each.
    """
    N, C = x4.shape[:2]
    F, _, kh, kw = w4.shape
    out_hw = _out_hw(x4.shape, (kh, kw), stride, padding, dilation)
    xp = pad(x4, *padding)
    weights = w4.reshape(F, -1)                                                   # (F, C*kh*kw)
    out = np.empty((N, F) + out_hw, dtype=x4.dtype)
    # a block of images at a time: the columns of a thread's whole share would stay in memory as its
    # scratch buffer (243 MB for notebook 03's 5,000 digits in float64); a block's are a few MB
    block = max(1, BLOCK_VALUES // 4 // (C * kh * kw * out_hw[0] * out_hw[1]))

    def images(part):                                  # part: a slice of the batch
        for i0 in range(part.start, part.stop, block):
            i1 = min(part.stop, i0 + block)
            cols = scratch("cols", (i1 - i0, C, kh, kw) + out_hw, x4.dtype)
            for m in range(kh):
                for n in range(kw):
                    cols[:, :, m, n] = window_tap(xp[i0:i1], m, n, out_hw, stride, dilation)
            np.matmul(weights, cols.reshape(i1 - i0, C * kh * kw, -1), out=out[i0:i1].reshape(i1 - i0, F, -1))

    with one_blas_thread():
        in_parallel(images, N, values_per_item=x4[0].size * kh * kw)
    return out


_BAND_VALUES = 2**20    # values per band (4 MB of float32): smaller bands, though they fit the CPU cache,
                        # cost more in Python overhead (a dozen numpy calls a band) than they save (measured)


def _banded(x4, w4, stride, padding, dilation):
    """x4 (N, C, H, W), w4 (F, C, kh, kw) -> (N, F, H', W'), one image and one band of rows at a time.

    im2col, arranged to be cheap for one photo. For a band of output rows:

    1. copy the input rows it reads into a zero-bordered buffer. With a stride s, split them into
       s x s *phases* on the way (rows and columns 0, s, 2s, ... then 1, s+1, ...), so that every
       later step reads whole rows instead of every s-th value;
    2. once per kernel column n (kw copies, not kh*kw), copy the columns that tap n reads: the
       columns of the band's im2col matrix, for kernel row 0 and for every row of the band;
    3. multiply: every kernel row m by those columns, in one matrix product per phase;
    4. kernel row m belongs m rows further down: add the kh products up, each shifted by its m.

    Bands are shared out over the CPU cores; the padded image is never built as a whole.
    """
    N, C, H, W = x4.shape
    F, _, kh, kw = w4.shape
    (oh, ow) = _out_hw(x4.shape, (kh, kw), stride, padding, dilation)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    # Kernel row m reads row phase (m*dh) % sh, from phase row (m*dh) // sh on. Kernel rows are
    # taken phase by phase, so that those of one phase are neighbours in `products` below.
    order = sorted(range(kh), key=lambda m: (m * dh) % sh)
    by_phase = [[i for i, m in enumerate(order) if (m * dh) % sh == a] for a in range(sh)]
    weights = w4[:, :, order, :].transpose(2, 0, 3, 1).reshape(kh * F, kw * C)  # rows (m, f), columns (n, c)
    values_per_row = max(kw * C, kh * F) * ow * sh                       # in `shifted` or `products`
    bands = -(-oh * values_per_row // _BAND_VALUES)                       # per image
    threads = _threads.THREADS
    if C * ow * (oh // threads) >= _threads.MIN_VALUES_PER_THREAD:
        bands = -(-bands // threads) * threads       # a share for every core, if it is worth a thread
    band = -(-oh // min(bands, oh))                                       # output rows per band
    need_max = (band - 1) * sh + dh * (kh - 1) + 1                       # input rows one band reads
    rows_max = -(-need_max // sh)                                         # of them, in one phase
    cols = ow + dw * (kw - 1) // sw                                       # input columns, in one phase
    out = np.empty((N, F, oh, ow), dtype=x4.dtype)
    starts = [(img, r0) for img in range(N) for r0 in range(0, oh, band)]

    def work(part):                                    # part: a slice of the list of band starts
        # scratch buffers, reused from call to call (see helpers._threads)
        # phases[a, b, c, t, u] = padded input, channel c, band row a + t*sh, column b + u*sw
        phases = scratch("phases", (sh, sw, C, rows_max, cols), x4.dtype)
        # shifted[a, n, c, t] = what kernel column n reads in band row a + t*sh
        shifted = scratch("shifted", (sh, kw, C, rows_max * ow), x4.dtype)
        # products[i, f, t] = kernel row order[i] of filter f times the row t of its phase
        products = scratch("products", (kh, F, rows_max * ow), x4.dtype)
        for img, r0 in starts[part]:
            rows = min(band, oh - r0)
            first = r0 * sh - ph                                  # image row of the band's row 0
            need = (rows - 1) * sh + dh * (kh - 1) + 1            # input rows this band reads
            for a in range(sh):
                t_end = -(-(need - a) // sh)                      # rows of phase a in the band
                for b in range(sw):
                    _copy_padded(phases[a, b, :, :t_end], x4[img], first + a, b - pw, sh, sw)
                for n in range(kw):
                    b, u = (n * dw) % sw, (n * dw) // sw
                    shifted[a, n, :, : t_end * ow].reshape(C, t_end, ow)[...] = phases[a, b, :, :t_end, u : u + ow]
                if by_phase[a]:
                    i0, i1 = by_phase[a][0], by_phase[a][-1] + 1
                    np.matmul(weights[i0 * F : i1 * F], shifted[a, :, :, : t_end * ow].reshape(kw * C, -1),
                              out=products[i0:i1, :, : t_end * ow].reshape((i1 - i0) * F, -1))
            acc = out[img, :, r0 : r0 + rows].reshape(F, rows * ow)   # a view into the result
            rows_of = [products[i, :, (m * dh) // sh * ow :][:, : rows * ow] for i, m in enumerate(order)]
            if kh == 1:
                acc[...] = rows_of[0]
            else:
                np.add(rows_of[0], rows_of[1], out=acc)
                for more in rows_of[2:]:
                    acc += more

    # One thread for the matrix library inside each of ours (see helpers._threads).
    with one_blas_thread():
        in_parallel(work, len(starts), values_per_item=C * band * ow)     # values a numpy call handles
    return out


def _copy_padded(dst, x3, row, col, row_step, col_step):
    """dst[c, t, u] = x3[c, row + t*row_step, col + u*col_step], or 0 where that is outside x3.

    dst (C, T, U), x3 (C, H, W): a window of the zero-padded image, every step-th row and column.
    """
    _, T, U = dst.shape
    t0, t1 = _inside(row, row_step, T, x3.shape[1])
    u0, u1 = _inside(col, col_step, U, x3.shape[2])
    for zeros in (dst[:, :t0], dst[:, t1:], dst[:, t0:t1, :u0], dst[:, t0:t1, u1:]):
        if zeros.size:
            zeros[...] = 0
    if t1 > t0 and u1 > u0:
        r, c = row + t0 * row_step, col + u0 * col_step
        dst[:, t0:t1, u0:u1] = x3[:, r : r + (t1 - t0 - 1) * row_step + 1 : row_step,
                                  c : c + (u1 - u0 - 1) * col_step + 1 : col_step]


def _inside(start, step, count, size):
    """(lo, hi): of the positions start + i*step, i = 0..count-1, those with lo <= i < hi lie in [0, size)."""
    lo = min(count, max(0, -(start // step)))            # first i with start + i*step >= 0
    hi = min(count, max(lo, -((start - size) // step)))  # first i with start + i*step >= size
    return lo, hi
