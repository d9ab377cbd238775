"""The pictures of an explorer: small image panels that turn arrays into pixels directly.

An explorer's picture is a layout of panels, each its own small PNG or JPEG in an ``ipywidgets.Image``,
with its title and numbers as HTML text next to it. A redraw re-encodes only the panels whose picture
changed, and ipywidgets sends only the widgets whose value changed: what does not move is sent once.

- :class:`ImagePanel`  an array through a colour map (a lookup table, no matplotlib on redraw), a photo,
                       or a picture of cells with their values written on them (:class:`CellCanvas`);
                       optionally with a :class:`ColorBar` whose gradient is sent once.
- :class:`FigurePanel` a small matplotlib figure for plots (bars, curves): the static part (axes,
                       ticks) is drawn once and the moving parts are painted onto its pixels (or the
                       whole figure is drawn, for plots that change their axes, like training curves).

Encoding: PNG where exact pixels matter (cells, edges, masks), JPEG for photos and feature maps of
photos (a tenth of the bytes, no visible difference at quality 90).
"""
from __future__ import annotations

import functools
import html

import cv2
import ipywidgets as widgets
import numpy as np

__all__ = ["ImagePanel", "FigurePanel", "ColorBar", "CellCanvas", "colorize", "lut", "encode", "fit_side",
           "text_color_for", "font", "NAN_RGB"]

#: the colour of a cell with no value (NaN): a light gray, distinct from every colour map's ends
NAN_RGB = (235, 235, 235)
JPEG_QUALITY = 90
# zlib level 1 and one fixed PNG filter ("sub": each byte minus its left neighbour): for flat cells, text and
# plots the file is about as small as with libpng's adaptive filters and level 6, and 5x faster to write.
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):                      # OpenCV 4.10 and later
    _PNG_PARAMS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]


@functools.lru_cache(maxsize=32)
def lut(cmap: str) -> np.ndarray:
    """The colour map ``cmap`` as a (256, 3) uint8 lookup table (RGB)."""
    import matplotlib

    return np.round(matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


def colorize(values, cmap: str = "gray", vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """A 2-D array -> RGB pixels (H, W, 3) uint8 through the colour map, saturating outside [vmin, vmax].

    NaN (and other non-finite values) become :data:`NAN_RGB`. Limits default to the array's min and max.
    """
    with np.errstate(over="ignore", invalid="ignore"):      # beyond float32: drawn as "no value"
        v = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(v)
    if vmin is None or vmax is None:
        ok = v[finite]
        lo, hi = (float(ok.min()), float(ok.max())) if ok.size else (0.0, 1.0)
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    span = float(vmax) - float(vmin)
    scale = 255.0 / span if span > 0 else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        idx = np.clip((v - np.float32(vmin)) * np.float32(scale), 0, 255)
        idx = np.where(finite, idx, 0).astype(np.uint8)
    rgb = lut(cmap)[idx]
    if not finite.all():
        rgb[~finite] = NAN_RGB
    return rgb


def text_color_for(rgb) -> str:
    """'black' or 'white', whichever reads better on the colour ``rgb`` (0..255)."""
    r, g, b = (float(x) for x in rgb[:3])
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"


def fit_side(img: np.ndarray, max_side: int, nearest: bool = False) -> np.ndarray:
    """``img`` shrunk (area average, or nearest pixel for labels/angles) so its longer side is at most
    ``max_side``; unchanged if it already fits. Pixels beyond what the screen shows are not sent."""
    img = np.asarray(img)
    H, W = img.shape[:2]
    if max(H, W) <= max_side:
        return img
    scale = max_side / max(H, W)
    size = (max(1, round(W * scale)), max(1, round(H * scale)))
    src = img.astype(np.float32) if img.dtype == np.bool_ else img
    return cv2.resize(src, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def encode(rgb: np.ndarray, fmt: str = "png") -> bytes:
    """RGB (H, W, 3) or gray (H, W) uint8 pixels -> PNG or JPEG file bytes (OpenCV's encoder: fast)."""
    a = np.ascontiguousarray(rgb)
    if a.ndim == 3:
        a = a[..., ::-1]                                   # OpenCV writes BGR
    if fmt == "png":
        ok, buf = cv2.imencode(".png", a, _PNG_PARAMS)
    elif fmt in ("jpeg", "jpg"):
        ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    else:
        raise ValueError(f"fmt must be 'png' or 'jpeg', got {fmt!r}.")
    if not ok:
        raise ValueError(f"could not encode a picture of shape {a.shape} as {fmt}.")
    return buf.tobytes()


def _html_text(text: str, size: int = 13, bold: bool = False) -> str:
    weight = "font-weight:600;" if bold else ""
    return (f'<div style="font-size:{size}px;line-height:1.25;text-align:center;{weight}">'
            f"{html.escape(text).replace(chr(10), '<br>')}</div>")


class ColorBar:
    """A vertical colour bar: the gradient is an image sent once; the tick values are text, cheap to change.

    ``widget`` is the bar; ``set_limits(vmin, vmax)`` writes the three tick values (bottom, middle, top).
    """

    def __init__(self, cmap: str, vmin: float = 0.0, vmax: float = 1.0, label: str = "", height: int = 220,
                 fmt: str = "{:.3g}"):
        self.fmt = fmt
        gradient = np.repeat(lut(cmap)[::-1][:, None, :], 14, axis=1)           # top = vmax
        bar = cv2.resize(gradient, (14, height), interpolation=cv2.INTER_LINEAR)
        self.image = widgets.Image(value=encode(bar), format="png", width="14", height=str(height))
        self.ticks = [widgets.HTML() for _ in range(3)]
        ticks = widgets.VBox(self.ticks, layout=widgets.Layout(height=f"{height + 8}px",
                                                               justify_content="space-between",
                                                               margin="-4px 0 0 2px"))
        parts = [self.image, ticks]
        if label:
            parts.append(widgets.HTML(
                f'<div style="writing-mode:vertical-rl;font-size:11px;height:{height}px;text-align:center">'
                f"{html.escape(label)}</div>", layout=widgets.Layout(margin="0 0 0 2px")))
        self.widget = widgets.HBox(parts, layout=widgets.Layout(align_items="flex-start", margin="0 0 0 4px"))
        self.set_limits(vmin, vmax)

    def set_limits(self, vmin: float, vmax: float) -> None:
        for t, v in zip(self.ticks, (vmax, (vmin + vmax) / 2, vmin)):
            t.value = f'<span style="font-size:11px">{self.fmt.format(v + 0.0)}</span>'


class ImagePanel:
    """One picture with a title above it (HTML) and, optionally, a colour bar beside it.

    ``show(values, cmap, vmin, vmax)`` colour-maps an array; ``show_rgb(rgb)`` shows RGB pixels;
    ``show_canvas(canvas)`` shows a :class:`CellCanvas`. ``title`` (settable) is the text above it.
    ``fmt``: "png" (exact pixels) or "jpeg" (photos). ``max_side``: pixels are shrunk to fit this.
    ``colorbar``: a ColorBar, or a list of them side by side (e.g. one per colour map, all but one hidden
    by the explorer: ``bar.widget.layout.display = "none"``); ``colorbar`` is then the first.
    """

    def __init__(self, title: str = "", fmt: str = "png", max_side: int = 400,
                 colorbar: ColorBar | list[ColorBar] | None = None, width: int | None = None):
        self.fmt = fmt
        self.max_side = max_side
        self.image = widgets.Image(format="jpeg" if fmt in ("jpeg", "jpg") else "png")
        self.heading = widgets.HTML(_html_text(title))
        bars = list(colorbar) if isinstance(colorbar, (list, tuple)) else [colorbar] if colorbar else []
        self.colorbar = bars[0] if bars else None
        self._title = title
        self._key = object()
        picture = widgets.HBox([self.image, *(b.widget for b in bars)]) if bars else self.image
        self.widget = widgets.VBox([self.heading, picture],
                                   layout=widgets.Layout(align_items="center", margin="0 8px 6px 0"))
        if width:
            self.widget.layout.width = f"{width}px"

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, text: str) -> None:
        self._title = text
        self.heading.value = _html_text(text)

    @property
    def value(self) -> bytes:
        """The picture shown, as file bytes."""
        return bytes(self.image.value)

    def changed(self, *key) -> bool:
        """True (and remember ``key``) if ``key`` differs from the last call's: skip redrawing the same picture.

        ``if panel.changed(source, size): panel.show(...)``: what a picture depends on, as its key.
        """
        if key == self._key:
            return False
        self._key = key
        return True

    def show(self, values, cmap: str = "gray", vmin=None, vmax=None, nearest: bool = False, scale: int = 1):
        """Colour-map the 2-D array ``values`` (shrunk to ``max_side``, or enlarged ``scale`` times)."""
        small = fit_side(values, self.max_side, nearest=nearest)
        return self.show_rgb(colorize(small, cmap, vmin, vmax), scale=scale)

    def show_rgb(self, rgb, scale: int = 1):
        """Show RGB (H, W, 3) or gray (H, W) uint8 pixels, shrunk to ``max_side`` or enlarged ``scale`` times."""
        rgb = fit_side(rgb, self.max_side)
        if scale > 1:
            rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
        self._set(encode(rgb, self.fmt), rgb.shape[1], rgb.shape[0])
        return rgb

    def show_canvas(self, canvas: CellCanvas):
        rgb = canvas.pixels()
        self._set(encode(rgb, "png"), rgb.shape[1], rgb.shape[0])

    def _set(self, data: bytes, width: int, height: int) -> None:
        # width/height make the browser show the picture at its own pixel size (not stretched)
        self.image.width, self.image.height = str(width), str(height)
        self.image.value = data            # traitlets skip the message when the bytes are the same

    def hide(self, hidden: bool = True) -> None:
        self.widget.layout.display = "none" if hidden else None


@functools.lru_cache(maxsize=8)
def _font(size: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


class CellCanvas:
    """Cells of a small grid (one colour each), enlarged to ``cell`` pixels, with values written on them.

    ``colors``: (h, w, 3) uint8, e.g. from :func:`colorize`. Coordinates of the methods below are in
    cells (row, column); fractions are allowed. Optional row and column labels go in a margin.
    """

    def __init__(self, colors, cell: int = 32, grid: str | None = "#888888", row_labels=None, col_labels=None,
                 label_size: int = 10):
        from PIL import Image, ImageDraw

        colors = np.asarray(colors, dtype=np.uint8)
        self.h, self.w = colors.shape[:2]
        self.cell = cell
        self.left = 28 if row_labels is not None else 0
        self.top = 16 if col_labels is not None else 0
        big = np.repeat(np.repeat(colors, cell, axis=0), cell, axis=1)
        canvas = np.full((big.shape[0] + self.top + 1, big.shape[1] + self.left + 1, 3), 255, np.uint8)
        canvas[self.top: self.top + big.shape[0], self.left: self.left + big.shape[1]] = big
        self.img = Image.fromarray(canvas)
        self.draw = ImageDraw.Draw(self.img, "RGBA")
        if grid and cell >= 4:
            for r in range(self.h + 1):
                y = self.top + r * cell
                self.draw.line([(self.left, y), (self.left + self.w * cell, y)], fill=grid, width=1)
            for c in range(self.w + 1):
                x = self.left + c * cell
                self.draw.line([(x, self.top), (x, self.top + self.h * cell)], fill=grid, width=1)
        f = _font(label_size)
        for r, lab in enumerate(row_labels if row_labels is not None else ()):
            self.draw.text((self.left - 3, self.top + (r + 0.5) * cell), str(lab), fill="#444444", font=f, anchor="rm")
        for c, lab in enumerate(col_labels if col_labels is not None else ()):
            self.draw.text((self.left + (c + 0.5) * cell, self.top - 2), str(lab), fill="#444444", font=f, anchor="mb")

    def _xy(self, r, c):
        return self.left + c * self.cell, self.top + r * self.cell

    def values(self, values, colors, fmt="{:.0f}", size: int | None = None) -> CellCanvas:
        """Write each value of the 2-D array on its cell (NaN cells stay empty), black or white by background."""
        values = np.asarray(values)
        f = _font(size or max(7, min(14, int(self.cell * 0.38))))
        for (r, c), v in np.ndenumerate(values):
            if isinstance(v, (float, np.floating)) and not np.isfinite(v):
                continue
            x, y = self._xy(r + 0.5, c + 0.5)
            self.draw.text((x, y), fmt.format(v + 0), fill=text_color_for(colors[r, c]), font=f, anchor="mm")
        return self

    def text(self, r, c, s: str, color="black", size: int = 11) -> CellCanvas:
        x, y = self._xy(r + 0.5, c + 0.5)
        self.draw.text((x, y), s, fill=color, font=_font(size), anchor="mm")
        return self

    def box(self, r, c, h=1, w=1, color="gold", width: int = 3) -> CellCanvas:
        """The outline of the h x w cells starting at (r, c)."""
        x0, y0 = self._xy(r, c)
        x1, y1 = self._xy(r + h, c + w)
        self.draw.rectangle([x0, y0, x1, y1], outline=color, width=width)
        return self

    def shade(self, r, c, h=1, w=1, color=(31, 119, 180), alpha: float = 0.45) -> CellCanvas:
        x0, y0 = self._xy(r, c)
        x1, y1 = self._xy(r + h, c + w)
        self.draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=(*color[:3], int(alpha * 255)))
        return self

    def dot(self, r, c, radius: float = 3, color=(31, 119, 180), alpha: float = 0.5) -> CellCanvas:
        """A dot centred at (r, c) (cell units: (0.5, 0.5) is the centre of the first cell)."""
        x, y = self._xy(r, c)
        self.draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(*color[:3], int(alpha * 255)))
        return self

    def copy(self) -> CellCanvas:
        """An independent copy: draw the static cells and values once, then a moving frame on each copy."""
        from PIL import ImageDraw

        new = object.__new__(CellCanvas)
        new.__dict__.update(self.__dict__)
        new.img = self.img.copy()
        new.draw = ImageDraw.Draw(new.img, "RGBA")
        return new

    def pixels(self) -> np.ndarray:
        return np.asarray(self.img)


class FigurePanel:
    """A small matplotlib figure shown as a PNG, for plots (bars, curves) rather than arrays.

    Two ways to redraw:

    - ``show()`` alone draws the whole figure: simple, for plots whose axes change (training curves).
    - drawn once, painted over: build the static part (axes, ticks, fixed curves) and call ``freeze()``
      once; then on every redraw ``d = paint()`` gives a PIL ImageDraw on a fresh copy of that background,
      ``pixel(ax, x, y)`` turns data coordinates into its pixels, and ``show()`` sends the result.
      Rectangles, dots and numbers cost microseconds each this way; matplotlib draws nothing.
    """

    def __init__(self, title: str = "", figsize=(3.2, 2.6), dpi: int = 100):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.panel = ImagePanel(title, fmt="png", max_side=10_000)
        self.widget = self.panel.widget
        self.image = self.panel.image           # the ipywidgets.Image alone (no title above it)
        self._background = None
        self._painted = None

    @property
    def title(self) -> str:
        return self.panel.title

    @title.setter
    def title(self, text: str) -> None:
        self.panel.title = text

    @property
    def value(self) -> bytes:
        return self.panel.value

    def freeze(self) -> None:
        """Draw the static part once and keep its pixels as the background of every later redraw."""
        self.canvas.draw()
        self.figure.set_layout_engine("none")              # positions found once: pixel() stays valid
        self._background = np.array(self.canvas.buffer_rgba())[..., :3]

    def pixel(self, ax, x: float, y: float) -> tuple[float, float]:
        """The pixel (column, row) of the data point (x, y) of ``ax`` in the frozen picture."""
        px, py = ax.transData.transform((x, y))
        return float(px), float(self._background.shape[0] - py)

    def paint(self, clip=None):
        """A PIL ImageDraw (RGBA colours allowed) on a fresh copy of the frozen background.

        ``clip``: an Axes; what is painted outside it (a path that leaves the plot) is not shown.
        """
        from PIL import Image, ImageDraw

        if self._background is None:
            raise RuntimeError("call freeze() once before paint().")
        self._painted = Image.fromarray(self._background)
        self._clip = None
        if clip is not None:
            x0, y0, x1, y1 = clip.bbox.extents
            H = self._background.shape[0]
            self._clip = (int(np.floor(H - y1)), int(np.ceil(H - y0)) + 1, int(np.floor(x0)), int(np.ceil(x1)) + 1)
        return ImageDraw.Draw(self._painted, "RGBA")

    def show(self) -> None:
        """Send the painted picture (after freeze and paint), or draw and send the whole figure."""
        if self._background is None:
            self.canvas.draw()
            rgb = np.asarray(self.canvas.buffer_rgba())[..., :3]
        else:
            rgb = np.asarray(self._painted if self._painted is not None else self._background)
            if self._painted is not None and getattr(self, "_clip", None):
                r0, r1, c0, c1 = self._clip
                out = self._background.copy()
                out[r0:r1, c0:c1] = rgb[r0:r1, c0:c1]
                rgb = out
        self.panel._set(encode(rgb, "png"), rgb.shape[1], rgb.shape[0])


def font(size: int):
    """The course's font (matplotlib's DejaVu Sans) at ``size`` pixels, for PIL drawing."""
    return _font(size)
