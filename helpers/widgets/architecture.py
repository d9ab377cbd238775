"""An architecture explorer: pick a network or a block and its settings, see what each layer costs (notebooks 08, 10).

:class:`ArchitectureExplorer` builds the real layers (``helpers.nn``) for the chosen settings and asks them
for their numbers: ``Sequential.shapes`` (output shape and parameters of each layer),
``helpers.models.multiply_adds`` (multiply-adds per image) and ``helpers.interpret.receptive_field`` (how
many input pixels one output position sees). Nothing is counted by a separate formula here: change a layer
and the numbers follow.

Two kinds of network:

- ``"alexnet"``: the layers of ``helpers.models.alexnet``. Controls: the input size, the first
  convolution's kernel and number of filters, the width of the two hidden dense layers. Layers whose
  settings did not change are the model's own objects; changed ones are built anew.
- ``"block"``: one of :data:`BLOCKS` (a plain stack, a bottleneck, a residual block, a depthwise-separable
  block, a multi-branch block), repeated 1-4 times.
  Controls: the block, its input and output channels, kernel size, stride, the input size, repeats.

The picture is one table, a row per layer: output shape, parameters, multiply-adds, receptive field, and two
bars: the layer's share of all parameters and of all multiply-adds. Laid out for an output area of about
840 x 700 pixels.

Adding a block is one entry of :data:`BLOCKS`: a function ``build(c_in, c_out, k, stride, rng)`` -> a
list of layers. Its layers need ``output_shape``, ``n_params``, a count in ``multiply_adds`` and a rule in
``receptive_field``. A layer made of parallel paths (the residual block, the multi-branch block) is
returned as ``with_paths(layer, name=[its layers], ...)``: the table then shows each path's layers as rows
of their own (folded into their block's row for the blocks after the first when the table would not fit).
"""
from __future__ import annotations

import functools
import html
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from PIL import Image, ImageDraw

from ..interpret import receptive_field
from ..models import alexnet, multiply_adds
from ..nn import Branches, Conv2D, Dense, DepthwiseSeparable, Layer, MaxPool2D, ReLU, Residual, Sequential
from ._base import Explorer
from .panels import ImagePanel, font

__all__ = ["ArchitectureExplorer", "Block", "BLOCKS", "layer_rows", "with_paths", "NETWORKS"]

NETWORKS = ("alexnet", "block")


# -- the blocks: one entry each ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """A kind of block: ``build(c_in, c_out, k, stride, rng)`` -> its layers (input (N, c_in, H, W) ->
    output (N, c_out, H', W'), H' = ceil(H / stride) for odd k); ``about`` says what it is, in one line."""

    build: Callable[..., list]
    about: str


def _conv(c_in, c_out, k, stride, rng):
    """A k x k convolution whose padding k // 2 keeps the size at stride 1 (odd k)."""
    return Conv2D(c_in, c_out, k, stride=stride, padding=k // 2, rng=rng)


def _plain(c_in, c_out, k, stride, rng):
    return [_conv(c_in, c_out, k, stride, rng), ReLU(), _conv(c_out, c_out, k, 1, rng), ReLU()]


def _bottleneck(c_in, c_out, k, stride, rng):
    mid = max(1, c_out // 4)                  # the narrow middle: a quarter of the output channels
    return [Conv2D(c_in, mid, 1, rng=rng), ReLU(), _conv(mid, mid, k, stride, rng), ReLU(),
            Conv2D(mid, c_out, 1, rng=rng), ReLU()]


def _residual(c_in, c_out, k, stride, rng):
    body = [_conv(c_in, c_out, k, stride, rng), ReLU(), _conv(c_out, c_out, k, 1, rng)]
    shortcut = [] if c_in == c_out and stride == 1 else [Conv2D(c_in, c_out, 1, stride=stride, rng=rng)]
    return [with_paths(Residual(body, shortcut=shortcut or None), body=body, shortcut=shortcut)]


def _separable(c_in, c_out, k, stride, rng):
    block = DepthwiseSeparable(c_in, c_out, k, stride=stride, padding=k // 2, rng=rng)
    return [*block.layers, ReLU()]            # its own layers: depthwise k x k, ReLU, pointwise 1x1; then ReLU


def _multi_branch(c_in, c_out, k, stride, rng):
    """Inception's four branches, each a quarter of c_out: 1x1; 1x1 -> k x k; 1x1 -> (k+2) x (k+2) (3x3 and
    5x5 for k = 3); 3x3 max pool -> 1x1. The 1x1 before a larger kernel narrows to half its branch's width.
    One ReLU after the concatenation: the same as a ReLU at the end of every branch."""
    quarter = max(1, c_out // 4)
    widths = [c_out - 3 * quarter, quarter, quarter, quarter]
    narrow = max(1, quarter // 2)
    paths = {
        "1x1": [Conv2D(c_in, widths[0], 1, stride=stride, rng=rng)],
        f"{k}x{k}": [Conv2D(c_in, narrow, 1, rng=rng), ReLU(), _conv(narrow, widths[1], k, stride, rng)],
        f"{k + 2}x{k + 2}": [Conv2D(c_in, narrow, 1, rng=rng), ReLU(), _conv(narrow, widths[2], k + 2, stride, rng)],
        "pool": [MaxPool2D(3, stride=1, padding=1), Conv2D(c_in, widths[3], 1, stride=stride, rng=rng)],
    }
    return [with_paths(Branches(list(paths.values())), **paths), ReLU()]


#: name -> Block. The explorer's block menu, in this order.
BLOCKS = {
    "plain stack": Block(_plain, "two k x k convolutions, each followed by a ReLU (VGG's stack of 3x3)"),
    "bottleneck": Block(_bottleneck, "1x1 down to a quarter of the channels, k x k, 1x1 back up (ResNet-50's)"),
    "residual": Block(_residual, "two k x k convolutions plus a shortcut: identity, or a 1x1 projection "
                                 "when channels or size change"),
    "depthwise-separable": Block(_separable, "a k x k depthwise convolution (each channel on its own), ReLU, "
                                             "then a 1x1 pointwise one that mixes the channels (MobileNet's)"),
    "multi-branch": Block(_multi_branch, "parallel 1x1, k x k, (k+2) x (k+2) and pooling branches, their "
                                         "feature maps concatenated (Inception's)"),
}


#: the paths inside a block made of paths (a Residual; later a multi-branch block), kept for the table's
#: sub-rows: layer -> {path name: its layers}. Filled by the builders through with_paths.
_PATHS = weakref.WeakKeyDictionary()


def with_paths(layer: Layer, **paths) -> Layer:
    """``layer``, remembering the layers of each of its paths (``body=[...], shortcut=[...]``; an empty
    list is the identity) so that the table shows them as rows of their own. Returns ``layer``."""
    _PATHS[layer] = {name: list(path) for name, path in paths.items()}
    return layer


# -- the numbers, from the layers --------------------------------------------------------------------------
def layer_rows(model: Sequential, input_shape) -> list[dict]:
    """One dict per layer of ``model`` on one image of ``input_shape`` (C, H, W): ``label``, ``shape`` (the
    output, without the batch axis), ``params``, ``macs`` (multiply-adds per image) and ``field`` (the
    receptive field's side in input pixels, or None once a layer sees the whole image).

    Asked from the layers: ``model.shapes``, ``multiply_adds(model, ...)``, ``receptive_field(model, i)``.
    A block built with :func:`with_paths` also has ``paths``: rows for each of its paths' layers, labelled
    "path: layer", asked the same way from a Sequential of that path (its fields: of the network up to there).
    """
    shape = (1, *tuple(input_shape)[-3:])
    rows, whole = [], False
    for i, ((label, out, params), (_, macs)) in enumerate(zip(model.shapes(shape), multiply_adds(model, shape))):
        whole = whole or len(out) != 4                    # from Flatten on, an output sees the whole image
        rows.append({"label": label, "shape": tuple(out[1:]), "params": int(params), "macs": int(macs),
                     "field": None if whole else receptive_field(model, i)[0]})
        if model.layers[i] in _PATHS:
            rows[-1]["paths"] = _path_rows(model, i, shape)
        shape = out
    return rows


def _path_rows(model: Sequential, i: int, shape: tuple) -> list[dict]:
    """Rows for the layers of each path of the block ``model.layers[i]``, whose input has ``shape``."""
    rows = []
    for name, path in _PATHS[model.layers[i]].items():
        if not path:                                  # the identity: it sees what the block's input sees
            field = receptive_field(Sequential(model.layers[:i]), i - 1)[0] if i else 1
            rows.append({"label": f"{name}: identity", "shape": tuple(shape[1:]), "params": 0, "macs": 0,
                         "field": field})
            continue
        inner = Sequential(path)
        for j, ((label, out, params), (_, macs)) in enumerate(zip(inner.shapes(shape), multiply_adds(inner, shape))):
            upto = Sequential(model.layers[:i] + path[: j + 1])
            rows.append({"label": f"{name}: {label}", "shape": tuple(out[1:]), "params": int(params),
                         "macs": int(macs), "field": receptive_field(upto, i + j)[0]})
    return rows


# -- AlexNet with some settings changed --------------------------------------------------------------------
ALEXNET_DEFAULTS = {"size": 224, "kernel": 11, "filters": 96, "width": 4096}
ALEXNET_OPTIONS = {"size": (160, 192, 224, 256), "kernel": (7, 9, 11), "filters": (32, 64, 96, 128),
                   "width": (512, 1024, 2048, 4096)}


def _check_alexnet(model) -> dict:
    """Where AlexNet's convolutions and dense layers are in ``model.layers`` (a ValueError if it is not
    ``helpers.models.alexnet()``'s layer list)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be helpers.models.alexnet() (a Sequential), got {type(model).__name__}.")
    convs = [i for i, lay in enumerate(model.layers) if isinstance(lay, Conv2D)]
    denses = [i for i, lay in enumerate(model.layers) if isinstance(lay, Dense)]
    try:
        ok = len(convs) == 5 and len(denses) == 3 and model.shapes((1, 3, 224, 224))[-1][1][1] > 0
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("model must be helpers.models.alexnet()'s network: 5 convolutions and 3 dense layers "
                         "taking (N, 3, 224, 224); build it with alexnet().")
    return {"conv1": convs[0], "conv2": convs[1], "dense": denses}


class _Built:
    """Layers built for the settings seen, by their constructor's arguments: going back to a setting costs
    nothing. The oldest are dropped when those built here hold more than ``max_params`` parameters."""

    def __init__(self, max_params: int = 80_000_000):
        self.layers, self.max_params = OrderedDict(), max_params

    def get(self, key, make):
        if key in self.layers:
            self.layers.move_to_end(key)
            return self.layers[key]
        layer = self.layers[key] = make()
        while len(self.layers) > 1 and sum(lay.n_params for lay in self.layers.values()) > self.max_params:
            self.layers.popitem(last=False)
        return layer


def alexnet_variant(model: Sequential, kernel: int, filters: int, width: int, built: _Built | None = None,
                    input_size: int = 224) -> Sequential:
    """``model`` (alexnet()'s layers) with its first convolution ``kernel`` x ``kernel`` (stride 4, padding
    kernel // 2 - 3: 55 x 55 outputs at 224 whatever the kernel) with ``filters`` filters, and its hidden
    dense layers ``width`` wide, for images of ``input_size``. Unchanged layers are the model's objects."""
    where = _check_alexnet(model)
    built = built or _Built()
    layers = list(model.layers)
    if (kernel, filters) != (ALEXNET_DEFAULTS["kernel"], ALEXNET_DEFAULTS["filters"]):
        layers[where["conv1"]] = built.get(("conv1", kernel, filters), lambda: Conv2D(
            3, filters, kernel, stride=4, padding=kernel // 2 - 3, rng=0))
    if filters != ALEXNET_DEFAULTS["filters"]:
        layers[where["conv2"]] = built.get(("conv2", filters), lambda: Conv2D(filters, 192, 5, padding=2, rng=1))
    # the first dense layer takes what Flatten gives: ask the layers before it
    d1, d2, d3 = where["dense"]
    flat = Sequential(layers[:d1]).shapes((1, 3, input_size, input_size))[-1][1][1]
    old = [model.layers[i] for i in (d1, d2, d3)]
    sizes = [(flat, width), (width, width), (width, old[2].output_shape((1, ALEXNET_DEFAULTS["width"]))[1])]
    for i, lay, (n_in, n_out) in zip((d1, d2, d3), old, sizes):
        if _fits(lay, n_in) and lay.output_shape((1, n_in))[1] == n_out:
            continue                                      # the model's own layer already has these sizes
        layers[i] = built.get(("dense", n_in, n_out), lambda n_in=n_in, n_out=n_out, i=i: Dense(n_in, n_out, rng=i))
    return Sequential(layers)


def _fits(layer: Layer, n_in: int) -> bool:
    """Does the dense ``layer`` take vectors of ``n_in`` values? (asked with its output_shape)"""
    try:
        layer.output_shape((1, n_in))
    except ValueError:
        return False
    return True


# -- the picture -------------------------------------------------------------------------------------------
ROW, HEAD = 17, 34                 # pixels per table row; the two header lines
MAX_ROWS = 28                      # rows of layers that fit an output area 700 pixels high, with the controls
COLUMNS = (("layer", 6, "left"), ("output", 262, "left"), ("parameters", 440, "right"),
           ("multiply-adds", 538, "right"), ("field", 584, "right"))
TEXT_WIDTH, BAR_WIDTH, BAR_MAX = 596, 117, 80   # the columns of text; each bar's column, its longest bar
BARS = (((31, 119, 180), "params", "parameters"), ((230, 120, 20), "macs", "multiply-adds"))
WIDTH = TEXT_WIDTH + 2 * BAR_WIDTH
_INK, _MUTED, _RULE, _STRIPE = (33, 33, 33), (110, 110, 110), (215, 215, 215), (246, 246, 246)


def _count(n: int) -> str:
    """A count for the table: exact below a million, in millions above."""
    return f"{n:,}" if n < 1_000_000 else f"{n / 1e6:,.1f} M"


def _short(label: str) -> str:
    """A layer's label, short enough for the table's first column."""
    if label.startswith("Residual"):
        return "Residual block: its paths"
    if label.startswith("Branches ["):                    # "Branches [1x1 16 | 1x1 8->3x3 16 | ...]"
        return f"Multi-branch block: {label.count('|') + 1} branches"
    if ": " in label:                                     # a layer of a block's path, indented
        path, label = label.split(": ", 1)
        short = label.replace("Conv2D ", "conv ").replace("stride ", "s").replace("pad ", "p")
        return f"   {path}: {short.replace(' valid', '').replace(' same', '')}"
    return label.replace("MaxPool2D", "MaxPool")


# The table is drawn a row at a time, and each row's pieces are kept: a move redraws only the rows whose
# text or bar changed (PIL's text drawing is what costs time, about 0.3 ms a cell).
@functools.lru_cache(maxsize=1)
def _header() -> np.ndarray:
    f, small = font(12), font(11)
    img = Image.new("RGB", (WIDTH, HEAD + 1), "white")
    d = ImageDraw.Draw(img)
    for name, x, align in COLUMNS:
        d.text((x, HEAD - 4), name, fill=_MUTED, font=f, anchor="ls" if align == "left" else "rs")
    for i, (colour, _, name) in enumerate(BARS):
        x = TEXT_WIDTH + i * BAR_WIDTH
        d.text((x, 13), "share of all", fill=_MUTED, font=small, anchor="ls")
        d.text((x, HEAD - 4), name, fill=colour, font=f, anchor="ls")
    d.line([(0, HEAD), (WIDTH, HEAD)], fill=_RULE)
    return np.asarray(img)


@functools.lru_cache(maxsize=1024)
def _cells(cells: tuple, striped: bool, rule: bool = False) -> np.ndarray:
    """One row's text, (ROW, TEXT_WIDTH, 3); ``rule``: a line above it (the total)."""
    img = Image.new("RGB", (TEXT_WIDTH, ROW), _STRIPE if striped else "white")
    d = ImageDraw.Draw(img)
    if rule:
        d.line([(0, 0), (TEXT_WIDTH, 0)], fill=_RULE)
    for (_, x, align), text in zip(COLUMNS, cells):
        d.text((x, ROW // 2 + 1), text, fill=_INK, font=font(12), anchor="lm" if align == "left" else "rm")
    return np.asarray(img)


@functools.lru_cache(maxsize=1024)
def _bar(length: int, percent: str, colour: tuple, striped: bool) -> np.ndarray:
    """One bar of ``length`` pixels with its percentage after it, (ROW, BAR_WIDTH, 3)."""
    img = Image.new("RGB", (BAR_WIDTH, ROW), _STRIPE if striped else "white")
    d = ImageDraw.Draw(img)
    if length:
        d.rectangle([0, 4, length - 1, ROW - 3], fill=colour)
    if percent:
        d.text((length + 3, ROW // 2 + 1), percent, fill=_MUTED, font=font(11), anchor="lm")
    return np.asarray(img)


def draw_table(rows: list[dict]) -> np.ndarray:
    """The table of ``rows`` (from :func:`layer_rows`) with a bar per layer for its share of all parameters
    and of all multiply-adds, as RGB pixels (H, 830, 3)."""
    totals = {key: sum(r[key] for r in rows) for _, key, _ in BARS}
    strips = [_header()]
    # a block with paths: its row with its totals and no bars, then a row (with bars) per layer of its paths
    expand = ["paths" in top for top in rows]
    first = expand.index(True) if any(expand) else None
    # too tall for the output area: the paths of the blocks after the first are folded into their block's
    # row (which then has the bars), the last block first
    for i in reversed(range(len(rows))):
        if sum(1 + len(top.get("paths", ())) * e for top, e in zip(rows, expand)) <= MAX_ROWS:
            break
        expand[i] = expand[i] and i == first
    shown = [(r, r is not top or not e) for top, e in zip(rows, expand)
             for r in [top, *(top["paths"] if e else ())]]
    for j, (r, bars) in enumerate(shown):
        cells = (_short(r["label"]), " x ".join(map(str, r["shape"])),
                 _count(r["params"]) if r["params"] else "-", _count(r["macs"]) if r["macs"] else "-",
                 "all" if r["field"] is None else str(r["field"]))
        parts = [_cells(cells, bool(j % 2))]
        for colour, key, _ in BARS:
            share = r[key] / totals[key] if totals[key] and bars else 0.0
            length = max(1, round(share * BAR_MAX)) if share > 0 else 0
            parts.append(_bar(length, f"{share:.0%}" if share >= 0.005 else "", colour, bool(j % 2)))
        strips.append(np.hstack(parts))
    total = ("total", "", _count(totals["params"]), _count(totals["macs"]), "")
    strips.append(np.hstack([_cells(total, False, rule=True), np.full((ROW, 2 * BAR_WIDTH, 3), 255, np.uint8)]))
    return np.vstack(strips)


# -- the explorer ------------------------------------------------------------------------------------------
def _choice(value, name: str, options) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, one of {list(options)}, got {value!r}.")
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value}.")
    return int(value)


BLOCK_OPTIONS = {"c_in": (8, 16, 32, 64, 128, 256), "c_out": (8, 16, 32, 64, 128, 256), "kernel": (1, 3, 5, 7),
                 "stride": (1, 2), "size": (8, 16, 32, 56), "repeat": (1, 2, 3, 4)}


class ArchitectureExplorer(Explorer):
    """Each layer's output shape, parameters, multiply-adds and receptive field, for a network or a block.

    ``network="alexnet"``: ``model`` is ``helpers.models.alexnet()`` (built if None; pass the notebook's, a
    second one holds another 245 MB); ``size``, ``kernel``, ``filters``, ``width`` start the controls (input
    size, first convolution's kernel and filters, hidden dense width: values of ``ALEXNET_OPTIONS``).

    ``network="block"``: ``block`` is a name of :data:`BLOCKS`; ``c_in``, ``c_out``, ``kernel``, ``stride``,
    ``size``, ``repeat`` start the controls (values of ``BLOCK_OPTIONS``).

    After each redraw: ``model`` (the Sequential shown), ``input_shape`` (C, H, W) and ``rows`` (from
    :func:`layer_rows`).
    """

    def __init__(self, network: str = "alexnet", model=None, block: str = "residual", **settings):
        super().__init__()
        if not isinstance(network, str) or network not in NETWORKS:
            raise ValueError(f"network must be one of {', '.join(map(repr, NETWORKS))}, got {network!r}.")
        self.network, self._built = network, _Built()
        self._rows = {}          # the table's rows for each combination of the controls' values seen
        options = ALEXNET_OPTIONS if network == "alexnet" else BLOCK_OPTIONS
        defaults = ALEXNET_DEFAULTS if network == "alexnet" else {"c_in": 32, "c_out": 64, "kernel": 3,
                                                                     "stride": 2, "size": 32, "repeat": 1}
        unknown = set(settings) - set(options)
        if unknown:
            raise TypeError(f"unknown setting {sorted(unknown)[0]!r} for network={network!r}: the settings are "
                            f"{', '.join(options)}.")
        start = {k: _choice(settings.get(k, defaults[k]), k, options[k]) for k in options}
        style = {"description_width": "64px"}

        def menu(key, label, width=190):
            return widgets.Dropdown(options=[(f"{v:,}", v) for v in options[key]], value=start[key],
                                    description=label, style=style, layout=widgets.Layout(width=f"{width}px"))

        self.info = widgets.HTML(layout=widgets.Layout(width="820px"))
        if network == "alexnet":
            if model is not None:
                _check_alexnet(model)
            self.base = model if model is not None else alexnet()
            self.size = menu("size", "input")
            self.kernel = menu("kernel", "conv1 k")
            self.filters = menu("filters", "conv1 F")
            self.width = menu("width", "dense")
            rows = [[self.size, self.kernel, self.filters, self.width]]
        else:
            if not isinstance(block, str) or block not in BLOCKS:
                raise ValueError(f"block must be one of {', '.join(map(repr, BLOCKS))}, got {block!r}.")
            self.block = widgets.Dropdown(options=list(BLOCKS), value=block, description="block", style=style,
                                          layout=widgets.Layout(width="250px"))
            self.repeat = menu("repeat", "repeats", 150)
            self.size = menu("size", "input")
            self.c_in = menu("c_in", "C in", 160)
            self.c_out = menu("c_out", "C out", 160)
            self.kernel = menu("kernel", "kernel", 150)
            self.stride = menu("stride", "stride", 150)
            rows = [[self.block, self.repeat, self.size], [self.c_in, self.c_out, self.kernel, self.stride]]
        self.table = ImagePanel(max_side=10_000)
        self.watch(*(c for r in rows for c in r))
        self.layout([*rows, self.info], [self.table])

    # -- the network for the controls' values ------------------------------------------------------------
    def build(self) -> tuple[Sequential, tuple]:
        """(the Sequential for the controls' values, the shape (C, H, W) of one input image)."""
        if self.network == "alexnet":
            model = alexnet_variant(self.base, self.kernel.value, self.filters.value, self.width.value,
                                    self._built, self.size.value)
            return model, (3, self.size.value, self.size.value)
        key = (self.block.value, self.c_in.value, self.c_out.value, self.kernel.value, self.stride.value,
               self.repeat.value)
        make = BLOCKS[self.block.value].build

        def stack():
            layers, c_in, stride = [], self.c_in.value, self.stride.value
            for _ in range(self.repeat.value):
                layers += make(c_in, self.c_out.value, self.kernel.value, stride, 0)
                c_in, stride = self.c_out.value, 1        # later blocks keep the channels and the size
            return Sequential(layers)

        return self._built.get(key, stack), (self.c_in.value, self.size.value, self.size.value)

    def draw(self):
        model, shape = self.build()
        # the rows depend on the controls' values only; computing them sends a blank image through the
        # network (AlexNet: about 28 ms), so a setting seen before reuses them
        key = tuple(c.value for c in self.controls)
        if key not in self._rows:
            self._rows[key] = layer_rows(model, shape)
        rows = self._rows[key]
        self.model, self.input_shape, self.rows = model, shape, rows
        self.table.show_rgb(draw_table(rows))
        self.info.value = self._summary(rows, shape)

    def _summary(self, rows, shape) -> str:
        params, macs = sum(r["params"] for r in rows), sum(r["macs"] for r in rows)
        out = " x ".join(map(str, rows[-1]["shape"]))
        head = (f"input {' x '.join(map(str, shape))} &rarr; output {out}: <b>{params:,}</b> parameters, "
                f"<b>{macs:,}</b> multiply-adds per image")
        if self.network == "alexnet":
            dense = sum(r["params"] for r in rows if r["label"].startswith("Dense"))
            conv_macs = sum(r["macs"] for r in rows if r["label"].startswith("Conv2D"))
            last = [r["field"] for r in rows if r["field"] is not None][-1]
            text = (f"{head}.<br>The 3 dense layers hold {dense / params:.1%} of the parameters; the 5 "
                    f"convolutions do {conv_macs / macs:.1%} of the multiply-adds. The last pooled features "
                    f"each see {last} x {last} input pixels.")
        else:
            residual = [r["label"] for r in rows if r["label"].startswith("Residual")]
            about = BLOCKS[self.block.value].about + (f": {residual[0]}" if residual else "")
            text = (f"{head}; receptive field {rows[-1]['field']} x {rows[-1]['field']} pixels."
                    f"<br>{html.escape(about)}.")
        return f'<div style="font-size:13px;line-height:1.35">{text}</div>'

