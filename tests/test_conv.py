"""helpers.conv: the vectorized conv2d against the loop definition, OpenCV, and the course's worked examples."""
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers.conv as conv_module
from helpers import conv2d, conv2d_loops, fast_conv, output_size
from helpers import kernels as K
from helpers.conv import col2im, im2col, resolve_padding


# -- property tests against the loop reference --------------------------------------------------------
@st.composite
def conv_case(draw):
    """A random layout, shape, padding, stride and dilation that together make a valid convolution."""
    layout = draw(st.sampled_from(["2d", "chw-single", "chw-bank", "batch-bank", "batch-single"]))
    C = 1 if layout == "2d" else draw(st.integers(1, 3))
    N = draw(st.integers(1, 3))
    F = draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    odd = all((d * (k - 1) + 1) % 2 == 1 for k, d in zip((kh, kw), dilation))
    padding = draw(st.sampled_from(["valid", "same", 0, 1, 2, (0, 2), (2, 1)] if odd else ["valid", 0, 1, (1, 0)]))
    ph, pw = resolve_padding(padding, (kh, kw), dilation)
    # the input must be at least as large as the (dilated) kernel once padded
    H = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * ph), 9))
    W = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * pw), 9))
    x_shape = {"2d": (H, W), "chw-single": (C, H, W), "chw-bank": (C, H, W)}.get(layout, (N, C, H, W))
    k_shape = {"2d": (kh, kw), "chw-single": (C, kh, kw), "batch-single": (C, kh, kw)}.get(layout, (F, C, kh, kw))
    seed = draw(st.integers(0, 2**32 - 1))
    with_bias = draw(st.booleans())
    return x_shape, k_shape, padding, stride, dilation, seed, with_bias


@settings(max_examples=150, deadline=None)
@given(conv_case())
def test_conv2d_equals_loops_float64(case):
    x_shape, k_shape, padding, stride, dilation, seed, with_bias = case
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=x_shape), rng.normal(size=k_shape)
    F = k_shape[0] if len(k_shape) == 4 else 1
    bias = rng.normal(size=F) if with_bias else None
    got = conv2d(x, w, bias, stride=stride, padding=padding, dilation=dilation)
    want = conv2d_loops(x, w, bias, stride=stride, padding=padding, dilation=dilation)
    assert got.shape == want.shape
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    readable = _readable(conv2d, x, w, bias, stride=stride, padding=padding, dilation=dilation)
    assert readable.shape == want.shape and readable.dtype == np.float64
    np.testing.assert_allclose(readable, want, rtol=1e-10, atol=1e-10)


def _readable(fn, *args, **kwargs):
    """fn computed with conv2d's readable im2col path instead of helpers.fast_conv."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_module, "FAST", False)
        return fn(*args, **kwargs)


def test_the_switch_to_the_readable_path_is_used():
    calls = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fast_conv, "conv2d", lambda *a: calls.append(a))
        _readable(conv2d, np.ones((2, 1, 5, 5)), np.ones((3, 1, 3, 3)))
    assert calls == []


@st.composite
def im2col_case(draw):
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    H = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 8))
    W = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 8))
    channel_major = draw(st.booleans())
    return (N, C, H, W), (kh, kw), stride, padding, dilation, channel_major, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=80, deadline=None)
@given(im2col_case())
def test_fast_im2col_and_col2im_equal_the_readable_ones(case):
    x_shape, k_hw, stride, padding, dilation, channel_major, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    if channel_major:                                       # how the training code stores its feature maps
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    cols = im2col(x, k_hw, stride, padding, dilation)
    np.testing.assert_array_equal(fast_conv.im2col(x, k_hw, stride, padding, dilation), cols)
    buffer = np.full(cols.shape, np.nan)
    fast_conv.im2col(x, k_hw, stride, padding, dilation, out=buffer)
    np.testing.assert_array_equal(buffer, cols)
    c = rng.normal(size=cols.shape)
    back = col2im(c, x_shape, k_hw, stride, padding, dilation)
    np.testing.assert_allclose(fast_conv.col2im(c, x_shape, k_hw, stride, padding, dilation), back, atol=1e-12)
    N, C, H, W = x_shape
    dirty = np.full((C, N, H + 2 * padding[0], W + 2 * padding[1]), np.nan).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(fast_conv.col2im(c, x_shape, k_hw, stride, padding, dilation, out=dirty), back,
                               atol=1e-12)


def test_im2col_columns_are_windows_and_rows_follow_the_kernel_layout():
    """Column (img, i, j) is the window under output pixel (i, j), flattened like a kernel (C, kh, kw)."""
    x = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    cols = im2col(x, (2, 3), stride=(2, 1))                 # H' = 2, W' = 3
    assert cols.shape == (3 * 2 * 3, 2 * 2 * 3)
    column = (1 * 2 + 1) * 3 + 2                            # image 1, output pixel (1, 2)
    np.testing.assert_array_equal(cols[:, column], x[1, :, 2:4, 2:5].reshape(-1))


@settings(max_examples=60, deadline=None)
@given(conv_case())
def test_conv2d_equals_loops_float32(case):
    x_shape, k_shape, padding, stride, dilation, seed, _ = case
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=x_shape).astype(np.float32), rng.normal(size=k_shape).astype(np.float32)
    got = conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    want = conv2d_loops(x.astype(np.float64), w.astype(np.float64), stride=stride, padding=padding, dilation=dilation)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    readable = _readable(conv2d, x, w, stride=stride, padding=padding, dilation=dilation)
    assert readable.dtype == np.float32
    np.testing.assert_allclose(readable, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize(
    "x_shape, k_shape, out_shape",
    [
        ((6, 7), (3, 3), (4, 5)),
        ((2, 6, 7), (2, 3, 3), (4, 5)),
        ((2, 6, 7), (5, 2, 3, 3), (5, 4, 5)),
        ((4, 2, 6, 7), (5, 2, 3, 3), (4, 5, 4, 5)),
        ((4, 2, 6, 7), (2, 3, 3), (4, 4, 5)),
        ((6, 7), (5, 1, 3, 3), (5, 4, 5)),
    ],
)
def test_layouts_give_documented_shapes(x_shape, k_shape, out_shape):
    assert conv2d(np.ones(x_shape), np.ones(k_shape)).shape == out_shape


def test_both_routes_agree():
    """One image and one kernel go shift-and-add, a filter bank goes im2col: same numbers either way."""
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(3, 20, 30)), rng.normal(size=(4, 3, 3, 3))
    bank = conv2d(x, w, stride=2, padding="same")
    one_by_one = np.stack(
        [sum(conv2d(x[c], w[f, c], stride=2, padding="same") for c in range(3)) for f in range(4)]
    )
    np.testing.assert_allclose(bank, one_by_one, atol=1e-12)


def test_im2col_col2im_are_adjoint():
    """<im2col(x), c> == <x, col2im(c)>: what makes col2im the right backward pass."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 7, 8))
    cols = im2col(x, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2))
    c = rng.normal(size=cols.shape)
    back = col2im(c, x.shape, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2))
    assert back.shape == x.shape
    assert np.isclose(np.sum(cols * c), np.sum(x * back))


# -- OpenCV ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make_kernel", [K.sobel_x, K.sobel_y, K.sharpen, K.emboss, K.laplacian, K.gaussian])
def test_same_padding_matches_cv2_filter2d_with_zero_border(make_kernel):
    photo = np.random.default_rng(3).random((64, 80)).astype(np.float32)
    k = make_kernel().astype(np.float32)
    ours = conv2d(photo, k, padding="same")
    theirs = cv2.filter2D(photo, -1, k, borderType=cv2.BORDER_CONSTANT)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_matches_cv2_with_an_asymmetric_5x5_kernel():
    """cv2.filter2D is cross-correlation too: no flip, even when the kernel is not symmetric."""
    rng = np.random.default_rng(4)
    photo, k = rng.random((50, 40)).astype(np.float32), rng.normal(size=(5, 5)).astype(np.float32)
    theirs = cv2.filter2D(photo, -1, k, borderType=cv2.BORDER_CONSTANT)
    np.testing.assert_allclose(conv2d(photo, k, padding="same"), theirs, atol=1e-4)
    assert not np.allclose(conv2d(photo, k[::-1, ::-1], padding="same"), theirs, atol=1e-3)


# -- dtypes -------------------------------------------------------------------------------------------------
def test_uint8_images_do_not_wrap_around():
    img = np.full((4, 4), 200, dtype=np.uint8)
    out = conv2d(img, np.ones((2, 2), dtype=np.uint8))
    assert out.dtype == np.float32   # uint8 values are exact in float32
    assert np.all(out == 800)   # in uint8, 4 * 200 would wrap to 32


def test_float32_stays_float32_with_int_kernel_promoting_to_float64():
    x32 = np.ones((5, 5), np.float32)
    assert conv2d(x32, np.ones((3, 3), np.float32)).dtype == np.float32
    assert conv2d(x32, np.ones((3, 3))).dtype == np.float64


# -- the course's worked examples -------------------------------------------------------------------------
def test_4x4_with_3x3_sobel_gives_2x2():
    img = np.arange(16).reshape(4, 4)
    out = conv2d(img, K.sobel_x())
    assert out.shape == (2, 2)
    # the image brightens by 1 per column; Sobel x weighs the right column minus the left one (2 apart)
    # by 1 + 2 + 1: 2 * 4 = 8 everywhere
    np.testing.assert_array_equal(out, np.full((2, 2), 8.0))


def test_mnist_conv_layer_of_8_filters():
    digit = np.random.default_rng(5).integers(0, 256, size=(28, 28)).astype(np.uint8)
    filters = np.random.default_rng(6).normal(size=(8, 1, 3, 3))
    maps = conv2d(digit, filters)
    assert maps.shape == (8, 26, 26)
    assert filters.size == 3 * 3 * 8 == 72


def test_two_kernels_on_a_7x7x3_input_give_two_feature_maps():
    x = np.random.default_rng(7).normal(size=(3, 7, 7))
    w = np.random.default_rng(8).normal(size=(2, 3, 3, 3))
    b = np.array([1.0, -1.0])
    out = conv2d(x, w, b)
    assert out.shape == (2, 5, 5)
    # channel by channel, summed, plus the bias: the multi-channel rule of notebook 02
    expected = np.stack([sum(conv2d(x[c], w[f, c]) for c in range(3)) + b[f] for f in range(2)])
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize(
    "args, expected",
    [
        ((28, 3), 26), ((7, 3, 1, 1), 7), ((7, 3, 1, 2), 4),
        ((6, 3, 0, 3), 2), ((224, 11, 2, 4), 55), ((9, 3, 0, 1, 2), 5),
    ],
)
def test_output_size(args, expected):
    assert output_size(*args) == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.integers(0, 3), st.integers(1, 4), st.integers(1, 3))
def test_output_size_matches_conv2d(n, k, p, s, d):
    if d * (k - 1) + 1 > n + 2 * p:
        with pytest.raises(ValueError, match="padded input"):
            output_size(n, k, p, s, d)
        return
    out = conv2d(np.ones((n, n + 1)), np.ones((k, k)), stride=s, padding=p, dilation=d)
    assert out.shape[0] == output_size(n, k, p, s, d)


def test_same_keeps_size_at_stride_1_and_gives_ceil_at_stride_2():
    x = np.ones((9, 10))
    assert conv2d(x, np.ones((3, 3)), padding="same").shape == (9, 10)
    assert conv2d(x, np.ones((5, 5)), padding="same", stride=2).shape == (5, 5)


# -- bad input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: conv2d(np.ones((2, 2, 2, 2, 2)), np.ones((3, 3))), ValueError, "x must be"),
        (lambda: conv2d(np.ones((10, 10, 3)), np.ones((3, 3))), ValueError, "transpose"),
        (lambda: conv2d(np.ones((5, 5)), np.ones(3)), ValueError, "kernel must be"),
        (lambda: conv2d(np.ones((3, 5, 5)), np.ones((2, 3, 3))), ValueError, "channel"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((5, 5))), ValueError, "larger than the padded input"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((7, 7)), padding=1), ValueError, "larger than the padded input"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((3, 3)), stride=0), ValueError, "stride must be at least 1"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((3, 3)), stride=(1, -1)), ValueError, "stride must be at least 1"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((3, 3)), stride=1.5), TypeError, "stride must be an int"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((3, 3)), padding=-1), ValueError, "padding must be 0 or more"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((3, 3)), padding="full"), ValueError, "padding must be"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((2, 2)), padding="same"), ValueError, "odd kernel"),
        (lambda: conv2d(np.array([["a", "b"], ["c", "d"]]), np.ones((1, 1))), TypeError, "array of numbers"),
        (lambda: conv2d(np.ones((4, 4)) * 1j, np.ones((1, 1))), TypeError, "real numbers"),
        (lambda: conv2d(np.ones((0, 4)), np.ones((1, 1))), ValueError, "empty"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((3, 3)), bias=[1.0, 2.0]), ValueError, "bias"),
        (lambda: conv2d(np.ones((4, 4)), np.ones((3, 3)), dilation=0), ValueError, "dilation"),
        (lambda: output_size(5, 3, stride=0), ValueError, "stride"),
        (lambda: output_size(5, 7), ValueError, "larger|spans"),
    ],
)
def test_bad_input_is_named_and_explained(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_loops_version_raises_the_same_errors():
    with pytest.raises(ValueError, match="channel"):
        conv2d_loops(np.ones((3, 5, 5)), np.ones((2, 3, 3)))
