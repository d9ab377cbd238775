"""Self-checks for the exercises of notebook 01 (pixels)."""
from __future__ import annotations

import numpy as np

from . import compare_array, report

__all__ = ["check_binary", "check_grayscale", "check_normalized", "check_dense_weights"]


def check_binary(answer, gray, threshold) -> bool:
    """``answer`` should be 255 where ``gray > threshold`` and 0 elsewhere, as uint8."""
    if answer is None:
        return report(False, "replace None with your binary image: 255 where gray > threshold, 0 elsewhere.")
    gray = np.asarray(gray)
    expected = np.where(gray > threshold, 255, 0)
    answer = np.asarray(answer)
    if answer.shape != gray.shape:
        return report(False, f"the binary image should have the shape of the gray image {gray.shape}, "
                             f"got {answer.shape}.")
    if answer.dtype == bool:
        return report(False, "you have a True/False mask. Turn it into pixel values: np.where(mask, 255, 0).")
    values = set(np.unique(answer).tolist())
    if values <= {0, 1} and expected.any():
        return report(False, "your image holds 0 and 1. A binary *image* uses 0 (black) and 255 (white).")
    if not values <= {0, 255}:
        return report(False, f"a binary image holds only 0 and 255; yours also holds {sorted(values - {0, 255})[:5]}.")
    if np.array_equal(answer, np.where(gray >= threshold, 255, 0)) and not np.array_equal(answer, expected):
        return report(False, f"close: pixels exactly equal to {threshold} should be black. Use >, not >=.")
    if np.array_equal(answer, 255 - expected):
        return report(False, "black and white are swapped: bright pixels (above the threshold) become 255.")
    ok, why = compare_array(answer, expected, "your binary image")
    if ok and answer.dtype != np.uint8:
        return report(False, f"the values are right, but the dtype is {answer.dtype}: "
                             "images are stored as uint8, use .astype(np.uint8).")
    return report(ok, why if not ok else f"{int((answer == 255).sum())} white pixels, the rest black.")


def check_grayscale(answer, rgb) -> bool:
    """``answer`` should be 0.299 R + 0.587 G + 0.114 B of ``rgb`` (a float, or rounded to uint8)."""
    if answer is None:
        return report(False, "replace None with your weighted sum of the three channels.")
    rgb = np.asarray(rgb, dtype=float)
    expected = rgb @ np.array([0.299, 0.587, 0.114])
    answer_arr = np.asarray(answer, dtype=float)
    if answer_arr.shape != expected.shape:
        hint = " Sum over the last axis (the channels)." if answer_arr.shape != rgb.shape else \
            " You kept three channels: combine them into one."
        return report(False, f"a gray image has one value per pixel, shape {expected.shape}; got {answer_arr.shape}."
                      + hint)
    if np.allclose(answer_arr, rgb.mean(axis=2), atol=0.51):
        return report(False, "that is the plain mean of R, G and B. Weight them: 0.299 R + 0.587 G + 0.114 B.")
    if np.allclose(answer_arr, rgb @ np.array([0.114, 0.587, 0.299]), atol=0.51):
        return report(False, "the weights are applied in reverse order (as if the image were BGR). "
                             "Channel 0 is red: 0.299 * img[..., 0] + ...")
    if np.asarray(answer).dtype == np.uint8 and answer_arr.max() < expected.max() * 0.6:
        return report(False, "the sum wrapped around in uint8 arithmetic. Convert to float first: img.astype(float).")
    ok, why = compare_array(answer_arr, expected, "your gray image", atol=0.51)   # allows rounding to uint8
    return report(ok, "the weighted sum, as cv2.COLOR_RGB2GRAY computes it." if ok else why)


def check_normalized(answer, image) -> bool:
    """``answer`` should be ``image`` (uint8 0..255) divided by 255, as floats in [0, 1]."""
    if answer is None:
        return report(False, "replace None with the image scaled to [0, 1].")
    image = np.asarray(image)
    expected = image.astype(np.float64) / 255.0
    answer = np.asarray(answer)
    if answer.shape != image.shape:
        return report(False, f"scaling keeps the shape {image.shape}; got {answer.shape}.")
    if not np.issubdtype(answer.dtype, np.floating):
        return report(False, f"the result has dtype {answer.dtype}: values between 0 and 1 need floats. "
                             "Use image / 255 (true division) or image.astype(np.float32) / 255.")
    if image.max() and np.allclose(answer, image / image.max()) and image.max() != 255:
        return report(False, f"you divided by the image's largest value ({image.max()}). Divide by 255, the "
                             "largest value a uint8 pixel *can* hold, so every image gets the same scale.")
    ok, why = compare_array(answer, expected, "your normalised image", atol=1e-6)
    return report(ok, f"values from {answer.min():.3f} to {answer.max():.3f}, dtype {answer.dtype}." if ok else why)


def check_dense_weights(answer) -> bool:
    """``answer``: the number of weights of a dense layer of 1,024 units on a 224x224x3 image."""
    if answer is None:
        return report(False, "replace None with a number: inputs times units.")
    inputs, units = 224 * 224 * 3, 1024
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return report(False, f"the answer is a whole number, got {answer!r}.")
    if value == inputs * units:
        return report(True, f"{inputs:,} inputs x {units:,} units = {value:,} weights, for one layer.")
    if value == 224 * 224 * units:
        return report(False, "you counted one channel only: a colour pixel brings three inputs (R, G, B).")
    if value == inputs * units + units:
        return report(False, "that includes the 1,024 biases; the question asks for the weights only.")
    if value == inputs:
        return report(False, "that is the number of inputs. Each of the 1,024 units has its own weight per input.")
    return report(False, "count the inputs (height x width x channels), then multiply by the number of units.")
