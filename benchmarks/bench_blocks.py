"""Cheaper convolutions, timed: a depthwise-separable block against a standard k x k convolution.

    python -m benchmarks.bench_blocks [--quick]      (also part of make bench)

Both map C channels to C channels on the same batch, with the layers of ``helpers.nn``: ``Conv2D(C, C, 3,
padding=1)`` against ``DepthwiseSeparable(C, C, 3, padding=1)`` (depthwise 3x3, ReLU, pointwise 1x1). The
counts say the block does 1/C + 1/9 of the multiply-adds (about 8x fewer at 64 channels); this prints what
numpy makes of that, forward (evaluation) and a training step (forward and backward), timed side by side
in interleaved rounds, with the ratio. A depthwise convolution is little arithmetic per value moved, so its
speed-up is smaller than its count's: the measured ratio is the lesson. No target: a report only.
"""
from __future__ import annotations

import argparse

import numpy as np

from benchmarks.bench import compare, warn_if_busy
from helpers.models import multiply_adds
from helpers.nn import Conv2D, DepthwiseSeparable, Sequential

CASES = ((32, 64, 28), (32, 128, 14), (8, 256, 14))        # (batch, channels, height = width)


def _step(model, x, g):
    def run():
        model.forward(x, training=True)
        model.backward(g, input_grad=True)
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, the first case only")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 7
    warn_if_busy()
    rng = np.random.default_rng(0)
    header = (f"{'case (3x3, padding 1)':<24}{'MACs ratio':>11}{'3x3 fwd ms':>12}{'sep fwd ms':>12}{'ratio':>8}"
              f"{'3x3 step ms':>13}{'sep step ms':>13}{'ratio':>8}")
    print("A standard 3x3 Conv2D against a depthwise-separable block of the same channels, float32")
    print(header)
    print("-" * len(header))
    for N, C, H in CASES[:1] if args.quick else CASES:
        standard = Sequential([Conv2D(C, C, 3, padding=1, rng=0)])
        separable = Sequential([DepthwiseSeparable(C, C, 3, padding=1, rng=0)])
        macs = multiply_adds(standard, (C, H, H))[0][1] / multiply_adds(separable, (C, H, H))[0][1]
        x = rng.standard_normal((N, C, H, H)).astype(np.float32)
        g = rng.standard_normal((N, C, H, H)).astype(np.float32)
        fwd = compare({"3x3": lambda: standard.forward(x, training=False),
                       "sep": lambda: separable.forward(x, training=False)}, rounds)
        step = compare({"3x3": _step(standard, x, g), "sep": _step(separable, x, g)}, rounds)
        print(f"{N}x{C}x{H}x{H}".ljust(24) + f"{macs:10.1f}x"
              + f"{fwd['3x3'] * 1e3:12.2f}{fwd['sep'] * 1e3:12.2f}{fwd['3x3'] / fwd['sep']:7.2f}x"
              + f"{step['3x3'] * 1e3:13.2f}{step['sep'] * 1e3:13.2f}{step['3x3'] / step['sep']:7.2f}x")
    print("ratio: the 3x3 convolution's time / the depthwise-separable block's (above 1: the block is faster);\n"
          "MACs ratio: the same for the multiply-adds. Most of the depthwise layer's time is its im2col\n"
          "(copying every window for 9 multiply-adds per value): it moves as much memory as a full 3x3.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
