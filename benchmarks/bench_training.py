"""Benchmark of training: one full step of the source's Fashion-MNIST CNN, timed side by side.

    python -m benchmarks.bench_training [--rounds 7] [--end-to-end] [--against REV]

A step is what training repeats: forward pass of a batch of 128 images through Conv 32 3x3 same, ReLU,
MaxPool 2, Conv 64 3x3 same, ReLU, MaxPool 2, Flatten, Dense 128, ReLU, Dense 10; softmax cross-entropy;
backward pass; Adam update. Everything float32. Targets, each measured in this run:

- helpers.nn: at least 2,000 images per second on 2 cores;
- no regression, side by side: with ``--against REV``, ours at most 1.5x REV's time; without, ours /
  PyTorch's time (when PyTorch is installed) at most 1.5x the Speed page's ratio. (An absolute figure is no
  check: on a shared machine it drifts with the machine. The Speed page once had 3,400 images/s for
  this step; later runs gave 2,100, and the older code, timed beside it, was no faster.)
- notebook 10's ResNet step next to PyTorch's, a side-by-side row (no target);
- when PyTorch is importable (it is optional: pip install torch), the same step in PyTorch on the CPU
  with the same number of threads as ours, timed in interleaved rounds: ours within 1.3x of its time, for
  07's and 09's networks (docs/speed.md has the measured ratios). Without PyTorch the bench says it
  skipped that comparison.

``--against REV`` also times each of the three networks' steps with the helpers of git revision REV, in
the same rounds, and calls more than 1.5x REV's time a regression: a busy machine slows both alike, so
this ratio holds where the ratio to PyTorch does not (PyTorch's threads lose more to other programs).
``OMP_NUM_THREADS=1`` runs ours and PyTorch on one thread each, which a busy machine disturbs less.

``--end-to-end`` also trains both Fashion-MNIST models as notebook 07 does (needs the dataset) and
checks the CNN reaches 91% test accuracy in at most 5 minutes of training and the dense model 87.8%.
Exit status 1 if a target is missed.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import sys

import numpy as np

from benchmarks.bench import SLOWER_LIMIT, baseline_helpers, timeit, warn_if_busy
from helpers._threads import THREADS
from helpers.models import fashion_cnn, fashion_dense
from helpers.nn import SoftmaxCrossEntropy
from helpers.optim import Adam
from helpers.training import train_step

BATCH = 128
TARGET_IMAGES_PER_S = 2000
TARGET_TORCH_RATIO = 1.3
SPEED_TORCH_RATIO = 1.91       # ours / PyTorch 2.13's time, the Speed page's table (docs/speed.md), its slow end


#: network -> (its builder in helpers.models, the optimiser its notebook trains it with)
NETWORKS = {"cnn": ("fashion_cnn", lambda optim, p: optim.Adam(p)),                                  # 07
            "improved": ("fashion_cnn_bn", lambda optim, p: optim.AdamW(p, lr=2e-3, weight_decay=1e-2)),   # 09
            "resnet": ("fashion_resnet", lambda optim, p: optim.AdamW(p, lr=2e-3, weight_decay=1e-2))}     # 10


def numpy_step(package: str = "helpers", network: str = "cnn"):
    """One training step of ``network`` (a key of NETWORKS) with the layers of ``package`` (helpers, or an
    earlier revision's copy), or None when that revision has no such network."""
    models, nn, optim = (importlib.import_module(f"{package}.{m}") for m in ("models", "nn", "optim"))
    builder, make_optimiser = NETWORKS[network]
    if not hasattr(models, builder):
        return None
    model = getattr(models, builder)(seed=0)
    loss_fn, opt = nn.SoftmaxCrossEntropy(), make_optimiser(optim, model.parameters())
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)

    training = importlib.import_module(f"{package}.training")
    if hasattr(training, "train_step"):
        return lambda: training.train_step(model, loss_fn, opt, x, y)

    def step():                                 # an earlier revision, before train_step
        loss_fn.forward(model.forward(x, training=True), y)
        model.backward(loss_fn.backward())
        opt.step()
    return step


def import_torch(threads: int):
    """PyTorch with ``threads`` threads and seed 0, or None where it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    return torch


def torch_step(threads: int):
    torch = import_torch(threads)
    if torch is None:
        return None, None
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(BATCH, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()
    return step, torch.__version__


def against_rev(med: dict, ours: str, rev: str | None, failures: list, what: str) -> None:
    """Print ours / REV's time, side by side in the same rounds; more than SLOWER_LIMIT slower is a regression."""
    name = f"{ours} at {rev}"
    if rev is None or name not in med:
        return
    ratio = med[ours] / med[name]
    ok = ratio <= SLOWER_LIMIT
    print(f"{what}: helpers.nn time / at {rev}: {ratio:.2f}x (limit {SLOWER_LIMIT}x): {'ok' if ok else 'MISSED'}")
    if not ok:
        failures.append(f"{what}: {ratio:.2f}x the time at {rev}")


def with_baseline(contenders: dict, name: str, network: str, baseline: str | None, rev: str | None) -> None:
    """Add the step of ``network`` at the baseline revision to ``contenders``, if that revision has it."""
    if baseline is None:
        return
    step = numpy_step(baseline, network)
    if step is None:
        print(f"({network}: revision {rev} has no such network; no side-by-side row)")
    else:
        contenders[f"{name} at {rev}"] = step


def improved_network(rounds: int, threads: int, failures: list, baseline=None, rev=None) -> None:
    """Notebook 09's improved CNN (fashion_cnn_bn: batch normalisation after each convolution and the
    first dense layer, dropout 0.3), AdamW, batch 128: its train step next to notebook 07's network and
    next to PyTorch doing the same network, when PyTorch is importable. Augmentation (shifts and flips
    of the batch) is timed apart: it is the same numpy code whichever library trains."""
    from helpers.augment import Augment
    from helpers.models import fashion_cnn_bn
    from helpers.optim import AdamW

    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    model = fashion_cnn_bn(seed=0)
    loss_fn, opt = SoftmaxCrossEntropy(), AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)

    def ours():
        train_step(model, loss_fn, opt, x, y)

    contenders = {"helpers.nn, 07's CNN": numpy_step(), "helpers.nn, improved CNN": ours}
    with_baseline(contenders, "helpers.nn, improved CNN", "improved", baseline, rev)
    torch_name = None
    torch = import_torch(threads)
    if torch is not None:
        nn = torch.nn
        tmodel = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
        )
        topt = torch.optim.AdamW(tmodel.parameters(), lr=2e-3, weight_decay=1e-2)
        tloss = nn.CrossEntropyLoss()
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def theirs():
            topt.zero_grad(set_to_none=True)
            tloss(tmodel(tx), ty).backward()
            topt.step()
        torch_name = f"PyTorch {torch.__version__} CPU, improved"
        contenders[torch_name] = theirs
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(timeit(fn, min_time=0.5))
    med = {name: statistics.median(v) for name, v in samples.items()}
    augment, images = Augment(1), rng.integers(0, 256, (BATCH, 28, 28), dtype=np.uint8)
    t_aug = timeit(lambda: augment(images, rng), min_time=0.2)
    print(f"\nTrain step of notebook 09's improved CNN (batch normalisation, dropout, AdamW), batch {BATCH}")
    print(f"{'':<48}{'ms/step':>10}{'images/s':>12}")
    for name, t in med.items():
        print(f"{name:<48}{t * 1e3:>10.1f}{BATCH / t:>12,.0f}")
    print(f"{'augmentation of the batch (numpy)':<48}{t_aug * 1e3:>10.2f}")
    ratio07 = med["helpers.nn, improved CNN"] / med["helpers.nn, 07's CNN"]
    print(f"improved CNN step / 07's CNN step: {ratio07:.2f}x the time")
    against_rev(med, "helpers.nn, improved CNN", rev, failures, "improved CNN")
    if torch_name is None:
        print("PyTorch is not installed: comparison skipped (pip install torch to run it).")
    else:
        ratio = med["helpers.nn, improved CNN"] / med[torch_name]
        ok = ratio <= TARGET_TORCH_RATIO
        print(f"improved CNN, helpers.nn time / PyTorch time: {ratio:.2f}x (target <= {TARGET_TORCH_RATIO}x): "
              f"{'ok' if ok else 'MISSED'}")
        if not ok:
            failures.append("improved CNN: PyTorch ratio")


def torch_resnet(torch, stem=16, widths=(48, 96), dense=128, dropout=0.3):
    """notebook 10's fashion_resnet (one block per stage, batch normalisation) in PyTorch."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, c_in, c_out):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                                      nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out))
            self.shortcut = (nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.BatchNorm2d(c_out)) if c_in != c_out
                             else nn.Identity())

        def forward(self, x):
            return torch.relu(self.body(x) + self.shortcut(x))

    layers, channels = [nn.Conv2d(1, stem, 3, padding=1), nn.BatchNorm2d(stem), nn.ReLU()], stem
    for width in widths:
        layers += [nn.MaxPool2d(2), Block(channels, width)]
        channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * 7 * 7, dense), nn.BatchNorm1d(dense),
                         nn.ReLU(), nn.Dropout(dropout), nn.Linear(dense, 10))


def resnet_network(rounds: int, threads: int, failures: list, baseline=None, rev=None) -> None:
    """Notebook 10's ResNet (fashion_resnet), AdamW, batch 128: its train step next to PyTorch's, when
    PyTorch is importable (a side-by-side row; the 1.3x target is for 07's and 09's networks)."""
    from helpers.models import fashion_resnet
    from helpers.optim import AdamW

    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    model = fashion_resnet(seed=0)
    loss_fn, opt = SoftmaxCrossEntropy(), AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    contenders = {"helpers.nn, ResNet": lambda: train_step(model, loss_fn, opt, x, y)}
    with_baseline(contenders, "helpers.nn, ResNet", "resnet", baseline, rev)
    torch = import_torch(threads)
    if torch is not None:
        tmodel = torch_resnet(torch)
        topt = torch.optim.AdamW(tmodel.parameters(), lr=2e-3, weight_decay=1e-2)
        tloss, tx, ty = torch.nn.CrossEntropyLoss(), torch.from_numpy(x), torch.from_numpy(y)

        def theirs():
            topt.zero_grad(set_to_none=True)
            tloss(tmodel(tx), ty).backward()
            topt.step()
        contenders[f"PyTorch {torch.__version__} CPU, ResNet"] = theirs
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(timeit(fn, min_time=0.5))
    med = {name: statistics.median(v) for name, v in samples.items()}
    print(f"\nTrain step of notebook 10's ResNet (fashion_resnet, AdamW), batch {BATCH}")
    print(f"{'':<48}{'ms/step':>10}{'images/s':>12}")
    for name, t in med.items():
        print(f"{name:<48}{t * 1e3:>10.1f}{BATCH / t:>12,.0f}")
    against_rev(med, "helpers.nn, ResNet", rev, failures, "ResNet")
    if torch is None:
        print("PyTorch is not installed: comparison skipped (pip install torch to run it).")
    else:
        ratio = med["helpers.nn, ResNet"] / med[f"PyTorch {torch.__version__} CPU, ResNet"]
        print(f"ResNet, helpers.nn time / PyTorch time: {ratio:.2f}x")


def end_to_end(failures: list) -> None:
    from helpers.datasets import DatasetNotFoundError, load_fashion_mnist
    from helpers.training import evaluate, fit

    try:
        (xtr, ytr), (xte, yte) = load_fashion_mnist()
    except DatasetNotFoundError as exc:
        print(f"\nend to end: skipped, Fashion-MNIST not found\n{exc}")
        failures.append("end to end: no Fashion-MNIST")
        return
    print("\nEnd to end (as notebook 07 trains them)")
    dense = fashion_dense(seed=0)
    hd = fit(dense, xtr, ytr, Adam(dense.parameters()), epochs=10, batch_size=32, rng=1, progress=False)
    _, dacc = evaluate(dense, xte, yte)
    cnn = fashion_cnn(seed=0)
    from helpers.models import CNN_LR_SCHEDULE
    hc = fit(cnn, xtr, ytr, Adam(cnn.parameters()), epochs=len(CNN_LR_SCHEDULE), batch_size=BATCH, rng=2,
             progress=False, lr_schedule=lambda e: CNN_LR_SCHEDULE[e - 1])
    _, cacc = evaluate(cnn, xte, yte)
    print(f"  dense: test accuracy {dacc:.4f} in {hd.total_seconds:.1f} s of training (target >= 0.878)")
    print(f"  CNN:   test accuracy {cacc:.4f} in {hc.total_seconds:.1f} s of training (targets >= 0.91, <= 300 s)")
    if dacc < 0.878:
        failures.append(f"dense accuracy {dacc:.4f} < 0.878")
    if cacc < 0.91:
        failures.append(f"CNN accuracy {cacc:.4f} < 0.91")
    if hc.total_seconds > 300:
        failures.append(f"CNN training took {hc.total_seconds:.0f} s > 300 s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (median reported)")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help="PyTorch threads (default: as many as helpers uses, which follows OMP_NUM_THREADS)")
    parser.add_argument("--end-to-end", action="store_true", help="also train both models (minutes)")
    parser.add_argument("--against", metavar="REV", help="also time the step with git revision REV's helpers")
    args = parser.parse_args(argv)

    warn_if_busy()
    contenders = {"helpers.nn": numpy_step()}
    baseline = baseline_helpers(args.against).__name__ if args.against else None
    with_baseline(contenders, "helpers.nn", "cnn", baseline, args.against)
    tstep, tversion = torch_step(args.threads)
    if tstep is not None:
        contenders[f"PyTorch {tversion} CPU"] = tstep
    samples = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            samples[name].append(timeit(fn, min_time=0.5))   # a train step takes tens of ms
    med = {name: statistics.median(s) for name, s in samples.items()}

    print(f"Train step of the Fashion-MNIST CNN, batch {BATCH}, float32, median of {args.rounds} interleaved rounds")
    print(f"{'':<26}{'ms/step':>10}{'images/s':>12}")
    for name, t in med.items():
        print(f"{name:<26}{t * 1e3:>10.1f}{BATCH / t:>12,.0f}")
    failures = []
    ours = med["helpers.nn"]
    if THREADS < 2:                     # the images/s target is a 2-core machine's: only the ratios apply
        print(f"\nhelpers.nn: {BATCH / ours:,.0f} images/s on one thread (the target, {TARGET_IMAGES_PER_S:,}, "
              "is for 2 cores: not checked)")
    else:
        ok = BATCH / ours >= TARGET_IMAGES_PER_S
        print(f"\nhelpers.nn: {BATCH / ours:,.0f} images/s (target >= {TARGET_IMAGES_PER_S:,}): "
              f"{'ok' if ok else 'MISSED'}")
        if not ok:
            failures.append("images/s")
    against_rev(med, "helpers.nn", args.against, failures, "07's CNN")
    if tstep is None:
        print("PyTorch is not installed: the comparison with PyTorch was SKIPPED (pip install torch to run it).")
    else:
        ratio = ours / med[f"PyTorch {tversion} CPU"]
        ok = ratio <= TARGET_TORCH_RATIO
        print(f"helpers.nn time / PyTorch time: {ratio:.2f}x (target <= {TARGET_TORCH_RATIO}x, "
              f"{args.threads} thread{'s' if args.threads > 1 else ''}): {'ok' if ok else 'MISSED'}")
        if not ok:
            failures.append("PyTorch ratio")
        if args.against is None:                  # with --against, the revision beside it is the check
            limit = SPEED_TORCH_RATIO * SLOWER_LIMIT
            ok = ratio <= limit
            print(f"no regression: docs/speed.md has {SPEED_TORCH_RATIO}x PyTorch's time, limit {limit:.2f}x: "
                  f"{'ok' if ok else 'MISSED'}")
            if not ok:
                failures.append(f"regression: {ratio:.2f}x PyTorch's time > {limit:.2f}x")
    if args.against is None and tstep is None:
        print("no regression: NOT CHECKED (it is checked side by side: install PyTorch, or pass --against REV)")
    improved_network(args.rounds, args.threads, failures, baseline, args.against)
    resnet_network(args.rounds, args.threads, failures, baseline, args.against)
    if args.end_to_end:
        end_to_end(failures)
    if failures:
        print("\nmissed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
