"""Images as numpy arrays: the sample photo, reading files, grayscale, normalising, BGR and RGB.

Conventions used throughout the course:

- a grayscale image is (H, W); a colour image is (H, W, 3) in RGB order (what matplotlib shows);
- pixels are uint8 0..255 as loaded (0 black, 255 white), or float32 0..1 after :func:`normalize`.

OpenCV reads files in BGR order. :func:`load_image` converts, so everything in this package is RGB.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "sample_photo", "load_image", "to_gray", "gray_mean", "normalize", "bgr_to_rgb", "rgb_to_bgr",
    "GRAY_WEIGHTS", "data_dir", "load_sample",
]

#: ITU-R BT.601 luma weights for R, G, B: what cv2.COLOR_RGB2GRAY uses. Green counts most because our
#: eyes are most sensitive to it.
GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114])


def data_dir() -> Path:
    """The folder with the course's small data files (data/ in the project)."""
    candidate = Path(__file__).resolve().parent.parent / "data"
    if (candidate / "README.md").exists():
        return candidate
    raise FileNotFoundError(
        "cannot find the course's data/ folder next to the helpers package. Install the course from its "
        "repository (pip install -e . in a clone) so that data/ is present."
    )


def load_sample(name: str) -> dict[str, np.ndarray]:
    """Load ``data/<name>.npz`` (e.g. "mnist_sample") as a dict of arrays. Never unpickles."""
    path = data_dir() / f"{name}.npz"
    if not path.exists():
        available = sorted(p.stem for p in data_dir().glob("*.npz"))
        raise FileNotFoundError(f"no sample named {name!r} in {path.parent}; available: {available}")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def sample_photo(gray: bool = False) -> np.ndarray:
    """Grace Hopper's portrait, shipped with matplotlib: (600, 512, 3) uint8 RGB, or (600, 512) if gray."""
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = np.asarray(matplotlib.image.imread(f, format="jpg"))
    rgb = np.ascontiguousarray(rgb[..., :3])
    return to_gray(rgb) if gray else rgb


def load_image(path, gray: bool = False, max_side: int | None = None) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3), or (H, W) if ``gray``; optionally shrink it.

    ``path``: a file name, or the file's bytes (what an upload widget gives). ``max_side`` scales the
    image down (keeping its shape) so its longer side is at most that many pixels: a phone photo of
    4000 x 3000 would make every slider move slow. A file that is empty, damaged or not an image raises
    ValueError with the reason, so a caller can catch that one exception and show the message.
    """
    import cv2

    if max_side is not None:
        if isinstance(max_side, bool) or not isinstance(max_side, (int, np.integer)):
            raise TypeError(f"max_side must be a whole number of pixels (or None), not {max_side!r}.")
        if max_side < 1:
            raise ValueError(f"max_side={max_side}: the longer side must keep at least 1 pixel; pass None to "
                             "keep the image's size.")
    if isinstance(path, np.ndarray):
        raise TypeError("load_image reads an image file (a path or its bytes); this is already an array of "
                        f"pixels, shape {path.shape}: use it as it is.")
    if isinstance(path, (bytes, bytearray, memoryview)):
        raw, what = bytes(path), "the image bytes"
    else:
        raw, what = Path(path).expanduser().read_bytes(), str(path)
    if not raw:
        raise ValueError(f"{what}: the file is empty (0 bytes), so there is no image in it. If it came from an "
                         "upload, the upload may have failed: try again, or load the file from disk by its path.")
    try:
        bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:                     # e.g. more pixels than OpenCV agrees to decode
        reason = getattr(exc, "err", None) or str(exc)
        raise ValueError(f"could not decode {what} ({len(raw):,} bytes) as an image: OpenCV refused it ({reason}). "
                         "An image of more than about a billion pixels is refused like this: shrink it first.") from exc
    if bgr is None:
        raise ValueError(
            f"could not decode {what} ({len(raw):,} bytes, starting {raw[:8]!r}) as an image: it is not a "
            "format OpenCV reads, or it is damaged or cut short. Use a PNG or JPEG file."
        )
    rgb = bgr_to_rgb(bgr)
    if max_side is not None and max(rgb.shape[:2]) > max_side:
        scale = max_side / max(rgb.shape[:2])
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return to_gray(rgb) if gray else rgb


def bgr_to_rgb(img: np.ndarray) -> np.ndarray:
    """Swap the first and last channel: OpenCV's BGR order to matplotlib's RGB (and back)."""
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected a colour image (H, W, 3), got shape {img.shape}.")
    return np.ascontiguousarray(img[..., ::-1])


rgb_to_bgr = bgr_to_rgb


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) -> gray (H, W), weighted by :data:`GRAY_WEIGHTS` (as cv2.COLOR_RGB2GRAY).

    uint8 in gives uint8 out (rounded, as OpenCV does); floats stay floats.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return rgb
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {rgb.shape}.")
    gray = rgb @ GRAY_WEIGHTS
    if rgb.dtype == np.uint8:
        return np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    return gray.astype(np.result_type(rgb.dtype, np.float32), copy=False)


def gray_mean(rgb: np.ndarray) -> np.ndarray:
    """The naive grayscale: the plain mean of R, G and B (compare with :func:`to_gray`)."""
    return np.asarray(rgb, dtype=np.float64).mean(axis=2)


def normalize(img: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 0..1, the scale networks train best on. Floats are assumed already 0..1."""
    img = np.asarray(img)
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    if np.issubdtype(img.dtype, np.floating):
        return img.astype(np.float32, copy=False)
    raise TypeError(f"normalize expects uint8 (0..255) or float images, got {img.dtype}.")
