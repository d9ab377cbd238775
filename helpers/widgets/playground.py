"""KernelPlayground: edit a kernel, or pick a classic one, and see the feature map of a photo live (02).

The feature map's colours follow what it can hold. A result that can be negative is drawn with a diverging
colour map centred on zero (blue negative, white zero, red positive), so the negative responses that ReLU
removes are visible. A result that cannot be negative (ReLU on, or every weight and the bias >= 0 on an
image without negative pixels: a blur) is drawn in gray from black at 0, so a blurred photo looks like
a photo, not like a red negative. The colour bar beside it says which. Upload your own picture with the
upload button (PNG or JPEG; it is made gray and shrunk to at most 512 pixels a side), or pass one:
``KernelPlayground(load_image("my_photo.jpg", gray=True, max_side=512))``.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..conv import conv2d
from ..images import load_image, sample_photo
from ..kernels import PRESETS
from ._base import Explorer, error_html
from .panels import ColorBar, ImagePanel, fit_side

__all__ = ["KernelPlayground", "uploaded_files"]

CUSTOM = "custom (edit the numbers)"

#: What the preset menu shows, one case style (sentence case; proper names capitalised), for each key of
#: helpers.kernels.PRESETS. The menu's value stays the PRESETS key: ``preset.value = "gaussian blur"``.
PRESET_LABELS = {
    "identity": "Identity",
    "box blur": "Box blur",
    "gaussian blur": "Gaussian blur",
    "sharpen": "Sharpen",
    "edge enhance": "Edge enhance",
    "edge detect (Laplacian)": "Laplacian (edge detect)",
    "emboss": "Emboss",
    "Sobel x (vertical edges)": "Sobel x (vertical edges)",
    "Sobel y (horizontal edges)": "Sobel y (horizontal edges)",
    CUSTOM: "Custom (edit the numbers)",
}
#: the two colour maps: (matplotlib name, colour bar label)
SIGNED = ("RdBu_r", "signed: blue < 0 < red (saturates)")
NON_NEGATIVE = ("gray", "cannot be negative: black 0 (saturates)")


def preset_key(name: str) -> str:
    """The PRESETS key (or CUSTOM) for a preset named by its key or by its menu label, in any case."""
    for key, label in PRESET_LABELS.items():
        if name.casefold() in (key.casefold(), label.casefold()):
            return key
    if name in PRESETS:                                # a preset added to PRESETS without a label
        return name
    raise ValueError(f"preset must be one of {[PRESET_LABELS.get(k, k) for k in [*PRESETS, CUSTOM]]}, "
                     f"got {name!r}.")


def cannot_be_negative(image, kernel, bias: float, relu: bool) -> bool:
    """True if no response of conv(image, kernel) + bias (then ReLU, if on) can be below zero.

    A property of the settings, not of one picture: a Sobel kernel on a flat image gives only zeros,
    but it is a signed kernel all the same.
    """
    return bool(relu or (np.min(kernel) >= 0 and bias >= 0 and np.min(image) >= 0))

#: Shown under the upload button. Colab's FileUpload drops files of 1 MB or more (ipywidgets issue 3452).
UPLOAD_NOTE = ("PNG or JPEG. In Colab, files of 1 MB or more do not arrive (a known FileUpload limit): "
               "shrink the file, or upload it to the Files pane and pass it in: "
               "<code>KernelPlayground(load_image(\"photo.jpg\", gray=True, max_side=512))</code>.")


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """The files in a FileUpload's ``value`` as (name, bytes) pairs, for ipywidgets 7 and 8.

    ipywidgets 7: a dict  name -> {"content": bytes, "metadata": {...}}
    ipywidgets 8: a tuple of dicts {"name": ..., "content": memoryview, ...}
    """
    if not value:
        return []
    if isinstance(value, dict):
        items = [(name, entry["content"]) for name, entry in value.items()]
    else:
        items = [(entry.get("name", "upload"), entry["content"]) for entry in value]
    return [(str(name), bytes(content)) for name, content in items]


def preset_kernel(name: str, size: int) -> np.ndarray:
    """The preset ``name`` as a size x size kernel: built at that size if it can be, else centred in zeros."""
    make = PRESETS[preset_key(name)]
    try:
        k = np.asarray(make(size), dtype=float)
    except TypeError:                                  # a fixed 3x3 kernel
        k = np.asarray(make(), dtype=float)
    if k.shape != (size, size):
        if max(k.shape) > size:
            raise ValueError(f"the preset {name!r} is {k.shape[0]}x{k.shape[1]}: choose a kernel size of at least "
                             f"{max(k.shape)}.")
        out = np.zeros((size, size))
        r, c = (size - k.shape[0]) // 2, (size - k.shape[1]) // 2
        out[r : r + k.shape[0], c : c + k.shape[1]] = k
        k = out
    return k


class KernelPlayground(Explorer):
    """Edit a 3x3 or 5x5 kernel and watch the feature map of a real photo.

    Controls (attributes): ``preset`` (Dropdown: its value is a key of helpers.kernels.PRESETS, or
    CUSTOM; it shows PRESET_LABELS), ``size`` (3 or 5), ``cells`` (the size x size grid of FloatText, row
    by row), ``bias`` (FloatSlider), ``relu`` (Checkbox), ``upload`` (FileUpload). ``preset=`` takes a
    key or a label. Results: ``image`` (the gray picture, float), ``kernel`` and ``feature_map``
    (= relu(helpers.conv2d(image, kernel) + bias) if relu is on), ``color_limit`` and ``signed`` (False
    when the result cannot be negative: drawn in gray, else red-blue). Panels: ``photo`` and ``map``
    (with ``map_colorbar``, the colour bar on show: ``signed_colorbar`` or ``gray_colorbar``).
    """

    MAX = 5
    SIDE = 360            # pixels of the longer side of each picture: what a notebook column shows

    def __init__(self, image=None, preset="Sobel x (vertical edges)", size=3):
        super().__init__()
        self.image_name = "Grace Hopper (sample photo)" if image is None else "your image"
        self.image = self._checked(sample_photo(gray=True) if image is None else image)
        keys = [*PRESETS, CUSTOM]
        self.preset = widgets.Dropdown(options=[(PRESET_LABELS.get(k, k), k) for k in keys],
                                       value=preset_key(preset), description="preset",
                                       layout=widgets.Layout(width="330px"))
        self.size = widgets.Dropdown(options=[("3x3", 3), ("5x5", 5)], value=size, description="kernel")
        self.bias = widgets.FloatSlider(value=0.0, min=-100.0, max=100.0, step=5.0, description="bias b",
                                        layout=widgets.Layout(width="420px"))
        self.relu = widgets.Checkbox(value=False, description="ReLU: max(0, \u00b7)")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your image")
        self.upload_note = widgets.HTML(f'<div style="font-size:11px;max-width:330px;line-height:1.3">'
                                        f"{UPLOAD_NOTE}</div>")
        self.cells = [[widgets.FloatText(value=0.0, layout=widgets.Layout(width="70px")) for _ in range(self.MAX)]
                      for _ in range(self.MAX)]
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))

        self.photo = ImagePanel(fmt="jpeg", max_side=self.SIDE)
        # one colour bar per colour map (a bar's gradient is drawn once): the one not in use is hidden
        self.signed_colorbar = ColorBar(SIGNED[0], -1, 1, label=SIGNED[1], height=self.SIDE - 60)
        self.gray_colorbar = ColorBar(NON_NEGATIVE[0], 0, 1, label=NON_NEGATIVE[1], height=self.SIDE - 60)
        self.map_colorbar = self.signed_colorbar      # the one on show
        self.map = ImagePanel(fmt="jpeg", max_side=self.SIDE, colorbar=[self.signed_colorbar, self.gray_colorbar])

        self._set_kernel(preset_kernel(preset, size))
        self.watch(self.preset, self.size, then=self._preset_chosen)
        self.watch(*(c for r in self.cells for c in r), then=self._cell_edited)
        self.watch(self.bias, self.relu)
        self.upload.observe(self._uploaded, names="value")
        self._show_photo()
        self.layout([[self.preset, self.size],
                     [self.grid, widgets.VBox([self.bias, self.relu, self.upload, self.upload_note])]],
                    [[self.photo, self.map]])

    # -- controls -------------------------------------------------------------------------------------
    @staticmethod
    def _checked(image) -> np.ndarray:
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 2:
            raise ValueError(f"the playground works on a gray image (H, W), got shape {image.shape}. "
                             "Use helpers.images.to_gray first.")
        if not np.all(np.isfinite(image)):
            raise ValueError("the image holds NaN or infinite values (or values beyond float32's range): "
                             "pixels must be numbers, e.g. 0..255.")
        return image

    def _set_kernel(self, kernel):
        """Show ``kernel`` in the grid (resizing it); the caller holds the redraw."""
        n = kernel.shape[0]
        self._setting = True
        try:
            for r in range(n):
                for c in range(n):
                    self.cells[r][c].value = float(kernel[r, c])
        finally:
            self._setting = False
        self.grid.children = [self.cells[r][c] for r in range(n) for c in range(n)]
        self.grid.layout.grid_template_columns = f"repeat({n}, 72px)"

    def _preset_chosen(self, change=None):
        if self.preset.value == CUSTOM:
            if change is not None and change["owner"] is self.size:
                self._set_kernel(self._read_grid(self.size.value))
            return
        self._set_kernel(preset_kernel(self.preset.value, self.size.value))   # ValueError: shown as a message

    def _cell_edited(self, change):
        if not getattr(self, "_setting", False) and self.preset.value != CUSTOM:
            self.preset.value = CUSTOM             # the numbers are no longer the preset's

    def _uploaded(self, change):
        self.use_upload(change["new"])

    def use_upload(self, value):
        """Load the picture in a FileUpload value (ipywidgets 7 dict or 8 tuple) and redraw.

        A file that is not an image (empty, truncated, another format) gives a message, not an error.
        """
        try:
            files = uploaded_files(value)
        except (KeyError, TypeError, AttributeError) as exc:
            self.message.value = error_html(f"the upload could not be read ({exc!r}). Try another file.")
            return
        if not files:
            return
        name, content = files[-1]
        if not content:
            self.message.value = error_html(f"{name} is empty (0 bytes). In Colab, files of 1 MB or more arrive "
                                            "empty: shrink the file or use load_image(path).")
            return
        try:
            image = load_image(content, gray=True, max_side=512)
        except Exception as exc:          # ValueError, cv2.error, ...: any file we cannot decode
            self.message.value = error_html(f"{name}: could not read it as an image ({str(exc).strip()[:200]}). "
                                            "Use a PNG or JPEG file.")
            return
        if min(image.shape) < self.MAX:
            self.message.value = error_html(f"{name} is only {image.shape[0]}x{image.shape[1]} pixels: use a picture "
                                            f"of at least {self.MAX}x{self.MAX}.")
            return
        self.set_image(image, name)

    def set_image(self, image, name="your image"):
        """Use another gray image (H, W) and redraw."""
        self.image, self.image_name = self._checked(image), name
        self._show_photo()
        self.update()

    def _show_photo(self):
        self.photo.show(self.image, "gray", 0, 255)
        self.photo.title = f"{self.image_name}: {self.image.shape[0]}x{self.image.shape[1]}"

    def _read_grid(self, n):
        return np.array([[self.cells[r][c].value for c in range(n)] for r in range(n)], dtype=float)

    # -- drawing --------------------------------------------------------------------------------------
    def draw(self):
        n = self.size.value
        kernel = self._read_grid(n)
        if not np.all(np.isfinite(kernel)):
            raise ValueError("every kernel cell needs a number.")
        if min(self.image.shape) < n:
            raise ValueError(f"the image {self.image.shape} is smaller than the {n}x{n} kernel.")
        big = float(np.finfo(np.float32).max)
        # the largest response the kernel can give on this image: checked before convolving, so a kernel
        # near float32's limit gives this message rather than infinite pixels and overflow warnings
        bound = float(np.abs(kernel).sum()) * float(np.abs(self.image).max()) + abs(self.bias.value)
        if bound > big:
            raise ValueError(f"with these kernel values (largest |value| {np.abs(kernel).max():.3g}) and bias, "
                             f"responses could reach {bound:.3g}, beyond float32's largest number ({big:.3g}): "
                             "the feature map would overflow to infinity. Use smaller numbers.")
        self.kernel = kernel
        with np.errstate(over="ignore", invalid="ignore"):
            fmap = conv2d(self.image, kernel.astype(np.float32)) + np.float32(self.bias.value)
            if self.relu.value:
                fmap = np.maximum(fmap, 0)
        if not np.all(np.isfinite(fmap)):
            raise ValueError("the feature map overflows float32 (some responses are infinite or NaN): the kernel "
                             f"values are too large (largest |value| {np.abs(kernel).max():.3g}). Use smaller numbers.")
        self.feature_map = fmap
        small = fit_side(fmap, self.SIDE)                # the pixels the screen shows; coordinates stay in pixels
        # Saturating at the 99.5th percentile of |response|: a few extreme pixels would otherwise wash
        # everything else out (to white in the signed map, to black in the gray one).
        lim = float(np.percentile(np.abs(small), 99.5)) or float(np.abs(fmap).max()) or 1.0
        self.color_limit = lim
        self.signed = not cannot_be_negative(self.image, kernel, self.bias.value, self.relu.value)
        (cmap, _), low = (SIGNED, -lim) if self.signed else (NON_NEGATIVE, 0.0)
        self.map_colorbar = self.signed_colorbar if self.signed else self.gray_colorbar
        self.signed_colorbar.widget.layout.display = None if self.signed else "none"
        self.gray_colorbar.widget.layout.display = "none" if self.signed else None
        self.map_colorbar.set_limits(low, lim)
        self.map.show(small, cmap, low, lim)
        b = self.bias.value
        what = f"conv {'-' if b < 0 else '+'} {abs(b):g}"
        what = f"relu({what})" if self.relu.value else what
        self.map.title = (f"{what}: {fmap.shape[0]}x{fmap.shape[1]}, "
                          f"min {fmap.min():.4g}, max {fmap.max():.4g}")
