"""Self-checks for notebook 11 (inside a trained CNN)."""
from __future__ import annotations

import numpy as np

from ..interpret import receptive_field
from ..losses import softmax
from . import report

__all__ = ["check_field_rows", "check_occlusion_drop", "check_pixel_gradient"]


def _number(answer):
    try:
        return float(np.asarray(answer, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return None


def check_field_rows(answer, model, layer: int, row: int) -> bool:
    """Is ``answer`` the (first, last) input row seen by position ``row`` of ``model.layers[layer]``?"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a pair (first_row, last_row).")
    try:
        first, last = (int(v) for v in answer)
    except (TypeError, ValueError):
        return report(False, f"give two whole numbers (first_row, last_row), got {answer!r}.")
    size, jump, start = receptive_field(model, layer)
    right = (start + row * jump, start + row * jump + size - 1)
    if (first, last) == right:
        return report(True, f"rows {right[0]} to {right[1]}: {size} rows, starting at {start} + {jump} x {row}.")
    if last - first + 1 != size:
        return report(False, f"your patch has {last - first + 1} rows; the field of this layer has {size} "
                             "(both ends included). Track size += (k - 1) x jump through the layers.")
    if (first, last) == (row * jump, row * jump + size - 1):
        return report(False, "right size, but the padding shifts the window: each padded layer moves the start "
                             "back by padding x jump (into negative rows).")
    if first == start + row:
        return report(False, "right size, but neighbouring positions of this layer are not 1 input pixel apart: "
                             "each pooling multiplies the distance (the jump) by its stride.")
    return report(False, f"({first}, {last}) is not it. Compute size, jump and start layer by layer, then the "
                         "first row is start + row x jump.")


def check_occlusion_drop(answer, model, image, label: int, rows: tuple[int, int], cols: tuple[int, int],
                         fill: float = 0.5) -> bool:
    """Is ``answer`` p(label | image) - p(label | image with rows x cols set to ``fill``)?"""
    value = None if answer is ... else _number(answer)
    if value is None:
        return report(False, "Replace the ... with a number: the probability before minus the probability after.")
    image = np.asarray(image, dtype=np.float32)
    covered = image.copy()
    covered[:, rows[0]:rows[1], cols[0]:cols[1]] = fill
    p = softmax(model.forward(np.stack([image, covered]), training=False))[:, label]
    right = float(p[0] - p[1])
    if abs(value - right) < 1e-4:
        return report(True, f"the probability goes from {p[0]:.4f} to {p[1]:.4f}: a drop of {right:.4f}.")
    if abs(value + right) < 1e-4:
        return report(False, "the sign is reversed: before minus after (positive when the probability falls).")
    off_by_one = image.copy()
    off_by_one[:, rows[0]:rows[1] + 1, cols[0]:cols[1] + 1] = fill
    p1 = softmax(model.forward(off_by_one[None], training=False))[0, label]
    if abs(value - (p[0] - p1)) < 1e-4:
        return report(False, "your square is one row and column too big: a slice a:b stops before b, so rows "
                             f"{rows[0]} to {rows[1] - 1} are {rows[0]}:{rows[1]}.")
    return report(False, f"{value:.4f} is not it. Copy the image, set the square to {fill} (rows and columns "
                         "slices on the last two axes), run both through the network and compare the softmax "
                         "probabilities of the true class.")


def check_pixel_gradient(answer, model, image, label: int, pixel: tuple[int, int], h: float = 1e-3) -> bool:
    """Is ``answer`` d score[label] / d image[0, pixel], estimated by a centred finite difference?"""
    value = None if answer is ... else _number(answer)
    if value is None:
        return report(False, "Replace the ... with a number: (score up - score down) / (2 h).")
    image = np.asarray(image, dtype=np.float64)
    r, c = pixel
    up, down = image.copy(), image.copy()
    up[0, r, c] += h
    down[0, r, c] -= h
    z = model.forward(np.stack([up, down]).astype(np.float32), training=False)[:, label].astype(np.float64)
    right = (z[0] - z[1]) / (2 * h)
    # float32 scores round to about 1e-6, so a difference over 2h = 0.002 is only good to about 1e-3
    tol = 3e-3 + 1e-2 * abs(right)
    if abs(value - right) < tol:
        return report(True, f"about {right:.3f}: raising that pixel by 0.01 would raise the score by about "
                            f"{0.01 * right:.4f}.")
    if abs(value - 2 * right) < tol:
        return report(False, "twice too large: divide by 2h, the distance between x + h and x - h.")
    p = softmax(model.forward(np.stack([up, down]).astype(np.float32), training=False))[:, label]
    if abs(value - (p[0] - p[1]) / (2 * h)) < tol:
        return report(False, "that is the gradient of the probability; use the score, the network's output "
                             "before softmax.")
    return report(False, f"{value:.4f} is not it. Make two copies of the image, add h to the pixel in one and "
                         "subtract it in the other, and divide the difference of the class scores by 2h.")
