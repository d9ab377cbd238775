"""The small figures that several notebooks draw, written once.

- :func:`show_values`  a small 2-D array (a few pixels, a kernel, a pooled map) as an image, with
                       every cell's value written on it (notebooks 01, 02, 05)
- :func:`mosaic`       a stack of small tiles (filters, feature maps, patches) laid out as one
                       2-D array in a grid, ready for ``imshow`` (notebook 11 and its explorer)

Each draws onto an ``ax`` the caller made, so the notebook keeps the figure's layout in view.
"""
from __future__ import annotations

import numpy as np

from ._arguments import as_real_array, positive_int

__all__ = ["show_values", "mosaic"]

#: colour maps centred on zero: positive and negative values of the same size get the same strength
DIVERGING = ("RdBu_r", "RdBu", "coolwarm", "bwr", "seismic")


def show_values(ax, values, title: str, cmap: str = "gray", vmin=None, vmax=None, fmt: str = "{:g}",
                fontsize: float = 11, ticks: bool = True):
    """Draw a small 2-D array (H, W) as an image, each cell's value written on it; return the image.

    ``vmin`` / ``vmax`` fix the ends of the colour scale (default: the array's smallest and largest
    value); a diverging ``cmap`` such as ``"RdBu_r"`` is centred on zero instead, so that white means 0.
    ``fmt`` formats each value, ``fontsize`` is the size of the numbers, ``ticks`` numbers the rows and
    columns. The numbers are white on dark cells and black on light ones. Pass the returned image to
    ``fig.colorbar`` for a colour bar.
    """
    values = as_real_array(values, "values").astype(float)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array (rows, cols), got shape {values.shape}. "
                         "For one channel of a stack, pass values[c].")
    if cmap in DIVERGING:
        lim = max(np.abs(values).max(), 1e-12)
        vmin, vmax = -lim, lim
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    for (r, c), v in np.ndenumerate(values):
        red, green, blue = im.cmap(im.norm(v))[:3]
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5     # luma: how bright the cell looks
        ax.text(c, r, fmt.format(v + 0), ha="center", va="center", fontsize=fontsize,   # + 0: no "-0"
                color="white" if dark else "black")
    ax.set_title(title)
    ax.set_xticks(range(values.shape[1]) if ticks else [])
    ax.set_yticks(range(values.shape[0]) if ticks else [])
    return im


def mosaic(tiles, cols: int = 8, gap: int = 1, fill=np.nan) -> np.ndarray:
    """Tiles (K, h, w) -> one 2-D array with the tiles in a grid of ``cols`` columns, ``gap`` pixels apart.

    The grid has ceil(K / cols) rows; the gaps and the unused places of the last row hold ``fill``
    (NaN: drawn as empty by ``imshow``). Tile i sits in row i // cols, column i % cols.
    """
    tiles = as_real_array(tiles, "tiles").astype(float)
    if tiles.ndim != 3:
        raise ValueError(f"tiles must be a stack (K, h, w) of 2-D tiles, got shape {tiles.shape}.")
    cols = positive_int(cols, "cols")
    if not isinstance(gap, (int, np.integer)) or isinstance(gap, bool) or gap < 0:
        raise ValueError(f"gap must be an int of 0 or more (pixels between tiles), got {gap!r}.")
    k, h, w = tiles.shape
    rows = -(-k // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = t
    return out
