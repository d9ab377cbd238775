"""helpers._threads, and the code that shares its work out over the CPU cores.

Real inputs in the other tests are too small to be split (a part must be worth a thread), so here
the thresholds are lowered: every split path then runs on tiny arrays, and must give the numbers the
unsplit code gives.
"""
import threading
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers.fast_conv as fast_conv
from helpers import _threads, conv2d, conv2d_loops
from helpers.fast_conv import col2im, im2col
from helpers.models import fashion_cnn
from helpers.nn import MaxPool2D, ReLU, SoftmaxCrossEntropy


@contextmanager
def _splitting_everything(band_values):
    """Three threads, and no part too small to get one; bands of ``band_values`` values."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_threads, "THREADS", 3)
        mp.setattr(_threads, "MIN_VALUES_PER_THREAD", 1)
        mp.setattr(fast_conv, "_BAND_VALUES", band_values)
        yield


@pytest.fixture
def split_everything():
    with _splitting_everything(band_values=64):
        yield


def test_in_parallel_covers_every_item_once_on_several_threads(split_everything):
    seen, names = [], set()

    def work(part):
        seen.extend(range(10)[part])
        names.add(threading.current_thread().name)
    _threads.in_parallel(work, 10)
    assert sorted(seen) == list(range(10))
    assert len(names) > 1


def test_in_parallel_keeps_small_work_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(_threads, "THREADS", 2)
    parts = []
    _threads.in_parallel(parts.append, 8, values_per_item=10)     # 80 values: not worth a thread
    assert parts == [slice(0, 8)]


def test_an_error_in_a_worker_reaches_the_caller(split_everything):
    def work(part):
        if part.start > 0:
            raise ValueError("from a worker")
    with pytest.raises(ValueError, match="from a worker"):
        _threads.in_parallel(work, 6)


def test_scratch_is_reused_and_grows():
    a = _threads.scratch("test", (4, 5), np.float32)
    b = _threads.scratch("test", (2, 3), np.float32)
    assert np.shares_memory(a, b)
    c = _threads.scratch("test", (10, 10), np.float32)
    assert c.shape == (10, 10) and not np.shares_memory(a, c)
    assert _threads.scratch("test", (3,), np.float64).dtype == np.float64


def test_one_blas_thread_restores_the_count():
    from threadpoolctl import threadpool_info

    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    with _threads.one_blas_thread():
        assert all(lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "blas")
    assert [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"] == before


def test_matmul_split_by_columns_equals_numpy(split_everything):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 7)), rng.normal(size=(7, 11))
    np.testing.assert_allclose(_threads.matmul(a, b), a @ b, rtol=1e-12)
    out = np.empty((11, 5)).T                                     # a transposed view works as out
    np.testing.assert_allclose(_threads.matmul(a, b, out=out), a @ b, rtol=1e-12)


@st.composite
def split_case(draw):
    N = draw(st.sampled_from([1, 1, 2, 5]))                       # 1: the banded route
    C = draw(st.integers(1, 3))
    F = draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), 1)
    H, W = draw(st.integers(dilation[0] * (k - 1) + 1, 14)), draw(st.integers(k, 14))
    padding = draw(st.sampled_from([0, 1, (2, 0)]))
    return (N, C, H, W), (F, C, k, k), stride, padding, dilation, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=80, deadline=None)
@given(split_case())
def test_conv2d_split_over_threads_and_bands_equals_loops(case):
    x_shape, w_shape, stride, padding, dilation, seed = case
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    want = conv2d_loops(x, w, stride=stride, padding=padding, dilation=dilation)
    with _splitting_everything(band_values=16):       # (hypothesis runs many cases per fixture)
        got = conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_im2col_and_col2im_split_equal_unsplit(split_everything, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 2, 7, 6))
    cols = im2col(x, (3, 2), stride=(2, 1), padding=1)
    back = col2im(cols, x.shape, (3, 2), stride=(2, 1), padding=1)
    monkeypatch.setattr(_threads, "THREADS", 1)
    np.testing.assert_array_equal(cols, im2col(x, (3, 2), stride=(2, 1), padding=1))
    np.testing.assert_array_equal(back, col2im(cols, x.shape, (3, 2), stride=(2, 1), padding=1))


def _train_step_outputs():
    model, loss_fn = fashion_cnn(seed=0), SoftmaxCrossEntropy()
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 6)
    loss = loss_fn.forward(model.forward(x, training=True), y)
    model.backward(loss_fn.backward())
    return loss, [g.copy() for layer in model.layers for g in layer.grads.values()]


def test_a_training_step_split_over_threads_gives_the_same_numbers(monkeypatch):
    monkeypatch.setattr(_threads, "THREADS", 1)
    loss1, grads1 = _train_step_outputs()
    monkeypatch.setattr(_threads, "THREADS", 3)
    monkeypatch.setattr(_threads, "MIN_VALUES_PER_THREAD", 1)
    loss3, grads3 = _train_step_outputs()
    assert np.isclose(loss1, loss3, rtol=1e-6)
    assert len(grads1) == len(grads3) > 0
    for g1, g3 in zip(grads1, grads3):
        np.testing.assert_allclose(g3, g1, rtol=1e-4, atol=1e-6)


def test_relu_and_maxpool_split_over_channels(split_everything):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 4, 6)).astype(np.float32)
    relu, pool = ReLU(), MaxPool2D(2)
    np.testing.assert_array_equal(relu.forward(x), np.maximum(x, 0))
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), (x > 0).astype(np.float32))
    y = pool.forward(x)
    np.testing.assert_array_equal(y, x.reshape(3, 5, 2, 2, 3, 2).max(axis=(3, 5)))
    dx = pool.backward(np.ones_like(y))
    assert dx.sum() == y.size and set(np.unique(dx)) <= {0.0, 1.0}
    np.testing.assert_array_equal(relu.forward(np.array([-1.0, 2.0])), [0.0, 2.0])   # 1-D: not split


@pytest.mark.parametrize("env, expected", [(None, None), ("1", 1), ("64", None), ("0", 1), ("4,2", None)])
def test_threads_follow_omp_num_threads(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", env)
    cores = min(4, _threads._cpu_count())
    assert _threads._threads_wanted() == (cores if expected is None else expected)


def test_in_parallel_inside_a_pool_thread_runs_there(split_everything):
    """Work that itself splits its work must not wait on a pool whose threads are all waiting."""
    inner = []

    def outer(part):
        pool_thread = threading.current_thread().name.startswith("helpers")
        _threads.in_parallel(lambda p: inner.append((pool_thread, p)), 4)

    def run():
        _threads.in_parallel(outer, 3)
    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=20)
    assert not runner.is_alive(), "in_parallel waited forever inside the pool"
    from_pool = [p for in_pool, p in inner if in_pool]
    assert from_pool and all(p == slice(0, 4) for p in from_pool)
