"""helpers.pooling: pool2d against its loop definition, the worked examples, and the backward pass."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers.pooling as pooling_module
from helpers import pool2d
from helpers.nn import ChannelMajor
from helpers.pooling import EXAMPLE_4X4 as EXAMPLE
from helpers.pooling import EXAMPLE_6X6, pool2d_backward, pool2d_loops, shift_right, unchanged_fraction


@settings(max_examples=150, deadline=None)
@given(
    lead=st.sampled_from([(), (2,), (2, 3)]),
    H=st.integers(1, 9), W=st.integers(1, 9),
    size=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    mode=st.sampled_from(["max", "avg"]),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_pool2d_equals_loops(lead, H, W, size, stride, mode, seed, dtype):
    if size[0] > H or size[1] > W:
        with pytest.raises(ValueError, match="larger than the input"):
            pool2d(np.ones((H, W)), size, stride, mode)
        return
    x = np.random.default_rng(seed).normal(size=lead + (H, W)).astype(dtype)
    got, want = pool2d(x, size, stride, mode), pool2d_loops(x, size, stride, mode)
    assert got.shape == want.shape and got.dtype == want.dtype
    if dtype == np.float32:   # summation order differs: float32 to 1e-4 relative, plus a floor near 0
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_worked_example_max():
    np.testing.assert_array_equal(pool2d(EXAMPLE, 2, mode="max"), [[9, 7], [8, 8]])


def test_worked_example_average_is_not_what_the_source_printed():
    avg = pool2d(EXAMPLE, 2, mode="avg")
    np.testing.assert_allclose(avg, [[4.75, 4.25], [6.25, 4.25]])
    assert not np.allclose(avg, [[5, 5], [7, 5]])


def test_3x3_stride_3_on_6x6_gives_a_third_of_each_side():
    x = np.zeros((6, 6))
    x[:3, :3] = np.array([[1, 0, 4], [8, 2, 5], [20, 13, 25]])
    out = pool2d(x, 3, 3)
    assert out.shape == (2, 2) and out[0, 0] == 25


def test_26x26x8_pools_to_13x13x8():
    assert pool2d(np.zeros((8, 26, 26)), 2).shape == (8, 13, 13)


def test_uint8_average_does_not_wrap():
    assert pool2d(np.full((2, 2), 200, np.uint8), 2, mode="avg")[0, 0] == 200


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f(x)
        x[idx] = old - eps
        down = f(x)
        x[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("size, stride", [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_backward_matches_finite_differences(mode, size, stride):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 3, 7, 7))
    upstream = rng.normal(size=pool2d(x, size, stride, mode).shape)

    def loss(x_):
        return np.sum(pool2d(x_, size, stride, mode) * upstream)

    if mode == "max":
        _, idx = pool2d(x, size, stride, mode, return_indices=True)
        grad = pool2d_backward(upstream, x.shape, size, stride, mode, indices=idx)
    else:
        grad = pool2d_backward(upstream, x.shape, size, stride, mode)
    np.testing.assert_allclose(grad, _numeric_grad(loss, x), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(x=np.ones((4, 4)), size=5), ValueError, "larger than the input"),
        (dict(x=np.ones((4, 4)), size=0), ValueError, "size must be at least 1"),
        (dict(x=np.ones((4, 4)), size=2, stride=0), ValueError, "stride must be at least 1"),
        (dict(x=np.ones((4, 4)), size=2, mode="median"), ValueError, "mode must be"),
        (dict(x=np.ones(4), size=2), ValueError, "x must be"),
        (dict(x=np.ones((4, 4)), size=2, mode="avg", return_indices=True), ValueError, "return_indices"),
    ],
)
def test_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        pool2d(**kwargs)


# -- the 2x2 fast path against the general one ---------------------------------------------------------------
def _general(fn, *args, **kwargs):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pooling_module, "_is_2x2", lambda *a: False)
        return fn(*args, **kwargs)


@settings(max_examples=60, deadline=None)
@given(
    lead=st.sampled_from([(), (3,), (2, 3), (0, 2)]),
    half_h=st.integers(1, 4), half_w=st.integers(1, 4),
    levels=st.sampled_from([2, 3, 1000]),                 # few levels: many ties within a window
    channel_major=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_2x2_fast_path_equals_the_general_one_including_ties(lead, half_h, half_w, levels, channel_major, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, size=lead + (2 * half_h, 2 * half_w)).astype(np.float32)
    if channel_major and x.ndim == 4:
        x = ChannelMajor.copy(x)
    assert pooling_module._is_2x2(x.shape, (2, 2), (2, 2))
    y, idx = pool2d(x, 2, return_indices=True)
    y_general, idx_general = _general(pool2d, x, 2, return_indices=True)
    np.testing.assert_array_equal(y, y_general)
    np.testing.assert_array_equal(idx, idx_general)        # the first winner when several tie, as argmax
    np.testing.assert_array_equal(pool2d(x, 2), y)
    g = rng.normal(size=y.shape).astype(np.float32)
    dx = pool2d_backward(g, x.shape, 2, indices=idx)
    np.testing.assert_array_equal(dx, _general(pool2d_backward, g, x.shape, 2, indices=idx_general))
    assert dx.shape == x.shape and dx.dtype == np.float32


def test_2x2_fast_path_keeps_the_channel_major_layout():
    x = ChannelMajor.copy(np.random.default_rng(0).normal(size=(4, 3, 6, 8)).astype(np.float32))
    y, idx = pool2d(x, 2, return_indices=True)
    assert ChannelMajor.holds(y)
    assert ChannelMajor.holds(pool2d_backward(ChannelMajor.copy(np.ones_like(y)), x.shape, 2, indices=idx))


@pytest.mark.parametrize("kwargs, words", [
    (dict(indices=None), "needs indices"),
    (dict(indices=np.zeros((1, 1), np.int64)), "needs indices"),
    (dict(mode="median"), "mode must be"),
])
def test_backward_without_the_right_indices_says_what_it_needs(kwargs, words):
    with pytest.raises(ValueError, match=words):
        pool2d_backward(np.ones((2, 2)), (4, 4), 2, **kwargs)


def test_an_empty_batch_pools_to_an_empty_result():
    assert pool2d(np.zeros((0, 3, 4, 4)), 2).shape == (0, 3, 2, 2)
    assert pool2d(np.zeros((0, 3, 7, 7)), 3, 2, mode="avg").shape == (0, 3, 3, 3)
    with pytest.raises(ValueError, match="larger than the input"):
        pool2d(np.zeros((3, 0, 4)), 2)


# -- What a shift of the input changes: shift_right and unchanged_fraction (notebook 05) -----------------------
def test_worked_examples_hold_what_their_comments_say():
    assert pool2d(EXAMPLE, 2).tolist() == [[9, 7], [8, 8]]
    window = EXAMPLE_6X6[:3, :3]
    assert sorted(window.ravel()) == sorted([1, 0, 4, 8, 2, 5, 20, 13, 25]) and window.max() == 25


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_shift_right_moves_columns_and_brings_in_zeros(lead):
    x = np.arange(1, 1 + np.prod(lead, dtype=int) * 4 * 5).reshape(lead + (4, 5))
    moved = shift_right(x, 2)
    assert moved.shape == x.shape and moved.dtype == x.dtype
    np.testing.assert_array_equal(moved[..., 2:], x[..., :3])
    assert not moved[..., :2].any()
    np.testing.assert_array_equal(shift_right(x, 0), x)
    assert not shift_right(x, 5).any() and not shift_right(x, 9).any()     # everything moved out of the image


@pytest.mark.parametrize("pixels, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_shift_right_refuses_a_bad_shift(pixels, error):
    with pytest.raises(error, match="pixels"):
        shift_right(EXAMPLE, pixels)


def test_shift_right_refuses_a_vector():
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"):
        shift_right(np.arange(4), 1)


def test_unchanged_fraction_counts_only_positions_that_are_not_background():
    a = np.array([[0, 5, 5, 0, 0, 0]])
    assert unchanged_fraction(a, a) == 1.0
    # shifted: [0, 0, 5, 5, 0, 0]; non-zero in either at columns 1, 2, 3, equal at column 2 only
    assert unchanged_fraction(a, shift_right(a, 1)) == 1 / 3
    assert unchanged_fraction(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0
    # the 4x4 example shifted by one pixel: 3 of its 4 pooled maxima stay
    assert unchanged_fraction(pool2d(EXAMPLE, 2), pool2d(shift_right(EXAMPLE, 1), 2)) == 0.75
