"""Benchmark of the explorers: redraw time and bytes sent per slider move, new panels against the old figure.

    python -m benchmarks.bench_explorers [--quick]

For each explorer, one control is moved again and again through a cycle of values (a drag), alternating
between the explorer as it is now (helpers.widgets) and as it was (benchmarks/old_explorers: the whole
matplotlib figure drawn and sent as one PNG per move), in the same run. Reported per explorer:

- ms: median wall time of one move (the observer's redraw, encoding included), on the sample photo;
- KB: median bytes of the widget values that changed (pictures and texts): what the kernel sends to the
  browser per move;
- the ratios old / new.

Targets: <= 30 ms and <= 150 KB per move. A shared machine is noisy: read the ratios, measured side by
side; the absolute times are only meaningful on a quiet machine. Exits non-zero at the end if any
explorer misses a target.
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings

import ipywidgets as widgets
import numpy as np

from benchmarks import old_explorers as old
from helpers import widgets as new
from helpers.images import load_sample, sample_photo

TARGET_MS = 30.0
TARGET_KB = 150.0


def _sent(root) -> dict:
    """id -> size in bytes of every picture and text in a widget tree (what changes is what is sent)."""
    out = {}

    def walk(w):
        if isinstance(w, widgets.Image):
            out[id(w)] = (bytes(w.value), len(w.value))
        elif isinstance(w, (widgets.HTML, widgets.Label)):
            out[id(w)] = (w.value, len(w.value.encode()))
        for c in getattr(w, "children", ()):
            walk(c)

    walk(root)
    return out


def _bytes_changed(before: dict, after: dict) -> int:
    return sum(size for key, (value, size) in after.items() if key not in before or before[key][0] != value)


def _filter_case(module):
    from helpers.nn import Conv2D

    x = load_sample("fashion_mnist_sample")["images"][:20]
    snaps = {e: (Conv2D(1, 32, 3, padding="same", rng=e).params["W"], np.zeros(32, np.float32)) for e in range(6)}
    return module.FilterExplorer(snaps, x)


def _optimizer_case(module):
    if module is old:
        return old.OptimizerExplorer()
    from helpers.widgets.optimizers import OptimizerExplorer

    return OptimizerExplorer()


def _feature_map_case(module):
    """Notebook 11's explorer (written on the panel base: it has no old figure path)."""
    if module is old:
        return None
    from helpers.models import fashion_cnn
    from helpers.widgets.inside import FeatureMapExplorer

    x = load_sample("fashion_mnist_sample")["images"][:20]
    return FeatureMapExplorer(fashion_cnn(seed=5), x)


def _pooling_case(module):
    ex = module.PoolingExplorer(shift=1)
    ex.source.value = ex.SOURCES[3]           # the Sobel map of the photo: the largest input
    return ex


#: name -> (build(module), control attribute (or a function of the explorer), values cycled through)
CASES = {
    "KernelPlayground": (lambda m: m.KernelPlayground(), "bias", [5.0, 10.0, 15.0, 20.0, 25.0, 30.0]),
    "SobelExplorer": (lambda m: m.SobelExplorer(), "threshold", [0.2, 0.22, 0.24, 0.26, 0.28, 0.3]),
    "PixelInspector": (lambda m: m.PixelInspector(), "row", [200, 201, 202, 203, 204, 205]),
    "PoolingExplorer": (_pooling_case, "shift", [0, 1, 2, 3, 2, 1]),
    "PaddingStrideExplorer": (lambda m: m.PaddingStrideExplorer(n=8, k=3, padding=0, stride=2,
                                                                photo=sample_photo(gray=True)),
                              "position", [0, 1, 2, 3, 4, 5]),
    "SoftmaxExplorer": (lambda m: m.SoftmaxExplorer(scores=(-1, 0, 3, 5), true_class=3),
                        lambda ex: ex.score_sliders[0], [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]),
    "ConvolutionScrubber": (lambda m: m.ConvolutionScrubber(), "step", [0, 1, 2, 3, 4, 5, 6, 7]),
    "ReceptiveFieldExplorer": (lambda m: m.ReceptiveFieldExplorer(layers=2), "row", [0, 1, 2, 3, 4, 3]),
    "FilterExplorer": (_filter_case, "epoch", [0, 1, 2, 3, 4, 5]),
    "OptimizerExplorer": (_optimizer_case, "lr", [0.02, 0.025, 0.03, 0.035, 0.04, 0.045]),
    "FeatureMapExplorer": (_feature_map_case, "channel", [0, 1, 2, 3, 4, 5]),
    "AdversarialExplorer": (lambda m: None if m is old else __import__(   # notebook 11; no old figure path
        "helpers.widgets.adversarial", fromlist=["_"]).AdversarialExplorer(
        __import__("helpers.models", fromlist=["_"]).fashion_cnn(seed=5),
        load_sample("fashion_mnist_sample")["images"][:20], load_sample("fashion_mnist_sample")["labels"][:20]),
        "epsilon", [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]),
}


def measure(cases: dict, moves: int) -> dict:
    """{name: {"old": (ms, KB), "new": (ms, KB)}}: medians over ``moves`` moves, old and new interleaved."""
    results = {}
    for name, (build, control, values) in cases.items():
        explorers = {k: ex for k, ex in (("old", build(old)), ("new", build(new))) if ex is not None}
        samples = {k: ([], []) for k in explorers}
        cycle = {k: itertools.cycle(values) for k in explorers}
        for k, ex in explorers.items():                       # warm up: caches, fonts, first encodes
            c = control(ex) if callable(control) else getattr(ex, control)
            for _ in range(2):
                c.value = next(cycle[k])
        for _ in range(moves):
            for k, ex in explorers.items():
                c = control(ex) if callable(control) else getattr(ex, control)
                value = next(cycle[k])
                if c.value == value:
                    value = next(cycle[k])
                before = _sent(ex.widget)
                start = time.perf_counter()
                c.value = value
                elapsed = time.perf_counter() - start
                if ex.message.value:
                    raise RuntimeError(f"{name} ({k}) shows a message: {ex.message.value}")
                samples[k][0].append(elapsed * 1e3)
                samples[k][1].append(_bytes_changed(before, _sent(ex.widget)) / 1024)
        results[name] = {k: (statistics.median(ms), statistics.median(kb)) for k, (ms, kb) in samples.items()}
    return results


def report(results: dict) -> list[str]:
    """Print the table; return the explorers that miss a target."""
    head = (f"{'explorer':<24}{'old ms':>9}{'new ms':>9}{'faster':>8}{'old KB':>9}{'new KB':>9}{'smaller':>9}"
            f"  target {TARGET_MS:.0f} ms / {TARGET_KB:.0f} KB")
    print(head)
    print("-" * len(head))
    misses = []
    for name, r in results.items():
        nm, nkb = r["new"]
        miss = [what for what, bad in (("ms", nm > TARGET_MS), ("KB", nkb > TARGET_KB)) if bad]
        if miss:
            misses.append(name)
        if "old" in r:
            om, okb = r["old"]
            old_cols = f"{om:>9.1f}{nm:>9.1f}{om / nm:>7.1f}x{okb:>9.1f}{nkb:>9.1f}{okb / max(nkb, 1e-3):>8.1f}x"
        else:                                   # written on the panel base: no old path to compare with
            old_cols = f"{'-':>9}{nm:>9.1f}{'-':>8}{'-':>9}{nkb:>9.1f}{'-':>9}"
        print(f"{name:<24}{old_cols}  {'MISS (' + ', '.join(miss) + ')' if miss else 'ok'}")
    return misses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer moves (a smoke test of the benchmark)")
    parser.add_argument("--only", nargs="*", help="explorer names to run")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    cases = {k: v for k, v in CASES.items() if not args.only or k in args.only}
    moves = 4 if args.quick else 15
    print(f"Explorer redraws: median of {moves} moves of one control each, old figure path and new panels "
          "interleaved in the same run.\n")
    misses = report(measure(cases, moves))
    print()
    if misses:
        print(f"MISSED a target: {', '.join(misses)}")
        return 1
    print(f"every explorer redraws within {TARGET_MS:.0f} ms and sends at most {TARGET_KB:.0f} KB per move")
    return 0


if __name__ == "__main__":
    sys.exit(main())
