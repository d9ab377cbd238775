"""The networks of the source material, built from helpers.nn layers (notebooks 07 and 08).

    mnist_source_net()  Conv 8 3x3 valid -> MaxPool 2 -> Dense 1,352 -> 10 (softmax in the loss)
    fashion_dense()     Flatten -> Dense 128 ReLU -> Dense 10
    fashion_cnn()       Conv 32 3x3 same ReLU -> MaxPool 2 -> Conv 64 3x3 same ReLU -> MaxPool 2
                        -> Flatten -> Dense 128 ReLU -> Dense 10
    alexnet()           the AlexNet of the source material, with the ReLUs it left out put back and a bias
                        per filter in its convolutions (which the source leaves out)
"""
from __future__ import annotations

import numpy as np

from .nn import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential

__all__ = ["mnist_source_net", "fashion_dense", "fashion_cnn", "alexnet", "CNN_LR_SCHEDULE"]


def _seeds(seed, n):
    return np.random.SeedSequence(seed).generate_state(n)


def mnist_source_net(seed: int = 0) -> Sequential:
    """The source's MNIST network: 8 filters 3x3 (valid) -> 26x26x8 -> max pool 2 -> 13x13x8 -> 10 scores.

    (The source has no ReLU after its convolution, and neither has this copy.)"""
    s = _seeds(seed, 2)
    return Sequential([Conv2D(1, 8, 3, padding="valid", rng=int(s[0])), MaxPool2D(2), Flatten(),
                       Dense(13 * 13 * 8, 10, rng=int(s[1]))])


def fashion_dense(seed: int = 0) -> Sequential:
    s = _seeds(seed, 2)
    return Sequential([Flatten(), Dense(784, 128, rng=int(s[0])), ReLU(), Dense(128, 10, rng=int(s[1]))])


def fashion_cnn(seed: int = 0) -> Sequential:
    s = _seeds(seed, 4)
    return Sequential([
        Conv2D(1, 32, 3, padding="same", rng=int(s[0])), ReLU(), MaxPool2D(2),
        Conv2D(32, 64, 3, padding="same", rng=int(s[1])), ReLU(), MaxPool2D(2),
        Flatten(), Dense(64 * 7 * 7, 128, rng=int(s[2])), ReLU(), Dense(128, 10, rng=int(s[3])),
    ])


def alexnet(n_classes: int = 1000, relu_between_linear: bool = True, seed: int = 0) -> Sequential:
    """The AlexNet of the source material: (N, 3, 224, 224) -> (N, n_classes).

    Its layer list, filter counts, kernels, strides and paddings are the source's. Two differences:

    - ``relu_between_linear=True`` (the default) puts back the ReLUs between the linear layers, which the
      original network has and the source leaves out (without them the three linear layers collapse into
      one linear map on the dropout-masked features); ``False`` leaves them out, as the source does.
    - Our convolutions have one bias per filter (1,184 in all); the source's have none (``bias=False``).
      So the source counts 61,264,904 parameters and this model 61,266,088, with or without the ReLUs.
    """
    s = [int(v) for v in _seeds(seed, 8)]
    layers = [
        Conv2D(3, 96, 11, stride=4, padding=2, rng=s[0]), ReLU(), MaxPool2D(3, 2),
        Conv2D(96, 192, 5, padding=2, rng=s[1]), ReLU(), MaxPool2D(3, 2),
        Conv2D(192, 384, 3, padding=1, rng=s[2]), ReLU(),
        Conv2D(384, 256, 3, padding=1, rng=s[3]), ReLU(),
        Conv2D(256, 256, 3, padding=1, rng=s[4]), ReLU(), MaxPool2D(3, 2),
        Flatten(), Dropout(0.5, rng=s[5]), Dense(256 * 6 * 6, 4096, rng=s[6]),
    ]
    if relu_between_linear:
        layers.append(ReLU())
    layers += [Dropout(0.5, rng=s[7]), Dense(4096, 4096, rng=s[6] + 1)]
    if relu_between_linear:
        layers.append(ReLU())
    layers.append(Dense(4096, n_classes, rng=s[6] + 2))
    return Sequential(layers)


#: A fixed learning-rate schedule for :func:`fashion_cnn` (Adam, batches of 128, one rate per epoch: three
#: epochs at 0.001, then lower), used by the training benchmark. Notebook 07 does not use it: there the
#: rate is lowered when the validation loss stops improving, a choice made on the validation set.
CNN_LR_SCHEDULE = (1e-3, 1e-3, 1e-3, 3e-4, 1e-4)
