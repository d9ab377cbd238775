"""The explorers of notebooks 01-03: they draw, respond to their controls, compute what helpers computes,
and show a message (not a traceback) for invalid settings."""
from __future__ import annotations

import datetime

import cv2
import numpy as np
import pytest
from _explorers import pictures

from helpers import conv2d
from helpers.images import sample_photo, to_gray
from helpers.kernels import PRESETS, gaussian, sharpen, sobel_x, sobel_y
from helpers.widgets import ConvolutionScrubber, KernelPlayground, PixelInspector, SobelExplorer
from helpers.widgets.playground import CUSTOM, uploaded_files


def pictures_are_encoded(explorer) -> bool:
    """Every picture the explorer shows is a PNG or JPEG file."""
    pictures = [v for v in explorer.snapshot() if isinstance(v, bytes)]
    return bool(pictures) and all(v.startswith((b"\x89PNG", b"\xff\xd8")) for v in pictures if v)

def _png_of(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def small_rgb():
    """A 40x60 crop of the photo, as PNG file bytes and as the RGB array."""
    rgb = np.ascontiguousarray(sample_photo()[100:140, 200:260])
    return rgb, _png_of(rgb)


# -- PixelInspector -----------------------------------------------------------------------------------
def test_pixel_inspector_window_values_and_redraw():
    ex = PixelInspector()
    photo = sample_photo()
    assert pictures_are_encoded(ex)
    before = ex.snapshot()
    ex.row.value, ex.col.value = 250, 240
    assert ex.snapshot() != before
    k = ex.size.value
    np.testing.assert_array_equal(ex.window, to_gray(photo)[250 : 250 + k, 240 : 240 + k])
    ex.channel.value = "G"
    np.testing.assert_array_equal(ex.window, photo[250 : 250 + k, 240 : 240 + k, 1])
    assert ex.message.value == ""


def test_pixel_inspector_threshold_gives_a_binary_image():
    ex = PixelInspector()
    before = ex.snapshot()
    ex.threshold.value = 60
    assert ex.snapshot() != before
    assert set(np.unique(ex.binary)) <= {0, 255}
    np.testing.assert_array_equal(ex.binary == 255, ex.gray > 60)


def test_pixel_inspector_digit_keeps_the_window_inside_and_refuses_a_colour_channel():
    ex = PixelInspector()
    ex.source.value = "digit 8"
    assert ex.row.max == 28 - ex.size.value and ex.row.value <= ex.row.max
    assert ex.window.shape == (ex.size.value, ex.size.value)
    shown = pictures(ex)
    ex.channel.value = "R"
    assert "grayscale" in ex.message.value and "R channel" in ex.message.value
    assert pictures(ex) == shown                          # the last good picture stays
    ex.channel.value = "gray"
    assert ex.message.value == ""


def test_pixel_inspector_rejects_an_image_of_the_wrong_shape():
    with pytest.raises(ValueError, match="gray .H, W. or colour"):
        PixelInspector(np.zeros((4, 4, 2), np.uint8))


# -- ConvolutionScrubber ------------------------------------------------------------------------------
def test_scrubber_steps_through_the_arithmetic():
    img = np.arange(36.0).reshape(6, 6) % 7
    k = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    ex = ConvolutionScrubber(img, k)
    np.testing.assert_allclose(ex.feature_map, conv2d(img, k))
    before = ex.snapshot()
    ex.step.value = 6                                # output is 4x4: step 6 is row 1, column 2
    assert ex.snapshot() != before
    assert ex.position == (1, 2)
    np.testing.assert_array_equal(ex.patch, img[1:4, 2:5])
    np.testing.assert_allclose(ex.products, img[1:4, 2:5] * k)
    assert ex.value == pytest.approx(conv2d(img, k)[1, 2])
    assert np.isfinite(ex.partial).sum() == 7 and np.isnan(ex.partial[1, 3])
    np.testing.assert_allclose(ex.partial.flat[:7], conv2d(img, k).flat[:7])


def test_scrubber_invalid_step_shows_a_message():
    ex = ConvolutionScrubber()
    ex.step.max = 100                                # a learner could set the value from code
    ex.step.value = 99
    assert "step must be between" in ex.message.value


def test_scrubber_refuses_large_images_and_kernels():
    with pytest.raises(ValueError, match="at most 12x12"):
        ConvolutionScrubber(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        ConvolutionScrubber(np.zeros((3, 3)), np.ones((5, 5)))


# -- KernelPlayground ---------------------------------------------------------------------------------
def test_playground_feature_map_is_conv2d_of_the_photo():
    ex = KernelPlayground()
    gray = sample_photo(gray=True).astype(np.float32)
    np.testing.assert_allclose(ex.kernel, sobel_x())
    np.testing.assert_allclose(ex.feature_map, conv2d(gray, sobel_x()), atol=1e-3)
    before = ex.snapshot()
    ex.preset.value = "sharpen"
    assert ex.snapshot() != before
    np.testing.assert_allclose(ex.feature_map, conv2d(gray, sharpen()), atol=1e-3)


def test_playground_bias_relu_and_edited_cells():
    ex = KernelPlayground()
    gray = sample_photo(gray=True).astype(np.float32)
    ex.bias.value = 20.0
    np.testing.assert_allclose(ex.feature_map, conv2d(gray, sobel_x()) + 20, atol=1e-3)
    before = ex.snapshot()
    ex.relu.value = True
    assert ex.snapshot() != before and ex.feature_map.min() == 0
    np.testing.assert_allclose(ex.feature_map, np.maximum(conv2d(gray, sobel_x()) + 20, 0), atol=1e-3)
    ex.cells[1][1].value = 3.0                       # editing a cell makes the kernel "custom"
    assert ex.preset.value == CUSTOM
    expected = sobel_x()
    expected[1, 1] = 3.0
    np.testing.assert_allclose(ex.kernel, expected)


def test_playground_5x5_presets():
    ex = KernelPlayground()
    ex.preset.value = "gaussian blur"
    ex.size.value = 5
    np.testing.assert_allclose(ex.kernel, gaussian(5))
    assert ex.feature_map.shape == (596, 508)
    assert len(ex.grid.children) == 25
    ex.preset.value = "Sobel y (horizontal edges)"   # a 3x3 kernel, centred in the 5x5 grid
    np.testing.assert_allclose(ex.kernel[1:4, 1:4], sobel_y())
    assert np.abs(ex.kernel).sum() == np.abs(sobel_y()).sum()


def test_playground_invalid_kernel_shows_a_message():
    ex = KernelPlayground()
    ex.cells[0][0].value = float("nan")
    assert "needs a number" in ex.message.value


def test_uploaded_files_reads_both_ipywidgets_shapes():
    v7 = {"a.png": {"content": b"abc", "metadata": {"name": "a.png", "size": 3}}}
    v8 = ({"name": "b.png", "type": "image/png", "size": 3, "content": memoryview(b"xyz")},)
    assert uploaded_files(v7) == [("a.png", b"abc")]
    assert uploaded_files(v8) == [("b.png", b"xyz")]
    assert uploaded_files(()) == [] and uploaded_files({}) == []


@pytest.mark.parametrize("shape", ["v7", "v8"])
def test_playground_upload_ipywidgets_7_and_8(small_rgb, shape):
    rgb, png = small_rgb
    value = ({"x.png": {"content": png, "metadata": {"name": "x.png"}}} if shape == "v7"
             else ({"name": "x.png", "type": "image/png", "size": len(png), "content": memoryview(png)},))
    ex = KernelPlayground()
    before = ex.snapshot()
    ex.use_upload(value)
    assert ex.message.value == ""
    assert ex.snapshot() != before
    assert ex.image.shape == (40, 60) and ex.image_name == "x.png"
    np.testing.assert_allclose(ex.image, to_gray(rgb))
    np.testing.assert_allclose(ex.feature_map, conv2d(to_gray(rgb).astype(np.float32), sobel_x()), atol=1e-3)


def test_playground_upload_through_the_widget(small_rgb):
    """Setting FileUpload.value, as the browser does, reaches the playground (ipywidgets 8's tuple shape
    or 7's dict shape, whichever is installed)."""
    import ipywidgets

    _, png = small_rgb
    ex = KernelPlayground()
    if ipywidgets.__version__.startswith("7"):
        # ipywidgets 7: value is read-only; the browser sends metadata and data, then bumps _counter
        ex.upload.metadata = [{"name": "y.png", "type": "image/png", "size": len(png)}]
        ex.upload.data = [png]
        ex.upload._counter += 1
    else:
        stamp = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
        ex.upload.value = ({"name": "y.png", "type": "image/png", "size": len(png), "last_modified": stamp,
                            "content": memoryview(png)},)
    assert ex.image_name == "y.png" and ex.image.shape == (40, 60)


def test_playground_upload_of_a_non_image_shows_a_message():
    ex = KernelPlayground()
    shown = pictures(ex)
    ex.use_upload(({"name": "notes.txt", "content": memoryview(b"not an image")},))
    assert "notes.txt" in ex.message.value and "could not decode" in ex.message.value
    assert pictures(ex) == shown and ex.image.shape == (600, 512)


@pytest.mark.slow
def test_every_preset_draws():
    ex = KernelPlayground()
    for name in PRESETS:
        ex.preset.value = name
        assert ex.message.value == "", name


# -- SobelExplorer ------------------------------------------------------------------------------------
def test_sobel_explorer_matches_helpers_and_cv2():
    ex = SobelExplorer()
    gray = sample_photo(gray=True).astype(np.float32)
    np.testing.assert_allclose(ex.gx, conv2d(gray, sobel_x(), padding="same"), atol=1e-3)
    np.testing.assert_allclose(ex.gy, conv2d(gray, sobel_y(), padding="same"), atol=1e-3)
    np.testing.assert_allclose(ex.magnitude, np.hypot(ex.gx, ex.gy), rtol=1e-6)
    assert ex.max_difference == 0.0                   # zero border: identical to cv2
    before = ex.snapshot()
    ex.border.value = next(b for b in ex.border.options if "reflect" in b)
    assert ex.snapshot() != before
    assert ex.max_difference > 100                    # reflection differs ...
    diff = np.abs(ex.gx - ex.cv2_gx)
    assert diff[1:-1, 1:-1].max() == 0                 # ... only at the border
    assert f"{ex.max_difference:.4g}" in ex.panel_diff.title


def test_sobel_explorer_threshold():
    ex = SobelExplorer()
    before, n_before = ex.snapshot(), ex.edges.sum()
    ex.threshold.value = 0.5
    assert ex.snapshot() != before
    np.testing.assert_array_equal(ex.edges, ex.magnitude > 0.5 * ex.magnitude.max())
    assert ex.edges.sum() < n_before
    ex.threshold.value = 1.0                           # nothing is above the maximum
    assert ex.edges.sum() == 0 and ex.message.value == ""


def test_sobel_explorer_invalid_threshold_and_image():
    ex = SobelExplorer(np.tile(np.arange(20.0), (10, 1)))
    np.testing.assert_allclose(ex.gx[1:-1, 1:-1], 8.0)  # a ramp of slope 1: Sobel reports 8
    ex.threshold.max = 2.0
    ex.threshold.value = 1.5
    assert "between 0 and 1" in ex.message.value
    with pytest.raises(ValueError, match="gray image"):
        SobelExplorer(np.zeros((5, 5, 3)))
