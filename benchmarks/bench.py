"""Benchmark of the convolution core, every contender timed side by side in the same run.

    make bench        (or: python -m benchmarks.bench [--quick] [--against REV])

Machines are noisy, so nothing here is compared with a time from another day: each case times all
its contenders in interleaved rounds and reports medians and their ratios. Targets:

- helpers.conv2d at least 1,000x faster than conv2d_loops (the loops are timed on a 48x48 crop at
  the same stride and scaled by output pixel count: they take minutes on a full photo);
- batches at 30% or more of the machine's float32 matrix-multiply throughput;
- no regression. With ``--against REV``: no row more than 1.5x REV's time, timed beside it in the same
  rounds. Without: no row more than 1.5x slower than the figures in the Speed page's table (docs/speed.md),
  measured as ratios to what this run times beside it (the loops, OpenCV, the machine's matrix product).
  Those ratios still depend on the CPU: on a 2-core Xeon with AVX-512 (float32 matrix products at
  360 GFLOP/s) the batches ran at 16% to 29% of that where the Speed page has 31% to 57%, and the code
  of an earlier revision, timed beside it, was as fast. A change is best checked against the revision
  before it.

The ratio to cv2.filter2D (zero border) is printed for reference; it is no longer a target: the
explorers are bound by drawing, not by the convolution, and a 3x3 kernel's gap to OpenCV's compiled
loop is memory traffic that numpy cannot close. (scipy is not a column: it is not a dependency of
the course, and OpenCV is the faster outside reference.)

``--against REV`` also times the conv2d of an earlier revision of this repository (``git archive``
of its helpers/ and data/, the package imported under another name) in the same interleaved rounds, and
prints each row's time as a ratio to it; the Speed page's figures are then printed as notes, not checked.
"""
from __future__ import annotations

import argparse
import atexit
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np

from helpers import _threads, conv2d, conv2d_loops

#: the Speed page's table (docs/speed.md), the slow end of each measured range, on either machine there:
#: the yardstick for "no regression" when no revision is timed beside this one.
SPEED_VS_LOOPS = {(3, 1): 1516, (5, 1): 1800, (3, 2): 535, (5, 2): 990}       # (kernel, stride): x faster
SPEED_VS_CV2 = {3: 5.9, 5: 5.2}                                                 # kernel: x OpenCV's time
SPEED_SHARE_OF_MATMUL = {(64, 1, 28, 28): 0.16, (64, 32, 14, 14): 0.29}
SLOWER_LIMIT = 1.5          # a row more than this much slower than the Speed page's figure is a regression


def warn_if_busy() -> None:
    """Say so when other programs keep the cores busy: then even ratios measured side by side drift."""
    if hasattr(os, "getloadavg"):
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
        if load > cores:
            print(f"Note: the machine is busy (load average {load:.1f} on {cores} cores): times are inflated "
                  "and ratios noisy; a miss here may be the load, not the code.")


def baseline_helpers(rev: str):
    """The helpers package as it was at git revision ``rev``, imported as a separate package.

    The revision's data/ comes with it: its helpers read their samples and shipped weights from there.
    """
    root = Path(__file__).resolve().parent.parent
    data = subprocess.run(["git", "archive", rev, "helpers", "data"], cwd=root, check=True,
                          capture_output=True).stdout
    where = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}     # Python 3.12+, and 3.10/3.11 updates
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(where, **safe)
    (where / "helpers").rename(where / "helpers_baseline")
    sys.path.insert(0, str(where))
    return importlib.import_module("helpers_baseline")


def timeit(fn, min_time=0.05) -> float:
    """Seconds per call of fn: repeat until min_time has passed, return the mean of that batch."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / n


def compare(contenders: dict, rounds: int) -> dict:
    """Median seconds per call for each contender, measured in interleaved rounds."""
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(timeit(fn))
    return {name: statistics.median(s) for name, s in samples.items()}


def _single_threaded_filter2d(img, kernel):
    """cv2.filter2D restricted to one thread, like numpy's element-wise operations."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    finally:
        cv2.setNumThreads(threads)


def matmul_gflops(rounds: int) -> float:
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    t = compare({"matmul": lambda: a @ a}, rounds)["matmul"]
    return 2 * 1024**3 / t / 1e9


def _one_thread(fn):
    """fn, with helpers sharing no work out over the cores (to show what the threads bring)."""
    def run():
        threads, _threads.THREADS = _threads.THREADS, 1
        try:
            return fn()
        finally:
            _threads.THREADS = threads
    return run


def single_images(rounds: int, sizes, failures: list, baseline=None) -> None:
    rng = np.random.default_rng(0)
    print(f"\nSingle images (float32, zero padding 'same'), median of {rounds} interleaved rounds")
    header = (
        f"{'case':<20}{'conv2d':>9}{'1 thread':>9}{'cv2':>9}{'cv2 1t':>9}{'loops*':>10}"
        f"{'vs cv2':>9}{'vs cv2 1t':>11}{'vs loops':>10}" + (f"{'baseline':>10}{'vs base':>9}" if baseline else "")
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        img = rng.random((n, n), dtype=np.float32)
        crop = img[:48, :48]                          # same float32 pixels as the contenders
        for k in (3, 5):
            kernel = rng.normal(size=(k, k)).astype(np.float32)
            for s in (1, 2):
                # the loops take minutes on a whole photo: time them on the crop, per output pixel
                loops_per_pixel = timeit(lambda: conv2d_loops(crop, kernel, stride=s, padding="same"), 0.2) \
                    / conv2d(crop, kernel, stride=s, padding="same").size
                contenders = {
                    "conv2d": lambda: conv2d(img, kernel, stride=s, padding="same"),
                    "1 thread": _one_thread(lambda: conv2d(img, kernel, stride=s, padding="same")),
                    # cv2 has no stride: filter everything, then keep every s-th pixel
                    "cv2": lambda: cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_CONSTANT)[::s, ::s],
                    "cv2 1-thread": lambda: _single_threaded_filter2d(img, kernel)[::s, ::s],
                }
                if baseline is not None:
                    contenders["baseline"] = lambda: baseline.conv2d(img, kernel, stride=s, padding="same")
                t = compare(contenders, rounds)
                out_pixels = conv2d(img, kernel, stride=s, padding="same").size
                loops = loops_per_pixel * out_pixels
                vs_cv2, vs_loops = t["conv2d"] / t["cv2"], loops / t["conv2d"]
                print(
                    f"{n}x{n} k{k} s{s}".ljust(20)
                    + f"{t['conv2d'] * 1e3:9.2f}{t['1 thread'] * 1e3:9.2f}{t['cv2'] * 1e3:9.2f}"
                    + f"{t['cv2 1-thread'] * 1e3:9.2f}"
                    + f"{loops * 1e3:10.0f}{vs_cv2:8.2f}x{t['conv2d'] / t['cv2 1-thread']:10.2f}x{vs_loops:9.0f}x"
                    + (f"{t['baseline'] * 1e3:10.2f}{t['conv2d'] / t['baseline']:8.2f}x" if baseline else "")
                )
                case = f"{n}x{n} k{k} s{s}"
                if vs_loops < 1000:
                    failures.append(f"{case}: only {vs_loops:.0f}x faster than the loops (target 1000x)")
                if baseline is not None:
                    against_baseline(case, t["conv2d"] / t["baseline"], failures)
                    continue
                if vs_loops * SLOWER_LIMIT < SPEED_VS_LOOPS[k, s]:
                    failures.append(f"{case}: regression, {vs_loops:.0f}x faster than the loops, docs/speed.md has "
                                    f"{SPEED_VS_LOOPS[k, s]}x (limit {SPEED_VS_LOOPS[k, s] / SLOWER_LIMIT:.0f}x)")
                if vs_cv2 > SPEED_VS_CV2[k] * SLOWER_LIMIT:
                    failures.append(f"{case}: regression, {vs_cv2:.2f}x OpenCV's time, docs/speed.md has up to "
                                    f"{SPEED_VS_CV2[k]}x (limit {SPEED_VS_CV2[k] * SLOWER_LIMIT:.1f}x)")
    print(f"times in ms; conv2d shares a large image out over up to {_threads.THREADS} threads, '1 thread' "
          f"does not;\ncv2 uses {cv2.getNumThreads()} threads, 'cv2 1t' one; loops* timed on a 48x48 crop "
          "at the same stride, scaled by output pixels; 'vs cv2' is printed for reference, not a target"
          + ("; 'vs base': conv2d's time / the baseline revision's" if baseline else ""))


def against_baseline(case: str, ratio: float, failures: list) -> None:
    """The regression check of ``--against REV``: this tree's time / REV's, timed side by side."""
    if ratio > SLOWER_LIMIT:
        failures.append(f"{case}: regression, {ratio:.2f}x the time of the baseline revision (limit {SLOWER_LIMIT}x)")


def batches(rounds: int, gflops: float, failures: list, baseline=None) -> None:
    rng = np.random.default_rng(1)
    print(f"\nBatches (float32, padding 'same'); float32 matmul on this machine: {gflops:.0f} GFLOP/s")
    header = f"{'case':<36}{'ms':>9}{'GFLOP/s':>10}{'of matmul':>11}" + (
        f"{'baseline':>10}{'vs base':>9}" if baseline else "")
    print(header)
    print("-" * len(header))
    for (N, C, H, W), F in (((64, 1, 28, 28), 32), ((64, 32, 14, 14), 64)):
        x = rng.random((N, C, H, W), dtype=np.float32)
        w = rng.normal(size=(F, C, 3, 3)).astype(np.float32)
        contenders = {"conv2d": lambda: conv2d(x, w, padding="same")}
        if baseline is not None:
            contenders["baseline"] = lambda: baseline.conv2d(x, w, padding="same")
        times = compare(contenders, rounds)
        t = times["conv2d"]
        rate = 2 * N * F * H * W * C * 9 / t / 1e9
        share = rate / gflops
        print(f"{N}x{C}x{H}x{W}, {F} filters 3x3".ljust(36) + f"{t * 1e3:9.2f}{rate:10.1f}{share:10.0%}"
              + (f"{times['baseline'] * 1e3:10.2f}{t / times['baseline']:8.2f}x" if baseline else ""))
        case = f"batch {N}x{C}x{H}x{W} with {F} filters"
        if share < 0.30:
            failures.append(f"{case}: {share:.0%} of matmul throughput (target 30%)")
        recorded = SPEED_SHARE_OF_MATMUL[N, C, H, W]
        if baseline is not None:
            against_baseline(case, t / times["baseline"], failures)
        elif share * SLOWER_LIMIT < recorded:
            failures.append(f"{case}: regression, {share:.0%} of matmul throughput, docs/speed.md has {recorded:.0%} "
                            f"(limit {recorded / SLOWER_LIMIT:.0%})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 512x512 only")
    parser.add_argument("--against", metavar="REV", help="also time the conv2d of git revision REV, side by side")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 7
    baseline = baseline_helpers(args.against) if args.against else None
    failures: list[str] = []
    warn_if_busy()
    gflops = matmul_gflops(rounds)
    single_images(rounds, (512,) if args.quick else (512, 1024), failures, baseline)
    batches(rounds, gflops, failures, baseline)
    if baseline is not None:
        print(f"\nno regression is checked against {args.against}, side by side (limit {SLOWER_LIMIT}x its time); the "
              "Speed page's figures, from other runs and perhaps another CPU, are not checked")
    print()
    if failures:
        print("MISSED TARGETS:")
        for f in failures:
            print("  -", f)
        return 1
    print("All targets met.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
