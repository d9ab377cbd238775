"""Looking inside a trained network: what each layer computes, and what the class scores respond to.

Notebook 11 uses these on the course's own trained CNN::

    feature_maps(model, x)                    every layer's output for a batch of images
    receptive_field(model, layer)             which input pixels one position of a layer's output sees
    top_patches(model, images, layer, k)      the k input patches that excite each channel most
    occlusion(model, image, target)           the drop in the class probability under a sliding grey square
    input_gradient(model, x, classes)         d(class score) / d(input pixels): the backward pass, run to the image
    saliency_map(grad)                        |gradient|, the largest over the colour channels
    smoothgrad(model, x, classes)             the gradient averaged over noisy copies of the image
    class_model(model, target)                an input made by gradient ascent on one class score

Shapes: images (N, C, H, W) float 0..1 (uint8 (N, H, W) is accepted and scaled, like
helpers.training.prepare); scores (N, classes). ``model`` is a helpers.nn.Sequential.

The gradients come from the layers' own backward passes (notebook 07), in inference behaviour: a
Dropout layer passes everything through and batch normalisation uses its running statistics, as they
do at test time; the model's layers are left as they were.
"""
from __future__ import annotations

import numpy as np

from ._arguments import class_indices, positive_int, real_number
from .conv import conv2d
from .kernels import gaussian
from .losses import softmax
from .nn import Branches, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, MaxPool2D, ReLU, Residual, Sequential

__all__ = [
    "feature_maps", "receptive_field", "top_activations", "top_patches", "occlusion", "occlusion_per_pixel",
    "input_gradient", "saliency_map", "smoothgrad", "class_model",
]


# -- small shared pieces ---------------------------------------------------------------------------------
def _as_batch(x) -> np.ndarray:
    """uint8 (N, H, W) or (N, C, H, W) -> float32 0..1; float (N, C, H, W) unchanged (as float32)."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) * np.float32(1 / 255)
    elif not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"images must be uint8 0..255 or floats 0..1, got {x.dtype}.")
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise ValueError(f"expected a batch of images (N, C, H, W) or (N, H, W), got shape {x.shape}. "
                         "For one image use x[None].")
    if len(x) == 0:
        raise ValueError(f"the batch holds no images (shape {x.shape}): give at least one.")
    return x


def _check_layer_index(model, layer: int) -> int:
    n = len(model.layers)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not -n <= layer < n:
        raise ValueError(f"layer must be an index into model.layers (0..{n - 1}), got {layer!r}.")
    return int(layer) % n


def _check_class_range(c: np.ndarray, n_classes: int, name: str) -> None:
    """Refuse classes outside 0..n_classes - 1 (a negative index would silently pick a class from the end)."""
    if c.size and (c.min() < 0 or c.max() >= n_classes):
        bad = c[(c < 0) | (c >= n_classes)][0]
        raise ValueError(f"{name} must be a class index 0..{n_classes - 1} (the model has {n_classes} scores), "
                         f"got {bad}.")


# -- feature maps and receptive fields --------------------------------------------------------------------
def feature_maps(model: Sequential, x, layers=None, batch_size: int = 100) -> list[tuple[str, np.ndarray]]:
    """Run ``x`` (N, C, H, W) through the model in inference mode, keeping the layers' outputs.

    ``layers``: the indices of the layers to keep (all by default); the pass stops after the last one.
    Returns [(layer label, output)] in that order: (N, F, H', W') for the convolutional part, (N, D)
    after Flatten. Copies, so later passes do not overwrite them. ``batch_size`` images at a time, and the
    layers keep nothing for a backward pass afterwards: 1,000 images at once held 180 MB more than the
    outputs asked for in notebook 11.
    """
    x = _as_batch(x)
    batch_size = positive_int(batch_size, "batch_size")
    if layers is None:
        wanted = range(len(model.layers))
    else:
        if isinstance(layers, (int, np.integer)) or not hasattr(layers, "__iter__"):
            raise TypeError(f"layers must be a list of layer indices, e.g. [{layers!r}], got {layers!r}.")
        wanted = [_check_layer_index(model, i) for i in layers]
        if not wanted:
            raise ValueError("layers is empty: give the indices of the layers to keep, or None for all of them.")
    keep, out = set(wanted), {}
    for start in range(0, len(x), batch_size):
        a = x[start:start + batch_size]
        for i, layer in enumerate(model.layers[:max(keep) + 1]):
            a = layer.forward(a, training=False)
            if i in keep:
                if i not in out:               # the whole output, filled a batch at a time
                    out[i] = np.empty((len(x),) + a.shape[1:], dtype=a.dtype)
                out[i][start:start + len(a)] = a
    model._forget()                            # the maps are copied out: nothing to differentiate
    return [(model.layers[i].label, out[i]) for i in wanted]


def receptive_field(model: Sequential, layer: int) -> tuple[int, int, int]:
    """(size, jump, start) of one position of ``model.layers[layer]``'s output, in input pixels.

    Position (i, j) of that output sees input rows ``start + i * jump`` to ``start + i * jump + size - 1``
    (the same for columns); ``start`` is negative when padding puts part of the window outside the
    image. Layer by layer: size += (k - 1) * jump;  start -= padding * jump;  jump *= stride. A residual
    block sees what its body or its shortcut sees; a multi-branch block (Branches) what its widest branch
    sees; a block of layers in a row (DepthwiseSeparable) what its last layer sees.
    """
    layer = _check_layer_index(model, layer)
    return _field(model.layers[:layer + 1], (1, 1, 0), layer)


def _field(layers, field, layer):
    size, jump, start = field
    for lay in layers:
        if isinstance(lay, (Residual, Branches)):
            # the sum sees what either path sees: the body's field, which contains the shortcut's
            # (identity, or a 1x1 convolution with the same stride); compute both and take their span.
            # Concatenated branches likewise: the block's output, all channels, sees the widest branch's field
            paths = [_field(path, (size, jump, start), layer) for path in
                     ((lay.body, lay.shortcut) if isinstance(lay, Residual) else lay.branches)]
            lo = min(st for _, _, st in paths)
            hi = max(st + sz for sz, _, st in paths)
            size, jump, start = hi - lo, paths[0][1], lo
            continue
        if isinstance(lay, Sequential):            # a block of layers in a row (DepthwiseSeparable)
            size, jump, start = _field(lay, (size, jump, start), layer)
            continue
        if isinstance(lay, Conv2D):
            (k, kw), (s, sw), (p, pw) = lay.kernel_size, lay.stride, lay.padding
            if (k, s, p) != (kw, sw, pw):
                raise ValueError("receptive_field handles square kernels, strides and padding only.")
        elif isinstance(lay, MaxPool2D):
            k, s, p = lay.size, lay.stride, lay.padding
        elif isinstance(lay, (ReLU, Dropout)) or "running_var" in getattr(lay, "buffers", {}):
            continue                               # element-wise (batch normalisation too): the same field
        elif isinstance(lay, (Flatten, Dense, GlobalAvgPool2D)):
            raise ValueError(f"layer {layer} comes after {lay.label}: each of its outputs sees the whole image.")
        else:
            raise ValueError(f"receptive_field does not know how {lay.label} changes the field.")
        size += (k - 1) * jump
        start -= p * jump
        jump *= s
    return size, jump, start


def top_activations(maps: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each channel of ``maps`` (N, C, H, W), the k images that excite it most, at most one place each.

    Each image counts once per channel, at its strongest position (otherwise the top k would be k
    neighbouring positions of the same image). Returns ``where`` (C, k, 3) int, rows (image, row, col)
    strongest first, and ``values`` (C, k), the activations there.
    """
    maps = np.asarray(maps)
    if maps.ndim != 4:
        raise ValueError(f"maps must be feature maps (N, C, H, W), got shape {maps.shape}.")
    N, C, H, W = maps.shape
    if not 1 <= k <= N:
        raise ValueError(f"k must be between 1 and the number of images ({N}), got {k}.")
    flat = maps.reshape(N, C, H * W)
    best_pos = flat.argmax(axis=2)                                     # (N, C): strongest place per image
    best_val = np.take_along_axis(flat, best_pos[..., None], axis=2)[..., 0]
    order = np.argsort(-best_val, axis=0, kind="stable")[:k].T         # (C, k) images, strongest first
    pos = np.take_along_axis(best_pos.T, order, axis=1)
    where = np.stack([order, pos // W, pos % W], axis=-1)
    values = np.take_along_axis(best_val.T, order, axis=1)
    return where, values


def top_patches(model: Sequential, images, layer: int, k: int = 9, maps: np.ndarray | None = None):
    """The input patches behind the k strongest activations of every channel of ``model.layers[layer]``.

    ``images`` (N, C, H, W) (or uint8 (N, H, W)); ``maps`` that layer's output for them, if already
    computed. Returns ``patches`` (F, k, C, size, size), float, NaN where the receptive field hangs
    over the image's edge; ``where`` (F, k, 3) and ``values`` (F, k) from :func:`top_activations`;
    and the field ``(size, jump, start)`` from :func:`receptive_field`.
    """
    x = _as_batch(images)
    layer = _check_layer_index(model, layer)
    size, jump, start = receptive_field(model, layer)
    if maps is None:
        maps = feature_maps(model, x, [layer])[0][1]
    where, values = top_activations(maps, k)
    N, C, H, W = x.shape
    # pad by the field size so that every window, even one hanging over the edge, is a plain slice
    pad = size
    padded = np.full((N, C, H + 2 * pad, W + 2 * pad), np.nan, dtype=np.float32)
    padded[:, :, pad:pad + H, pad:pad + W] = x
    F = where.shape[0]
    patches = np.empty((F, k, C, size, size), dtype=np.float32)
    for f in range(F):
        for j, (n, r, c) in enumerate(where[f]):
            top, left = start + r * jump + pad, start + c * jump + pad
            patches[f, j] = padded[n, :, top:top + size, left:left + size]
    return patches, where, values, (size, jump, start)


# -- occlusion ------------------------------------------------------------------------------------------
def occlusion(model: Sequential, image, target: int, size: int = 6, stride: int = 2, fill: float = 0.5,
              batch_size: int = 256) -> tuple[np.ndarray, float]:
    """Slide a ``size`` x ``size`` square of value ``fill`` over ``image`` (C, H, W); at each place, how much
    does the probability of class ``target`` fall?

    Returns ``drops`` (P, Q), P = floor((H - size) / stride) + 1 (Q likewise): drops[i, j] = p(target on
    the image) - p(target with rows i*stride .. i*stride+size-1 and the same columns covered); and the
    unoccluded probability. Positive = the covered pixels were evidence for the class.
    """
    x = _as_batch(np.asarray(image)[None])[0]
    C, H, W = x.shape
    size, stride = positive_int(size, "size"), positive_int(stride, "stride")
    batch_size, fill = positive_int(batch_size, "batch_size"), real_number(fill, "fill")
    if size > min(H, W):
        raise ValueError(f"size must be 1..{min(H, W)} (the square must fit in the {H}x{W} image), got {size}.")
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target must be one class index (an int), got {target!r}.")
    probs0 = softmax(model.forward(x[None], training=False))[0]
    _check_class_range(np.array([target]), len(probs0), "target")
    p0 = float(probs0[target])
    rows = range(0, H - size + 1, stride)
    cols = range(0, W - size + 1, stride)
    places = [(r, c) for r in rows for c in cols]
    probs = np.empty(len(places))
    for b in range(0, len(places), batch_size):
        chunk = places[b:b + batch_size]
        batch = np.repeat(x[None], len(chunk), axis=0)
        for i, (r, c) in enumerate(chunk):
            batch[i, :, r:r + size, c:c + size] = fill
        probs[b:b + len(chunk)] = softmax(model.forward(batch, training=False))[:, target]
    return (p0 - probs).reshape(len(rows), len(cols)), p0


def occlusion_per_pixel(drops: np.ndarray, image_hw: tuple[int, int], size: int, stride: int) -> np.ndarray:
    """Occlusion ``drops`` (P, Q) -> (H, W): each pixel gets the mean drop of the squares that covered it
    (NaN where none did, e.g. a border strip the stride skipped)."""
    H, W = image_hw
    total, count = np.zeros((H, W)), np.zeros((H, W))
    for i in range(drops.shape[0]):
        for j in range(drops.shape[1]):
            r, c = i * stride, j * stride
            total[r:r + size, c:c + size] += drops[i, j]
            count[r:r + size, c:c + size] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# -- gradients with respect to the input ----------------------------------------------------------------
def input_gradient(model: Sequential, x, classes, batch_size: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The gradient of each image's class score with respect to its pixels.

    ``x`` (N, C, H, W); ``classes`` one int or (N,) ints. Returns ``grad`` (N, C, H, W), grad[n] =
    d scores[n, classes[n]] / d x[n], and ``scores`` (N, classes). The score is the raw output before
    softmax, as usual for saliency: the probability also falls when other classes rise.

    How: a forward pass in evaluation mode (Dropout passes everything, batch normalisation uses its
    running statistics), then dL/d(scores) is one-hot on each image's class and the backward pass,
    which differentiates the mode its forward pass ran in, runs down to the pixels. ``batch_size`` images
    at a time (each image's gradient is its own), and the layers keep nothing afterwards: 200 images of
    notebook 10's ResNet at once held over 100 MB more.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a helpers.nn.Sequential, got {type(model).__name__}.")
    x = _as_batch(x)
    c = class_indices(classes, len(x), "classes")
    batch_size = positive_int(batch_size, "batch_size")
    grads, scores = [], []
    for i in range(0, len(x), batch_size):
        s = np.array(model._chain(x[i:i + batch_size], training=False))   # one pass: backward follows
        _check_class_range(c, s.shape[1], "classes")
        g = np.zeros_like(s)
        g[np.arange(len(s)), c[i:i + batch_size]] = 1.0
        grads.append(np.array(model.backward(g, input_grad=True)))
        scores.append(s)
    model._forget()
    return np.concatenate(grads), np.concatenate(scores)


def saliency_map(grad: np.ndarray) -> np.ndarray:
    """Gradients (N, C, H, W) -> saliency (N, H, W): |gradient|, the largest over the channels."""
    grad = np.asarray(grad)
    if grad.ndim != 4:
        raise ValueError(f"grad must be (N, C, H, W), got shape {grad.shape}.")
    return np.abs(grad).max(axis=1)


def smoothgrad(model: Sequential, x, classes, samples: int = 32, noise: float = 0.15, rng=0) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): the gradient averaged over ``samples`` noisy copies of each image.

    ``noise`` is the standard deviation of the Gaussian noise as a fraction of the image's value range
    (max - min). Returns (N, C, H, W), like :func:`input_gradient`. The raw gradient jumps from pixel to
    pixel (every ReLU and max-pool switch makes it piecewise); averaging over nearby inputs keeps what
    is consistent.
    """
    x = _as_batch(x)
    samples, noise = positive_int(samples, "samples"), real_number(noise, "noise")
    if noise < 0:
        raise ValueError(f"noise must be 0 or more (a standard deviation), got {noise}.")
    rng = np.random.default_rng(rng)
    c = class_indices(classes, len(x), "classes")
    spread = (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))[:, None, None, None]
    total = np.zeros(x.shape, dtype=np.float64)
    for _ in range(samples):
        noisy = x + (noise * spread * rng.standard_normal(x.shape)).astype(x.dtype)
        total += input_gradient(model, noisy, c)[0]
    return (total / samples).astype(x.dtype)


# -- class-model visualisation ----------------------------------------------------------------------------
def class_model(model: Sequential, target: int, shape=(1, 28, 28), steps: int = 150, lr: float = 0.02,
                l2: float = 0.1, blur_every: int = 2, blur_sigma: float = 1.0, start: float = 0.0,
                clip: tuple[float, float] | None = (0.0, 1.0), rng=0) -> tuple[np.ndarray, list[float]]:
    """Gradient ascent on the input for one class (Simonyan et al., 2014), with regularisation.

    Maximises  score[target](x) - l2 * ||x||^2  over the image x of ``shape`` (C, H, W), starting from
    ``start`` plus a little seeded noise: x += lr * gradient / (its mean absolute value) each step.
    Regularisers keep the picture from being mostly high-frequency noise: the L2 penalty, a Gaussian
    blur every ``blur_every`` steps (0 turns it off), and clipping to the pixel range ``clip`` (None
    turns it off). Returns the image (C, H, W) and the target score after each step.
    """
    if steps < 0 or lr <= 0:
        raise ValueError(f"steps must be 0 or more and lr positive, got {steps}, {lr}.")
    rng = np.random.default_rng(rng)
    C, H, W = shape
    x = (start + 0.01 * rng.standard_normal((1, C, H, W))).astype(np.float32)
    kernel = gaussian(3, blur_sigma) if blur_every else None
    trace = []
    for step in range(1, steps + 1):
        g, scores = input_gradient(model, x, target)
        trace.append(float(scores[0, target]))
        g = g - 2 * l2 * x                                   # the gradient of the L2 penalty
        x = x + lr * g / (np.abs(g).mean() + 1e-12)          # normalised step: the same size whatever the scale
        if kernel is not None and step % blur_every == 0:
            x = np.stack([conv2d(x[0, ch], kernel, padding="same") for ch in range(C)])[None].astype(np.float32)
        if clip is not None:
            x = np.clip(x, *clip)
    return x[0], trace
