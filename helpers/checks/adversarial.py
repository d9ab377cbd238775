"""Self-checks for notebook 11's adversarial examples."""
from __future__ import annotations

import numpy as np

from . import Verdict, answer_array, largest_difference, report, usual_mistake

__all__ = ["check_fgsm_step"]


def check_fgsm_step(answer, image, grad, epsilon: float) -> bool:
    """Is ``answer`` the fast-gradient-sign step ``clip(image + epsilon * sign(grad), 0, 1)``?

    ``image`` and ``grad`` arrays of one shape (e.g. (1, 28, 28)). The usual mistakes each get their hint
    (a step down the gradient, no clipping, the gradient instead of its sign, the perturbation alone), and
    only where that wrong answer differs from the right one, so no wrong answer is called right.
    """
    value = answer_array(answer, "the new image: an array of the image's shape")
    if isinstance(value, Verdict):
        return value
    image = np.asarray(image, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if value.shape != image.shape:
        return report(False, f"the answer has shape {value.shape}; the image has {image.shape}: the step changes "
                             "every pixel and keeps the shape.")
    right = np.clip(image + epsilon * np.sign(grad), 0, 1)
    tol = 1e-5                                        # float32 pixels: several digits to spare

    def close(a, b):
        return bool(np.abs(a - b).max() < tol)

    if close(value, right):
        moved = np.abs(right - image)
        return report(True, f"every pixel moved by at most {moved.max():.3f}; {np.mean(moved > epsilon / 2):.0%} "
                            f"moved by the full {epsilon:g}, the rest were held by the clipping to 0..1 (or had "
                            "a gradient of exactly 0).")
    wrong = [
        (np.clip(image - epsilon * np.sign(grad), 0, 1),
         "you stepped down the gradient, which lowers the loss: the attack goes up it, + epsilon * sign."),
        (image + epsilon * np.sign(grad), "right direction, but some pixels leave 0..1: clip the result with "
                                          "np.clip(..., 0, 1)."),
        (np.clip(image + epsilon * grad, 0, 1), "that moves each pixel in proportion to its gradient; FGSM moves "
                                                "every pixel by the same epsilon: use np.sign(grad)."),
        (epsilon * np.sign(grad), "that is the perturbation alone; add it to the image (and clip)."),
    ]
    hint = usual_mistake(value, right, wrong, close)
    if hint is not None:
        return report(False, hint)
    worst = largest_difference(value, right)
    return report(False, f"pixel {worst} is {value[worst]:.4f}. Each pixel should be "
                         "its value plus epsilon times the sign of its gradient, then clipped to 0..1.")
