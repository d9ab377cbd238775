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


def test_float32_weights_get_the_update_written_out_in_float32_on_every_core():
    """Adam's update is done in place, in the weights' dtype, a part of the values on each core
    (helpers.fast_nn.adam_update): the same numbers as the three lines of the docstring in float32, for a
    parameter large enough to be shared out and for one that is not C-contiguous (updated as it is), to
    float32 rounding (the order of the operations differs by a few last bits)."""
    rng = np.random.default_rng(1)
    for w0 in (rng.standard_normal((300, 700)).astype(np.float32),
               np.asfortranarray(rng.standard_normal((40, 30)).astype(np.float32))):
        grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]
        layer = _Layer(w0.copy(order="K"))
        opt = Adam([(layer, "W")], lr=1e-3)
        w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
        b1, b2 = np.float32(0.9), np.float32(0.999)
        for t, g in enumerate(grads, start=1):
            layer.grads["W"][...] = g
            opt.step()
            step = np.float32(1e-3 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t))
            eps_hat = np.float32(1e-7 * np.sqrt(1 - 0.999**t))
            m = b1 * m + (np.float32(1) - b1) * g
            v = b2 * v + (np.float32(1) - b2) * (g * g)
            w = w - (m * step) / (np.sqrt(v) + eps_hat)
        assert layer.params["W"].dtype == np.float32
        np.testing.assert_allclose(layer.params["W"], w, rtol=1e-6, atol=1e-7)    # float32 rounding
