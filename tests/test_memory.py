"""Memory: what a forward pass, a convolution and building a network keep and need, measured.

numpy reports its arrays' memory to tracemalloc, so these tests see every array that is allocated
(the peak) and every array still alive afterwards. They fail where memory is kept that nothing needs
(im2col columns after an evaluation) or where a transient copy grows with the whole input.
"""
from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from helpers import conv2d, fast_conv
from helpers.nn import Conv2D, he_normal

MB = 1e6


def traced(fn):
    """(result, peak bytes allocated during fn, bytes still allocated after it other than the result)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = result.nbytes if isinstance(result, np.ndarray) else 0
    return result, peak - before, current - before - size


def test_evaluation_keeps_no_columns_and_makes_them_a_block_at_a_time():
    # notebook 07's second convolution on 200 images: the whole batch's columns would be 45 MB
    layer = Conv2D(32, 64, 3, padding="same", rng=0)
    x = np.random.default_rng(0).random((200, 32, 14, 14), dtype=np.float32)
    whole_batch_cols = 32 * 9 * 200 * 14 * 14 * 4
    y, peak, kept = traced(lambda: layer.forward(x, training=False))
    assert kept < 1 * MB, f"an evaluation kept {kept / MB:.0f} MB after it returned"
    # the output, one block of columns and its zero-padded images: never the whole batch's columns
    assert peak < y.nbytes + fast_conv.BLOCK_VALUES * 4 * 1.25 + 2 * MB < whole_batch_cols, \
        f"peak {peak / MB:.0f} MB for a {y.nbytes / MB:.0f} MB output"
    # the same numbers as the training path, which keeps its columns for backward
    assert np.array_equal(y, layer.forward(x, training=True))


def test_training_keeps_the_columns_backward_needs():
    layer = Conv2D(3, 4, 3, rng=0)
    x = np.random.default_rng(1).random((5, 3, 8, 8))
    y, _, kept = traced(lambda: layer.forward(x, training=True))
    assert kept >= 3 * 9 * 5 * 6 * 6 * 4                     # the columns, float32
    assert layer.backward(np.ones_like(y)).shape == x.shape


def test_a_large_layer_is_initialised_without_float64_copies_of_it():
    shape = (2048, 2048)                                      # 16 MB of float32; 32 MB per float64 copy
    w, peak, _ = traced(lambda: he_normal(shape, 2048, np.random.default_rng(0)))
    assert peak < w.nbytes + 20 * MB, f"peak {peak / MB:.0f} MB to make {w.nbytes / MB:.0f} MB of weights"


@pytest.mark.parametrize("shape", [(3, 5), (2**20 + 7,), (4, 3, 3, 3)])
def test_he_normal_draws_the_same_numbers_as_in_one_go(shape):
    fan_in = 27
    expected = (np.random.default_rng(5).standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
    assert np.array_equal(he_normal(shape, fan_in, np.random.default_rng(5)), expected)


def test_a_batch_of_grayscale_images_leaves_small_scratch_buffers():
    # notebook 03: 5,000 digits in float64 at once; the scratch buffers stay alive between calls
    x = np.random.default_rng(0).random((5000, 1, 28, 28))
    k = np.ones((1, 1, 3, 3))
    y, peak, kept = traced(lambda: conv2d(x, k))
    assert kept < 20 * MB, f"{kept / MB:.0f} MB kept in scratch buffers after the call"
    assert peak < y.nbytes + 30 * MB
    assert np.allclose(y[17, 0], conv2d(x[17, 0], k[0, 0]))


def test_conv_matrix_is_the_product_with_the_whole_batch_columns():
    rng = np.random.default_rng(2)
    x = rng.random((37, 4, 9, 9), dtype=np.float32)
    w = rng.normal(size=(6, 4, 3, 3)).astype(np.float32)
    old_block = fast_conv.BLOCK_VALUES
    try:
        fast_conv.BLOCK_VALUES = 4 * 9 * 49 * 5               # blocks of 5 images, and a last one of 2
        blocked = fast_conv.conv_matrix(x, w, (1, 1), (0, 0), (1, 1))
    finally:
        fast_conv.BLOCK_VALUES = old_block
    whole = w.reshape(6, -1) @ fast_conv.im2col(x, (3, 3))
    assert blocked.shape == whole.shape
    assert np.allclose(blocked, whole, rtol=1e-5, atol=1e-5)


def test_a_model_evaluates_a_large_batch_a_part_at_a_time():
    from helpers.models import fashion_cnn

    model = fashion_cnn(seed=0).eval()                              # model(x) follows the mode
    x = np.random.default_rng(3).random((600, 1, 28, 28), dtype=np.float32)
    feature_maps_of_the_batch = 600 * 32 * 28 * 28 * 4 * 2          # first convolution and its ReLU: 120 MB
    scores, peak, kept = traced(lambda: model(x))
    assert scores.shape == (600, 10) and kept < 5 * MB
    assert peak < feature_maps_of_the_batch / 2, f"peak {peak / MB:.0f} MB"
    # each image is scored as if alone
    assert np.allclose(scores[[0, 255, 256, 599]], np.concatenate([model(x[[i]]) for i in (0, 255, 256, 599)]),
                       rtol=1e-5, atol=1e-6)
