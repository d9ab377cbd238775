"""Named kernels: the classic hand-made feature detectors of image processing.

Each function returns a new float64 array, so editing it in a notebook never changes the next call.
Kernels are written for cross-correlation (what :func:`helpers.conv2d` computes): the number at row m,
column n multiplies the pixel m rows below and n columns right of the window's top-left corner.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "identity", "box_blur", "gaussian", "sharpen", "edge_enhance", "laplacian", "edge_detect", "emboss",
    "sobel_x", "sobel_y", "PRESETS",
]


def identity(size: int = 3) -> np.ndarray:
    """A single 1 in the centre: the feature map is the image itself (minus the border, with "valid")."""
    _check_odd(size)
    k = np.zeros((size, size))
    k[size // 2, size // 2] = 1.0
    return k


def box_blur(size: int = 3) -> np.ndarray:
    """Equal weights summing to 1: every output pixel is the mean of its size x size neighbourhood."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}.")
    return np.full((size, size), 1.0 / (size * size))


def gaussian(size: int = 3, sigma: float | None = None) -> np.ndarray:
    """A blur that weights near pixels more than far ones: exp(-r^2 / 2 sigma^2), normalised to sum 1.

    ``sigma`` defaults to OpenCV's choice for the size: 0.3 * ((size - 1) * 0.5 - 1) + 0.8.
    """
    _check_odd(size)
    if sigma is None:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}.")
    r = np.arange(size) - size // 2
    g = np.exp(-(r**2) / (2 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


def sharpen() -> np.ndarray:
    """Centre counted five times, the four neighbours subtracted: edges get crisper, flat areas stay."""
    return np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def edge_enhance() -> np.ndarray:
    """The pixel minus its left neighbour, added to itself: vertical edges are brightened."""
    return np.array([[0.0, 0, 0], [-1, 2, 0], [0, 0, 0]])


def laplacian() -> np.ndarray:
    """Centre against its 8 neighbours; sums to 0, so flat areas go to 0 and edges of any direction light up."""
    return np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]])


edge_detect = laplacian


def emboss() -> np.ndarray:
    """Top-left against bottom-right: the image looks lit from one side and pressed into metal."""
    return np.array([[-2.0, -1, 0], [-1, 1, 1], [0, 1, 2]])


def sobel_x() -> np.ndarray:
    """Derivative along x (left to right), smoothed along y: responds to *vertical* edges.

    Positive where the image gets brighter to the right, negative where it gets darker.
    """
    return np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def sobel_y() -> np.ndarray:
    """Derivative along y (top to bottom), smoothed along x: responds to *horizontal* edges."""
    return sobel_x().T.copy()


def _check_odd(size: int) -> None:
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number so the kernel has a centre, got {size}.")


#: The kernels of the kernel playground, by name. Values are functions: call them for a fresh array.
PRESETS = {
    "identity": identity,
    "box blur": box_blur,
    "gaussian blur": gaussian,
    "sharpen": sharpen,
    "edge enhance": edge_enhance,
    "edge detect (Laplacian)": laplacian,
    "emboss": emboss,
    "Sobel x (vertical edges)": sobel_x,
    "Sobel y (horizontal edges)": sobel_y,
}
