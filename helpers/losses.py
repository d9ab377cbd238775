"""Softmax and cross-entropy: from a network's raw scores to probabilities and a loss.

    softmax(z)_k       = exp(z_k) / sum_j exp(z_j)          probabilities: each in [0, 1], summing to 1
    log_softmax(z)_k   = z_k - log sum_j exp(z_j)            computed without overflow
    cross_entropy      = -log softmax(z)_c                   c the correct class; averaged over a batch

Shapes: ``z`` holds the scores ("logits") along ``axis`` (the last one by default), so a single vector
(K,) and a batch (N, K) both work. Labels are integer class indices: one int for a vector, (N,) for a
batch.

Every function shifts the scores by their maximum before exponentiating. That changes nothing
mathematically (the factor exp(-max) cancels between numerator and denominator) but keeps exp() away
from overflow: exp(1000) is inf in float64, exp(0) is 1. :func:`softmax_naive` is the textbook
formula without the shift, kept so the notebooks can show it breaking.
"""
from __future__ import annotations

import numpy as np

from ._arguments import float_dtype

__all__ = ["softmax", "softmax_naive", "log_softmax", "cross_entropy", "cross_entropy_grad", "one_hot"]


def _scores(z, name: str = "scores") -> np.ndarray:
    """``z`` as a float array with at least one dimension, or a clear error."""
    arr = np.asarray(z)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numbers, got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real numbers, got complex dtype {arr.dtype}.")
    if arr.ndim == 0:
        raise ValueError(
            f"{name} must hold one score per class, got a single number {arr.item()!r}. "
            "Pass a vector (K,) or a batch (N, K)."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one class.")
    return arr.astype(float_dtype(arr), copy=False)


def _scaled(z, temperature) -> np.ndarray:
    if not np.isscalar(temperature) or not temperature > 0:
        raise ValueError(
            f"temperature must be a positive number, got {temperature!r}. 1.0 leaves the scores as they are."
        )
    return z if temperature == 1 else z / temperature


def softmax(z, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Probabilities from scores: exp(z / T), divided by its sum along ``axis``. Numerically stable.

    z (..., K) -> (..., K), each slice along ``axis`` in [0, 1] and summing to 1.
    ``temperature`` T > 1 flattens the distribution, T < 1 sharpens it; T = 1 is the plain softmax.

    >>> softmax([-1, 0, 3, 5]).round(4)
    array([0.0022, 0.0059, 0.1182, 0.8737])
    >>> softmax([1000, 1001]).round(4)        # the naive formula gives nan here
    array([0.2689, 0.7311])
    """
    z = _scaled(_scores(z), temperature)
    e = np.exp(z - z.max(axis=axis, keepdims=True))   # largest entry becomes exp(0) = 1: no overflow
    return e / e.sum(axis=axis, keepdims=True)


def softmax_naive(z, axis: int = -1) -> np.ndarray:
    """The textbook formula exp(z) / sum exp(z), *without* the shift. Overflows for scores above ~709.

    Only for showing why :func:`softmax` subtracts the maximum; numpy warns (overflow, invalid value)
    and returns nan where the stable version returns the right answer.
    """
    z = _scores(z)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """log(softmax(z)) computed directly: z - max - log(sum(exp(z - max))). z (..., K) -> (..., K).

    Finite even where softmax underflows to 0 (a class with a score far below the best one), so
    cross-entropy never takes log(0).
    """
    z = _scaled(_scores(z), temperature)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _labels(labels, logits: np.ndarray) -> np.ndarray:
    """Check ``labels`` against ``logits`` (K,) or (N, K); return them as an int array (N,)."""
    lab = np.asarray(labels)
    if lab.dtype == bool or not np.issubdtype(lab.dtype, np.integer):
        if np.issubdtype(lab.dtype, np.floating) and lab.size and np.all(lab == np.round(lab)):
            lab = lab.astype(np.int64)
        else:
            raise TypeError(
                f"labels must be integer class indices (0 .. K-1), got dtype {lab.dtype}. "
                "If you have one-hot rows, use labels = onehot.argmax(axis=1)."
            )
    K = logits.shape[-1]
    if logits.ndim == 1:
        if lab.ndim != 0 and lab.shape != (1,):
            raise ValueError(f"one score vector (K={K},) needs one int label, got labels of shape {lab.shape}.")
        lab = lab.reshape(1)
    elif lab.shape != (logits.shape[0],):
        raise ValueError(
            f"logits of shape {logits.shape} (N={logits.shape[0]} examples, K={K} classes) need labels of shape "
            f"({logits.shape[0]},), one int per example; got shape {lab.shape}."
        )
    if lab.min() < 0 or lab.max() >= K:
        bad = lab[(lab < 0) | (lab >= K)][0]
        raise ValueError(f"label {int(bad)} is not a class index: with K={K} classes labels run from 0 to {K - 1}.")
    return lab


def _as_logits(logits) -> np.ndarray:
    z = _scores(logits, "logits")
    if z.ndim > 2:
        raise ValueError(f"logits must be (K,) or (N, K), got shape {z.shape}. Flatten the extra axes first.")
    return z


def cross_entropy(logits, labels) -> float:
    """Mean cross-entropy loss of raw scores against integer labels: mean_i -log softmax(logits_i)[label_i].

    logits (N, K) with labels (N,) ints in 0..K-1 -> the mean over the N examples (a float);
    logits (K,) with one int label -> the loss of that one example.

    Takes *scores*, not probabilities: the softmax is applied inside (as log_softmax, so it never
    computes log(0)). If you already have probabilities p, the loss of one example is -np.log(p[label]).

    >>> round(cross_entropy(np.zeros(10), 3), 3)     # ten equal scores: p = 0.1 for every class
    2.303
    """
    z = _as_logits(logits)
    lab = _labels(labels, z)
    logp = log_softmax(z.reshape(-1, z.shape[-1]))
    return float(-logp[np.arange(lab.size), lab].mean())


def one_hot(labels, num_classes: int) -> np.ndarray:
    """Integer labels (N,) -> float rows (N, K) with a single 1 at each label; an int -> (K,)."""
    lab = np.asarray(labels)
    if not np.issubdtype(lab.dtype, np.integer) or lab.dtype == bool:
        raise TypeError(f"labels must be integers, got dtype {lab.dtype}.")
    if lab.size and (lab.min() < 0 or lab.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got values from {lab.min()} to {lab.max()}.")
    return np.eye(num_classes)[lab]


def cross_entropy_grad(logits, labels) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits: (softmax(z) - onehot(label)) / N.

    logits (N, K), labels (N,) -> (N, K); logits (K,), int label -> (K,). The division by N is there
    because the loss is the *mean* over the batch. This simple form is why softmax and cross-entropy
    are almost always computed together.
    """
    z = _as_logits(logits)
    lab = _labels(labels, z)
    z2 = z.reshape(-1, z.shape[-1])
    grad = softmax(z2)
    grad[np.arange(lab.size), lab] -= 1.0
    return (grad / lab.size).reshape(z.shape)
