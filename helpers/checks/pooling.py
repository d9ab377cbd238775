"""Self-checks for notebook 05 (pooling)."""
from __future__ import annotations

import numpy as np

from . import compare_array, report

__all__ = ["check_pooled", "check_pooled_shape", "check_max_pool_function", "check_flatten_size"]


def check_pooled(answer, x, size: int = 2, stride: int | None = None, mode: str = "max") -> bool:
    """Is ``answer`` pool2d(x, size, stride, mode)? Hints for max/average mix-ups and overlapping windows."""
    from helpers.pooling import pool2d

    if answer is ... or answer is None:
        return report(False, "Replace the ... with your pooled array, then run the cell again.")
    x = np.asarray(x, dtype=float)
    right = pool2d(x, size, stride, mode)
    ok, why = compare_array(answer, right, "your pooled output")
    if ok:
        return report(True, f"{mode} pooling with a {size}x{size} window gives\n{right}")
    try:
        a = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return report(False, why)
    other = "avg" if mode == "max" else "max"
    if a.shape == right.shape and np.allclose(a, pool2d(x, size, stride, other)):
        return report(False, f"that is {other} pooling; this exercise asks for {mode} pooling.")
    if a.shape == pool2d(x, size, 1, mode).shape and a.shape != right.shape:
        return report(False, f"shape {a.shape}: the windows overlapped. With stride {stride or size} they sit side "
                             "by side, so each side shrinks by the window size.")
    if mode == "avg" and a.shape == right.shape and (np.allclose(a, np.round(right)) or np.allclose(a, np.ceil(right))):
        return report(False, "you rounded to whole numbers. Keep the fractions: an average of four whole numbers "
                             "is a multiple of 0.25 (19/4 = 4.75).")
    if mode == "avg" and a.shape == right.shape and np.allclose(a * size, right * size * size):
        return report(False, f"divide the sum by the number of values in the window, {size}*{size} = {size * size}.")
    return report(False, why)


def check_pooled_shape(answer, input_shape, size: int = 2, stride: int | None = None) -> bool:
    """Is ``answer`` the shape after pooling an (H, W, C) stack of feature maps? Channels are kept."""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a tuple such as (H, W, C), then run the cell again.")
    H, W, C = input_shape
    s = stride or size
    right = ((H - size) // s + 1, (W - size) // s + 1, C)
    try:
        got = tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        return report(False, f"give the shape as a tuple of three ints (height, width, channels), got {answer!r}.")
    if got == right:
        return report(True, f"{tuple(input_shape)} -> {right}: each map shrinks, the number of maps stays {C}.")
    if len(got) == 2:
        return report(False, "you dropped the channels: pooling works on each feature map separately, so all "
                             f"{C} maps are still there.")
    if got[:2] == right[:2] and got[2] != C:
        return report(False, f"pooling never mixes or removes feature maps: the channel count stays {C}.")
    if got[:2] == (H - size + 1, W - size + 1):
        return report(False, f"that is stride 1. Pooling windows here move by {s}.")
    return report(False, f"{got} is not it. Each side: floor((n - window) / stride) + 1; channels unchanged.")


def check_max_pool_function(fn) -> bool:
    """Does ``fn(x)`` compute 2x2 max pooling with stride 2 of a 2-D array with even sides?"""
    from helpers.pooling import pool2d

    if fn is ... or fn is None:
        return report(False, "Define your function first, then pass it (without calling it) to the check.")
    rng = np.random.default_rng(0)
    cases = [np.array([[2, 5, 6, 1], [9, 3, 7, 3], [8, 5, 7, 8], [6, 6, 1, 1]], dtype=float),
             rng.normal(size=(6, 8)), rng.integers(0, 255, size=(28, 28)).astype(float)]
    for x in cases:
        try:
            got = fn(x.copy())
        except Exception as exc:   # the learner's code: report any failure as a hint
            return report(False, f"your function raised {type(exc).__name__}: {exc}")
        if got is None:
            return report(False, "your function returned None: end it with `return` and the pooled array.")
        got = np.asarray(got, dtype=float)
        right = pool2d(x, 2)
        if got.shape == right.shape and np.allclose(got, pool2d(x, 2, mode="avg")):
            return report(False, "that is average pooling: take the max over each window (axis=(1, 3) after the "
                                 "reshape).")
        if got.shape != right.shape and got.shape == right.shape[::-1]:
            return report(False, f"on a {x.shape} input the output should be {right.shape}, got {got.shape}: "
                                 "rows and columns are swapped. reshape(H//2, 2, W//2, 2) keeps rows first.")
        ok, why = compare_array(got, right, f"your output for a {x.shape[0]}x{x.shape[1]} input")
        if not ok:
            return report(False, why + " Hint: x.reshape(H // 2, 2, W // 2, 2) puts each window on axes 1 and 3.")
    return report(True, "your function agrees with helpers.pool2d on three inputs, including a 28x28 one.")


def check_flatten_size(answer, shape) -> bool:
    """Is ``answer`` the number of values in a stack of feature maps of this shape?"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a number, then run the cell again.")
    right = int(np.prod(shape))
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return report(False, f"give a whole number, got {answer!r}.")
    if value == right:
        return report(True, f"{' x '.join(str(s) for s in shape)} = {right:,} values in one vector.")
    if value == int(np.prod(shape[:2])):
        return report(False, "you counted one feature map; every channel is flattened too.")
    if value == int(sum(shape)):
        return report(False, "you added the sides; multiply them.")
    return report(False, f"{answer!r} is not it: multiply every size in the shape {tuple(shape)}.")
