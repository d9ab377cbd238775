"""helpers.optim against torch.optim, step by step: the same starting weights, the same gradients (each
computed from the current weights, so a wrong step changes every later one), twenty steps, the weights
equal to float64 rounding after every step. Skipped where PyTorch is not installed (`make test` installs
it; a learner never needs it)."""
import numpy as np
import pytest

from helpers.optim import SGD, AdaGrad, Adam, AdamW, RMSProp

torch = pytest.importorskip("torch")

STEPS = 20


class _Layer:
    def __init__(self, **params):
        self.params = {k: v.copy() for k, v in params.items()}
        self.grads = {}


def _start():
    """A weight matrix (decayed by AdamW) and a bias (not decayed), and a quadratic loss of both whose
    gradient depends on where the weights are: L = sum(W * (A @ W)) / 2 + sum(b**2) / 2 + noise . (W, b)."""
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    M = rng.standard_normal((4, 4))
    A = M @ M.T / 4 + np.eye(4)                              # symmetric, positive: a bowl
    noise = [(rng.standard_normal((4, 3)), rng.standard_normal(3)) for _ in range(STEPS)]
    return W, b, A, noise


def _grads(W, b, A, noise_t):
    return A @ W + noise_t[0], b + noise_t[1]


def _ours(make):
    W, b, A, noise = _start()
    layer = _Layer(W=W, b=b)
    opt = make([(layer, "W"), (layer, "b")])
    path = []
    for t in range(STEPS):
        layer.grads["W"], layer.grads["b"] = _grads(layer.params["W"], layer.params["b"], A, noise[t])
        opt.step()
        path.append((layer.params["W"].copy(), layer.params["b"].copy()))
    return path


def _torch(make):
    W, b, A, noise = _start()
    pW, pb = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    opt = make([pW, pb])
    path = []
    for t in range(STEPS):
        gW, gb = _grads(pW.detach().numpy(), pb.detach().numpy(), A, noise[t])
        pW.grad, pb.grad = torch.from_numpy(gW.copy()), torch.from_numpy(gb.copy())
        opt.step()
        path.append((pW.detach().numpy().copy(), pb.detach().numpy().copy()))
    return path


#: name -> (helpers.optim, torch.optim with the same settings)
PAIRS = {
    "SGD": (lambda p: SGD(p, lr=0.05),
            lambda p: torch.optim.SGD(p, lr=0.05)),
    "SGD momentum": (lambda p: SGD(p, lr=0.05, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "SGD Nesterov": (lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    "AdaGrad": (lambda p: AdaGrad(p, lr=0.1),
                lambda p: torch.optim.Adagrad(p, lr=0.1)),
    "AdaGrad eps": (lambda p: AdaGrad(p, lr=0.1, eps=0.5),             # eps large enough to matter
                    lambda p: torch.optim.Adagrad(p, lr=0.1, eps=0.5)),
    "RMSProp": (lambda p: RMSProp(p, lr=0.01),
                lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "RMSProp rho eps": (lambda p: RMSProp(p, lr=0.01, rho=0.9, eps=0.5),
                        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.5)),
    "Adam": (lambda p: Adam(p, lr=0.01, eps=1e-8),
             lambda p: torch.optim.Adam(p, lr=0.01)),
    "Adam eps": (lambda p: Adam(p, lr=0.01, beta1=0.8, beta2=0.99, eps=0.5),
                 lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=0.5)),
    "AdamW": (lambda p: AdamW(p, lr=0.01, weight_decay=0.1, eps=1e-8),
              lambda p: torch.optim.AdamW([{"params": [p[0]]}, {"params": [p[1]], "weight_decay": 0.0}],
                                          lr=0.01, weight_decay=0.1)),      # ours leaves the bias undecayed
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_every_step_is_torchs(name):
    ours_make, torch_make = PAIRS[name]
    ours, theirs = _ours(ours_make), _torch(torch_make)
    for t, ((W, b), (tW, tb)) in enumerate(zip(ours, theirs), start=1):
        np.testing.assert_allclose(W, tW, rtol=1e-12, atol=1e-12, err_msg=f"{name}: W after step {t}")
        np.testing.assert_allclose(b, tb, rtol=1e-12, atol=1e-12, err_msg=f"{name}: b after step {t}")
    moved = np.abs(ours[-1][0] - _start()[0]).max()
    assert moved > 0.05, f"{name}: the weights hardly moved ({moved:.3g}), the comparison would show nothing"


def test_adamw_leaves_the_bias_alone_where_torch_decays_everything():
    """The one documented difference: torch's AdamW decays every parameter it is given, ours only the
    weights (2 or more axes). With the bias's decay set to 0 in torch they agree (above); without, they
    differ, and ours is plain Adam on the bias."""
    W, b, A, noise = _start()
    layer = _Layer(W=W, b=b)
    opt = AdamW([(layer, "b")], lr=0.01, weight_decay=0.5, eps=1e-8)
    pb = torch.tensor(b, requires_grad=True)
    topt = torch.optim.AdamW([pb], lr=0.01, weight_decay=0.5)
    plain = Adam([(_Layer(b=b), "b")], lr=0.01, eps=1e-8)
    for t in range(STEPS):
        layer.grads["b"] = noise[t][1]
        plain.parameters[0][0].grads["b"] = noise[t][1]
        pb.grad = torch.from_numpy(noise[t][1].copy())
        opt.step(), topt.step(), plain.step()
    np.testing.assert_allclose(layer.params["b"], plain.parameters[0][0].params["b"], rtol=0, atol=1e-15)
    assert np.abs(layer.params["b"] - pb.detach().numpy()).max() > 1e-3


@pytest.mark.parametrize("make", [lambda p: AdaGrad(p, lr=0.1), lambda p: RMSProp(p, lr=0.01),
                                  lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True)])
def test_float32_weights_stay_float32(make):
    layer = _Layer(W=np.ones((2, 3), np.float32))
    opt = make([(layer, "W")])
    layer.grads["W"] = np.full((2, 3), 0.5, np.float32)
    opt.step()
    assert layer.params["W"].dtype == np.float32 and np.all(layer.params["W"] < 1)
