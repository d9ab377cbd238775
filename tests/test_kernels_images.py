"""helpers.kernels and helpers.images."""
import cv2
import numpy as np
import pytest

from helpers import conv2d
from helpers import images as im
from helpers import kernels as K


@pytest.mark.parametrize("name, make", list(K.PRESETS.items()))
def test_presets_are_fresh_3x3_float_arrays(name, make):
    a, b = make(), make()
    assert a.shape == (3, 3) and a.dtype == np.float64
    a[0, 0] = 99
    assert b[0, 0] != 99, f"{name} returned a shared array"


def test_blurs_keep_brightness_and_edge_detectors_ignore_flat_areas():
    flat = np.full((7, 7), 0.5)
    for k in (K.box_blur(), K.box_blur(5), K.gaussian(), K.gaussian(5), K.sharpen(), K.identity()):
        np.testing.assert_allclose(conv2d(flat, k), 0.5)
    for k in (K.laplacian(), K.sobel_x(), K.sobel_y()):
        np.testing.assert_allclose(conv2d(flat, k), 0.0, atol=1e-12)


def test_gaussian_matches_opencv():
    g = cv2.getGaussianKernel(5, 1.1)
    np.testing.assert_allclose(K.gaussian(5, sigma=1.1), g @ g.T, atol=1e-12)
    # with no sigma, the same default sigma as OpenCV's formula for the size
    g = cv2.getGaussianKernel(9, 0.3 * ((9 - 1) * 0.5 - 1) + 0.8)
    np.testing.assert_allclose(K.gaussian(9), g @ g.T, atol=1e-12)


def test_sobel_matches_cv2_sobel():
    img = np.random.default_rng(0).random((30, 40))
    for k, (dx, dy) in ((K.sobel_x(), (1, 0)), (K.sobel_y(), (0, 1))):
        theirs = cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=3, borderType=cv2.BORDER_CONSTANT)
        np.testing.assert_allclose(conv2d(img, k, padding="same"), theirs, atol=1e-12)


def test_sobel_x_responds_to_vertical_edges_only():
    step = np.zeros((8, 8))
    step[:, 4:] = 1.0                    # dark left half, bright right half: one vertical edge
    assert np.abs(conv2d(step, K.sobel_x())).max() == 4
    assert np.abs(conv2d(step, K.sobel_y())).max() == 0


def test_even_sizes_are_refused():
    with pytest.raises(ValueError, match="odd"):
        K.gaussian(4)


def test_sample_photo_and_gray():
    rgb = im.sample_photo()
    assert rgb.shape == (600, 512, 3) and rgb.dtype == np.uint8
    gray = im.sample_photo(gray=True)
    assert gray.shape == (600, 512) and gray.dtype == np.uint8
    # our weights are OpenCV's; OpenCV rounds in fixed point, so allow one grey level
    assert np.abs(gray.astype(int) - cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).max() <= 1


def test_weighted_gray_differs_from_the_plain_mean_on_green():
    green = np.zeros((1, 1, 3), np.uint8)
    green[..., 1] = 255
    assert im.to_gray(green)[0, 0] == 150 and round(im.gray_mean(green)[0, 0]) == 85


def test_load_image_round_trip_converts_bgr_to_rgb():
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[..., 0] = 255                                       # pure red
    ok, png = cv2.imencode(".png", im.rgb_to_bgr(rgb))
    assert ok
    back = im.load_image(png.tobytes())
    np.testing.assert_array_equal(back, rgb)
    small = im.load_image(png.tobytes(), max_side=10)
    assert small.shape == (5, 10, 3)


def test_load_image_rejects_garbage():
    with pytest.raises(ValueError, match="could not decode"):
        im.load_image(b"not an image")


# -- fault injection: what an upload widget or a learner may hand to load_image ----------------------

def _png(shape=(50, 60, 3)) -> bytes:
    ok, png = cv2.imencode(".png", np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8))
    assert ok
    return png.tobytes()


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b"")])
def test_empty_bytes_are_a_value_error_that_says_empty(empty):
    with pytest.raises(ValueError, match=r"empty \(0 bytes\)"):
        im.load_image(empty)


def test_a_zero_byte_file_is_a_value_error_that_names_it(tmp_path):
    path = tmp_path / "upload.png"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"upload.png: the file is empty"):
        im.load_image(path)


@pytest.mark.parametrize("cut", ["png half", "png header", "jpeg half", "text"])
def test_damaged_or_foreign_bytes_are_a_value_error(cut):
    ok, jpg = cv2.imencode(".jpg", np.zeros((40, 40, 3), np.uint8))
    data = {"png half": _png()[:2000], "png header": _png()[:40], "jpeg half": jpg.tobytes()[:300],
            "text": "caf\u00e9 \u2615".encode()}[cut]
    with pytest.raises(ValueError, match=f"could not decode the image bytes \\({len(data):,} bytes"):
        im.load_image(data)


def test_an_image_too_large_for_opencv_is_a_value_error():
    """A PNG header announcing 50,000 x 50,000 pixels: OpenCV raises cv2.error, which we turn into ValueError."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    with pytest.raises(ValueError, match="shrink it first"):
        im.load_image(bomb)


@pytest.mark.parametrize("max_side", [0, -1, -100])
def test_max_side_below_one_is_refused(max_side):
    with pytest.raises(ValueError, match=f"max_side={max_side}"):
        im.load_image(_png(), max_side=max_side)


@pytest.mark.parametrize("max_side", [2.5, "10", True])
def test_max_side_must_be_a_whole_number(max_side):
    with pytest.raises(TypeError, match="max_side must be a whole number"):
        im.load_image(_png(), max_side=max_side)


def test_max_side_one_and_numpy_integers_work():
    assert im.load_image(_png(), max_side=1).shape == (1, 1, 3)
    assert im.load_image(_png(), max_side=np.int64(30), gray=True).shape == (25, 30)


def test_an_array_is_not_a_file():
    with pytest.raises(TypeError, match="already an array of pixels"):
        im.load_image(im.sample_photo())


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such.png"):
        im.load_image(tmp_path / "no_such.png")


def test_normalize():
    out = im.normalize(np.array([[0, 255]], np.uint8))
    assert out.dtype == np.float32 and out.tolist() == [[0.0, 1.0]]
    with pytest.raises(TypeError, match="uint8"):
        im.normalize(np.array([[1, 2]], np.int64))


def test_mnist_sample_is_shipped_as_plain_arrays():
    s = im.load_sample("mnist_sample")
    assert s["images"].shape == (5000, 28, 28) and s["images"].dtype == np.uint8
    assert np.bincount(s["labels"]).tolist() == [500] * 10
    with pytest.raises(FileNotFoundError, match="available"):
        im.load_sample("no_such_sample")
