"""Optimizers: how the gradients of a training step change the parameters.

    SGD with momentum    v = mu * v - lr * g;            w += v
    Adam                 m = b1 * m + (1 - b1) * g       (a running mean of the gradient)
                         v = b2 * v + (1 - b2) * g**2    (a running mean of its square)
                         w -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat, v_hat corrected for their
                         start at zero: m_hat = m / (1 - b1**t), v_hat = v / (1 - b2**t)

Both take ``model.parameters()`` (a list of (layer, name) pairs) and update ``layer.params[name]`` in
place from ``layer.grads[name]``, after ``model.backward``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SGD", "Adam"]


class _Optimizer:
    def __init__(self, parameters, lr: float):
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("no parameters to optimize: pass model.parameters().")
        if not lr > 0:
            raise ValueError(f"the learning rate must be positive, got {lr!r}.")
        self.lr = float(lr)
        self.t = 0

    def _pairs(self):
        for layer, name in self.parameters:
            if name not in layer.grads:
                raise RuntimeError(f"{layer!r} has no gradient for {name!r}: call model.backward before step().")
            yield layer.params[name], layer.grads[name]

    def state(self) -> dict:
        return {"t": self.t}


class SGD(_Optimizer):
    """Stochastic gradient descent, with optional momentum (0 = plain SGD)."""

    def __init__(self, parameters, lr: float = 0.01, momentum: float = 0.0):
        super().__init__(parameters, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}.")
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]

    def step(self) -> None:
        self.t += 1
        for (w, g), v in zip(self._pairs(), self.velocity):
            if self.momentum:
                v *= self.momentum
                v -= self.lr * g
                w += v
            else:
                w -= self.lr * g

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum})"


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2015): lr=1e-3, beta1=0.9, beta2=0.999 by default, as in the paper, Keras and PyTorch.

    eps=1e-7 by default, Keras' value; the paper and PyTorch use 1e-8. Where eps goes: here, as in the
    paper's Algorithm 1 and in PyTorch, it is added to sqrt(v_hat), the bias-corrected root (the module
    docstring's formula); Keras adds it to the uncorrected sqrt(v) (the paper's "epsilon hat"), which
    weighs it 1 / sqrt(1 - beta2**t) times more in the first steps. eps only matters where a gradient is
    almost always near zero: pass ``eps=1e-8`` to match PyTorch step for step.
    """

    def __init__(self, parameters, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7):
        super().__init__(parameters, lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]
        self.v = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step = self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)     # both bias corrections in one factor
        eps_hat = self.eps * np.sqrt(1 - b2**self.t)
        for (w, g), m, v in zip(self._pairs(), self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            w -= (step * m / (np.sqrt(v) + eps_hat)).astype(w.dtype, copy=False)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"
