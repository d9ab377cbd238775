"""Where the network looks, by class: class activation maps (CAM) and Grad-CAM (notebook 11).

    last_feature_maps(model, input_shape)   the index of the last layer whose output is feature maps
    grad_cam(model, x, classes, layer)      a layer's maps, weighted by the mean gradient of a class score
    cam(model, x, classes)                  the class activation map of a network whose global average
                                            pooling feeds its Dense classifier directly
    upsample(maps, size)                    coarse maps (N, h, w) -> (N, H, W), bilinear, to lay on the image

**Grad-CAM** (Selvaraju et al., 2017). Take the feature maps A (K channels of h x w) of one layer and the
score z_c of class c. Each channel's weight is the mean of the gradient over its positions, and the map is
the weighted sum of the channels, negative parts cut off:

    alpha_k = (1 / hw) sum_ij dz_c / dA_k[i, j]          Grad-CAM_c = ReLU(sum_k alpha_k A_k)

**CAM** (Zhou et al., 2016) needs a network that ends in global average pooling and one Dense layer:
z_c = sum_k w[k, c] mean_ij A_k[i, j] + b_c. The same weights applied to the maps themselves,

    CAM_c = sum_k w[k, c] A_k           (its mean over the positions, plus b_c, is the score z_c)

say where in the image the score comes from. **Why they agree there**: on such a network
dz_c / dA_k[i, j] = w[k, c] / (hw) at every position, so alpha_k = w[k, c] / (hw) and

    Grad-CAM_c = ReLU(CAM_c) / (hw)

the same map up to the positive scale 1 / (hw), exactly. Grad-CAM is CAM for networks of any head.

The maps have the size of the chosen layer's output: for notebook 07's CNN and 10's ResNet the last feature
maps are 7x7, each position standing for a 4x4 block of the 28x28 image, so they are coarse by
construction. The gradients come from the layers' own backward passes, in inference behaviour (Dropout
passes everything, batch normalisation uses its running statistics), as in helpers.interpret.
"""
from __future__ import annotations

import numpy as np

from ._arguments import class_indices, positive_int
from .interpret import _as_batch, _check_class_range, _check_layer_index, feature_maps
from .nn import Dense, GlobalAvgPool2D, Sequential

__all__ = ["last_feature_maps", "grad_cam", "cam", "upsample"]


def _check_model(model) -> None:
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a helpers.nn.Sequential, got {type(model).__name__}.")


def last_feature_maps(model: Sequential, input_shape=(1, 1, 28, 28)) -> int:
    """The index in ``model.layers`` of the last layer whose output is feature maps (N, K, h, w): the
    layer right before Flatten or global average pooling. A residual block counts as one layer (its output
    is the stage's). Found from the shapes alone (``model.shapes``), for images of ``input_shape``."""
    _check_model(model)
    spatial = [i for i, (_, shape, _) in enumerate(model.shapes(tuple(input_shape))) if len(shape) == 4]
    if not spatial:
        raise ValueError("the model has no layer whose output is feature maps (N, K, h, w): Grad-CAM needs one.")
    return spatial[-1]


def grad_cam(model: Sequential, x, classes, layer: int | None = None, relu: bool = True,
             batch_size: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grad-CAM of class ``classes`` for each image of ``x`` at ``model.layers[layer]``'s output.

    ``x`` (N, C, H, W) (or uint8 (N, H, W)); ``classes`` one int or (N,) ints; ``layer`` an index into
    ``model.layers`` whose output is feature maps (default: :func:`last_feature_maps`). Returns

    - ``maps`` (N, h, w): sum_k alpha_k A_k, through ReLU unless ``relu=False`` (then signed);
    - ``weights`` (N, K): alpha_k, the mean over the positions of d score / d A_k;
    - ``scores`` (N, classes): the raw scores (before softmax).

    One forward pass, kept up to the layer's output A (N, K, h, w), then one backward pass from the class
    score down to A only: the layers before the chosen one are not differentiated. ``batch_size`` images
    at a time, so that the layers' saved inputs for the backward pass stay small (a kernel's memory).
    """
    _check_model(model)
    x = _as_batch(x)
    layer = last_feature_maps(model, (1,) + x.shape[1:]) if layer is None else _check_layer_index(model, layer)
    c = class_indices(classes, len(x), "classes")
    batch_size = positive_int(batch_size, "batch_size")
    parts = [_grad_cam_batch(model, x[i:i + batch_size], c[i:i + batch_size], layer)
             for i in range(0, len(x), batch_size)]
    maps, weights, scores = (np.concatenate(p) for p in zip(*parts))
    model._forget()                          # the maps are made: the layers need not keep their inputs
    return (np.maximum(maps, 0) if relu else maps), weights, scores


def _forward(layers, x: np.ndarray) -> np.ndarray:
    """x through ``layers`` in inference behaviour; each layer keeps its input for a backward pass."""
    for lay in layers:
        x = lay.forward(x, training=False)
    return np.array(x)


def _grad_cam_batch(model: Sequential, x: np.ndarray, c: np.ndarray, layer: int):
    """grad_cam for one batch: (signed maps (N, h, w), weights (N, K), scores (N, classes))."""
    A = _forward(model.layers[:layer + 1], x)
    if A.ndim != 4:
        raise ValueError(f"layer {layer} ({model.layers[layer].label}) outputs shape {A.shape}, not feature maps "
                         f"(N, K, h, w): choose a layer before Flatten or global average pooling, e.g. "
                         f"layer={last_feature_maps(model, (1,) + x.shape[1:])}.")
    head = model.layers[layer + 1:]
    scores = _forward(head, A)
    _check_class_range(c, scores.shape[1], "classes")
    g = np.zeros_like(scores)
    g[np.arange(len(x)), c] = 1.0                            # d score_c / d scores: one-hot
    for lay in reversed(head):
        g = lay.backward(g, input_grad=True)
    weights = np.asarray(g).mean(axis=(2, 3))                # (N, K): alpha_k
    return np.einsum("nk,nkhw->nhw", weights, A), weights, scores


def cam(model: Sequential, x, classes, batch_size: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The class activation map (CAM) of class ``classes`` for each image of ``x`` (N, C, H, W).

    ``model`` must end in GlobalAvgPool2D followed directly by its Dense classifier (weights W (K, classes),
    bias b). Returns ``maps`` (N, h, w) = sum_k W[k, c] A_k, signed (no ReLU: the mean of a map plus b[c] is
    the score of class c), with A (N, K, h, w) the pooling's input; and ``scores`` (N, classes).
    """
    _check_model(model)
    layers = model.layers
    if len(layers) < 3 or not isinstance(layers[-2], GlobalAvgPool2D) or not isinstance(layers[-1], Dense):
        tail = ", ".join(lay.label for lay in layers[-2:])
        raise ValueError(f"CAM needs a network whose global average pooling feeds its Dense classifier directly "
                         f"(..., GlobalAvgPool2D, Dense); this one ends in {tail}. grad_cam works for any network.")
    x = _as_batch(x)
    c = class_indices(classes, len(x), "classes")
    A = feature_maps(model, x, [len(layers) - 3], batch_size)[0][1]   # (N, K, h, w): what the pooling averages
    scores = np.array(layers[-1].forward(layers[-2].forward(A, training=False), training=False))
    _check_class_range(c, scores.shape[1], "classes")
    W = layers[-1].params["W"]                               # (K, classes)
    model._forget()
    return np.einsum("nk,nkhw->nhw", W[:, c].T, A), scores


def upsample(maps, size) -> np.ndarray:
    """Coarse maps (N, h, w) -> (N, H, W) by bilinear interpolation (OpenCV's ``resize``), ``size`` = (H, W)
    or one int. For showing a 7x7 map over a 28x28 image, and for ranking the image's pixels by it (the
    deletion test): an upsampled map is smooth, so neighbouring pixels of one position get close values."""
    import cv2  # only needed here

    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (N, h, w), got shape {maps.shape}. For one map use maps[None].")
    H, W = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    H, W = positive_int(H, "size"), positive_int(W, "size")
    out = np.empty((len(maps), H, W), dtype=np.float32)
    for n, m in enumerate(maps.astype(np.float32)):
        out[n] = cv2.resize(m, (W, H), interpolation=cv2.INTER_LINEAR)
    return out
