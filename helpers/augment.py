"""Data augmentation in numpy: new training images made from the old ones, a batch at a time.

    random_shift(x, max_shift, rng)   move each image by up to ``max_shift`` pixels (zeros come in at
                                      the border): a random crop of the zero-padded image
    random_flip(x, rng, p=0.5)        mirror each image left-right with probability ``p``
    Augment(max_shift=2, flip=True)   both, as a function ``augment(x, rng)`` that fit(augment=...) takes

A shirt moved two pixels to the left or mirrored is still a shirt: the network sees a slightly new
image at every epoch, which makes memorising the training set harder. Mirroring up-down would not be
(shoes do not stand on their heads in Fashion-MNIST), so there is no vertical flip.

Everything works on a whole batch (N, C, H, W) (or (N, H, W)) at once and draws from the numpy Generator
it is given, so a seed gives the same images every time.
"""
from __future__ import annotations

import numpy as np

from ._arguments import generator

__all__ = ["random_shift", "random_flip", "Augment"]


def _generator(rng) -> np.random.Generator:
    """None (seed 0), a seed or a Generator: what ``rng`` means everywhere in helpers."""
    return generator(rng)


def _check_batch(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"expected a batch of images (N, H, W) or (N, C, H, W), got shape {x.shape}.")
    return x


def random_shift(x, max_shift: int, rng=None) -> np.ndarray:
    """Shift each image by its own random (dy, dx), each in -max_shift..max_shift; zeros fill the gap.

    Done as a random crop: pad every image with ``max_shift`` zeros on each side, then cut an H x W
    window at a random offset. Images that drew the same offset are cut in one slice, so there are at
    most (2 * max_shift + 1)**2 numpy operations, whatever the batch size. Same shape and dtype as x.
    """
    x = _check_batch(x)
    if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a whole number of pixels, 0 or more, got {max_shift!r}.")
    rng = _generator(rng)
    if max_shift == 0:
        return x.copy()
    s = int(max_shift)
    H, W = x.shape[-2:]
    pad = [(0, 0)] * (x.ndim - 2) + [(s, s), (s, s)]
    padded = np.pad(x, pad)
    offsets = rng.integers(0, 2 * s + 1, size=(len(x), 2))        # window's top-left corner in the padded image
    out = np.empty_like(x)
    code = offsets[:, 0] * (2 * s + 1) + offsets[:, 1]
    for c in np.unique(code):
        which = np.flatnonzero(code == c)
        dy, dx = divmod(int(c), 2 * s + 1)
        out[which] = padded[which, ..., dy:dy + H, dx:dx + W]
    return out


def random_flip(x, rng=None, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right (reverse its columns) with probability ``p``. Same shape as x."""
    x = _check_batch(x)
    if not 0 <= p <= 1:
        raise ValueError(f"p is a probability, in [0, 1], got {p!r}.")
    flip = _generator(rng).random(len(x)) < p
    out = x.copy()
    out[flip] = x[flip, ..., ::-1]
    return out


class Augment:
    """``augment(x, rng)``: a random shift of up to ``max_shift`` pixels, then a random left-right flip.

    ``helpers.training.fit(..., augment=Augment(2))`` applies it to every training batch (never to the
    validation or test images)."""

    def __init__(self, max_shift: int = 2, flip: bool = True):
        if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(f"max_shift must be a whole number of pixels, 0 or more, got {max_shift!r}.")
        self.max_shift, self.flip = int(max_shift), bool(flip)

    def __call__(self, x, rng=None) -> np.ndarray:
        rng = _generator(rng)
        x = random_shift(x, self.max_shift, rng)
        return random_flip(x, rng) if self.flip else x

    def __repr__(self):
        return f"Augment(max_shift={self.max_shift}, flip={self.flip})"
