"""Optimizers: how the gradients of a training step change the parameters.

    SGD with momentum    v = mu * v - lr * g;            w += v
    Nesterov momentum    v = mu * v - lr * g;            w += mu * v - lr * g   (looks one velocity ahead)
    AdaGrad              s += g**2;                      w -= lr * g / (sqrt(s) + eps)
    RMSProp              s = rho * s + (1 - rho) * g**2; w -= lr * g / (sqrt(s) + eps)
    Adam                 momentum's running mean of the gradient, RMSProp's of its square, both corrected
                         for their start at zero:
                         m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g**2
                         w -= lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1**t), v_hat = v / (1 - b2**t)

All take ``model.parameters()`` (a list of (layer, name) pairs) and update ``layer.params[name]`` in
place from ``layer.grads[name]``, after ``model.backward``. (SGD's velocity carries the learning rate;
PyTorch's does not: :class:`SGD` shows both forms and when they differ.)
"""
from __future__ import annotations

import numpy as np

from ._arguments import boolean, number_in, positive_int

__all__ = ["SGD", "AdaGrad", "RMSProp", "Adam", "AdamW", "add_l2_gradient", "step_schedule", "cosine_schedule"]


def _parameter_list(parameters) -> list:
    """``model.parameters()``, (layer, name) pairs, as a list; anything else is an error that says so."""
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        raise TypeError(f"pass the model's parameters, model.parameters(), not the {type(parameters).__name__} "
                        "itself.")
    try:
        pairs = list(parameters)
    except TypeError:
        raise TypeError(f"parameters must be model.parameters(), a list of (layer, name) pairs, got "
                        f"{type(parameters).__name__}.") from None
    if not pairs:
        raise ValueError("no parameters to optimize: pass model.parameters().")
    for pair in pairs:
        ok = isinstance(pair, tuple) and len(pair) == 2 and pair[1] in getattr(pair[0], "params", {})
        if not ok:
            raise TypeError(f"parameters must be model.parameters(), a list of (layer, name) pairs, got an item "
                            f"{pair!r:.80}.")
    return pairs


class _Optimizer:
    def __init__(self, parameters, lr: float):
        self.parameters = _parameter_list(parameters)
        self.lr = number_in(lr, "lr", 0, np.inf, low_open=True, meaning="the learning rate, e.g. 0.01")
        self.t = 0

    def _pairs(self) -> list:
        """(weights, gradient) of every parameter; all checked before a step changes any of them."""
        for layer, name in self.parameters:
            if name not in layer.grads:
                raise RuntimeError(f"{layer!r} has no gradient for {name!r}: call model.backward before step().")
        return [(layer.params[name], layer.grads[name]) for layer, name in self.parameters]

    def state(self) -> dict:
        return {"t": self.t}


class SGD(_Optimizer):
    """Stochastic gradient descent, with optional momentum (0 = plain SGD) and Nesterov's form of it.

    The velocity here carries the learning rate, as in the momentum papers and Keras:

        here     v = mu * v - lr * g;      w += v
        PyTorch  v = mu * v + g;           w -= lr * v

    With a constant lr the two are the same steps (this v is -lr times PyTorch's). When the rate changes
    between steps (a schedule), they differ: here the old velocity keeps the old rate and only the new
    gradient gets the new one; PyTorch rescales the whole remembered velocity by the new rate at once.

    ``nesterov=True`` (Sutskever et al., 2013, in the form CS231n, Keras and PyTorch use): the step is
    taken from where the velocity is about to carry the weights, so it is corrected before it overshoots:

        v = mu * v - lr * g;      w += mu * v - lr * g

    (the same as PyTorch's ``SGD(nesterov=True)`` while lr is constant).
    """

    def __init__(self, parameters, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(parameters, lr)
        self.momentum = number_in(momentum, "momentum", 0, 1, high_open=True,
                                  meaning="the fraction of the velocity kept at each step, 0.9 is usual")
        self.nesterov = boolean(nesterov, "nesterov")
        if self.nesterov and not self.momentum:
            raise ValueError("nesterov=True needs a momentum above 0 (Nesterov's form of momentum), e.g. "
                             "SGD(params, lr=0.01, momentum=0.9, nesterov=True); got momentum=0.")
        self.velocity = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]

    def step(self) -> None:
        pairs = self._pairs()
        self.t += 1
        for (w, g), v in zip(pairs, self.velocity):
            if self.momentum:
                v *= self.momentum
                v -= self.lr * g
                if self.nesterov:
                    w += self.momentum * v - self.lr * g       # one velocity ahead
                else:
                    w += v
            else:
                w -= self.lr * g

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}" + (", nesterov=True)" if self.nesterov else ")")


class AdaGrad(_Optimizer):
    """AdaGrad (Duchi et al., 2011): each weight's step is divided by the root of the sum of *all* its
    squared gradients so far,

        s += g**2;      w -= lr * g / (sqrt(s) + eps)

    so weights with large gradients take smaller steps, and every step is smaller than the last (with a
    constant gradient the t-th step is lr / sqrt(t)): learning slows down, and may stop too early.
    lr=0.01 and eps=1e-10 by default, as in PyTorch.
    """

    def __init__(self, parameters, lr: float = 0.01, eps: float = 1e-10):
        super().__init__(parameters, lr)
        self.eps = number_in(eps, "eps", 0, np.inf, meaning="added to the root so that it is never 0, 1e-10 here")
        self.s = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]

    def step(self) -> None:
        pairs = self._pairs()
        self.t += 1
        for (w, g), s in zip(pairs, self.s):
            s += g * g
            w -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self):
        return f"AdaGrad(lr={self.lr}, eps={self.eps})"


class RMSProp(_Optimizer):
    """RMSProp (Hinton's lecture 6e, 2012): AdaGrad with a running mean of the squared gradients instead
    of their sum, so old gradients are forgotten and the steps do not shrink for ever,

        s = rho * s + (1 - rho) * g**2;      w -= lr * g / (sqrt(s) + eps)

    s starts at zero, so the first steps are large: the first is lr / sqrt(1 - rho) per weight (10 lr for
    rho = 0.99). Adam corrects that start; RMSProp does not. lr=0.01, rho=0.99 and eps=1e-8 by default,
    as in PyTorch (its ``alpha`` is ``rho`` here, as in Keras).
    """

    def __init__(self, parameters, lr: float = 0.01, rho: float = 0.99, eps: float = 1e-8):
        super().__init__(parameters, lr)
        self.rho = number_in(rho, "rho", 0, 1, high_open=True,
                             meaning="how much of the running mean of the squared gradient is kept, 0.99 is usual")
        self.eps = number_in(eps, "eps", 0, np.inf, meaning="added to the root so that it is never 0, 1e-8 here")
        self.s = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]

    def step(self) -> None:
        pairs = self._pairs()
        self.t += 1
        for (w, g), s in zip(pairs, self.s):
            s *= self.rho
            s += (1 - self.rho) * (g * g)
            w -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self):
        return f"RMSProp(lr={self.lr}, rho={self.rho}, eps={self.eps})"


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2015): lr=1e-3, beta1=0.9, beta2=0.999 by default, as in the paper, Keras and PyTorch.

    Momentum + RMSProp + bias correction: m is momentum's running mean of the gradient, v is RMSProp's
    running mean of its square, and both are divided by (1 - beta**t), which undoes their start at zero
    (without it the first step would be lr * (1 - b1) / sqrt(1 - b2), about 3 lr, not lr):

        m = b1 * m + (1 - b1) * g              momentum (as a mean: no lr inside)
        v = b2 * v + (1 - b2) * g**2           RMSProp's s
        w -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)

    eps=1e-7 by default, Keras' value; the paper and PyTorch use 1e-8. Where eps goes: here, as in the
    paper's Algorithm 1 and in PyTorch, it is added to sqrt(v_hat), the bias-corrected root (the module
    docstring's formula); Keras adds it to the uncorrected sqrt(v) (the paper's "epsilon hat"), which
    weighs it 1 / sqrt(1 - beta2**t) times more in the first steps. eps only matters where a gradient is
    almost always near zero: pass ``eps=1e-8`` to match PyTorch step for step.
    """

    def __init__(self, parameters, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7):
        super().__init__(parameters, lr)
        self.beta1 = number_in(beta1, "beta1", 0, 1, high_open=True,
                               meaning="how much of the running mean of the gradient is kept, 0.9 is usual")
        self.beta2 = number_in(beta2, "beta2", 0, 1, high_open=True,
                               meaning="how much of the running mean of its square is kept, 0.999 is usual")
        self.eps = number_in(eps, "eps", 0, np.inf, meaning="added to the root so that it is never 0, 1e-7 here")
        self.m = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]
        self.v = [np.zeros_like(layer.params[name]) for layer, name in self.parameters]

    def step(self) -> None:
        pairs = self._pairs()
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step = self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)     # both bias corrections in one factor
        eps_hat = self.eps * np.sqrt(1 - b2**self.t)
        for (w, g), m, v in zip(pairs, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            w -= (step * m / (np.sqrt(v) + eps_hat)).astype(w.dtype, copy=False)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"


# -- Weight decay and learning-rate schedules (notebook 09) -------------------------------------------

def _decayed(parameters):
    """Which parameters weight decay shrinks: the weights (arrays of 2 or more axes), not the biases nor
    BatchNorm's gamma and beta, whose size sets no pattern's strength (as most libraries recommend)."""
    return [layer.params[name].ndim >= 2 for layer, name in parameters]


class AdamW(Adam):
    """Adam with *decoupled* weight decay (Loshchilov and Hutter, 2019):

        w -= lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w)

    L2 regularisation instead adds ``weight_decay * w`` to the gradient *before* Adam divides it by
    sqrt(v_hat), so weights with large gradients are barely decayed; AdamW shrinks every weight by the
    same fraction ``lr * weight_decay`` per step. Biases and BatchNorm's gamma and beta are not decayed.
    """

    def __init__(self, parameters, lr: float = 1e-3, weight_decay: float = 1e-2, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-7):
        super().__init__(parameters, lr, beta1, beta2, eps)
        self.weight_decay = number_in(weight_decay, "weight_decay", 0, np.inf,
                                      meaning="the fraction lr * weight_decay of each weight removed per step")
        self._decay = _decayed(self.parameters)

    def step(self) -> None:
        self._pairs()                                          # every gradient there, before any decay
        if self.weight_decay:
            shrink = 1 - self.lr * self.weight_decay          # decoupled: applied to w, not to the gradient
            for (layer, name), decay in zip(self.parameters, self._decay):
                if decay:
                    layer.params[name] *= layer.params[name].dtype.type(shrink)
        super().step()

    def __repr__(self):
        return f"AdamW(lr={self.lr}, weight_decay={self.weight_decay}, beta1={self.beta1}, beta2={self.beta2})"


def add_l2_gradient(parameters, weight_decay: float) -> float:
    """L2 regularisation: the loss gets ``weight_decay / 2 * sum(w**2)`` over the weights, so each weight's
    gradient gets ``weight_decay * w``. Call it after ``model.backward`` and before ``optimizer.step``.
    Returns the penalty added to the loss (biases and BatchNorm's gamma and beta are left out)."""
    parameters = _parameter_list(parameters)
    weight_decay = number_in(weight_decay, "weight_decay", 0, np.inf, meaning="the strength of the penalty")
    for layer, name in parameters:        # all checked before any gradient changes
        if name not in layer.grads:
            raise RuntimeError(f"{layer!r} has no gradient for {name!r} yet: call model.backward before "
                               "add_l2_gradient (it adds weight_decay * w to the gradients backward computed).")
    penalty = 0.0
    for (layer, name), decay in zip(parameters, _decayed(parameters)):
        if decay:
            w = layer.params[name]
            layer.grads[name] = layer.grads[name] + w.dtype.type(weight_decay) * w
            penalty += 0.5 * weight_decay * float(np.sum(w.astype(np.float64) ** 2))
    return penalty


def _epoch(epoch) -> int:
    """A schedule's argument: an epoch number 1, 2, ... (fit counts epochs from 1), or an error."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
        raise TypeError(f"epoch must be a whole number 1, 2, ..., got {epoch!r} ({type(epoch).__name__}).")
    if epoch < 1:
        raise ValueError(f"epochs are counted from 1 (the first epoch is 1, as in fit), got epoch={epoch!r}.")
    return int(epoch)


def step_schedule(lr: float, drop: float = 0.1, every: int = 5):
    """Step decay: ``lr`` for epochs 1..every, then ``lr * drop``, then ``lr * drop**2``... A function of
    the epoch (1, 2, ...), as ``helpers.training.fit(lr_schedule=...)`` takes it; epoch 0 or a fraction
    of an epoch is an error."""
    lr = number_in(lr, "lr", 0, np.inf, low_open=True, meaning="the learning rate of the first epochs")
    drop = number_in(drop, "drop", 0, 1, low_open=True, meaning="the factor applied every `every` epochs")
    every = positive_int(every, "every")
    return lambda epoch: lr * drop ** ((_epoch(epoch) - 1) // every)


def cosine_schedule(lr: float, epochs: int, final_lr: float = 0.0, warmup: int = 0):
    """Cosine decay from ``lr`` (epoch ``warmup + 1``) to ``final_lr`` (epoch ``epochs``):

        lr_e = final_lr + (lr - final_lr) * (1 + cos(pi * (e - 1 - warmup) / (epochs - 1 - warmup))) / 2

    after ``warmup`` epochs rising linearly to ``lr``. Large steps while far from a minimum, small ones at
    the end so the weights settle instead of bouncing around it. Epochs count from 1, as in fit (epoch 0
    is an error); after epoch ``epochs`` the rate stays at ``final_lr`` (training on past the planned end
    continues at the final rate)."""
    lr = number_in(lr, "lr", 0, np.inf, low_open=True, meaning="the learning rate at the top of the curve")
    epochs = positive_int(epochs, "epochs")
    final_lr = number_in(final_lr, "final_lr", 0, lr, meaning="the rate at the last epoch, at most lr")
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)):
        raise TypeError(f"warmup must be a whole number of epochs, got {warmup!r}.")
    if not 0 <= warmup < epochs:
        raise ValueError(f"warmup must be in 0..epochs - 1 = {epochs - 1} (epochs that rise to lr), got {warmup!r}.")

    def schedule(epoch):
        epoch = _epoch(epoch)
        if epoch <= warmup:
            return lr * epoch / (warmup + 1)
        span = max(epochs - 1 - warmup, 1)
        t = min(max(epoch - 1 - warmup, 0), span) / span
        return final_lr + (lr - final_lr) * (1 + np.cos(np.pi * t)) / 2
    return schedule

