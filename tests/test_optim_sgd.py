"""helpers.optim.SGD's momentum form (v = mu v - lr g, w += v) against PyTorch's (v = mu v + g, w -= lr v):
the same steps while the learning rate is constant, different ones once it changes, as SGD's docstring says."""
import numpy as np

from helpers.optim import SGD


class _Layer:
    def __init__(self, w):
        self.params = {"W": w}
        self.grads = {}


def _run_helpers(w0, grads, rates, mu):
    layer = _Layer(w0.copy())
    opt = SGD([(layer, "W")], lr=rates[0], momentum=mu)
    for g, lr in zip(grads, rates):
        opt.lr = lr
        layer.grads["W"] = g
        opt.step()
    return layer.params["W"]


def _run_pytorch_form(w0, grads, rates, mu):
    """torch.optim.SGD(momentum=mu, dampening=0), written out: the velocity leaves the rate out."""
    w, v = w0.copy(), np.zeros_like(w0)
    for g, lr in zip(grads, rates):
        v = mu * v + g
        w = w - lr * v
    return w


def test_momentum_forms_agree_for_a_constant_rate_and_differ_when_it_changes():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(6)
    grads = [rng.standard_normal(6) for _ in range(8)]
    constant = [0.1] * 8
    np.testing.assert_allclose(_run_helpers(w0, grads, constant, 0.9), _run_pytorch_form(w0, grads, constant, 0.9),
                               rtol=1e-12, atol=1e-12)
    dropped = [0.1] * 4 + [0.01] * 4                     # a step schedule: the rate falls 10x at step 5
    ours, theirs = _run_helpers(w0, grads, dropped, 0.9), _run_pytorch_form(w0, grads, dropped, 0.9)
    assert np.abs(ours - theirs).max() > 0.05


def test_the_docstring_shows_both_forms():
    doc = SGD.__doc__
    assert "v = mu * v - lr * g" in doc and "v = mu * v + g" in doc and "PyTorch" in doc
