"""What makes the convolution core and the training code fast on a laptop, kept apart from the maths.

Four tools, each there because a measurement asked for it:

- :func:`in_parallel`      split independent work (bands of rows, images of a batch) over the CPU cores;
  :func:`by_channel` does it for element-wise work on feature maps, a range of channels each.
  numpy lets go of Python's global lock while it copies or multiplies large arrays, so plain
  threads run those at the same time. Small arrays are not worth it: every numpy call hands the
  lock back and forth between the threads, which costs a few microseconds each time.
- :func:`matmul`           a matrix product split by columns over our threads (see below why not BLAS's).
- :func:`scratch`          reuse the arrays that hold intermediate values instead of allocating new ones
  on every call: a fresh array of a megabyte or more comes from the operating system as untouched
  pages, and touching them costs more than the convolution itself (3 ms instead of 0.4 ms for a
  512x512 photo, measured).
- :func:`one_blas_thread`  keep numpy's matrix library (BLAS) to one thread inside each of ours: its
  products here are small, and its own threads spin while they wait for a core; with ours already
  on every core (or another notebook using one) that made a 1 ms call take 100 ms.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def _cpu_count() -> int:
    """The cores this process may use (not all the machine's, on a shared server)."""
    if hasattr(os, "process_cpu_count"):              # Python 3.13
        n = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):            # Linux
        n = len(os.sched_getaffinity(0))
    else:
        n = os.cpu_count()
    return n or 1


def _threads_wanted() -> int:
    """How many threads to use: the cores, at most 4, and at most OMP_NUM_THREADS when it is set.

    At most 4: a shared server (JupyterHub) may show many cores that other people's notebooks are
    using. OMP_NUM_THREADS is how servers usually keep numpy's BLAS to fewer cores; we follow it.
    """
    n = min(4, _cpu_count())
    try:
        return max(1, min(n, int(os.environ.get("OMP_NUM_THREADS", n))))
    except ValueError:                                 # e.g. OMP_NUM_THREADS="4,2" (nested): ignore it
        return n


THREADS = _threads_wanted()

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()       # per thread: scratch buffers, and whether it is one of the pool's


# Handing work to another thread cost 30-80 microseconds on a 2-core virtual machine: a part of fewer
# values than this (float32: 512 kB, about 20 microseconds of copying) is not worth a thread.
MIN_VALUES_PER_THREAD = 2**17


def in_parallel(work, n: int, values_per_item: int = MIN_VALUES_PER_THREAD) -> None:
    """Call ``work(part)`` on consecutive parts of ``range(n)``, each a slice, one per CPU core, at once.

    ``values_per_item``: about how many array values ``work`` touches per item; parts smaller than
    MIN_VALUES_PER_THREAD values are merged. The calling thread does the first part itself. ``work``
    must write to places no other part writes to. With one core or little work, it is
    ``work(slice(0, n))``.
    """
    global _pool
    min_items = -(-MIN_VALUES_PER_THREAD // max(1, values_per_item))
    threads = min(THREADS, n // min_items)
    if threads <= 1 or getattr(_local, "in_pool", False):    # (a pool thread waiting on the pool could wait forever)
        work(slice(0, n))
        return
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="helpers")
    bounds = [n * i // threads for i in range(threads + 1)]
    parts = [slice(bounds[i], bounds[i + 1]) for i in range(threads)]
    futures = [_pool.submit(_in_pool, work, part) for part in parts[1:]]
    try:
        work(parts[0])
    finally:
        for f in futures:
            f.result()                                 # waits, and raises what the thread raised


def _in_pool(work, part):
    _local.in_pool = True
    work(part)


def scratch(name: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` for intermediate values, reused between calls.

    One buffer per ``name`` and thread; it grows to the largest size asked for. Its contents are
    whatever the last user left: write before you read, and never return it to the caller.
    """
    buffers = _local.__dict__
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    buf = buffers.get(name)
    if buf is None or buf.dtype != dtype or buf.size < size:
        buf = buffers[name] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


_blas = None


class one_blas_thread:
    """A context in which numpy's BLAS uses one thread; restores the number it had on exit.

    (threadpoolctl finds the BLAS library numpy uses; setting its thread count costs a microsecond.)
    """

    def __enter__(self):
        global _blas
        if _blas is None:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController().select(user_api="blas").lib_controllers
        self._before = [lib.num_threads for lib in _blas]
        for lib in _blas:
            lib.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        for lib, n in zip(_blas, self._before):
            lib.set_num_threads(n)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (M, K) @ b (K, P) -> (M, P), its columns shared out over the CPU cores, one BLAS thread each.

    The product ``a @ b`` (rounded differently in the last bits). Why not let BLAS use the cores
    itself? Its threads spin, waiting for the next product, for a long time after each one, and the
    element-wise work in between (ReLU, pooling, im2col) then finds every core busy: our threads ran
    at half speed next to them (measured), and a training step took 45 ms instead of 34 ms.
    """
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    with one_blas_thread():
        in_parallel(lambda part: np.matmul(a, b[:, part], out=out[:, part]), b.shape[1],
                    values_per_item=a.shape[0] + b.shape[0])
    return out


def by_channel(work, x: np.ndarray) -> None:
    """Call ``work(ix)`` with index tuples that together select all of ``x``, a range of channels
    (axis 1) each, shared out over the CPU cores: element-wise work (ReLU, pooling) then runs on every
    core, as the matrix products do. Arrays with fewer than 2 axes, or empty ones, are not split.
    """
    if x.ndim < 2 or x.size == 0:
        work((...,))
    else:
        in_parallel(lambda part: work((slice(None), part)), x.shape[1], values_per_item=x.size // x.shape[1])
