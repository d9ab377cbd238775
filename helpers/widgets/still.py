"""A still picture of an explorer: its controls, texts and pictures drawn into one image, once.

Where widgets cannot run, an explorer's output would be empty: GitHub and other static viewers render no
widgets, an HTML export read offline cannot load the widget library, a page may run no JavaScript at all.
So an explorer shows, next to its widget, a still: the widget's layout drawn as an ordinary PNG, with a
line saying that a running notebook makes it move. ``render(widget)`` draws it; :class:`Explorer`
(``_base.py``) displays it after the widget.

Front ends that do render the widget should not show the picture twice. The still carries an id of its
own in a PNG text chunk near the start of the file, so the start of its base64 text is unique; the widget
holds a one-line style rule hiding images whose source starts that way. The rule takes effect only where
the widget itself is drawn (JupyterLab, Colab, nbviewer with its scripts): everywhere else the still shows.

The drawing is a small layout engine for the widgets explorers use: boxes (rows that wrap at the output
width, columns, grids), images at their shown size, HTML and labels as text, and sliders, drop-downs,
check boxes, toggle buttons and number fields drawn as what they show (a track with its handle, the
chosen option...). It runs once per display, never on a slider move.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
import struct
import zlib

import cv2
import ipywidgets as widgets
import numpy as np
from PIL import Image, ImageDraw

from .panels import font

__all__ = ["render", "still_file", "still_id", "mime_of", "hiding_rule", "STILL_NOTE", "WIDTH"]

#: the width of JupyterLab's output area beside an open file browser, on a 1280-pixel screen
WIDTH = 840
#: the line that says why the picture does not move
STILL_NOTE = "A still picture of this explorer: run the notebook to move its controls."

_INK, _MUTED, _LINE, _FILL = (33, 33, 33), (110, 110, 110), (160, 160, 160), (235, 235, 235)
_ACCENT = (33, 150, 243)
_GAP = 8                        # pixels between widgets side by side
_ROW = 30                       # height of a control


# -- text ------------------------------------------------------------------------------------------------
def _text_of(markup: str) -> str:
    """The visible text of an HTML fragment: tags dropped, <br> and block ends as new lines."""
    markup = re.sub(r"<style.*?</style>", "", markup, flags=re.S | re.I)
    markup = re.sub(r"<br\s*/?>|</(div|p|li|tr)>", "\n", markup, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _wrap(text: str, size: int, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels (at word boundaries)."""
    f = font(size)
    out = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}".strip()
            if line and f.getlength(trial) > width:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    return out


def _text_image(text: str, size: int = 13, width: int = WIDTH, color=_INK, center: bool = False) -> Image.Image:
    lines = _wrap(text, size, width)
    f = font(size)
    step = round(size * 1.3)
    w = max(1, int(max(f.getlength(line) for line in lines)) + 2)
    img = Image.new("RGB", (w, step * len(lines) + 2), "white")
    d = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        x = (w - f.getlength(line)) / 2 if center else 0
        d.text((x, i * step), line, fill=color, font=f)
    return img


def _html_image(w, width: int) -> Image.Image | None:
    markup = str(w.value)
    text = _text_of(markup)
    if isinstance(w, widgets.Label):                   # plain text, not markup
        text = " ".join(markup.split())
    if not text:
        return None
    size = int(m.group(1)) if (m := re.search(r"font-size:\s*(\d+)px", markup)) else 13
    if (m := re.search(r"max-width:\s*(\d+)px", markup)) or (m := re.fullmatch(r"(\d+)px", w.layout.width or "")):
        width = min(width, int(m.group(1)))
    color = (176, 0, 32) if "#b00020" in markup else _INK
    if "writing-mode:vertical" in markup.replace(" ", ""):          # a colour bar's label, read downwards
        return _text_image(text, size, 10_000, color, center=True).rotate(-90, expand=True, fillcolor="white")
    return _text_image(text, size, width, color, center="text-align:center" in markup.replace(" ", ""))


# -- controls --------------------------------------------------------------------------------------------
def _value_text(w) -> str:
    if isinstance(w, (widgets.Dropdown, widgets.ToggleButtons, widgets.SelectionSlider, widgets.RadioButtons)):
        return str(w.label)
    fmt = getattr(w, "readout_format", None)
    try:
        return format(w.value, fmt) if fmt else f"{w.value:g}"
    except (TypeError, ValueError):
        return str(w.value)


def _slider_fraction(w) -> float:
    if isinstance(w, widgets.SelectionSlider):
        n = len(w.options)
        return w.index / (n - 1) if n > 1 else 0.0
    lo, hi, v = float(w.min), float(w.max), float(w.value)
    if isinstance(w, widgets.FloatLogSlider):
        v = np.log(v) / np.log(w.base) if v > 0 else lo
    return float(np.clip((v - lo) / (hi - lo), 0, 1)) if hi > lo else 0.0


def _width_of(w, default: int) -> int:
    m = re.fullmatch(r"(\d+)px", str(getattr(w.layout, "width", "") or ""))
    return int(m.group(1)) if m else default


def _control_image(w) -> Image.Image | None:
    """A control drawn as it shows: description, then its track, box or buttons."""
    f = font(13)
    desc = str(getattr(w, "description", "") or "")
    is_slider = isinstance(w, (widgets.IntSlider, widgets.FloatSlider, widgets.FloatLogSlider,
                               widgets.SelectionSlider))
    total = _width_of(w, 300 if not isinstance(w, (widgets.FloatText, widgets.IntText)) else 70)
    label_w = int(f.getlength(desc)) + 8 if desc else 0
    img = Image.new("RGB", (max(total, label_w + 60), _ROW), "white")
    d = ImageDraw.Draw(img)
    mid = _ROW // 2
    if desc and not isinstance(w, widgets.Checkbox):
        d.text((0, mid), desc, fill=_INK, font=f, anchor="lm")
    x0 = label_w
    if is_slider:
        value = _value_text(w)
        readout = int(f.getlength(value)) + 8
        x1 = max(x0 + 40, img.width - readout - 6)
        d.line([(x0 + 6, mid), (x1, mid)], fill=_LINE, width=4)
        hx = x0 + 6 + _slider_fraction(w) * (x1 - x0 - 6)
        d.ellipse([hx - 7, mid - 7, hx + 7, mid + 7], fill="white", outline=_MUTED, width=2)
        d.text((x1 + 8, mid), value, fill=_INK, font=f, anchor="lm")
    elif isinstance(w, widgets.Checkbox):
        d.rectangle([2, mid - 7, 16, mid + 7], outline=_MUTED, width=1, fill=_ACCENT if w.value else "white")
        if w.value:
            d.line([(5, mid), (8, mid + 4), (14, mid - 4)], fill="white", width=2)
        d.text((24, mid), desc, fill=_INK, font=f, anchor="lm")
        img = img.crop((0, 0, min(img.width, 30 + int(f.getlength(desc))), _ROW))
    elif isinstance(w, widgets.ToggleButtons):
        x = x0
        parts = []
        for label in w._options_labels:
            bw = int(f.getlength(label)) + 20
            parts.append((x, bw, label))
            x += bw + 2
        img = Image.new("RGB", (x, _ROW), "white")
        d = ImageDraw.Draw(img)
        if desc:
            d.text((0, mid), desc, fill=_INK, font=f, anchor="lm")
        for bx, bw, label in parts:
            chosen = label == w.label
            d.rectangle([bx, 3, bx + bw, _ROW - 4], fill=(200, 200, 200) if chosen else _FILL)
            d.text((bx + bw / 2, mid), label, fill=_INK, font=f, anchor="mm")
    elif isinstance(w, (widgets.Dropdown, widgets.FloatText, widgets.IntText, widgets.BoundedFloatText,
                        widgets.BoundedIntText, widgets.Text)):
        d.rectangle([x0, 3, img.width - 1, _ROW - 4], outline=_LINE, width=1)
        d.text((x0 + 6, mid), _value_text(w) if not isinstance(w, widgets.Text) else str(w.value),
               fill=_INK, font=f, anchor="lm")
        if isinstance(w, widgets.Dropdown):
            ax = img.width - 14
            d.polygon([(ax - 4, mid - 2), (ax + 4, mid - 2), (ax, mid + 3)], fill=_INK)
    elif isinstance(w, (widgets.Button, widgets.FileUpload)):
        text = desc or "upload"
        img = Image.new("RGB", (int(f.getlength(text)) + 24, _ROW), "white")
        d = ImageDraw.Draw(img)
        d.rectangle([0, 3, img.width - 1, _ROW - 4], fill=_FILL)
        d.text((img.width / 2, mid), text, fill=_INK, font=f, anchor="mm")
    else:
        return None
    return img


# -- layout ----------------------------------------------------------------------------------------------
def _image_of(w) -> Image.Image | None:
    data = bytes(w.value)
    if not data:
        return None
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        return None
    img = Image.fromarray(np.ascontiguousarray(pixels[..., ::-1]))
    size = [img.width, img.height]
    for i, attr in enumerate(("width", "height")):
        if str(getattr(w, attr, "")).isdigit():
            size[i] = int(getattr(w, attr))
    return img if tuple(size) == img.size else img.resize(tuple(size), Image.NEAREST)


def _stack(parts, center: bool, gap: int = 2) -> Image.Image | None:
    if not parts:
        return None
    w = max(p.width for p in parts)
    out = Image.new("RGB", (w, sum(p.height for p in parts) + gap * (len(parts) - 1)), "white")
    y = 0
    for p in parts:
        out.paste(p, ((w - p.width) // 2 if center else 0, y))
        y += p.height + gap
    return out


def _spread(parts, height: int) -> Image.Image:
    """A column of ``height`` pixels, the first part at the top, the last at the bottom, the rest spaced evenly."""
    out = Image.new("RGB", (max(p.width for p in parts), max(height, sum(p.height for p in parts))), "white")
    room = (out.height - sum(p.height for p in parts)) / (len(parts) - 1)
    y = 0.0
    for p in parts:
        out.paste(p, (0, round(y)))
        y += p.height + room
    return out


def _flow(parts, width: int, gap: int = _GAP) -> Image.Image | None:
    """Side by side, a new line when the next one would pass ``width`` (a row that wraps)."""
    lines, line, x = [], [], 0
    for p in parts:
        if line and x + p.width > width:
            lines.append(line)
            line, x = [], 0
        line.append(p)
        x += p.width + gap
    if line:
        lines.append(line)
    rows = []
    for line in lines:
        w = sum(p.width for p in line) + gap * (len(line) - 1)
        row = Image.new("RGB", (w, max(p.height for p in line)), "white")
        x = 0
        for p in line:
            row.paste(p, (x, 0))
            x += p.width + gap
        rows.append(row)
    return _stack(rows, center=False, gap=4)


def _grid(w, parts) -> Image.Image | None:
    m = re.search(r"repeat\((\d+)", str(w.layout.grid_template_columns or ""))
    cols = int(m.group(1)) if m else max(1, len(parts))
    rows = [_flow(parts[i: i + cols], 10_000, gap=2) for i in range(0, len(parts), cols)]
    return _stack([r for r in rows if r is not None], center=False)


def _draw(w, width: int, skip=()) -> Image.Image | None:
    if getattr(w.layout, "display", None) == "none" or any(w is s for s in skip):
        return None
    if isinstance(w, widgets.Image):
        return _image_of(w)
    if isinstance(w, (widgets.HTML, widgets.HTMLMath, widgets.Label)):
        return _html_image(w, width)
    if isinstance(w, widgets.Box):
        parts = [p for p in (_draw(c, width, skip) for c in w.children) if p is not None]
        if isinstance(w, widgets.GridBox):
            return _grid(w, parts)
        if isinstance(w, widgets.HBox):
            return _flow(parts, width)
        height = re.fullmatch(r"(\d+)px", str(w.layout.height or ""))
        if w.layout.justify_content == "space-between" and height and len(parts) > 1:   # a colour bar's ticks
            return _spread(parts, int(height.group(1)))
        return _stack(parts, center=w.layout.align_items == "center")
    return _control_image(w)


def render(widget, width: int = WIDTH, note: str = STILL_NOTE, skip=()) -> np.ndarray:
    """The widget drawn as one picture (H, W, 3) uint8, at most about ``width`` pixels wide, ``note`` on top.

    ``skip``: widgets left out of the picture (with what they contain).
    """
    body = _draw(widget, width - 2 * _GAP, skip)
    head = _text_image(note, 12, width - 2 * _GAP, color=_MUTED)
    parts = [head] + ([body] if body is not None else [])
    inner = _stack(parts, center=False, gap=6)
    out = Image.new("RGB", (inner.width + 2 * _GAP, inner.height + 2 * _GAP), "white")
    out.paste(inner, (_GAP, _GAP))
    ImageDraw.Draw(out).rectangle([0, 0, out.width - 1, out.height - 1], outline=(200, 200, 200))
    return np.asarray(out)


# -- the file ----------------------------------------------------------------------------------------------
_TAG = b"explorer-still\0"
_ID_LEN = 16


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def still_file(rgb: np.ndarray, fmt: str = "png") -> bytes:
    """The picture as a PNG or JPEG file that carries an id of its own near its start.

    PNG: a text chunk right after the header; JPEG: a comment segment right after the start marker. The
    id is a hash of the encoded picture, so the same picture gives the same file (a notebook run twice
    stores the same bytes) and two different pictures different ids. JPEG is for stills with photos in
    them: a tenth of a PNG's bytes.
    """
    bgr = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[..., ::-1])
    if fmt == "png":
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    elif fmt == "jpeg":
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 88])
    else:
        raise ValueError(f"fmt must be 'png' or 'jpeg', got {fmt!r}.")
    if not ok:
        raise ValueError(f"could not encode a picture of shape {rgb.shape} as {fmt}.")
    data = buf.tobytes()
    ident = hashlib.sha1(data).hexdigest()[:_ID_LEN].encode()
    if fmt == "png":
        head = 8 + 25                                        # the signature and the IHDR chunk
        return data[:head] + _png_chunk(b"tEXt", _TAG + ident) + data[head:]
    segment = _TAG + ident
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(segment) + 2) + segment + data[2:]


def mime_of(data: bytes) -> str:
    """'image/png' or 'image/jpeg', from the file's first bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    raise ValueError("not a PNG or JPEG file.")


def still_id(data: bytes) -> str | None:
    """The id :func:`still_file` put in the file, or None for any other picture."""
    at = data.find(_TAG, 0, 80)
    return data[at + len(_TAG): at + len(_TAG) + _ID_LEN].decode() if at >= 0 else None


def hiding_rule(data: bytes) -> str:
    """A CSS rule hiding the image whose data URI starts as this file does (up to and with its id)."""
    end = data.index(_TAG) + len(_TAG) + _ID_LEN
    prefix = base64.b64encode(data[: end - end % 3]).decode()        # whole 3-byte groups: a fixed prefix
    return f'img[src^="data:{mime_of(data)};base64,{prefix}"]{{display:none !important}}'
