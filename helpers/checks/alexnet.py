"""Self-check for notebook 08's architecture explorer: AlexNet's first dense layer at another input size."""
from __future__ import annotations

import numbers

from . import report

__all__ = ["check_first_dense_params"]


def _first_dense(model, size: int) -> tuple[tuple, int, int, int]:
    """(the last feature maps' shape (C, H, W) and the first dense layer's inputs at ``size`` x ``size``, its
    outputs, its parameters at 224 x 224), asked from the layers (``Sequential.shapes``)."""
    rows = model.shapes((1, 3, 224, 224))
    first = next(i for i, (name, _, _) in enumerate(rows) if name.startswith("Dense"))
    before = type(model)(model.layers[:first]).shapes((1, 3, size, size))
    maps = [shape[1:] for _, shape, _ in before if len(shape) == 4][-1]
    return maps, int(before[-1][1][1]), int(rows[first][1][1]), int(rows[first][2])


def check_first_dense_params(answer, model, size: int) -> bool:
    """Is ``answer`` the parameter count of ``model``'s (AlexNet's) first dense layer for ``size`` x ``size``
    input images? (Its inputs are what Flatten gives at that size; its outputs stay the same.)"""
    if answer is ... or answer is None:
        return report(False, "Replace the ... with a number (or an expression).")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return report(False, f"give a number, not {type(answer).__name__}.")
    maps, n_in, n_out, at_224 = _first_dense(model, size)
    right = n_in * n_out + n_out
    if answer == right:
        shape = " x ".join(map(str, maps))
        return report(True, f"at {size}x{size} the last pooling gives {shape} = {n_in:,} values, so "
                            f"{n_in:,} x {n_out:,} weights + {n_out:,} biases = {right:,}; the convolutions keep "
                            "their parameters whatever the size.")
    if answer == at_224 and size != 224:
        return report(False, "that is the count at 224x224; a larger image gives larger feature maps before "
                             "Flatten. Trace the shapes layer by layer.")
    if answer == n_in * n_out:
        return report(False, "you have the weights; add one bias per output.")
    if abs(answer - at_224 * (size / 224) ** 2) < 0.01 * at_224:
        return report(False, "the count does not grow with the image's area exactly: every layer rounds its "
                             "output size down. Trace the shapes with floor((n + 2p - k) / s) + 1.")
    return report(False, f"{answer:,} is not it. Trace the shape to Flatten (section 1's rules), then inputs x "
                         "outputs + biases.")
