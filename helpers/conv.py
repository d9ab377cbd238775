"""2-D convolution (cross-correlation, as deep-learning libraries compute it).

    Y[i, j] = sum_m sum_n X[i*s + m, j*s + n] * W[m, n] + b

Three functions a learner meets in notebook 02 and 04:

- :func:`output_size`   how big the feature map is: floor((n + 2p - d(k-1) - 1) / s) + 1
- :func:`conv2d_loops`  the definition written as plain Python loops: slow, easy to read
- :func:`conv2d`        the same numbers, vectorized; drives the widgets and the training code

and two that the training code (``helpers.nn``) builds on: :func:`im2col` and :func:`col2im`.

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

import numpy as np

from . import _threads
from ._checks import as_real_array, float_dtype, pair, positive_pair
from ._threads import in_parallel, matmul, one_blas_thread, scratch

__all__ = ["output_size", "resolve_padding", "conv2d", "conv2d_loops", "im2col", "col2im"]


def output_size(n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """Length of a convolution's output along one axis.

    ``n`` input length, ``k`` kernel length, ``padding`` zeros added on *each* side, ``stride`` step
    between windows, ``dilation`` spacing of the kernel taps (the kernel then spans d(k-1)+1 pixels)::

        floor((n + 2p - d(k - 1) - 1) / s) + 1     ==  floor((n + 2p - k) / s) + 1  when d = 1

    >>> output_size(28, 3)             # MNIST digit, 3x3 kernel, no padding
    26
    >>> output_size(7, 3, padding=1, stride=2)
    4
    """
    for name, v in (("n", n), ("k", k), ("padding", padding), ("stride", stride), ("dilation", dilation)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"{name} must be an int, got {v!r}.")
    if n < 1 or k < 1:
        raise ValueError(f"n and k must be at least 1, got n={n}, k={k}.")
    if padding < 0:
        raise ValueError(f"padding must be 0 or more, got {padding}.")
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}. A stride of 1 visits every position.")
    if dilation < 1:
        raise ValueError(f"dilation must be at least 1, got {dilation}. A dilation of 1 is an ordinary kernel.")
    span = dilation * (k - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(
            f"the kernel spans {span} pixels but the padded input has only {n + 2 * padding} "
            f"(n={n} + 2*padding={padding}). Use a smaller kernel or more padding."
        )
    return (n + 2 * padding - span) // stride + 1


def resolve_padding(padding, kernel_hw: tuple[int, int], dilation=1) -> tuple[int, int]:
    """Turn ``"valid"``, ``"same"``, an int or a pair into zeros added per side: ``(rows, cols)``.

    ``"same"`` adds (k - 1) / 2 zeros on each side, so at stride 1 the output is as large as the input
    (and at stride s it is ceil(n / s), as in TensorFlow). It needs an odd kernel: an even one would
    need one more zero on one side than the other, which this course does not do silently. Use an odd
    kernel, or pass the padding you want as numbers.
    """
    dh, dw = positive_pair(dilation, "dilation")
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0
        if mode == "same":
            spans = [d * (k - 1) + 1 for k, d in zip(kernel_hw, (dh, dw))]
            if any(s % 2 == 0 for s in spans):
                raise ValueError(
                    f'padding="same" needs an odd kernel size, got {tuple(kernel_hw)}: an even kernel would '
                    f"need more zeros on one side than the other. Use an odd kernel, or give padding as numbers."
                )
            return (spans[0] - 1) // 2, (spans[1] - 1) // 2
        raise ValueError(f'padding must be "valid", "same", an int or a pair of ints, got {padding!r}.')
    ph, pw = pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be 0 or more (zeros added per side), got {padding!r}.")
    return ph, pw


def _prepare(x, kernel, bias, stride, padding, dilation):
    """Check the arguments and bring everything to batch layout.

    Returns ``x4`` (N, C, H, W) and ``w4`` (F, C, kh, kw) in a float dtype, ``b`` (F,) or None, the
    stride/padding/dilation pairs, the output size, and ``squeeze``: the axes to drop at the end.
    """
    x = as_real_array(x, "x")
    kernel = as_real_array(kernel, "kernel")
    if x.ndim not in (2, 3, 4):
        raise ValueError(
            f"x must be (H, W), (C, H, W) or (N, C, H, W), got {x.ndim} dimensions with shape {x.shape}. "
            "A colour photo from imread is (H, W, 3): use x.transpose(2, 0, 1) or helpers.images.to_gray."
        )
    if kernel.ndim not in (2, 3, 4):
        raise ValueError(
            f"kernel must be (kh, kw), (C, kh, kw) or (F, C, kh, kw), got shape {kernel.shape}."
        )
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
    sh, sw = positive_pair(stride, "stride")
    dh, dw = positive_pair(dilation, "dilation")
    kh, kw = w4.shape[2:]
    ph, pw = resolve_padding(padding, (kh, kw), (dh, dw))
    H, W = x4.shape[2:]
    for axis, n, k, p, d in (("height", H, kh, ph, dh), ("width", W, kw, pw, dw)):
        if d * (k - 1) + 1 > n + 2 * p:
            raise ValueError(
                f"kernel {axis} {k}" + (f" (dilated to {d * (k - 1) + 1})" if d > 1 else "")
                + f" is larger than the padded input {axis} {n} + 2*{p} = {n + 2 * p}. "
                "Use a smaller kernel, a larger image, or more padding."
            )
    oh = output_size(H, kh, ph, sh, dh)
    ow = output_size(W, kw, pw, sw, dw)
    b = None
    if bias is not None:
        b = as_real_array(bias, "bias").astype(dtype, copy=False).reshape(-1)
        if b.size == 1:
            b = np.repeat(b, w4.shape[0])
        if b.shape != (w4.shape[0],):
            raise ValueError(f"bias needs one value per filter ({w4.shape[0]}), got shape {np.shape(bias)}.")
    squeeze = tuple(axis for axis, keep in ((0, x.ndim == 4), (1, kernel.ndim == 4)) if not keep)
    return x4, w4, b, (sh, sw), (ph, pw), (dh, dw), (oh, ow), squeeze


def _pad(x4: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Surround each image with ph rows and pw columns of zeros (N, C, H, W) -> (N, C, H+2ph, W+2pw)."""
    if ph == 0 and pw == 0:
        return x4
    N, C, H, W = x4.shape
    # faster than np.pad; keeps x4's memory layout (the training code stores (C, N, H, W) in memory)
    xp = np.zeros_like(x4, shape=(N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph : ph + H, pw : pw + W] = x4
    return xp


def _tap(xp: np.ndarray, m: int, n: int, out_hw, stride, dilation) -> np.ndarray:
    """The pixels that kernel tap (m, n) multiplies, for every output position: a strided view.

    xp (N, C, Hp, Wp) -> (N, C, H', W'), no copy.
    """
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    r, c = m * dh, n * dw
    return xp[:, :, r : r + sh * (oh - 1) + 1 : sh, c : c + sw * (ow - 1) + 1 : sw]


def im2col(x, kernel_hw, stride=1, padding=0, dilation=1, out=None):
    """Lay every receptive field out as a column, so that convolution becomes one matrix product.

    x (N, C, H, W) -> cols (kh*kw*C, N*H'*W'). Row ``(m*kw + n)*C + c`` holds tap (m, n) of channel c.
    ``padding`` here is an int or a pair (use :func:`resolve_padding` for "same"/"valid").
    A weight bank w (F, C, kh, kw) matches it as ``w.transpose(0, 2, 3, 1).reshape(F, -1)``.
    ``out``: an optional C-contiguous array of that shape and x's dtype to write into (a training loop
    reuses one between steps instead of allocating a new one each time).
    """
    x4 = np.asarray(x)
    kh, kw = kernel_hw
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    ph, pw = resolve_padding(padding, (kh, kw), dilation)
    N, C, H, W = x4.shape
    out_hw = output_size(H, kh, ph, stride[0], dilation[0]), output_size(W, kw, pw, stride[1], dilation[1])
    xp = _pad(x4, ph, pw)
    # Laid out (kh, kw, C, N, H', W') so that each tap is written as one contiguous block.
    shape = (kh, kw, C, N) + out_hw
    if out is None:
        cols = np.empty(shape, dtype=x4.dtype)
    else:
        if out.shape != (kh * kw * C, N * out_hw[0] * out_hw[1]) or out.dtype != x4.dtype \
                or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous {x4.dtype} array of shape "
                             f"{(kh * kw * C, N * out_hw[0] * out_hw[1])}, got {out.dtype} {out.shape}.")
        cols = out.reshape(shape)
    taps = [(m, n) for m in range(kh) for n in range(kw)]

    def copy_taps(part):                               # the CPU cores share the taps out between them
        for m, n in taps[part]:
            cols[m, n] = _tap(xp, m, n, out_hw, stride, dilation).transpose(1, 0, 2, 3)

    in_parallel(copy_taps, len(taps), values_per_item=cols[0, 0].size)
    return cols.reshape(kh * kw * C, N * out_hw[0] * out_hw[1])


def col2im(cols, x_shape, kernel_hw, stride=1, padding=0, dilation=1, out=None):
    """The adjoint of :func:`im2col`: add every column entry back onto the pixel it came from.

    cols (kh*kw*C, N*H'*W') -> (N, C, H, W). Where receptive fields overlap, the values add up: this is
    how the gradient dL/dX of a convolution is gathered.
    ``out``: an optional array (N, C, H + 2ph, W + 2pw) to gather into (it is zeroed first; any memory
    layout, e.g. a transposed view of a (C, N, H, W) buffer); the result is a view of it.
    """
    kh, kw = kernel_hw
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    ph, pw = resolve_padding(padding, (kh, kw), dilation)
    N, C, H, W = x_shape
    out_hw = output_size(H, kh, ph, stride[0], dilation[0]), output_size(W, kw, pw, stride[1], dilation[1])
    cols6 = np.asarray(cols).reshape(kh, kw, C, N, *out_hw)
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
                _tap(xp[part], m, n, out_hw, stride, dilation)[...] += cols6[m, n, :, part].transpose(1, 0, 2, 3)

    in_parallel(gather, N, values_per_item=C * kh * kw * out_hw[0] * out_hw[1])
    return xp[:, :, ph : ph + H, pw : pw + W]


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
    it, so all of them together are one matrix product, kernels (F, kh*kw*C) @ windows (kh*kw*C, pixels)
    (*im2col*, see :func:`im2col`). A training batch does that in one go; a single photo does it one
    band of rows at a time, so the window columns stay in the CPU cache.
    """
    x4, w4, b, stride, padding, dilation, out_hw, squeeze = _prepare(x, kernel, bias, stride, padding, dilation)
    N, C = x4.shape[:2]
    F, _, kh, kw = w4.shape
    if N == 1:
        # One photo: band by band, so that everything stays in the CPU cache.
        out = _banded_im2col(x4, w4, out_hw, stride, padding, dilation)
    elif C * kh * kw < 32:
        # A grayscale batch: few values per window, so writing the output is what costs. One small
        # product per image writes it once, in place, with no transpose.
        out = _per_image_im2col(x4, w4, out_hw, stride, padding, dilation)
    else:
        # A batch with many channels: every window of every image as a column, one large product.
        cols = im2col(x4, (kh, kw), stride, padding, dilation)                     # (kh*kw*C, N*H'*W')
        out = matmul(w4.transpose(0, 2, 3, 1).reshape(F, -1), cols)               # (F, N*H'*W')
        out = out.reshape(F, N, *out_hw).transpose(1, 0, 2, 3)                     # (N, F, H', W')
    if b is not None:
        out += b[None, :, None, None]                      # out is a new array: add in place
    return np.ascontiguousarray(out.squeeze(axis=squeeze) if squeeze else out)


_BAND_VALUES = 2**20    # values per band (4 MB of float32): smaller bands, though they fit the CPU cache,
                        # cost more in Python overhead (a dozen numpy calls a band) than they save (measured)


def _per_image_im2col(x4, w4, out_hw, stride, padding, dilation):
    """x4 (N, C, H, W), w4 (F, C, kh, kw) -> (N, F, H', W') as N products (F, K) @ (K, H'*W').

    The images are shared out over the CPU cores, a block of images each.
    """
    N, C = x4.shape[:2]
    F, _, kh, kw = w4.shape
    xp = _pad(x4, *padding)
    weights = w4.transpose(0, 2, 3, 1).reshape(F, -1)                            # (F, kh*kw*C)
    out = np.empty((N, F) + tuple(out_hw), dtype=x4.dtype)

    def images(part):                                  # part: a slice of the batch
        cols = scratch("cols", (len(range(N)[part]), kh, kw, C) + tuple(out_hw), x4.dtype)
        for m in range(kh):
            for n in range(kw):
                cols[:, m, n] = _tap(xp[part], m, n, out_hw, stride, dilation)
        np.matmul(weights, cols.reshape(len(cols), kh * kw * C, -1), out=out[part].reshape(len(cols), F, -1))

    with one_blas_thread():
        in_parallel(images, N, values_per_item=x4[0].size * kh * kw)
    return out


def _banded_im2col(x4, w4, out_hw, stride, padding, dilation):
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
    (oh, ow), (sh, sw), (ph, pw), (dh, dw) = out_hw, stride, padding, dilation
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


def conv2d_loops(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """The definition of :func:`conv2d`, written as loops. Same arguments, same result, ~1000x slower.

    Read this one: for every image, every filter and every output pixel (i, j), put the kernel on the
    window whose top-left corner is (i*stride, j*stride), multiply element-wise and sum.
    """
    x4, w4, b, (sh, sw), (ph, pw), (dh, dw), (oh, ow), squeeze = _prepare(x, kernel, bias, stride, padding, dilation)
    N, C, H, W = x4.shape
    F, _, kh, kw = w4.shape
    padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x4.dtype)
    padded[:, :, ph : ph + H, pw : pw + W] = x4
    out = np.zeros((N, F, oh, ow), dtype=x4.dtype)
    for img in range(N):
        for f in range(F):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for c in range(C):
                        for m in range(kh):
                            for n in range(kw):
                                total += padded[img, c, i * sh + m * dh, j * sw + n * dw] * w4[f, c, m, n]
                    out[img, f, i, j] = total + (b[f] if b is not None else 0.0)
    return out.squeeze(axis=squeeze) if squeeze else out
