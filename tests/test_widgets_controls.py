"""Every explorer: moving each of its controls changes the picture and its numbers; bad input gives a
message in the widget, never an escaping exception or a blank/NaN picture."""
from __future__ import annotations

from pathlib import Path

import cv2
import ipywidgets as widgets
import numpy as np
import pytest

from helpers.images import load_sample
from helpers.models import fashion_cnn
from helpers.nn import Conv2D
from helpers.widgets import (
    ConvolutionScrubber,
    FilterExplorer,
    KernelPlayground,
    PaddingStrideExplorer,
    PixelInspector,
    PoolingExplorer,
    ReceptiveFieldExplorer,
    SobelExplorer,
    SoftmaxExplorer,
)
from helpers.widgets.inside import FeatureMapExplorer
from helpers.widgets.optimizers import OptimizerExplorer
from helpers.widgets.panels import NAN_RGB, colorize

SMALL_PHOTO = (np.arange(40 * 36).reshape(40, 36) % 251).astype(np.uint8)


def _fashion_snapshots():
    x = load_sample("fashion_mnist_sample")["images"][:4]
    snaps = {e: (Conv2D(1, 4, 3, padding="same", rng=e).params["W"], np.zeros(4, np.float32)) for e in range(3)}
    return snaps, x


EXPLORERS = {
    "PixelInspector": lambda: PixelInspector(),
    "ConvolutionScrubber": lambda: ConvolutionScrubber(step=3),
    "KernelPlayground": lambda: KernelPlayground(),
    "SobelExplorer": lambda: SobelExplorer(),
    "PaddingStrideExplorer": lambda: PaddingStrideExplorer(n=8, k=3, padding=1, stride=2, photo=SMALL_PHOTO),
    "ReceptiveFieldExplorer": lambda: ReceptiveFieldExplorer(layers=2),
    "PoolingExplorer": lambda: PoolingExplorer(shift=1),
    "SoftmaxExplorer": lambda: SoftmaxExplorer(),
    "FilterExplorer": lambda: FilterExplorer(*_fashion_snapshots()),
    "OptimizerExplorer": lambda: OptimizerExplorer(optimizer="momentum"),   # SGD ignores the momentum
    "FeatureMapExplorer": lambda: FeatureMapExplorer(fashion_cnn(seed=5),
                                                     load_sample("fashion_mnist_sample")["images"][:3]),
}


def pictures(explorer) -> list:
    return [v for v in explorer.snapshot() if isinstance(v, bytes)]


def texts(explorer) -> list:
    return [v for v in explorer.snapshot() if isinstance(v, str)]


def visible(explorer) -> set:
    """ids of the widgets in the explorer's layout (a 3x3 kernel hides the playground's other cells)."""
    seen = set()

    def walk(w):
        seen.add(id(w))
        for c in getattr(w, "children", ()):
            walk(c)

    walk(explorer.widget)
    return seen


def other_values(control) -> list:
    """Values a learner could move ``control`` to, nearest first."""
    v = control.value
    if isinstance(control, widgets.Checkbox):
        return [not v]
    if isinstance(control, (widgets.Dropdown, widgets.ToggleButtons, widgets.SelectionSlider)):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return [o for o in values if o != v]
    if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
        step = control.step or 1
        ups = [v + i * step for i in range(1, 6) if v + i * step <= control.max]
        downs = [v - i * step for i in range(1, 6) if v - i * step >= control.min]
        return [x for pair in zip(ups + [None] * 5, downs + [None] * 5) for x in pair if x is not None]
    if isinstance(control, widgets.FloatLogSlider):
        return [v * control.base ** (i * control.step) for i in (1, -1, 2, -2)]
    if isinstance(control, widgets.FloatText):
        return [v + 1.0, v - 2.0]
    raise AssertionError(f"the test does not know how to move a {type(control).__name__}")


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_moving_each_control_changes_the_picture_and_its_numbers(name):
    first = EXPLORERS[name]()
    assert first.controls, f"{name} watches no control"
    assert first.message.value == "", first.message.value
    shown = visible(first)
    indices = [i for i, c in enumerate(first.controls) if id(c) in shown]   # not e.g. hidden 5x5 kernel cells
    for i in indices:
        ex = first if i == indices[0] else EXPLORERS[name]()     # each control moved from the starting state
        control = ex.controls[i]
        for value in other_values(control):
            pics, words = pictures(ex), texts(ex)
            control.value = value
            if ex.message.value == "" and pictures(ex) != pics:
                assert texts(ex) != words, (f"{name}: moving {control.description or control} to {value!r} "
                                            "changed the picture but none of its numbers or titles")
                break
        else:
            raise AssertionError(f"{name}: no value of {getattr(control, 'description', control)!r} changed the "
                                 f"picture (last message: {ex.message.value!r})")


#: for each explorer, a control whose move leaves some panels as they were
PARTIAL_MOVES = {"PixelInspector": "threshold", "ConvolutionScrubber": "step", "KernelPlayground": "bias",
                 "SobelExplorer": "threshold", "PaddingStrideExplorer": "position", "PoolingExplorer": "shift",
                 "SoftmaxExplorer": "true_class", "FilterExplorer": "image"}


@pytest.mark.parametrize("name", list(PARTIAL_MOVES))
def test_a_redraw_sends_only_what_changed(name):
    """Moving a control re-sends only the panels that depend on it: the others keep the same bytes."""
    ex = EXPLORERS[name]()
    before = pictures(ex)
    control = getattr(ex, PARTIAL_MOVES[name])
    control.value = other_values(control)[0]
    after = pictures(ex)
    assert ex.message.value == "" and after != before
    assert any(a == b for a, b in zip(before, after) if a), f"{name} re-sent every picture"


# -- faults: uploads ------------------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"\x00" * 100, b"garbage, not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
                                     b"\xff\xd8\xff\xe0" + b"\x13" * 200])
@pytest.mark.parametrize("shape", ["v7", "v8"])
def test_an_undecodable_upload_is_a_message_not_an_exception(content, shape):
    ex = KernelPlayground()
    shown = pictures(ex)
    value = ({"bad.png": {"content": content, "metadata": {"name": "bad.png"}}} if shape == "v7"
             else ({"name": "bad.png", "type": "image/png", "size": len(content), "content": memoryview(content)},))
    ex.use_upload(value)
    assert "bad.png" in ex.message.value and "&#9888;" in ex.message.value
    assert pictures(ex) == shown and ex.image.shape == (600, 512)


def test_an_upload_that_makes_opencv_raise_is_a_message(monkeypatch):
    """Whatever load_image raises for a file it cannot decode (ValueError, cv2.error), the widget says so."""
    import helpers.widgets.playground as playground

    def broken(*args, **kwargs):
        raise cv2.error("OpenCV(5.0.0) error: (-215:Assertion failed) !buf.empty() in function 'imdecode_'")

    monkeypatch.setattr(playground, "load_image", broken)
    ex = KernelPlayground()
    ex.use_upload(({"name": "x.jpg", "content": memoryview(b"\xff\xd8 not really")},))
    assert "x.jpg" in ex.message.value and "could not read it as an image" in ex.message.value


def test_an_upload_too_small_for_the_kernel_is_a_message():
    ok, png = cv2.imencode(".png", np.zeros((2, 2), np.uint8))
    ex = KernelPlayground()
    ex.use_upload(({"name": "tiny.png", "content": memoryview(png.tobytes())},))
    assert "tiny.png" in ex.message.value and "2x2" in ex.message.value


def test_playground_says_colab_drops_large_uploads_and_offers_load_image():
    text = KernelPlayground().upload_note.value
    assert "1 MB" in text and "Colab" in text and "load_image(" in text


# -- faults: tiny images in the pixel inspector ---------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (1, 1), (1, 5), (3, 3, 3), (1, 1, 3), (2, 9, 3)])
def test_pixel_inspector_on_an_image_smaller_than_its_window(shape):
    img = (np.arange(int(np.prod(shape))).reshape(shape) * 37 % 256).astype(np.uint8)
    ex = PixelInspector(img)
    assert ex.message.value == ""
    k = ex.size.value
    assert k == min(shape[:2]) and ex.window.shape == (k, k)
    r, c = ex.row.value, ex.col.value
    np.testing.assert_array_equal(ex.window, ex.gray[r : r + k, c : c + k])
    ex.threshold.value = 10
    assert ex.message.value == ""
    if max(shape[:2]) > 1:
        ex.size.value = 1                       # a 1x1 window can move
        slider = ex.row if shape[0] > 1 else ex.col
        slider.value = slider.max
        assert ex.message.value == "" and ex.window.shape == (1, 1)


def test_pixel_inspector_switching_to_a_smaller_image_shrinks_the_window():
    ex = PixelInspector({"photo": np.full((50, 60), 7, np.uint8), "dot": np.array([[200]], np.uint8)}, size=12)
    ex.source.value = "dot"
    assert ex.message.value == "" and ex.window.shape == (1, 1) and ex.window[0, 0] == 200
    ex.source.value = "photo"
    assert ex.message.value == ""


def test_pixel_inspector_refuses_an_empty_or_non_finite_image():
    with pytest.raises(ValueError, match="empty"):
        PixelInspector(np.zeros((0, 4), np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        PixelInspector(np.full((4, 4), np.nan))


# -- faults: values near or past float32's limit ----------------------------------------------------------
@pytest.mark.parametrize("value", [1e35, 1e36, 1e37, 3e38, 1e39, -1e39])
def test_playground_with_huge_kernel_values_shows_a_message_not_a_nan_picture(value):
    """Near float32's limit the feature map may still fit (then it is drawn, finite) or overflow (then a
    message says so and the last good picture stays): never an infinite or NaN picture."""
    ex = KernelPlayground()
    shown = pictures(ex)
    ex.cells[1][1].value = value
    if ex.message.value:
        assert "&#9888;" in ex.message.value
        assert "float32" in ex.message.value or "overflow" in ex.message.value
        assert pictures(ex) == shown                   # the last good picture stays, never a NaN one
    else:
        assert np.isfinite(ex.feature_map).all() and np.isfinite(ex.color_limit) and pictures(ex) != shown
    if abs(value) >= 1e37:                             # 1e37 x 255 overflows float32: must be the message
        assert "float32" in ex.message.value
    ex.cells[1][1].value = 1.0                         # back to sensible numbers: the message goes
    assert ex.message.value == "" and np.isfinite(ex.feature_map).all()


def test_playground_with_a_huge_bias_shows_a_message():
    ex = KernelPlayground()
    ex.bias.max = 1e39
    ex.bias.value = 1e39
    assert "float32" in ex.message.value


@pytest.mark.parametrize("value", [1e38, 1e39, np.inf])
def test_filter_explorer_with_huge_weights_shows_a_message(value):
    snaps, x = _fashion_snapshots()
    with np.errstate(over="ignore"):              # float32 weights, as training saves them: 1e39 is inf
        snaps[3] = (np.full(snaps[0][0].shape, value, dtype=np.float32), np.zeros(4, np.float32))
    ex = FilterExplorer(snaps, x)               # the last epoch is shown first
    assert "&#9888;" in ex.message.value and ("overflow" in ex.message.value or "infinite" in ex.message.value)
    ex.epoch.value = 1
    assert ex.message.value == "" and np.isfinite(ex.maps).all()


@pytest.mark.parametrize("value", [1e200, 1e308, np.inf])
def test_scrubber_with_huge_values_shows_a_message(value):
    k = np.array([[value, 0, -1], [2, 0, -2], [1, 0, -1]])
    ex = ConvolutionScrubber(np.full((5, 5), 1e200), k)
    assert "&#9888;" in ex.message.value


def test_colorize_draws_non_finite_values_in_the_no_value_colour():
    rgb = colorize(np.array([[0.0, np.nan], [np.inf, 1.0]]), "viridis")
    assert tuple(rgb[0, 1]) == NAN_RGB and tuple(rgb[1, 0]) == NAN_RGB
    assert tuple(rgb[0, 0]) != NAN_RGB and tuple(rgb[1, 1]) != NAN_RGB
    assert colorize(np.full((2, 2), np.nan)).shape == (2, 2, 3)


# -- the base -----------------------------------------------------------------------------------------------
def test_hold_redraws_once_and_watch_sees_controls_inside_boxes():
    from helpers.widgets._base import Explorer

    class Counter(Explorer):
        def __init__(self):
            super().__init__()
            self.a = widgets.IntSlider(value=0, min=-5)
            self.b = widgets.IntSlider(value=0)
            self.draws = 0
            self.watch(self.a, self.b)
            self.layout([widgets.HBox([widgets.VBox([self.a]), self.b])], [])

        def draw(self):
            self.draws += 1
            if self.a.value < 0:
                raise ValueError("a must not be negative")

    ex = Counter()
    assert ex.draws == 1
    ex.a.value = 1                                  # nested two boxes deep: still redraws
    assert ex.draws == 2
    with ex.hold():
        ex.a.value, ex.b.value = 2, 3
    assert ex.draws == 3
    ex.a.value = -1
    assert "must not be negative" in ex.message.value
    ex.a.value = 0
    assert ex.message.value == "" and ex.controls == [ex.a, ex.b]


@pytest.mark.parametrize("value", [np.nan, np.inf, 3e38])
def test_other_explorers_given_non_finite_or_huge_pixels_show_a_message(value):
    """Pixels that are not numbers are refused with a clear error; pixels so large that a response
    overflows float32 give a message in the widget, never an infinite or NaN picture."""
    img = np.full((40, 36), 100.0, dtype=np.float32)
    img[10:20, 10:20] = value
    if np.isfinite(value):
        play = KernelPlayground(img)                # Sobel x sums 4 x 3e38: beyond float32
        assert "float32" in play.message.value
    else:
        with pytest.raises(ValueError, match="NaN or infinite"):
            KernelPlayground(img)
        pad = PaddingStrideExplorer(n=8, k=3, padding=0, stride=2, photo=img)
        assert "&#9888;" in pad.message.value and "NaN" in pad.message.value
    sobel = SobelExplorer(img)
    if np.isfinite(value):                          # Sobel works in float64: 1.2e39 is a number there
        assert sobel.message.value == "" and np.isfinite(sobel.magnitude).all()
    else:
        assert "&#9888;" in sobel.message.value and "NaN" in sobel.message.value


def test_the_how_to_example_at_the_top_of_the_base_works():
    """The example new explorers are written from must run as printed."""
    import re

    import helpers.widgets._base as base

    code = base.__doc__.split("::", 1)[1].split("The API", 1)[0]
    code = "\n".join(line[4:] for line in code.splitlines())
    code = re.sub(r"from \.\.(\w+) import", r"from helpers.\1 import", code)
    code = re.sub(r"from \.(\w+) import", r"from helpers.widgets.\1 import", code)
    namespace = {}
    exec(compile(code, "how-to", "exec"), namespace)
    ex = namespace["BlurExplorer"](np.tile(np.arange(40.0), (30, 1)))
    before = pictures(ex), texts(ex)
    ex.k.value = 7
    assert ex.message.value == "" and pictures(ex) != before[0] and texts(ex) != before[1]
    assert ex.controls == [ex.k]


# -- the still picture beside the widget ------------------------------------------------------------------
def _displayed(explorer, monkeypatch) -> list:
    """The outputs that displaying ``explorer`` (the last line of a cell) sends, as mimebundles."""
    import IPython.display

    sent = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False, **kw: sent.append(obj))
    explorer._ipython_display_()
    return sent


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_displaying_an_explorer_shows_the_widget_then_a_still_picture_it_hides(name, monkeypatch):
    import base64

    from helpers.widgets._base import WIDGET_VIEW
    from helpers.widgets.still import STILL_NOTE, WIDTH, hiding_rule, still_id

    ex = EXPLORERS[name]()
    view, still = _displayed(ex, monkeypatch)
    assert view[WIDGET_VIEW]["model_id"] == ex.widget.model_id
    kinds = [k for k in still if k.startswith("image/")]
    assert kinds in (["image/png"], ["image/jpeg"]), still.keys()
    data = base64.b64decode(still[kinds[0]])
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None and pixels.shape[0] > 100 and 300 < pixels.shape[1] <= WIDTH + 40
    assert pixels.std() > 10                                   # a picture, not a blank
    assert STILL_NOTE in still["text/plain"] and still_id(data)
    # the widget carries the CSS rule that hides exactly this picture where the widget is drawn
    rule = hiding_rule(data)
    assert rule in ex.footer.value
    prefix = rule.split('^="', 1)[1].split('"', 1)[0]
    assert f"data:{kinds[0]};base64,{still[kinds[0]]}".startswith(prefix)


def test_two_different_stills_have_different_ids_and_the_same_still_the_same_file():
    from helpers.widgets.still import still_file, still_id

    a = np.zeros((20, 30, 3), np.uint8)
    b = a.copy()
    b[5, 5] = 255
    assert still_file(a) == still_file(a) and still_id(still_file(a)) != still_id(still_file(b))
    jpeg = still_file(a, "jpeg")
    assert still_id(jpeg) and cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) is not None
    with pytest.raises(ValueError, match="fmt"):
        still_file(a, "gif")


def test_the_still_draws_what_the_controls_say():
    """The still changes with the explorer's state: a moved slider gives another picture."""
    from helpers.widgets.still import render

    ex = ReceptiveFieldExplorer(layers=2)
    before = render(ex.widget)
    ex.layers.value = 3
    after = render(ex.widget)
    assert before.shape != after.shape or not np.array_equal(before, after)


# -- the playground's colour map and preset names ---------------------------------------------------------
@pytest.mark.parametrize("preset, bias, relu, signed", [
    ("Sobel x (vertical edges)", 0, False, True),
    ("gaussian blur", 0, False, False),         # weights >= 0 on a photo: a gray picture, not a red negative
    ("Box blur", 10, False, False),
    ("gaussian blur", -10, False, True),        # a negative bias can make it negative
    ("Sobel x (vertical edges)", 0, True, False),   # after ReLU nothing is negative
])
def test_playground_colour_map_follows_whether_the_result_can_be_negative(preset, bias, relu, signed):
    ex = KernelPlayground(preset=preset)
    ex.bias.value, ex.relu.value = bias, relu
    assert ex.message.value == "" and ex.signed is signed
    assert (ex.map_colorbar is ex.signed_colorbar) is signed
    assert ex.signed_colorbar.widget.layout.display == (None if signed else "none")
    assert ex.gray_colorbar.widget.layout.display == ("none" if signed else None)
    rgb = cv2.imdecode(np.frombuffer(ex.map.value, np.uint8), cv2.IMREAD_COLOR)
    colour = np.abs(rgb.astype(int) - rgb.mean(axis=2, keepdims=True)).max()
    assert bool(colour > 40) is signed               # red-blue has colour; gray has none (JPEG noise aside)
    if not signed:
        assert ex.feature_map.min() >= 0
        assert "negative" in ex.gray_colorbar.widget.children[-1].value


def test_playground_preset_labels_have_one_case_style_and_old_names_still_work():
    from helpers.kernels import PRESETS
    from helpers.widgets.playground import PRESET_LABELS, preset_key

    labels = [label for label, _ in KernelPlayground().preset.options]
    assert all(label[0].isupper() for label in labels), labels
    assert "Gaussian blur" in labels and "Sobel x (vertical edges)" in labels
    for key in PRESETS:                          # every key and label names its preset, in any case
        assert preset_key(key) == key == preset_key(PRESET_LABELS[key].upper())
    ex = KernelPlayground(preset="Gaussian blur")
    assert ex.preset.value == "gaussian blur" and ex.preset.label == "Gaussian blur"
    with pytest.raises(ValueError, match="preset must be one of"):
        KernelPlayground(preset="blurry")


# -- the stored notebooks ---------------------------------------------------------------------------------
NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _explorer_cells(nb: dict):
    """(cell index, explorer class, the cell's outputs) for every cell whose output shows an explorer."""
    from helpers.widgets._base import WIDGET_VIEW

    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    state = state.get("state", {})
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            model = out.get("data", {}).get(WIDGET_VIEW, {}).get("model_id")
            classes = state.get(model, {}).get("state", {}).get("_dom_classes", [])
            names = [c for c in classes if c.startswith("explorer-")]
            if names:
                yield i, names[0], cell["outputs"], state


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_every_stored_explorer_has_its_still_picture(notebook):
    """Where widgets cannot run (GitHub, an offline HTML export), the stored still shows the explorer; the
    stored widget state holds the rule that hides it where the widget is drawn. (Passes once the notebook
    has been executed with the explorers' still pictures: scripts/execute_notebooks.py.)"""
    import base64
    import json

    from helpers.widgets.still import hiding_rule, still_id

    nb = json.loads(notebook.read_text())
    missing = []
    for i, name, outputs, state in _explorer_cells(nb):
        stills = [base64.b64decode(o["data"][k]) for o in outputs for k in ("image/png", "image/jpeg")
                  if k in o.get("data", {})]
        stills = [s for s in stills if still_id(s)]
        if not stills:
            missing.append(f"cell {i} ({name}): no still picture")
            continue
        if cv2.imdecode(np.frombuffer(stills[0], np.uint8), cv2.IMREAD_COLOR) is None:
            missing.append(f"cell {i} ({name}): the still does not decode")
        footers = " ".join(str(m.get("state", {}).get("value", "")) for m in state.values())
        if hiding_rule(stills[0]) not in footers:
            missing.append(f"cell {i} ({name}): the widget state lacks the rule hiding the still")
    assert not missing, f"{notebook.name}: " + "; ".join(missing)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_printed_lines_in_stored_outputs_fit_100_characters(notebook):
    """A printed line longer than about 100 characters wraps in an 840-pixel output area, inside numbers."""
    import json

    nb = json.loads(notebook.read_text())
    long = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            text = "".join(out.get("text", [])) if out.get("output_type") == "stream" else ""
            long += [f"cell {i}: {len(line)} chars: {line[:60]}..." for line in text.splitlines() if len(line) > 100]
    assert not long, f"{notebook.name}:\n" + "\n".join(long)
