"""Gradient checks: compare a backward pass with centred finite differences.

    df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / (2h)       error O(h^2)

In float64 with h = 1e-5, a correct backward pass agrees to a relative error around 1e-8 or better; a
wrong one is off by 1e-2 or more. (In float32 the rounding of f swamps the difference: check in float64.)
"""
from __future__ import annotations

import numpy as np

__all__ = ["rel_error", "numerical_gradient", "check_layer", "check_model"]


def rel_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|), a scale-free distance between two arrays (0 when equal)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}.")
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The gradient of the scalar function ``f()`` with respect to ``x``, entry by entry.

    ``f`` takes no argument: it reads ``x``, which this function changes in place (and restores).
    """
    if x.dtype != np.float64:
        raise TypeError(f"check gradients in float64 (got {x.dtype}): float32 rounding hides the differences.")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def check_layer(layer, x: np.ndarray, rng=None, h: float = 1e-5) -> dict[str, float]:
    """Relative errors of a layer's backward pass for its input and each of its parameters.

    Uses the scalar L = sum(forward(x) * R) with a fixed random R, so dL/d(output) = R.
    Returns {"x": error, "W": error, ...}; a block's parameters by their paths,
    e.g. "body.0.W". Layers with randomness (Dropout) must fix it first.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    layer.astype(np.float64)
    x = np.array(x, dtype=np.float64)
    out = layer.forward(x, training=True)
    R = rng.standard_normal(out.shape)
    errors = {}
    layer.forward(x, training=True)
    dx = layer.backward(R.copy())
    named = _named_parameters(layer)
    analytic = {"x": dx, **{key: inner.grads[k].copy() for key, (inner, k) in named.items()}}

    def loss():
        return float(np.sum(layer.forward(x, training=True) * R))

    errors["x"] = rel_error(analytic["x"], numerical_gradient(loss, x, h))
    for key, (inner, k) in named.items():
        errors[key] = rel_error(analytic[key], numerical_gradient(loss, inner.params[k], h))
    return errors


def _named_parameters(model) -> dict:
    """path -> (layer, name) for every parameter of ``model``, found by the tree walk (``Layer.walk``)."""
    return {(f"{path}.{k}" if path else k): (layer, k) for path, layer in model.walk() for k in layer.params}


def check_model(model, loss_fn, x: np.ndarray, labels: np.ndarray, h: float = 1e-5) -> dict[str, float]:
    """Relative error of every parameter gradient of a whole network with its loss, in float64."""
    model.astype(np.float64)
    x = np.array(x, dtype=np.float64)
    loss_fn.forward(model.forward(x, training=True), labels)
    model.backward(loss_fn.backward())
    named = _named_parameters(model)
    analytic = {key: layer.grads[k].copy() for key, (layer, k) in named.items()}

    def loss():
        return loss_fn.forward(model.forward(x, training=True), labels)

    return {key: rel_error(analytic[key], numerical_gradient(loss, layer.params[k], h))
            for key, (layer, k) in named.items()}
