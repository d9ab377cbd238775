"""Self-checks for the exercises of notebook 02 (convolution)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..conv import conv2d
from . import compare_array, report

__all__ = ["check_output_pixel", "check_conv2d", "check_mnist_layer"]


def check_output_pixel(answer, image, kernel, row, col) -> bool:
    """``answer``: the output of ``kernel`` centred on pixel (row, col) of ``image`` (0-based indices)."""
    if answer is None:
        return report(False, "replace None with your number: the sum of the element-wise products.")
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape
    r0, c0 = row - kh // 2, col - kw // 2
    expected = float((image[r0 : r0 + kh, c0 : c0 + kw] * kernel).sum())
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return report(False, f"the answer is one number, got {type(answer).__name__}. Did you forget .sum()?")
    if np.isclose(value, expected):
        return report(True, f"{expected:g}: the window centred on ({row}, {col}), multiplied element-wise and summed.")
    corner = image[row : row + kh, col : col + kw]
    if corner.shape == kernel.shape and np.isclose(value, (corner * kernel).sum()):
        return report(False, f"you put the kernel's top-left corner on ({row}, {col}). Centre it: the window is "
                             f"image[{r0}:{r0 + kh}, {c0}:{c0 + kw}].")
    if np.isclose(value, (image[r0 : r0 + kh, c0 : c0 + kw] * kernel[::-1, ::-1]).sum()):
        return report(False, "you flipped the kernel (a true convolution). Here, as in deep learning, we do not flip.")
    return report(False, f"take the {kh}x{kw} window around ({row}, {col}), multiply it by the kernel cell by "
                         "cell, and add all the products.")


_HELPERS = Path(__file__).resolve().parent.parent          # the helpers package
_CHECKS = Path(__file__).resolve().parent


def _ready_made(frame_or_builtin, event: str) -> str | None:
    """The name of a ready-made convolution that this profiler event enters, or None.

    Ready-made means: anything in the helpers package (outside these checks), numpy's convolve/correlate,
    scipy.signal and scipy.ndimage, and OpenCV.
    """
    if event == "c_call":                                   # a compiled function, e.g. cv2.filter2D
        cv2 = sys.modules.get("cv2")                        # its functions do not name their module
        name = getattr(frame_or_builtin, "__name__", "")
        if cv2 is not None and getattr(cv2, name, None) is frame_or_builtin:
            return f"cv2.{name}"
        return None
    code = frame_or_builtin.f_code
    where = Path(code.co_filename)
    module = frame_or_builtin.f_globals.get("__name__", "?")
    name = getattr(code, "co_qualname", code.co_name)
    if _HELPERS in where.parents and _CHECKS not in where.parents:
        return f"{module}.{name}"
    if module.startswith(("scipy.signal", "scipy.ndimage")):
        return f"{module}.{name}"
    if module.startswith("numpy") and code.co_name in ("convolve", "correlate"):
        return f"np.{code.co_name}"
    return None


def _call_watching(func, *args):
    """``func(*args)``, and the first ready-made convolution it called (None if it used none).

    sys.setprofile sees every call the function makes, including through another name (``from helpers
    import conv2d as c``); the previous profiler, if any, is put back afterwards.
    """
    found = []

    def profiler(frame, event, arg):
        if not found and event in ("call", "c_call"):
            name = _ready_made(arg if event == "c_call" else frame, event)
            if name is not None:
                found.append(name)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        result = func(*args)
    finally:
        sys.setprofile(previous)
    return result, (found[0] if found else None)


def check_conv2d(func) -> bool:
    """``func(image, kernel)`` should compute the "valid" cross-correlation, like helpers.conv2d, by itself.

    A function that hands the work to a ready-made convolution (helpers, np.convolve/np.correlate, scipy,
    OpenCV) is turned down: the exercise is the loops.
    """
    if func is None:
        return report(False, "replace None with your function (its name, without calling it).")
    if not callable(func):
        return report(False, f"pass the function itself (e.g. my_conv2d), not {type(func).__name__}.")
    rng = np.random.default_rng(1)
    cases = [(rng.integers(0, 10, (5, 6)).astype(float), rng.integers(-2, 3, (3, 3)).astype(float)),
             (rng.normal(size=(7, 5)), rng.normal(size=(2, 3)))]
    for image, kernel in cases:
        expected = conv2d(image, kernel)
        try:
            got, ready_made = _call_watching(func, image.copy(), kernel.copy())
        except Exception as exc:   # any error in the learner's code becomes a hint, not a traceback
            return report(False, f"your function raised {type(exc).__name__}: {exc}")
        if ready_made is not None:
            return report(False, f"your function calls {ready_made}, a ready-made convolution. The exercise is "
                                 "to write it yourself: loop over the output pixels and, for each, sum the window "
                                 "image[i:i + kh, j:j + kw] times the kernel.")
        if got is None:
            return report(False, "your function returns None: end it with `return out`.")
        got = np.asarray(got, dtype=float)
        if got.shape == (expected.shape[0] - 1, expected.shape[1] - 1):
            return report(False, f"the output is {got.shape}, one too small each way. An image of n pixels has "
                                 "n - k + 1 window positions: use range(H - kh + 1).")
        if got.shape == image.shape:
            return report(False, f"the output has the image's shape {image.shape}. Without padding it shrinks: "
                                 "(H - kh + 1, W - kw + 1).")
        if got.shape == expected.shape and np.allclose(got, conv2d(image, kernel[::-1, ::-1])):
            return report(False, "you flipped the kernel. Deep-learning convolution multiplies without flipping.")
        ok, why = compare_array(got, expected, "your output")
        if not ok:
            return report(False, why + f" (image {image.shape}, kernel {kernel.shape}). Check which window "
                                       "image[i:i + kh, j:j + kw] output[i, j] uses.")
    return report(True, "your loops compute exactly what helpers.conv2d computes, on two test cases.")


def check_mnist_layer(shape, n_weights) -> bool:
    """A conv layer of 8 filters of 3x3 on a 28x28 gray digit, "valid": its output shape and its weights."""
    if shape is None or n_weights is None:
        return report(False, "replace both Nones: the output shape (a tuple) and the number of weights.")
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    ok_shape = shape in ((26, 26, 8), (8, 26, 26))
    if not ok_shape:
        if shape in ((28, 28, 8), (8, 28, 28)):
            return report(False, "with \"valid\" padding the map shrinks: 28 - 3 + 1 = 26 positions per side.")
        if shape in ((26, 26), (25, 25, 8), (8, 25, 25)):
            return report(False, "one feature map per filter, each 28 - 3 + 1 = 26 pixels a side: (26, 26, 8).")
        return report(False, f"got {shape}: count the window positions per side (n - k + 1) and the filters.")
    if int(n_weights) == 72:
        return report(True, f"output {shape}; 8 filters x 3 x 3 = 72 weights (plus 8 biases, one per filter).")
    if int(n_weights) == 80:
        return report(False, "80 counts the 8 biases too; the weights alone are 3 x 3 x 8.")
    if int(n_weights) == 9:
        return report(False, "9 is one filter. The layer has 8 of them.")
    if int(n_weights) == 26 * 26 * 8:
        return report(False, "that is the number of output values. The weights are the kernels' numbers, shared "
                             "by every position.")
    return report(False, "the shape is right. For the weights: how many numbers are in 8 kernels of 3x3?")
