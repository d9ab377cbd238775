"""Self-checks for the exercises of notebook 03 (Sobel filters)."""
from __future__ import annotations

import numpy as np

from . import compare_array, report

__all__ = ["check_sobel_y", "check_magnitude", "check_direction", "check_filter_bank"]


def check_sobel_y(answer) -> bool:
    """``answer``: the 3x3 Sobel kernel for horizontal edges, positive where the image gets brighter downwards."""
    if answer is None:
        return report(False, "replace None with a 3x3 array.")
    expected = np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]])
    ok, why = compare_array(answer, expected, "your kernel")
    if ok:
        return report(True, "the bottom row minus the top row, with the middle column counted twice.")
    a = np.asarray(answer, dtype=float)
    if a.shape == (3, 3):
        if np.allclose(a, expected.T):
            return report(False, "that is Sobel x (it finds vertical edges). Transpose it.")
        if np.allclose(a, -expected):
            return report(False, "the sign is reversed: put the -1 -2 -1 row on top, so that a brighter bottom "
                                 "gives a positive response.")
        if np.allclose(a, np.array([[-1.0, -1, -1], [0, 0, 0], [1, 1, 1]])):
            return report(False, "that is the Prewitt kernel. Sobel counts the middle column twice: -1 -2 -1.")
    return report(False, why)


def check_magnitude(answer, gx, gy) -> bool:
    """``answer`` should be sqrt(gx**2 + gy**2)."""
    if answer is None:
        return report(False, "replace None with your gradient magnitude.")
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    expected = np.sqrt(gx**2 + gy**2)
    a = np.asarray(answer, dtype=float)
    if a.shape == expected.shape and not np.allclose(a, expected):
        if np.allclose(a, gx**2 + gy**2):
            return report(False, "you forgot the square root.")
        if np.allclose(a, np.abs(gx) + np.abs(gy)):
            return report(False, "|Gx| + |Gy| is a cheap approximation (too big on diagonals). Use "
                                 "np.sqrt(gx**2 + gy**2) or np.hypot(gx, gy).")
        if np.allclose(a, gx + gy):
            return report(False, "Gx + Gy can cancel out (a positive and a negative edge). Square them first.")
    ok, why = compare_array(a, expected, "your magnitude", atol=1e-3)
    return report(ok, "the length of the gradient vector (Gx, Gy) at every pixel." if ok else why)


def check_direction(answer, gx, gy) -> bool:
    """``answer`` should be np.arctan2(gy, gx) in radians (-pi..pi)."""
    if answer is None:
        return report(False, "replace None with your gradient direction.")
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    expected = np.arctan2(gy, gx)
    a = np.asarray(answer, dtype=float)
    if a.shape == expected.shape and not np.allclose(a, expected):
        if np.allclose(a, np.degrees(expected)):
            return report(False, "those are degrees. The exercise asks for radians: drop np.degrees.")
        if np.allclose(a, np.arctan2(gx, gy)):
            return report(False, "the arguments are swapped: np.arctan2 takes y first, then x.")
        with np.errstate(divide="ignore", invalid="ignore"):
            naive = np.arctan(gy / gx)
        if np.allclose(a, naive, equal_nan=True) or np.isnan(a).any():
            return report(False, "np.arctan(gy / gx) cannot tell left from right (and divides by zero). Use "
                                 "np.arctan2(gy, gx), which looks at both signs.")
    ok, why = compare_array(a, expected, "your direction", atol=1e-6)
    return report(ok, "angles from -pi to pi, pointing from dark to bright." if ok else why)


def check_filter_bank(answer, f) -> bool:
    """``answer``: the four filters F, -F, F.T, -F.T stacked in that order, shape (4, kh, kw) or (4, 1, kh, kw)."""
    if answer is None:
        return report(False, "replace None with np.stack([...]) of the four filters.")
    f = np.asarray(f, dtype=float)
    expected = np.stack([f, -f, f.T, -f.T])
    a = np.asarray(answer, dtype=float)
    if a.shape == (4, 1) + f.shape:
        a = a[:, 0]
    if a.shape != expected.shape:
        return report(False, f"stack the four filters along a new first axis: shape {expected.shape} "
                             f"(or {(4, 1) + f.shape} with the channel axis); got {a.shape}.")
    for i, name in enumerate(["F", "-F", "F.T", "-F.T"]):
        if not np.allclose(a[i], expected[i]):
            for j, other in enumerate(["F", "-F", "F.T", "-F.T"]):
                if np.allclose(a[i], expected[j]):
                    return report(False, f"filter {i} is {other}; the order asked for is F, -F, F.T, -F.T.")
            return report(False, f"filter {i} should be {name}.")
    return report(True, "four edge detectors: dark-to-bright and bright-to-dark, across and down.")
