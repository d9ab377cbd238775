"""Self-checks for notebook 11's Grad-CAM."""
from __future__ import annotations

import numpy as np

from . import Verdict, answer_array, largest_difference, report, usual_mistake

__all__ = ["check_grad_cam"]


def check_grad_cam(answer, maps, grads) -> bool:
    """Is ``answer`` the Grad-CAM map ReLU(sum over k of alpha_k maps[k]), alpha_k = mean of grads[k]?

    ``maps`` (K, h, w) one image's feature maps, ``grads`` (K, h, w) the gradient of a class score with
    respect to them. The usual mistakes each get their hint (no ReLU, the sum of the gradient instead of
    its mean, the gradient times the maps position by position without averaging, one channel's weights
    mixed up), and only where that wrong answer differs from the right one.
    """
    value = answer_array(answer, "the map: an array (h, w), one value per position")
    if isinstance(value, Verdict):
        return value
    maps = np.asarray(maps, dtype=np.float64)
    grads = np.asarray(grads, dtype=np.float64)
    if value.shape != maps.shape[1:]:
        return report(False, f"the answer has shape {value.shape}; the map has one value per position of the "
                             f"feature maps, {maps.shape[1:]}: sum over the channels (axis 0).")
    alpha = grads.mean(axis=(1, 2))                              # (K,)
    signed = np.einsum("k,khw->hw", alpha, maps)
    right = np.maximum(signed, 0)
    scale = max(float(np.abs(signed).max()), 1e-12)

    def close(a, b):
        return bool(np.abs(a - b).max() < 1e-4 * scale)

    if close(value, right):
        h, w = right.shape
        row, col = np.unravel_index(right.argmax(), right.shape)
        return report(True, f"a {h}x{w} map, positive on {np.mean(right > 0):.0%} of its positions; its largest "
                            f"value is at row {row}, column {col}.")
    h, w = maps.shape[1:]
    wrong = [
        (signed, "right weights and sum, but the negative parts stay: Grad-CAM cuts them off with a ReLU, "
                 "np.maximum(..., 0)."),
        (np.maximum(signed * h * w, 0), "that is the map times the number of positions: alpha_k is the *mean* of "
                                        "the gradient over the positions, not its sum."),
        (np.maximum((grads * maps).sum(axis=0), 0), "that weights each position by its own gradient; Grad-CAM "
                                                     "gives each channel one weight, the mean of its gradient."),
        (np.maximum(np.einsum("k,khw->hw", grads.mean(axis=(0, 1))[:1].repeat(len(maps)), maps), 0),
         "the weights should be one per channel: grads.mean(axis=(1, 2)), a vector of K numbers."),
    ]
    hint = usual_mistake(value, right, wrong, close)
    if hint is not None:
        return report(False, hint)
    worst = largest_difference(value, right)
    return report(False, f"position {worst} is {value[worst]:.4g}. Weigh each channel by "
                         "the mean of its gradient, add the weighted channels, then cut off what is negative.")
