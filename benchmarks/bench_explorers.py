"""Benchmark of the explorers: redraw time and bytes sent per slider move, optionally side by side with a git revision.

    python -m benchmarks.bench_explorers [--quick] [--only NAME ...] [--against REV]

For each explorer, one control is moved again and again through a cycle of values (a drag). Reported per
explorer:

- ms: median wall time of one move (the observer's redraw, encoding included), on the sample photo;
- KB: median bytes of the widget values that changed (pictures and texts): what the kernel sends to the
  browser per move.

Targets: <= 30 ms and <= 150 KB per move. ``--against REV`` also builds each explorer from the helpers of
git revision REV (``git archive`` of its helpers/ and data/, imported under another name, as
``benchmarks.bench`` does), moves both in interleaved rounds in the same run, prints the ratios and
counts a move more than 1.5x slower, or sending 1.5x more, than at REV as a regression. A shared machine
is noisy: read the ratios, measured side by side; the absolute times are only meaningful on a quiet
machine. Exits non-zero at the end if any explorer misses a target. (docs/speed.md keeps the record of
the explorers against their first versions, which drew the whole matplotlib figure per move.)
"""
from __future__ import annotations

import argparse
import importlib
import itertools
import statistics
import sys
import time
import warnings

import ipywidgets as widgets
import numpy as np

import helpers
from benchmarks.bench import SLOWER_LIMIT, baseline_helpers, warn_if_busy
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


def _module(package, name: str):
    """``package``'s submodule ``name`` (``package`` is helpers, or the helpers of another revision)."""
    return importlib.import_module(f"{package.__name__}.{name}")


def _filter_case(package):
    x = load_sample("fashion_mnist_sample")["images"][:20]
    snaps = {e: (_module(package, "nn").Conv2D(1, 32, 3, padding="same", rng=e).params["W"], np.zeros(32, np.float32))
             for e in range(6)}
    return _module(package, "widgets").FilterExplorer(snaps, x)


def _feature_map_case(package):
    """Notebook 11's explorer, on a network built by the same revision's helpers."""
    x = load_sample("fashion_mnist_sample")["images"][:20]
    return _module(package, "widgets").FeatureMapExplorer(_module(package, "models").fashion_cnn(seed=5), x)


def _pooling_case(package):
    ex = _module(package, "widgets").PoolingExplorer(shift=1)
    ex.source.value = ex.SOURCES[3]           # the Sobel map of the photo: the largest input
    return ex


def _adversarial_case(package):
    """Notebook 11's adversarial explorer, on a network built by the same revision's helpers."""
    sample = load_sample("fashion_mnist_sample")
    return _module(package, "widgets").AdversarialExplorer(_module(package, "models").fashion_cnn(seed=5),
                                                           sample["images"][:20], sample["labels"][:20])


def _cam_case(package):
    """Notebook 11's Grad-CAM explorer on the heaviest of its networks, a ResNet built by the same revision."""
    sample, models = load_sample("fashion_mnist_sample"), _module(package, "models")
    networks = {"07 CNN": models.fashion_cnn(seed=5), "ResNet": models.fashion_resnet(seed=5)}
    return _module(package, "widgets").CamExplorer(networks, sample["images"][:20], sample["labels"][:20],
                                                   network="ResNet", method="Grad-CAM")


def _explorer(name: str, *args, **kwargs):
    """A case that builds ``widgets.<name>(*args, **kwargs)`` of the package it is given."""
    return lambda package: getattr(_module(package, "widgets"), name)(*args, **kwargs)


#: name -> (build(package), control attribute (or a function of the explorer), values cycled through)
CASES = {
    "KernelPlayground": (_explorer("KernelPlayground"), "bias", [5.0, 10.0, 15.0, 20.0, 25.0, 30.0]),
    "SobelExplorer": (_explorer("SobelExplorer"), "threshold", [0.2, 0.22, 0.24, 0.26, 0.28, 0.3]),
    "PixelInspector": (_explorer("PixelInspector"), "row", [200, 201, 202, 203, 204, 205]),
    "PoolingExplorer": (_pooling_case, "shift", [0, 1, 2, 3, 2, 1]),
    "PaddingStrideExplorer": (_explorer("PaddingStrideExplorer", n=8, k=3, padding=0, stride=2,
                                        photo=sample_photo(gray=True)), "position", [0, 1, 2, 3, 4, 5]),
    "SoftmaxExplorer": (_explorer("SoftmaxExplorer", scores=(-1, 0, 3, 5), true_class=3),
                        lambda ex: ex.score_sliders[0], [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]),
    "ConvolutionScrubber": (_explorer("ConvolutionScrubber"), "step", [0, 1, 2, 3, 4, 5, 6, 7]),
    "ReceptiveFieldExplorer": (_explorer("ReceptiveFieldExplorer", layers=2), "row", [0, 1, 2, 3, 4, 3]),
    "FilterExplorer": (_filter_case, "epoch", [0, 1, 2, 3, 4, 5]),
    "OptimizerExplorer": (_explorer("OptimizerExplorer"), "lr", [0.02, 0.025, 0.03, 0.035, 0.04, 0.045]),
    "FeatureMapExplorer": (_feature_map_case, "channel", [0, 1, 2, 3, 4, 5]),
    "ArchitectureExplorer": (_explorer("ArchitectureExplorer", "block"), "c_out", [16, 32, 64, 128, 64, 32]),
    "AdversarialExplorer": (_adversarial_case, "epsilon", [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]),
    "CamExplorer": (_cam_case, "image", [0, 1, 2, 3, 4, 5]),
}


def measure(cases: dict, moves: int, packages: dict) -> dict:
    """{name: {label: (ms, KB)}}: medians over ``moves`` moves, the packages' explorers interleaved.

    ``packages``: {label: helpers package}. An explorer that a package does not have (an older revision)
    is left out of that package's column.
    """
    results = {}
    for name, (build, control, values) in cases.items():
        explorers = {}
        for label, package in packages.items():
            try:
                explorers[label] = build(package)
            except (AttributeError, ImportError):          # not in this revision
                pass
        samples = {k: ([], []) for k in explorers}
        cycle = {k: itertools.cycle(values) for k in explorers}
        for k, ex in explorers.items():                       # warm up: caches, fonts, first encodes
            c = control(ex) if callable(control) else getattr(ex, control)
            for _ in range(2):
                c.value = next(cycle[k])
        for move in range(moves):
            order = list(explorers.items())
            for k, ex in order if move % 2 else order[::-1]:       # each goes first every other move
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


def report(results: dict, base: str | None = None) -> list[str]:
    """Print the table (with the columns of revision ``base`` when given); return the misses."""
    head = f"{'explorer':<24}{'ms':>9}{'KB':>9}"
    if base:
        head += f"{'ms at ' + base[:8]:>16}{'x its time':>11}{'KB at ' + base[:8]:>16}{'x its KB':>10}"
    head += f"  target {TARGET_MS:.0f} ms / {TARGET_KB:.0f} KB"
    print(head)
    print("-" * len(head))
    misses = []
    for name, r in results.items():
        ms, kb = r["now"]
        miss = [f"{what} over the target" for what, bad in (("ms", ms > TARGET_MS), ("KB", kb > TARGET_KB)) if bad]
        row = f"{name:<24}{ms:>9.1f}{kb:>9.1f}"
        if base and base in r:
            base_ms, base_kb = r[base]
            row += f"{base_ms:>16.1f}{ms / base_ms:>10.2f}x{base_kb:>16.1f}{kb / max(base_kb, 1e-3):>9.2f}x"
            for what, ratio in (("time", ms / base_ms), ("KB", kb / max(base_kb, 1e-3))):
                if ratio > SLOWER_LIMIT:
                    miss.append(f"regression, {ratio:.2f}x the {what} at {base} (limit {SLOWER_LIMIT}x)")
        elif base:                                           # not in that revision
            row += f"{'-':>16}{'-':>11}{'-':>16}{'-':>10}"
        if miss:
            misses.append(f"{name}: {', '.join(miss)}")
        print(f"{row}  {'MISS' if miss else 'ok'}")
    return misses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer moves (a smoke test of the benchmark)")
    parser.add_argument("--only", nargs="*", help="explorer names to run")
    parser.add_argument("--against", metavar="REV", help="also move the explorers of git revision REV, side by side")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    unknown = set(args.only or ()) - set(CASES)
    if unknown:
        parser.error(f"no explorer named {', '.join(sorted(unknown))}; the names are {', '.join(CASES)}.")
    cases = {k: v for k, v in CASES.items() if not args.only or k in args.only}
    moves = 4 if args.quick else 15
    packages = {"now": helpers}
    if args.against:
        packages[args.against] = baseline_helpers(args.against)
    warn_if_busy()
    print(f"Explorer redraws: median of {moves} moves of one control each"
          + (f", this tree's explorers and those at {args.against} interleaved in the same run" if args.against
             else "") + ".\n")
    misses = report(measure(cases, moves, packages), args.against)
    print()
    if misses:
        print("MISSED TARGETS:")
        for m in misses:
            print("  -", m)
        return 1
    print(f"every explorer redraws within {TARGET_MS:.0f} ms and sends at most {TARGET_KB:.0f} KB per move"
          + (f", none {SLOWER_LIMIT}x slower or larger than at {args.against}" if args.against else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
