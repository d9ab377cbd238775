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


def _probability(model, images, label: int) -> np.ndarray:
    return softmax(model.forward(np.asarray(images, dtype=np.float32), training=False))[:, label]


def _covered(image, rows, cols, fill) -> np.ndarray:
    out = image.copy()
    out[:, rows[0]:rows[1], cols[0]:cols[1]] = fill
    return out


def check_occlusion_drop(answer, model, image, label: int, rows: tuple[int, int], cols: tuple[int, int],
                         fill: float = 0.0) -> bool:
    """Is ``answer`` p(label | image) - p(label | image with rows x cols set to ``fill``)?

    ``rows``, ``cols``: slices as (start, stop), stop excluded. The usual mistakes each get their hint:
    the other fill (grey 0.5 for the background's 0, or the reverse), the sign, a square one pixel too
    big, rows and columns swapped, the probability after instead of the drop, the score instead of the
    probability, and a drop of exactly nothing. A hint is given only where its wrong answer differs from
    the right one, so no wrong answer is called right.
    """
    value = None if answer is ... else _number(answer)
    if value is None:
        return report(False, "Replace the ... with a number: the probability before minus the probability after.")
    image = np.asarray(image, dtype=np.float32)
    p0, p1 = _probability(model, np.stack([image, _covered(image, rows, cols, fill)]), label)
    right = float(p0 - p1)
    tol = 1e-4                                      # float32 probabilities: several digits to spare
    if abs(value - right) < tol:
        return report(True, f"the probability goes from {p0:.4f} to {p1:.4f}: a drop of {right:.4f}.")

    def drop(covered):
        return float(p0 - _probability(model, covered[None], label)[0])

    z = model.forward(np.stack([image, _covered(image, rows, cols, fill)]), training=False)[:, label]
    wrong = [(-right, "the sign is reversed: before minus after (positive when the probability falls).")]
    wrong += [(drop(_covered(image, rows, cols, other)),
               f"that is the drop with the square filled with {other:g}; this exercise fills it with {fill:g}"
               + (" (the background's value)." if fill == 0 else ".")) for other in (0.0, 0.5, 1.0) if other != fill]
    wrong += [
        (drop(_covered(image, (rows[0], rows[1] + 1), (cols[0], cols[1] + 1), fill)),
         "your square is one row and column too big: a slice a:b stops before b, so rows "
         f"{rows[0]} to {rows[1] - 1} are {rows[0]}:{rows[1]}."),
        (drop(_covered(image, cols, rows, fill)),
         "rows and columns are swapped: the rows are the second-to-last axis, image[:, rows, cols]."),
        (float(p1), "that is the probability after covering; the drop is the probability before minus it."),
        (float(z[0] - z[1]), "that is the drop in the class score; use the probability (softmax of the scores)."),
        (0.0, "a drop of 0: the covered image gave the same probability as the image. Cover a copy "
              "(covered = image.copy()) and run the copy through the network, not the image again."),
    ]
    for candidate, hint in wrong:
        if abs(value - candidate) < tol and abs(candidate - right) >= 2 * tol:
            return report(False, hint)
    return report(False, f"{value:.4f} is not it. Copy the image, set the square to {fill:g} (rows and columns "
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
    prob_grad = float((p[0] - p[1]) / (2 * h))
    if value == 0.0:
        # exactly 0: the two outputs were equal, which a real difference of scores almost never is
        hint = ("an estimate of exactly 0: the two outputs you subtracted were equal. Make two separate copies "
                "(up = x.copy(), down = x.copy()), add h to the pixel in one and subtract it in the other, "
                "and check that you changed channel 0, row r, column c of each.")
        if abs(prob_grad) < tol:
            hint += f" (Probabilities would also give about 0 here: p = {p[0]:.4f} hardly moves. Use the scores.)"
        return report(False, hint)
    if abs(value - prob_grad) < tol:
        return report(False, "that is the gradient of the probability; use the score, the network's output "
                             "before softmax.")
    return report(False, f"{value:.4f} is not it. Make two copies of the image, add h to the pixel in one and "
                         "subtract it in the other, and divide the difference of the class scores by 2h.")
