"""One look for every figure of the course: the same resolution and font sizes in every notebook.

Each notebook calls ``use_course_style()`` once, after importing pyplot (Jupyter's inline backend sets
its own defaults when pyplot is first imported, and the last setting wins).
"""
from __future__ import annotations

import matplotlib as mpl

#: dots per inch of every figure: a 10-inch-wide figure is 1,000 pixels, sharp in JupyterLab and Colab.
DPI = 100
#: the base font size in points; titles and labels use it, ticks and legends one point less.
FONT_SIZE = 11


def use_course_style() -> None:
    """Set the course's figure resolution and font sizes for every figure drawn afterwards."""
    mpl.rcParams.update({
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "font.size": FONT_SIZE,
        "axes.titlesize": FONT_SIZE,
        "axes.labelsize": FONT_SIZE,
        "figure.titlesize": FONT_SIZE + 1,
        "xtick.labelsize": FONT_SIZE - 1,
        "ytick.labelsize": FONT_SIZE - 1,
        "legend.fontsize": FONT_SIZE - 1,
    })
