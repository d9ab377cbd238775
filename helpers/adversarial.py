"""Adversarial examples: the fast gradient sign method (Goodfellow, Shlens and Szegedy, 2015).

Notebook 11 uses these on the course's trained CNN::

    loss_gradient(model, x, labels)       d(cross-entropy loss of each image's label) / d(its pixels)
    fgsm_step(x, grad, epsilon)           x + epsilon * sign(grad), clipped to the pixel range 0..1
    fgsm(model, x, labels, epsilon)       the two together: the adversarial images

Shapes: images (N, C, H, W) floats 0..1; labels one int or (N,) ints; the model is a helpers.nn.Sequential
whose output is (N, classes) scores. Only the public ``helpers.interpret.input_gradient`` touches the
network's layers, so these work for any model that it accepts.
"""
from __future__ import annotations

import numpy as np

from ._arguments import as_real_array, class_indices, number_in
from .interpret import input_gradient
from .losses import softmax

__all__ = ["loss_gradient", "fgsm_step", "fgsm"]


def _images(x, name: str = "x") -> np.ndarray:
    """``x`` as a float32 batch (N, C, H, W) of pixels 0..1, or an error that says how to fix it."""
    x = as_real_array(x, name)
    if x.dtype == bool or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must hold floats 0..1 (helpers.training.prepare makes them from uint8), "
                        f"got dtype {x.dtype}.")
    if x.ndim != 4:
        raise ValueError(f"{name} must be a batch of images (N, C, H, W), got shape {x.shape}. "
                         f"For one image use {name}[None].")
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError(f"{name} must hold pixels in 0..1 (the range the step is clipped to), got values "
                         f"{np.nanmin(x):.3g}..{np.nanmax(x):.3g}.")
    return x.astype(np.float32, copy=False)


def loss_gradient(model, x, labels, batch_size: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The gradient of each image's cross-entropy loss with respect to its pixels, and its probabilities.

    ``x`` (N, C, H, W) floats 0..1; ``labels`` one int or (N,) ints. Returns ``grad`` (N, C, H, W),
    grad[n] = d L_n / d x[n] with L_n = -log p(labels[n] | x[n]), and ``probs`` (N, classes).

    How: the loss depends on the pixels only through the K scores z, and dL/dz_c = p_c - [c == label]
    (notebook 06). So dL/dx = sum over c of (p_c - [c == label]) dz_c/dx, where dz_c/dx is what
    ``input_gradient(model, x, c)`` computes: one backward pass per class, K in all. ``batch_size``
    images at a time, to keep the memory of the forward passes small.
    """
    x = _images(x)
    y = class_indices(labels, len(x), "labels")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    grads, probs = [], []
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        g0, scores = input_gradient(model, xb, 0)              # the scores tell how many classes
        n_classes = scores.shape[1]
        if yb.min() < 0 or yb.max() >= n_classes:
            raise ValueError(f"labels must be class indices 0..{n_classes - 1} (the model has {n_classes} "
                             f"scores), got {yb[(yb < 0) | (yb >= n_classes)][0]}.")
        p = softmax(scores.astype(np.float64))
        weight = p - np.eye(n_classes)[yb]                     # dL/dz, (n, K)
        total = weight[:, 0, None, None, None] * g0
        for c in range(1, n_classes):
            total += weight[:, c, None, None, None] * input_gradient(model, xb, c)[0]
        grads.append(total.astype(np.float32))
        probs.append(p)
    return np.concatenate(grads), np.concatenate(probs)


def fgsm_step(x, grad, epsilon: float) -> np.ndarray:
    """One fast-gradient-sign step: ``clip(x + epsilon * sign(grad), 0, 1)``.

    ``x`` (N, C, H, W) floats 0..1; ``grad`` the same shape (the loss's gradient: moving along it raises the
    loss); ``epsilon`` 0..1, how far each pixel may move. Every pixel moves by exactly epsilon (up where the
    gradient is positive, down where it is negative), unless the clipping to 0..1 stops it earlier or the
    gradient is exactly 0 there. Returns the new images, float32.
    """
    x = _images(x)
    grad = as_real_array(grad, "grad")
    if grad.shape != x.shape:
        raise ValueError(f"grad must have the images' shape {x.shape}, got {grad.shape}.")
    epsilon = number_in(epsilon, "epsilon", 0.0, 1.0, meaning="how far each pixel may move, in pixel units 0..1")
    step = np.float32(epsilon) * np.sign(grad).astype(np.float32)
    return np.clip(x + step, 0.0, 1.0)


def fgsm(model, x, labels, epsilon: float) -> np.ndarray:
    """The fast gradient sign method: images (N, C, H, W) made to raise each one's loss, pixel moves <= epsilon.

    ``x`` (N, C, H, W) floats 0..1; ``labels`` the true classes, one int or (N,) ints; ``epsilon`` 0..1.
    Returns ``clip(x + epsilon * sign(dL/dx), 0, 1)`` (N, C, H, W) float32: every pixel moves by epsilon in
    the direction that raises the loss to first order, so the largest change of any pixel is epsilon. For
    several epsilons compute ``loss_gradient`` once and call ``fgsm_step`` for each.
    """
    epsilon = number_in(epsilon, "epsilon", 0.0, 1.0, meaning="how far each pixel may move, in pixel units 0..1")
    grad, _ = loss_gradient(model, x, labels)
    return fgsm_step(x, grad, epsilon)
