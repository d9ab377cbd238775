"""The self-checks of notebooks 01-03 accept a right answer and reject the usual wrong ones with a hint."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from helpers import conv2d
from helpers.checks.convolution import check_conv2d, check_mnist_layer, check_output_pixel
from helpers.checks.pixels import check_binary, check_dense_weights, check_grayscale, check_normalized
from helpers.checks.sobel import check_direction, check_filter_bank, check_magnitude, check_sobel_y
from helpers.kernels import sobel_x, sobel_y

rng = np.random.default_rng(0)
GRAY = rng.integers(0, 256, (12, 10)).astype(np.uint8)
GRAY[0, 0] = 100                                     # a pixel exactly at the threshold
RGB = rng.integers(0, 256, (5, 6, 3)).astype(np.uint8)


def _says(capsys, *words):
    out = capsys.readouterr().out
    for w in words:
        assert w in out, out
    return out


# -- notebook 01 ----------------------------------------------------------------------------------------
def test_binary(capsys):
    right = np.where(GRAY > 100, 255, 0).astype(np.uint8)
    assert check_binary(right, GRAY, 100)
    _says(capsys, "Correct")
    assert not check_binary(None, GRAY, 100)
    assert not check_binary(GRAY > 100, GRAY, 100)
    _says(capsys, "True/False")
    assert not check_binary((GRAY > 100).astype(np.uint8), GRAY, 100)
    _says(capsys, "0 and 1")
    assert not check_binary(np.where(GRAY >= 100, 255, 0).astype(np.uint8), GRAY, 100)
    _says(capsys, ">=")
    assert not check_binary(255 - right, GRAY, 100)
    _says(capsys, "swapped")
    assert not check_binary(right.astype(np.int64), GRAY, 100)
    _says(capsys, "uint8")
    assert not check_binary(right[:5], GRAY, 100)
    _says(capsys, "shape")


def test_grayscale(capsys):
    rgb = RGB.astype(float)
    right = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    assert check_grayscale(right, RGB)
    assert check_grayscale(np.rint(right).astype(np.uint8), RGB)      # rounded like cv2 is fine
    capsys.readouterr()
    assert not check_grayscale(rgb.mean(axis=2), RGB)
    _says(capsys, "plain mean")
    assert not check_grayscale(rgb[..., ::-1] @ np.array([0.299, 0.587, 0.114]), RGB)
    _says(capsys, "reverse order")
    assert not check_grayscale(rgb * 0.5, RGB)
    _says(capsys, "three channels")
    assert not check_grayscale(None, RGB)


def test_normalized(capsys):
    assert check_normalized(GRAY / 255, GRAY)
    assert check_normalized(GRAY.astype(np.float32) / 255, GRAY)
    capsys.readouterr()
    assert not check_normalized(GRAY // 255, GRAY)
    _says(capsys, "dtype")
    img = (GRAY // 2).astype(np.uint8)                # max 127: dividing by the max is the typical slip
    assert not check_normalized(img / img.max(), img)
    _says(capsys, "largest value")
    assert not check_normalized(GRAY / 256, GRAY)
    assert not check_normalized(None, GRAY)


def test_dense_weights(capsys):
    assert check_dense_weights(224 * 224 * 3 * 1024)
    _says(capsys, "154,140,672")
    assert not check_dense_weights(224 * 224 * 1024)
    _says(capsys, "one channel")
    assert not check_dense_weights(224 * 224 * 3 * 1024 + 1024)
    _says(capsys, "biases")
    assert not check_dense_weights(224 * 224 * 3)
    _says(capsys, "number of inputs")
    assert not check_dense_weights("many")
    assert not check_dense_weights(None)


# -- notebook 02 ----------------------------------------------------------------------------------------
X6 = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 25, 5, 1, 3],
               [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]])
K6 = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])


def test_output_pixel(capsys):
    assert check_output_pixel(np.sum(X6[2:5, 2:5] * K6), X6, K6, 3, 3)
    assert check_output_pixel(conv2d(X6, K6)[2, 2], X6, K6, 3, 3)
    capsys.readouterr()
    assert not check_output_pixel(np.sum(X6[3:6, 3:6] * K6), X6, K6, 3, 3)
    _says(capsys, "top-left corner")
    assert not check_output_pixel(np.sum(X6[2:5, 2:5] * K6[::-1, ::-1]), X6, K6, 3, 3)
    _says(capsys, "flipped")
    assert not check_output_pixel(X6[2:5, 2:5] * K6, X6, K6, 3, 3)
    _says(capsys, ".sum()")
    assert not check_output_pixel(None, X6, K6, 3, 3)


def _loops(image, kernel, flip=False, off_by_one=False, same_size=False):
    kernel = kernel[::-1, ::-1] if flip else kernel
    H, W = image.shape
    kh, kw = kernel.shape
    oh, ow = (H, W) if same_size else (H - kh + 1 - off_by_one, W - kw + 1 - off_by_one)
    out = np.zeros((oh, ow))
    for i in range(min(oh, H - kh + 1)):
        for j in range(min(ow, W - kw + 1)):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def _typo_loops(image, kernel):
    """Uses i where j belongs: the window never moves right."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, i : i + kw] * kernel)
    return out


def test_conv2d_function(capsys):
    assert check_conv2d(_loops)
    _says(capsys, "Correct")
    assert not check_conv2d(lambda im, k: _loops(im, k, flip=True))
    _says(capsys, "flipped")
    assert not check_conv2d(lambda im, k: _loops(im, k, off_by_one=True))
    _says(capsys, "range(H - kh + 1)")
    assert not check_conv2d(lambda im, k: _loops(im, k, same_size=True))
    _says(capsys, "shrinks")
    assert not check_conv2d(_typo_loops)
    _says(capsys, "differs at index", "image[i:i + kh, j:j + kw]")
    assert not check_conv2d(lambda im, k: None)
    _says(capsys, "return")
    assert not check_conv2d(lambda im, k: 1 / 0)
    _says(capsys, "ZeroDivisionError")
    assert not check_conv2d(_loops(X6, K6))
    _says(capsys, "function itself")


def test_conv2d_function_must_use_its_own_loops(capsys):
    """Handing the work to a ready-made convolution gives the right numbers, and is still turned down."""
    import cv2

    from helpers import conv2d as renamed
    from helpers import conv2d_loops

    def via_cv2(im, k):                    # filter2D with a zero border, cropped to the "valid" part
        full = cv2.filter2D(im, -1, k, borderType=cv2.BORDER_CONSTANT)
        (kh, kw), (H, W) = k.shape, im.shape
        return full[kh // 2 : H - (kh - 1) // 2, kw // 2 : W - (kw - 1) // 2]

    for cheat, name in [(lambda im, k: conv2d(im, k), "helpers.conv.conv2d"), (renamed, "helpers.conv.conv2d"),
                        (conv2d_loops, "helpers.conv.conv2d_loops"), (via_cv2, "cv2.filter2D")]:
        assert not check_conv2d(cheat)
        _says(capsys, "calls " + name, "write it yourself")
    assert check_conv2d(_loops)                              # the learner's own loops still pass
    _says(capsys, "Correct")
    assert sys.getprofile() is None                          # the check leaves no profiler behind


def test_conv2d_check_restores_a_previous_profiler(capsys):
    def other(frame, event, arg):
        return None

    sys.setprofile(other)
    try:
        check_conv2d(lambda im, k: conv2d(im, k))
        assert sys.getprofile() is other
    finally:
        sys.setprofile(None)


def test_mnist_layer(capsys):
    assert check_mnist_layer((26, 26, 8), 72)
    assert check_mnist_layer((8, 26, 26), 3 * 3 * 8)
    capsys.readouterr()
    assert not check_mnist_layer((28, 28, 8), 72)
    _says(capsys, "shrinks")
    assert not check_mnist_layer((26, 26, 8), 80)
    _says(capsys, "biases")
    assert not check_mnist_layer((26, 26, 8), 9)
    _says(capsys, "one filter")
    assert not check_mnist_layer((26, 26, 8), 26 * 26 * 8)
    assert not check_mnist_layer(None, 72)


# -- notebook 03 ----------------------------------------------------------------------------------------
def test_sobel_y(capsys):
    assert check_sobel_y([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    capsys.readouterr()
    assert not check_sobel_y(sobel_x())
    _says(capsys, "Transpose")
    assert not check_sobel_y(-sobel_y())
    _says(capsys, "sign")
    assert not check_sobel_y([[-1, -1, -1], [0, 0, 0], [1, 1, 1]])
    _says(capsys, "Prewitt")
    assert not check_sobel_y(np.ones((2, 2)))
    assert not check_sobel_y(None)


GX = rng.normal(size=(6, 7))
GY = rng.normal(size=(6, 7))


def test_magnitude(capsys):
    assert check_magnitude(np.hypot(GX, GY), GX, GY)
    capsys.readouterr()
    assert not check_magnitude(GX**2 + GY**2, GX, GY)
    _says(capsys, "square root")
    assert not check_magnitude(np.abs(GX) + np.abs(GY), GX, GY)
    _says(capsys, "approximation")
    assert not check_magnitude(GX + GY, GX, GY)
    _says(capsys, "cancel")
    assert not check_magnitude(None, GX, GY)


def test_direction(capsys):
    gx = GX.copy()
    gx[0, 0] = 0.0                                        # a vertical gradient: arctan(gy/gx) divides by zero
    assert check_direction(np.arctan2(GY, gx), gx, GY)
    capsys.readouterr()
    assert not check_direction(np.degrees(np.arctan2(GY, gx)), gx, GY)
    _says(capsys, "degrees")
    assert not check_direction(np.arctan2(gx, GY), gx, GY)
    _says(capsys, "swapped")
    with np.errstate(divide="ignore"):
        naive = np.arctan(GY / gx)
    assert not check_direction(naive, gx, GY)
    _says(capsys, "arctan2")
    assert not check_direction(None, gx, GY)


def test_filter_bank(capsys):
    F = np.array([[-1, -1, 1, 1]] * 4, dtype=float)
    assert check_filter_bank(np.stack([F, -F, F.T, -F.T]), F)
    assert check_filter_bank(np.stack([F, -F, F.T, -F.T])[:, None], F)
    capsys.readouterr()
    assert not check_filter_bank(np.stack([F, F.T, -F, -F.T]), F)
    _says(capsys, "order")
    assert not check_filter_bank(np.stack([F, -F, F, -F]), F)
    _says(capsys, "F.T")
    assert not check_filter_bank(np.stack([F, -F]), F)
    _says(capsys, "shape")
    assert not check_filter_bank(None, F)


@pytest.mark.parametrize("check, args", [
    (check_binary, (GRAY, 100)), (check_grayscale, (RGB,)), (check_normalized, (GRAY,)), (check_dense_weights, ()),
    (check_output_pixel, (X6, K6, 3, 3)), (check_conv2d, ()), (check_sobel_y, ()), (check_magnitude, (GX, GY)),
    (check_direction, (GX, GY)), (check_filter_bank, (np.eye(4),)),
])
def test_the_placeholder_none_is_not_yet_right_and_says_what_to_do(check, args, capsys):
    assert not check(None, *args)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "None" in out
