"""Explorers of notebooks 04-06: moving a control redraws the picture, and the numbers match helpers."""
import numpy as np
import pytest
from _explorers import pictures

from helpers import conv2d, output_size, pool2d
from helpers.kernels import box_blur
from helpers.losses import cross_entropy, softmax
from helpers.pooling import EXAMPLE_4X4, EXAMPLE_6X6, shift_right, unchanged_fraction
from helpers.shapes import tiling
from helpers.widgets import PaddingStrideExplorer, PoolingExplorer, ReceptiveFieldExplorer, SoftmaxExplorer


def pictures_are_encoded(explorer) -> bool:
    """Every picture the explorer shows is a PNG or JPEG file."""
    pictures = [v for v in explorer.snapshot() if isinstance(v, bytes)]
    return bool(pictures) and all(v.startswith((b"\x89PNG", b"\xff\xd8")) for v in pictures if v)

SMALL_PHOTO = (np.arange(40 * 36).reshape(40, 36) % 251).astype(np.uint8)   # keeps the tests fast


def moved(explorer, control, value):
    """Set a control; return whether the picture changed."""
    before = explorer.snapshot()
    control.value = value
    assert explorer.message.value == "", explorer.message.value
    return explorer.snapshot() != before


def test_padding_stride_explorer_draws_and_matches_helpers():
    e = PaddingStrideExplorer(n=7, k=3, padding=1, stride=2, photo=SMALL_PHOTO)
    assert pictures_are_encoded(e) and e.last_draw_seconds is not None
    assert e.out_size == output_size(7, 3, 1, 2) == 4
    assert e.position.max == 4 * 4 - 1
    assert "floor((7 + 2*1 - 3) / 2) + 1" in e.info.value and "does not tile" not in e.info.value
    for control, value in [(e.n, 8), (e.padding, 0), (e.stride, 1), (e.dilation, 2), (e.k, 2), (e.position, 5)]:
        assert moved(e, control, value)
        n, k, p, s, d = (c.value for c in (e.n, e.k, e.padding, e.stride, e.dilation))
        assert e.out_size == output_size(n, k, p, s, d)
        assert e.photo_out_shape == conv2d(SMALL_PHOTO, box_blur(k), padding=p, stride=s, dilation=d).shape


def test_padding_stride_explorer_flags_uneven_tiling():
    e = PaddingStrideExplorer(n=8, k=3, padding=0, stride=2, photo=SMALL_PHOTO)
    assert e.tiles == tiling(8, 3, 0, 2) and e.tiles["leftover"] == 1 and e.tiles["dropped_pixels"] == 1
    assert "does not tile evenly" in e.info.value and "TensorFlow" in e.info.value
    # the photo's feature map has exactly the size conv2d gives, leftover dropped
    assert e.photo_out_shape == conv2d(SMALL_PHOTO, box_blur(3), stride=2).shape


def test_position_slider_follows_the_output_size():
    e = PaddingStrideExplorer(n=10, k=3, padding=0, stride=1, photo=SMALL_PHOTO)
    e.position.value = 63                   # the last of 8x8 windows
    e.stride.value = 3                      # now 3x3 windows: the slider shrinks with it
    assert e.position.max == 8 and e.position.value <= 8 and e.message.value == ""


def test_padding_stride_explorer_invalid_settings_show_a_message():
    e = PaddingStrideExplorer(n=4, k=3, padding=0, stride=1, photo=SMALL_PHOTO)
    before = pictures(e)
    e.k.value = 7                           # a 7x7 kernel on a 4x4 input without padding
    assert "kernel spans 7" in e.message.value
    assert pictures(e) == before                  # the last good picture stays
    e.padding.value = 2                     # 4 + 2*2 = 8 >= 7: valid again
    assert e.message.value == "" and e.out_size == 2


def test_receptive_field_explorer():
    e = ReceptiveFieldExplorer(layers=2, row=2, col=2)
    assert e.field_size == 5 and e.field.shape == (9, 9)
    np.testing.assert_array_equal(e.field[2:7, 2:7], np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1]))
    assert moved(e, e.layers, 3) and e.field_size == 7
    assert moved(e, e.row, 0)
    rows, _ = np.nonzero(e.field)
    assert rows.min() == 0 and rows.max() == 6


def test_pooling_explorer_on_the_worked_examples():
    e = PoolingExplorer()
    np.testing.assert_array_equal(e.pooled, [[9, 7], [8, 8]])
    assert moved(e, e.mode, "avg")
    np.testing.assert_allclose(e.pooled, [[4.75, 4.25], [6.25, 4.25]])
    assert moved(e, e.source, "example 6x6")
    e.mode.value = "max"
    e.size.value = 3
    assert moved(e, e.stride, 3)
    np.testing.assert_array_equal(e.pooled, pool2d(EXAMPLE_6X6, 3, 3))
    assert e.pooled[0, 0] == 25 and e.pooled.shape == (2, 2)


def test_pooling_explorer_shift_is_measured():
    e = PoolingExplorer()
    assert e.unchanged == 1.0                       # no shift: nothing changes
    assert moved(e, e.shift, 1)
    np.testing.assert_array_equal(e.shifted, shift_right(EXAMPLE_4X4, 1))
    assert e.unchanged == unchanged_fraction(pool2d(EXAMPLE_4X4, 2), pool2d(shift_right(EXAMPLE_4X4, 1), 2)) == 0.75
    assert "75%" in e.info.value


@pytest.mark.slow
def test_pooling_explorer_on_real_feature_maps():
    e = PoolingExplorer(source="MNIST digit 28x28", shift=1)
    assert e.pooled.shape == (14, 14) and e.unchanged > e.raw_unchanged
    assert moved(e, e.source, PoolingExplorer.SOURCES[3])
    assert e.x.shape == (148, 126) and e.pooled.shape == (74, 63)


def test_pooling_explorer_window_too_large_shows_a_message():
    e = PoolingExplorer(size=4, stride=1)
    assert e.message.value == "" and e.pooled.shape == (1, 1)          # 4x4 window on the 4x4 example: fits
    before = pictures(e)
    e.size.max = 5
    e.size.value = 5                                                    # does not fit: a message, no exception
    assert "does not fit" in e.message.value and pictures(e) == before
    e.source.value = "example 6x6"                                      # 5x5 fits in 6x6 again
    assert e.message.value == "" and e.pooled.shape == (2, 2)


def test_softmax_explorer():
    e = SoftmaxExplorer()
    np.testing.assert_allclose(e.probs, softmax([-1, 0, 3, 5]))
    assert e.loss == pytest.approx(cross_entropy([-1, 0, 3, 5], 3))
    assert moved(e, e.true_class, 0)
    assert e.loss == pytest.approx(cross_entropy([-1, 0, 3, 5], 0))
    assert moved(e, e.score_sliders[0], 4.0)
    np.testing.assert_allclose(e.probs, softmax([4, 0, 3, 5]))
    assert moved(e, e.temperature, 2.0)
    np.testing.assert_allclose(e.probs, softmax([4, 0, 3, 5], temperature=2.0))


def test_softmax_explorer_naive_overflows_stable_does_not():
    e = SoftmaxExplorer()
    probs = e.probs.copy()
    assert moved(e, e.add_1000, True)
    np.testing.assert_allclose(e.probs, probs)               # shifting every score changes nothing
    assert np.all(np.isnan(e.naive))
    assert "nan" not in e.info.value
    e.add_1000.value = False
    np.testing.assert_allclose(e.naive, e.probs)              # small scores: both formulas agree
