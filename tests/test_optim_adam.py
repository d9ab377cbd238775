"""helpers.optim.Adam: the update its docstring states, and the defaults it says it has."""
import inspect
import re

import numpy as np

from helpers.optim import Adam


class _Layer:
    def __init__(self, w):
        self.params = {"W": w}
        self.grads = {"W": np.zeros_like(w)}


def _reference(w, grads, lr, b1, b2, eps, keras=False):
    """Adam written out step by step: Algorithm 1 of the paper (eps added to sqrt(v_hat)), as PyTorch does;
    or Keras' form (eps added to the uncorrected sqrt(v))."""
    w, m, v = w.astype(np.float64), np.zeros_like(w, np.float64), np.zeros_like(w, np.float64)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if keras:
            w = w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        else:
            w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


def test_the_defaults_are_the_ones_the_docstring_states():
    defaults = {k: p.default for k, p in inspect.signature(Adam).parameters.items() if p.default is not p.empty}
    doc = Adam.__doc__
    stated = dict(re.findall(r"\b(lr|beta1|beta2|eps)=([0-9.e-]+)\b", doc.split("PyTorch use")[0]))
    assert {k: float(v) for k, v in stated.items()} == {k: defaults[k] for k in ("lr", "beta1", "beta2", "eps")}
    assert "eps=1e-7 by default, Keras' value; the paper and PyTorch use 1e-8" in doc


def test_adam_adds_eps_to_the_corrected_root_as_the_paper_and_pytorch_do():
    """With tiny gradients eps matters, and the two places to add it give different steps: ours is the
    paper's (and PyTorch's), to float32 precision; Keras' differs by far more than that."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(50).astype(np.float32)
    grads = [rng.standard_normal(50).astype(np.float32) * 1e-7 for _ in range(5)]
    layer = _Layer(w0.copy())
    opt = Adam([(layer, "W")], lr=1e-2, eps=1e-7)
    for g in grads:
        layer.grads["W"][...] = g
        opt.step()
    ours = _reference(w0, grads, 1e-2, 0.9, 0.999, 1e-7)
    keras = _reference(w0, grads, 1e-2, 0.9, 0.999, 1e-7, keras=True)
    np.testing.assert_allclose(layer.params["W"], ours, rtol=0, atol=1e-6)
    assert np.abs(keras - ours).max() > 1e-3
