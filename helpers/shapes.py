"""The geometry of a sliding window, shared by convolution and pooling.

- :func:`output_size`      how many window positions fit along one axis
- :func:`resolve_padding`  ``"valid"``, ``"same"``, an int or a pair -> zeros added per side (rows, cols)
- :func:`window_tap`       the pixel at offset (m, n) of every window at once, as a strided view
- :func:`tiling`           how the windows tile one axis: output length, span, what is left over
- :func:`measured_field`   a network's receptive field, measured by sending one gradient back

Pooling imports these without importing the convolution code.
"""
from __future__ import annotations

import numpy as np

from ._arguments import pair, positive_pair

__all__ = ["output_size", "resolve_padding", "window_tap", "tiling", "measured_field"]


def output_size(n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """Length of a convolution's (or pooling's) output along one axis.

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
            f"the kernel spans {span} pixels" + (f" (k={k} taps, {dilation} apart)" if dilation > 1 else "")
            + f", larger than the padded input: {n} + 2*{padding} = {n + 2 * padding}. "
            "Use a smaller kernel, a larger input, or more padding."
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


def window_tap(x: np.ndarray, m: int, n: int, out_hw, stride=(1, 1), dilation=(1, 1)) -> np.ndarray:
    """The pixel at offset (m, n) inside every window, for all window positions at once.

    x (..., H, W), already padded -> a view (..., H', W') with ``view[..., i, j] = x[..., i*sh + m*dh,
    j*sw + n*dw]``: window (i, j) starts at (i*sh, j*sw) and its tap (m, n) sits m*dh rows and n*dw
    columns further. No copy: the view just steps through x's memory with the stride.
    A convolution multiplies each such view by one kernel weight; pooling takes the max over them.
    """
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    r, c = m * dh, n * dw
    return x[..., r : r + sh * (oh - 1) + 1 : sh, c : c + sw * (ow - 1) + 1 : sw]


def tiling(n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> dict:
    """How the windows of a convolution tile one axis of the input.

    Returns ``out`` (the output length), ``span`` (pixels one window covers, d(k-1)+1), ``padded``
    (n + 2p), ``covered`` (how far the last window reaches, (out-1)s + span), ``leftover`` (padded
    pixels past the last window, which are dropped) and ``dropped_pixels`` (how many of those are real
    input pixels rather than padding zeros).

    >>> tiling(8, 3, padding=0, stride=2)["leftover"]     # windows at 0, 2, 4: pixel 7 is never seen
    1
    """
    out = output_size(n, k, padding, stride, dilation)
    span = dilation * (k - 1) + 1
    covered = (out - 1) * stride + span
    padded = n + 2 * padding
    return {
        "out": out, "span": span, "padded": padded, "covered": covered, "leftover": padded - covered,
        "dropped_pixels": max(0, padding + n - covered),
    }


def measured_field(layers, size: int = 32) -> tuple[int, int]:
    """The receptive field of a stack of layers, measured instead of computed: (rows, cols).

    ``layers``: fresh layers (``helpers.nn``) taking one input channel; their weights are replaced
    by positive ones, so that no two paths cancel, and the input is positive, so that every ReLU lets
    the gradient through. One image (1, 1, size, size) goes forward, a gradient of 1 at the centre
    pixel of output channel 0 comes back; the input pixels it reaches are the receptive field.
    ``size`` must be large enough to hold the field.
    """
    x = np.random.default_rng(1).random((1, 1, size, size)) + 0.1
    for layer in layers:
        layer.astype(np.float64)
        if "W" in layer.params:
            layer.params["W"] = np.abs(layer.params["W"]) + 0.1
        x = layer.forward(x)
    grad = np.zeros_like(x)
    grad[0, 0, x.shape[2] // 2, x.shape[3] // 2] = 1.0              # one output pixel
    for layer in reversed(layers):
        grad = layer.backward(grad)
    rows, cols = np.nonzero(grad[0, 0])
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
