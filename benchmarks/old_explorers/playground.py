"""KernelPlayground: edit a kernel, or pick a classic one, and see the feature map of a photo live (02).

The feature map is drawn with a diverging colour map centred on zero (blue negative, white zero, red
positive), so the negative responses that ReLU removes are visible. Upload your own picture with the
upload button (PNG or JPEG; it is made gray and shrunk to at most 512 pixels a side).
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from helpers.conv import conv2d
from helpers.images import load_image, sample_photo
from helpers.kernels import PRESETS

from ._base import Explorer
from .pixels import shrink_for_display

__all__ = ["KernelPlayground", "uploaded_files"]

CUSTOM = "custom (edit the numbers)"


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
    make = PRESETS[name]
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

    Controls (attributes): ``preset`` (Dropdown of helpers.kernels.PRESETS), ``size`` (3 or 5),
    ``cells`` (the size x size grid of FloatText, row by row), ``bias`` (FloatSlider), ``relu``
    (Checkbox), ``upload`` (FileUpload). Results: ``image`` (the gray picture, float), ``kernel`` and
    ``feature_map`` (= relu(helpers.conv2d(image, kernel) + bias) if relu is on).
    """

    png_compress_level = 3
    MAX = 5

    def __init__(self, image=None, preset="Sobel x (vertical edges)", size=3):
        super().__init__(figsize=(10, 4.2))
        self._hold = False
        self.image_name = "Grace Hopper (sample photo)" if image is None else "your image"
        self.image = np.asarray(sample_photo(gray=True) if image is None else image, dtype=np.float32)
        if self.image.ndim != 2:
            raise ValueError(f"the playground works on a gray image (H, W), got shape {self.image.shape}. "
                             "Use helpers.images.to_gray first.")
        self.preset = widgets.Dropdown(options=[*PRESETS, CUSTOM], value=preset, description="preset")
        self.size = widgets.Dropdown(options=[("3x3", 3), ("5x5", 5)], value=size, description="kernel")
        self.bias = widgets.FloatSlider(value=0.0, min=-100.0, max=100.0, step=5.0, description="bias b")
        self.relu = widgets.Checkbox(value=False, description="ReLU: max(0, \u00b7)")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your image")
        self.cells = [[widgets.FloatText(value=0.0, layout=widgets.Layout(width="70px")) for _ in range(self.MAX)]
                      for _ in range(self.MAX)]
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        for row in self.cells:
            for cell in row:
                cell.observe(self._cell_edited, names="value")
        self.preset.observe(self._preset_chosen, names="value")
        self.size.observe(self._preset_chosen, names="value")
        self.upload.observe(self._uploaded, names="value")

        self.ax_image, self.ax_map = self.figure.subplots(1, 2)
        small = shrink_for_display(self.image)
        self._shown_image = self.ax_image.imshow(small, cmap="gray", vmin=0, vmax=255)
        self._map = self.ax_map.imshow(np.zeros_like(small), cmap="RdBu_r", vmin=-1, vmax=1)
        self.figure.colorbar(self._map, ax=self.ax_map, shrink=0.9, extend="both",
                             label="response (blue < 0 < red; saturates)")
        for ax in (self.ax_image, self.ax_map):
            ax.set_xticks([])
            ax.set_yticks([])
        self._set_kernel(preset_kernel(preset, size))
        self._finish([
            widgets.HBox([self.preset, self.size]),
            widgets.HBox([self.grid, widgets.VBox([self.bias, self.relu, self.upload])]),
        ])
        self.figure.set_layout_engine(None)       # keep the positions found once: redraws draw once
        for c in (self.bias, self.relu):          # inside boxes, so _finish did not see them
            c.observe(self.update, names="value")

    # -- controls -------------------------------------------------------------------------------------
    def update(self, change=None):
        if not self._hold:
            super().update(change)

    def _set_kernel(self, kernel):
        """Show ``kernel`` in the grid (resizing it) without a redraw per cell."""
        n = kernel.shape[0]
        self._hold = True
        try:
            for r in range(n):
                for c in range(n):
                    self.cells[r][c].value = float(kernel[r, c])
            self.grid.children = [self.cells[r][c] for r in range(n) for c in range(n)]
            self.grid.layout.grid_template_columns = f"repeat({n}, 72px)"
        finally:
            self._hold = False

    def _preset_chosen(self, change=None):
        if self.preset.value == CUSTOM:
            if change is not None and change["owner"] is self.size:
                self._set_kernel(self._read_grid(self.size.value))
            self.update()
            return
        try:
            kernel = preset_kernel(self.preset.value, self.size.value)
        except ValueError as exc:
            self.message.value = f'<span style="color:#b00020">&#9888; {exc}</span>'
            return
        self._set_kernel(kernel)
        self.update()

    def _cell_edited(self, change):
        if self._hold:
            return
        if self.preset.value != CUSTOM:
            self._hold = True
            self.preset.value = CUSTOM             # the numbers are no longer the preset's
            self._hold = False
        self.update()

    def _uploaded(self, change):
        self.use_upload(change["new"])

    def use_upload(self, value):
        """Load the picture in a FileUpload value (ipywidgets 7 dict or 8 tuple) and redraw."""
        files = uploaded_files(value)
        if not files:
            return
        name, content = files[-1]
        try:
            image = load_image(content, gray=True, max_side=512)
        except ValueError as exc:
            self.message.value = f'<span style="color:#b00020">&#9888; {name}: {exc}</span>'
            return
        self.set_image(image, name)

    def set_image(self, image, name="your image"):
        """Use another gray image (H, W) and redraw."""
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 2:
            raise ValueError(f"expected a gray image (H, W), got shape {image.shape}.")
        self.image, self.image_name = image, name
        self._shown_image.set_data(shrink_for_display(image))
        self._shown_image.set_extent((-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5))
        self.update()

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
        self.kernel = kernel
        fmap = conv2d(self.image, kernel.astype(np.float32)) + np.float32(self.bias.value)
        if self.relu.value:
            fmap = np.maximum(fmap, 0)
        self.feature_map = fmap
        shown = shrink_for_display(fmap)                         # drawn smaller; coordinates stay in pixels
        # Colours centred on zero, saturating at the 99.5th percentile of |response|: a few extreme pixels
        # would otherwise wash everything else out to white.
        lim = float(np.percentile(np.abs(shown), 99.5)) or float(np.abs(fmap).max()) or 1.0
        self.color_limit = lim
        self._map.set_data(shown)
        self._map.set_extent((-0.5, fmap.shape[1] - 0.5, fmap.shape[0] - 0.5, -0.5))
        self._map.set_clim(-lim, lim)
        self.ax_image.set_title(f"{self.image_name}: {self.image.shape[0]}x{self.image.shape[1]}", fontsize=10)
        what = f"relu(conv + {self.bias.value:g})" if self.relu.value else f"conv + {self.bias.value:g}"
        self.ax_map.set_title(f"{what}: {fmap.shape[0]}x{fmap.shape[1]}, "
                              f"min {fmap.min():.4g}, max {fmap.max():.4g}", fontsize=10)
