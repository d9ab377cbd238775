"""Neural-network layers in numpy, each a small class with a forward and a backward pass.

Read this file top to bottom, as the notebooks meet it::

    Layer                                      the contract every layer follows, and the one tree walk
    Conv2D  ReLU  MaxPool2D  Flatten  Dense    the layers of notebook 07
    Dropout  SoftmaxCrossEntropy               regularisation and the loss (notebook 07)
    Sequential                                 layers one after the other: itself a layer
    BatchNorm2D  BatchNorm1D                   batch normalisation (notebook 09)
    GlobalAvgPool2D  Residual                  global pooling, residual blocks (notebook 10)
    DepthwiseSeparable  Branches               cheaper convolutions, multi-branch blocks (notebook 10)

The contract:

- ``forward(x)`` computes the output and keeps what the backward pass needs; ``layer(x)`` is the same.
  The layer's *mode* decides how Dropout and batch normalisation behave: training (the default, or
  after ``train()``) or evaluation (after ``eval()``); ``forward(x, training=False)`` overrides the
  mode for one call.
- ``backward(grad)`` takes dL/d(output) and returns dL/d(input); it differentiates the last forward
  pass, in the mode that pass ran in, and stores dL/d(parameter) in ``layer.grads`` (the keys of
  ``layer.params``). Before any forward pass it refuses, with one message for every layer.
- A layer may hold other layers, its *children* (``Sequential``, ``Residual``): the model is a tree.
  :meth:`Layer.walk` visits it, and everything that needs every layer (the parameters, the saved
  weights, the mode, the dtype) goes through that one walk. Saved names are paths in the tree:
  ``"0.W"`` is the first layer's W, ``"4.body.0.W"`` the W of the first layer of block 4's body.

Shapes: images are (N, C, H, W), vectors (N, D); N is the batch. Parameters are float32 unless a layer
is built with ``dtype=np.float64`` (or converted with ``astype``), as the gradient checks do.

The layers compute their maths here, a few lines each. Where a step is made fast (the columns of the
convolutions kept from step to step, feature maps stored channel-major, work shared over the CPU
cores) the layer calls :mod:`helpers.fast_nn` by name: the same numbers, arranged for speed.
"""
from __future__ import annotations

import re

import numpy as np

from . import fast_nn
from ._arguments import as_real_array, boolean, generator, number_in, positive_int, positive_pair
from .fast_conv import im2col
from .fast_nn import ChannelMajor
from .losses import cross_entropy, cross_entropy_grad
from .pooling import pool2d, pool2d_backward
from .shapes import output_size, resolve_padding

__all__ = [
    "Layer", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "Dropout", "SoftmaxCrossEntropy",
    "Sequential", "BatchNorm1D", "BatchNorm2D", "GlobalAvgPool2D", "Residual", "DepthwiseSeparable", "Branches",
    "he_normal", "ChannelMajor",
]


def he_normal(shape, fan_in: int, rng=None, dtype=np.float32) -> np.ndarray:
    """He initialisation: normal with standard deviation sqrt(2 / fan_in).

    ReLU zeroes about half of its inputs, so each layer would halve the variance of the signal; the
    factor 2 compensates and keeps activations at the same scale from the first layer to the last.
    ``rng``: None (seed 0), a seed, or a numpy Generator.
    """
    rng = generator(rng)
    out = np.empty(shape, dtype)
    flat = out.reshape(-1)
    # drawn a block at a time, the same numbers as in one go: drawing all of AlexNet's first dense layer
    # at once would hold 37.7 million float64 values twice over (600 MB) to keep them as float32
    for i in range(0, flat.size, 2**20):
        flat[i : i + 2**20] = rng.standard_normal(min(2**20, flat.size - i)) * np.sqrt(2.0 / fan_in)
    return out


def _check_input(x, ndim, name: str, what: str) -> np.ndarray:
    """x as an array of floats with ``ndim`` axes (None: any), or an error that says what ``name`` expects."""
    x = np.asarray(x)
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} expects {what}, got an array of shape {x.shape}.")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} expects floats, got {x.dtype}. Scale uint8 images to 0..1 first, "
            "e.g. helpers.images.normalize(x)."
        )
    return x


# -- the contract ---------------------------------------------------------------------------------------
class Layer:
    """Base class of every layer (and of the containers, which are layers too).

    ``params`` and ``grads`` map names ("W", "b") to arrays of the same shape; ``buffers`` holds what a
    layer keeps that is saved but not trained (batch normalisation's running statistics). These hold the
    layer's *own* arrays; a container's children keep theirs (:meth:`walk` finds them all).
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True          # the mode: see train() and eval()
        self._out_shape = None        # the last forward output's shape, None: nothing to differentiate

    # the maths: every layer writes these two
    def forward(self, x, training=None):
        raise NotImplementedError

    def backward(self, grad, input_grad: bool = True):
        """dL/d(output) -> dL/d(input). With ``input_grad=False`` (the first layer) skip computing it."""
        raise NotImplementedError

    def __call__(self, x, training=None):
        return self.forward(x, training)

    def output_shape(self, input_shape: tuple) -> tuple:
        """The shape of the output for an input of ``input_shape`` (the batch axis included)."""
        return tuple(input_shape)

    # the tree
    def children(self) -> list[tuple[str, Layer]]:
        """(name, layer) for each layer held inside this one; none for a plain layer."""
        return []

    def walk(self, path: str = ""):
        """THE walk of the tree: (path, layer) for this layer and every layer inside it, depth first.

        The path names a layer from the top: ``""`` for the model itself, ``"3"`` for its fourth layer,
        ``"4.body.0"`` for the first layer of the body of the residual block at index 4.
        """
        yield path, self
        for name, child in self.children():
            yield from child.walk(f"{path}.{name}" if path else name)

    def parameters(self) -> list[tuple[Layer, str]]:
        """(layer, name) pairs for every parameter in the tree, in order: what an optimizer updates."""
        return [(layer, name) for _, layer in self.walk() for name in layer.params]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer under its path, e.g. ``"0.W"``, ``"4.body.1.running_var"``."""
        return {key: store[name] for key, (store, name) in self._slots().items()}

    def _slots(self) -> dict[str, tuple[dict, str]]:
        """path -> (the dict that holds the array, its name in it), for params and buffers."""
        return {(f"{path}.{name}" if path else name): (store, name)
                for path, layer in self.walk() for store in (layer.params, layer.buffers) for name in store}

    def load_state_dict(self, state) -> None:
        """Copy parameters in from :meth:`state_dict`'s format.

        Every array is checked first, its name, shape and dtype (floating point, converted to the model's
        dtype), and only then is anything copied: weights that do not fit leave the model exactly as it
        was, never half loaded.
        """
        if not hasattr(state, "items"):
            raise TypeError(f"state must be a dict of arrays as model.state_dict() makes, got {type(state).__name__}.")
        slots = self._slots()
        missing, extra = set(slots) - set(state), set(state) - set(slots)
        if missing or extra:
            hint = ""
            if any(re.search(r"(^|\.)(body|short)\d+_", k) for k in extra):
                hint = (" The names look like weights saved before residual blocks were a layer tree "
                        "(e.g. '4.body0_W'): convert the file with scripts/convert_weights.py.")
            raise ValueError(f"the weights do not fit this model: missing {sorted(missing)}, "
                             f"unexpected {sorted(extra)}.{hint}")
        checked = {}
        for key, value in state.items():
            value = np.asarray(value)
            mine = slots[key][0][slots[key][1]]
            if not np.issubdtype(value.dtype, np.floating):
                raise TypeError(f"{key}: weights are floating-point numbers, the file has dtype {value.dtype}; "
                                "nothing was loaded.")
            if value.shape != mine.shape:
                raise ValueError(f"{key}: the model has shape {mine.shape}, the file {value.shape}; "
                                 "nothing was loaded. Were the weights saved from a model built the same way?")
            checked[key] = value
        for key, value in checked.items():                 # all checked: now change the model
            store, name = slots[key]
            store[name] = value.astype(store[name].dtype)

    @property
    def n_params(self) -> int:
        return int(sum(p.size for _, layer in self.walk() for p in layer.params.values()))

    def astype(self, dtype) -> Layer:
        """Convert parameters and buffers (and drop gradients) to ``dtype``, e.g. float64 for a gradient check."""
        for _, layer in self.walk():
            layer.params = {k: v.astype(dtype) for k, v in layer.params.items()}
            layer.buffers = {k: v.astype(dtype) for k, v in layer.buffers.items()}
            layer.grads = {}
        return self

    # the mode
    def train(self, mode: bool = True) -> Layer:
        """Training mode, for this layer and every layer inside it: Dropout drops, batch normalisation
        uses each batch's own statistics. ``train(False)`` is the same as ``eval()``."""
        mode = boolean(mode, "mode")
        for _, layer in self.walk():
            layer.training = mode
        return self

    def eval(self) -> Layer:
        """Evaluation mode: Dropout passes everything, batch normalisation uses its running statistics."""
        return self.train(False)

    def _mode(self, training) -> bool:
        """The mode of one forward pass: the layer's own, unless ``training`` says otherwise."""
        return self.training if training is None else boolean(training, "training")

    #: The attributes in which forward keeps arrays for backward (dropped by _forget).
    _keeps: tuple[str, ...] = ()

    def _forget(self) -> None:
        """Drop what the last forward passes kept, in the whole tree: backward then refuses."""
        for _, layer in self.walk():
            layer._out_shape = None
            for name in layer._keeps:
                setattr(layer, name, None)

    def _check_grad(self, grad) -> np.ndarray:
        """grad as an array of the last forward output's shape, or an error that says what is wrong."""
        name = type(self).__name__
        if self._out_shape is None:
            raise RuntimeError(f"{name}.backward: there is no forward pass to differentiate. Call forward(x) "
                               "first; backward differentiates the last forward pass, in the mode it ran in.")
        grad = as_real_array(grad, "grad", empty_ok=True)
        if grad.shape != tuple(self._out_shape):
            raise ValueError(f"{name}.backward: the gradient must have the shape of the last forward output, "
                             f"shape {tuple(self._out_shape)}, got {grad.shape}.")
        return grad

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def label(self) -> str:
        """A short name for summary tables."""
        return type(self).__name__


# -- notebook 07's layers -------------------------------------------------------------------------------
class Conv2D(Layer):
    """A bank of ``out_channels`` filters of ``kernel_size`` over ``in_channels`` channels.

    forward  x (N, C, H, W) -> y (N, F, H', W'),  y = W * x + b (cross-correlation, as in conv2d)
             H' = floor((H + 2p - d(k - 1) - 1) / s) + 1 for stride s, padding p, dilation d
    backward, with g = dL/dy (dilation 1; with d, the tap (m, n) reads x[.., i*s + d*m, j*s + d*n]):
        dL/dW[f, c, m, n] = sum_{N, i, j} g[N, f, i, j] * x[N, c, i*s + m, j*s + n]
        dL/db[f]          = sum_{N, i, j} g[N, f, i, j]
        dL/dx             = every g[N, f, i, j] * W[f] added back onto the window it came from
    In matrix form, with X the im2col columns (K, P) and Wm the filters as rows (F, K):
        y = Wm @ X,   dWm = g @ X.T,   dX = Wm.T @ g,   dx = col2im(dX).

    Grouped convolution (``groups`` = G, which divides in_channels C and out_channels F): G convolutions
    side by side. The input's channels are cut into G runs of C/G, the filters into G runs of F/G, and
    filter run j sees only channel run j; W has shape (F, C/G, kh, kw) (as in PyTorch):
        y[:, j*F/G : (j+1)*F/G] = W[j*F/G : (j+1)*F/G] * x[:, j*C/G : (j+1)*C/G] + b[...]
    and the backward pass is the one above, for each group on its own (X cut into G row blocks). It has
    1/G of the weights and of the multiply-adds of groups=1. groups = C is a *depthwise* convolution:
    each channel filtered by its own kernel(s), no mixing of channels (see DepthwiseSeparable).
    """

    _keeps = ("_x",)

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding="valid",
                 dilation=1, groups=1, rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.groups = positive_int(groups, "groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"groups={groups} must divide both in_channels ({in_channels}) and out_channels ({out_channels}): "
                "each group takes in_channels/groups input channels to out_channels/groups feature maps. "
                f"Choose groups among the common divisors, e.g. groups={in_channels} (depthwise) needs "
                f"out_channels a multiple of {in_channels}.")
        self.kernel_size = kh, kw = positive_pair(kernel_size, "kernel_size")
        self.stride = positive_pair(stride, "stride")
        self.dilation = positive_pair(dilation, "dilation")
        self.padding = resolve_padding(padding, self.kernel_size, self.dilation)
        self.padding_arg = padding
        fan_in = in_channels // groups * kh * kw          # the inputs one filter sees
        self.params["W"] = he_normal((out_channels, in_channels // groups, kh, kw), fan_in, rng, dtype)
        self.params["b"] = np.zeros(out_channels, dtype=dtype)
        self._x = self._cols = self._dcols = None    # the input, its columns (kept between steps), dL/dcols

    def output_shape(self, input_shape):
        N, C, H, W = input_shape
        if C != self.in_channels:
            raise ValueError(f"Conv2D expects {self.in_channels} input channels, got shape {tuple(input_shape)}.")
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel_size, self.stride, self.padding, self.dilation
        return (N, self.out_channels, output_size(H, kh, ph, sh, dh), output_size(W, kw, pw, sw, dw))

    def forward(self, x, training=None):
        training = self._mode(training)
        x = _check_input(x, 4, "Conv2D", "a batch of images (N, C, H, W)")
        N, F, oh, ow = self.output_shape(x.shape)
        W, b = self.params["W"], self.params["b"]
        x = x.astype(W.dtype, copy=False)
        if training:        # training keeps the columns for backward, in a buffer reused between steps
            self._cols = fast_nn.reuse(self._cols, (W[0].size * self.groups, N * oh * ow), W.dtype)
        else:               # evaluation keeps only x; a backward pass would make the columns again
            self._cols = None
        y = fast_nn.conv_forward(x, W, b, self.stride, self.padding, self.dilation, (oh, ow), cols=self._cols,
                                 groups=self.groups)
        self._x, self._out_shape = x, y.shape
        return y

    def backward(self, grad, input_grad=True):
        W = self.params["W"]
        g = self._check_grad(grad).astype(W.dtype, copy=False)
        cols = self._cols
        if cols is None:
            cols = im2col(self._x, self.kernel_size, self.stride, self.padding, self.dilation)
        self.grads["W"], self.grads["b"], dx = fast_nn.conv_backward(
            g, W, cols, self._x.shape, self.stride, self.padding, self.dilation, self._dcols, input_grad,
            groups=self.groups)
        return dx

    @property
    def label(self):
        kh, kw = self.kernel_size
        pad = self.padding_arg if isinstance(self.padding_arg, str) else f"pad {self.padding_arg}"
        stride = "" if self.stride == (1, 1) else f" stride {self.stride[0]}"
        dilation = "" if self.dilation == (1, 1) else f" dilation {self.dilation[0]}"
        groups = "" if self.groups == 1 else (" depthwise" if self.groups == self.in_channels
                                              else f" groups {self.groups}")
        return f"Conv2D {self.in_channels}->{self.out_channels} {kh}x{kw}{stride}{dilation}{groups} {pad}"

    def __repr__(self):
        dilation = "" if self.dilation == (1, 1) else f", dilation={self.dilation}"
        groups = "" if self.groups == 1 else f", groups={self.groups}"
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding_arg!r}{dilation}{groups})")


class ReLU(Layer):
    """max(0, x), any shape.

    forward   y = max(0, x)
    backward  dL/dx = g where x > 0, 0 where x <= 0
    """

    _keeps = ("_mask", "_y")

    def forward(self, x, training=None):
        training = self._mode(training)
        x = as_real_array(x, "ReLU's input", empty_ok=True)
        # training keeps the mask (x > 0), which backward needs; evaluation keeps only a reference to y
        # (y > 0 where x > 0), so that scoring a large batch does not make a mask nobody may use
        y, self._mask = fast_nn.relu(x, keep_mask=training)
        self._y, self._out_shape = y, y.shape
        return y

    def backward(self, grad, input_grad=True):
        grad = self._check_grad(grad)
        return fast_nn.relu_backward(grad, self._y > 0 if self._mask is None else self._mask)

    def __repr__(self):
        return "ReLU()"


class MaxPool2D(Layer):
    """Max pooling over ``size`` x ``size`` windows (stride ``size`` unless given).

    ``padding`` p surrounds each map with p rows and columns of -inf, which never win a window:
    MaxPool2D(3, stride=1, padding=1) keeps the size (Inception's pooling branch, see Branches).

    forward   x (N, C, H, W) -> y (N, C, H', W'), each window's maximum (helpers.pooling.pool2d)
    backward  each output gradient goes to the one input pixel that was the maximum of its window
              (the first one if several tie); the others get 0 (helpers.pooling.pool2d_backward).
    """

    _keeps = ("_winners", "_x")

    def __init__(self, size=2, stride=None, padding=0):
        super().__init__()
        self.size = positive_int(size, "size")
        self.stride = self.size if stride is None else positive_int(stride, "stride")
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)):
            raise TypeError(f"padding must be an int (pixels of -inf on each side), got {padding!r}.")
        if not 0 <= padding <= self.size // 2:
            raise ValueError(f"padding must be between 0 and size // 2 = {self.size // 2} (a window must hold at "
                             f"least one pixel of the map), got {padding}.")
        self.padding = int(padding)

    def output_shape(self, input_shape):
        *lead, H, W = input_shape
        p = self.padding
        return (*lead, output_size(H, self.size, p, self.stride), output_size(W, self.size, p, self.stride))

    def _pad(self, x):
        p = self.padding
        return x if p == 0 else np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)

    def forward(self, x, training=None):
        training = self._mode(training)
        x = _check_input(x, 4, "MaxPool2D", "a batch of feature maps (N, C, H, W)")
        xp = self._pad(x)
        if training:             # backward needs to know which pixel won each window
            y, self._winners = pool2d(xp, self.size, self.stride, return_indices=True)
        else:                    # evaluation keeps x; a backward pass would find the winners again
            y, self._winners = pool2d(xp, self.size, self.stride), None
        self._x, self._out_shape = x, y.shape
        return y

    def backward(self, grad, input_grad=True):
        grad = self._check_grad(grad)
        winners = self._winners
        xp, p = self._pad(self._x), self.padding
        if winners is None:
            winners = pool2d(xp, self.size, self.stride, return_indices=True)[1]
        dx = pool2d_backward(grad, xp.shape, self.size, self.stride, indices=winners)
        return dx if p == 0 else dx[:, :, p:-p, p:-p]       # the -inf border gets nothing: drop it

    @property
    def label(self):
        return (f"MaxPool2D {self.size}x{self.size}" + ("" if self.stride == self.size else f" stride {self.stride}")
                + (f" pad {self.padding}" if self.padding else ""))

    def __repr__(self):
        pad = f", padding={self.padding}" if self.padding else ""
        return f"MaxPool2D(size={self.size}, stride={self.stride}{pad})"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W), in C order (channel, then row, then column). Backward: reshape back."""

    def forward(self, x, training=None):
        self._mode(training)
        x = as_real_array(x, "Flatten's input", empty_ok=True)
        if x.ndim < 2:
            raise ValueError(f"Flatten expects a batch (N, ...) of at least 2 axes, got shape {x.shape}.")
        self._x_shape, self._out_shape = x.shape, self.output_shape(x.shape)
        # feature maps stored channel-major (see fast_nn.ChannelMajor) get their gradient laid out the same way
        self._channel_major = ChannelMajor.holds(x)
        return x.reshape(self._out_shape)

    def backward(self, grad, input_grad=True):
        grad = self._check_grad(grad).reshape(self._x_shape)
        return ChannelMajor.copy(grad) if self._channel_major else grad

    def output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:], dtype=np.int64)))

    def __repr__(self):
        return "Flatten()"


class Dense(Layer):
    """Fully connected: x (N, D_in) -> y (N, D_out).

    forward   y = x @ W + b,   W (D_in, D_out), b (D_out,)
    backward  dL/dW = x.T @ g,   dL/db = sum of g over the batch,   dL/dx = g @ W.T
    """

    _keeps = ("_x",)

    def __init__(self, in_features: int, out_features: int, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.params["W"] = he_normal((in_features, out_features), in_features, rng, dtype)
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.in_features:
            raise ValueError(f"Dense expects (N, {self.in_features}), got {tuple(input_shape)}. "
                             "Put a Flatten() before it if the input is a stack of feature maps.")
        return (input_shape[0], self.out_features)

    def forward(self, x, training=None):
        self._mode(training)
        x = _check_input(x, 2, "Dense", f"a batch of vectors (N, {self.in_features}) (put a Flatten() before it "
                         "if the input is a stack of feature maps)")
        self._out_shape = self.output_shape(x.shape)
        W = self.params["W"]
        self._x = x.astype(W.dtype, copy=False)
        y = fast_nn.matmul(self._x, W)               # x @ W, on every core
        y += self.params["b"]
        return y

    def backward(self, grad, input_grad=True):
        W = self.params["W"]
        g = self._check_grad(grad).astype(W.dtype, copy=False)
        self.grads["W"] = fast_nn.matmul(self._x.T, g)
        self.grads["b"] = g.sum(axis=0)
        return fast_nn.matmul(g, W.T) if input_grad else None

    @property
    def label(self):
        return f"Dense {self.in_features}->{self.out_features}"

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features})"


class Dropout(Layer):
    """Inverted dropout, any shape.

    training    y = x * mask / (1 - p), mask 0 with probability p (each value on its own), else 1
    evaluation  y = x (the scaling during training keeps the expected value the same)
    backward    dL/dx = g * mask / (1 - p) in training, g in evaluation
    ``rng``: None (seed 0), a seed, or a numpy Generator; draws the masks.
    """

    _keeps = ("_mask",)

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p < 1:
            raise ValueError(f"p is the probability of dropping a value, a number in [0, 1), got {p!r}.")
        self.p = float(p)
        self.rng = generator(rng)
        self._mask = None

    def forward(self, x, training=None):
        training = self._mode(training)
        x = _check_input(x, None, "Dropout", "an array")
        self._out_shape = x.shape
        if not training or self.p == 0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self._mask

    def backward(self, grad, input_grad=True):
        grad = self._check_grad(grad)
        return grad if self._mask is None else grad * self._mask

    @property
    def label(self):
        return f"Dropout {self.p:g}"

    def __repr__(self):
        return f"Dropout(p={self.p})"


class SoftmaxCrossEntropy(Layer):
    """The loss: softmax of the scores, then the mean cross-entropy with integer labels (helpers.losses).

    forward(z, labels)  z (N, K) scores, labels (N,) ints -> L = mean_i -ln softmax(z_i)[labels_i]
    backward(grad=1.0)  dL/dz = grad * (softmax(z) - onehot(labels)) / N   (softmax and log cancel)
    ``loss(z, labels)`` is ``loss.forward(z, labels)``. Same conventions as the layers: backward
    differentiates the last forward pass and refuses before one.
    """

    _keeps = ("_z",)

    def forward(self, z, labels):
        z = _check_input(z, 2, "SoftmaxCrossEntropy", "scores of shape (N, classes)")
        loss = cross_entropy(z, labels)              # checks the labels against the scores
        self._z, self._labels, self._out_shape = z, labels, ()
        return loss

    __call__ = forward

    def backward(self, grad=1.0, input_grad=True):
        grad = self._check_grad(grad)
        g = cross_entropy_grad(self._z, self._labels).astype(self._z.dtype, copy=False)
        return g if grad == 1 else g * g.dtype.type(grad)

    def __repr__(self):
        return "SoftmaxCrossEntropy()"


# -- the container --------------------------------------------------------------------------------------
class Sequential(Layer):
    """Layers applied one after the other; a layer itself, whose children are its layers.

    forward   x -> layers[-1](... layers[1](layers[0](x)))
    backward  g -> layers[0].backward(... layers[-1].backward(g)), the chain rule in reverse order
    ``model(x)`` and ``model.forward(x)`` follow the model's mode (``train()``, the default, or
    ``eval()``); ``predict(x)`` always evaluates.
    """

    #: Evaluation runs a larger batch through the layers this many images at a time: every image is
    #: scored alone then, and the feature maps of 1,000 images at once take 200 MB in notebook 07's first
    #: two layers, those of 256 images 51 MB. Such a pass keeps nothing for backward.
    eval_batch = 256

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer objects, got {type(layer).__name__}.")

    def children(self):
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def __iter__(self):
        return iter(self.layers)

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def forward(self, x, training=None):
        training = self._mode(training)
        if not training and np.ndim(x) > 1 and len(x) > self.eval_batch:
            x, step = np.asarray(x), self.eval_batch
            y = np.concatenate([self._chain(x[i : i + step], False, keep=False) for i in range(0, len(x), step)])
            self._forget()                  # a pass in parts: nothing to differentiate
            return y
        return self._chain(x, training)

    def _chain(self, x, training, keep=True):
        """The layers one after the other. ``keep=False``: each layer forgets what it kept for backward
        as soon as the next one has run (a pass nobody will differentiate holds one layer's maps at a time)."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
            if not keep:
                layer._forget()
        self._out_shape = np.shape(x)
        return x

    def backward(self, grad, input_grad: bool = False):
        """Send dL/d(output) back through every layer; fills each layer's ``grads``.

        ``input_grad`` is False by default: the first layer's input is usually the data, whose gradient
        training does not need (True returns it: a saliency map, or a model inside a block).
        """
        if self.layers:
            self._check_grad(grad)
        for i, layer in enumerate(reversed(self.layers)):
            grad = layer.backward(grad, input_grad=input_grad or i < len(self.layers) - 1)
        return grad

    def predict(self, x, batch_size: int = 500) -> np.ndarray:
        """Scores (N, classes) for ``x``, a batch at a time, in evaluation mode. Scores are all it gives:
        the layers keep nothing for a backward pass afterwards, whatever the batch's size."""
        outs = [self.forward(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
        self._forget()
        return np.concatenate(outs)

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
        return shape

    def shapes(self, input_shape) -> list[tuple[str, tuple, int]]:
        """(layer, output shape, parameters) for each layer, computed from shapes alone."""
        rows, shape = [], tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
            rows.append((layer.label, shape, layer.n_params))
        return rows

    def summary(self, input_shape) -> str:
        """A table of layer, output shape and parameter count (None stands for the batch axis)."""
        batch = input_shape[0]
        rows = [(name, (str(batch),) + tuple(str(s) for s in shape[1:]), n) for name, shape, n in
                self.shapes((1 if batch is None else batch,) + tuple(input_shape[1:]))]
        fmt_shape = ["(" + ", ".join(s) + ")" for _, s, _ in rows]
        w0 = max(len("Layer"), *(len(r[0]) for r in rows))
        w1 = max(len("Output shape"), *(len(s) for s in fmt_shape))
        lines = [f"{'Layer':<{w0}}  {'Output shape':<{w1}}  {'Parameters':>12}", "-" * (w0 + w1 + 16)]
        for (name, _, n), s in zip(rows, fmt_shape):
            lines.append(f"{name:<{w0}}  {s:<{w1}}  {n:>12,}")
        lines += ["-" * (w0 + w1 + 16), f"{'Total':<{w0}}  {'':<{w1}}  {self.n_params:>12,}"]
        return "\n".join(lines)

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n])"


# -- batch normalisation (notebook 09) ------------------------------------------------------------------
class _BatchNorm(Layer):
    """What BatchNorm1D and BatchNorm2D share; they differ only in which axes are one "channel".

    Both work on the values laid out as rows, one row per channel: (C, M) with M values each.

    training     mu, var = mean and (biased) variance of each row;  xhat = (x - mu) / sqrt(var + eps)
                 y = gamma * xhat + beta;   running_mean/var += momentum * (batch statistic - running one),
                 where the variance's batch statistic is unbiased, var * M / (M - 1), as in PyTorch
    evaluation   y = a x + b with a = gamma / sqrt(running_var + eps), b = beta - running_mean * a
    backward, training (g = dL/dy, sums over a row):
                 dL/dbeta = sum g,   dL/dgamma = sum g * xhat
                 dL/dx = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))
    backward, evaluation: dL/dx = a g,  dL/dgamma = sum g * (x - running_mean) / sqrt(running_var + eps)

    Training mode needs at least 2 values per channel (PyTorch refuses fewer too): one value has no
    spread, it would normalise to beta whatever it is and pull the running variance towards 0.
    """

    _keeps = ("_xhat", "_rows_in")

    def __init__(self, channels: int, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float32):
        super().__init__()
        self.channels = positive_int(channels, "channels")
        self.momentum = number_in(momentum, "momentum", 0, 1, low_open=True,
                                  meaning="the weight of the newest batch in the running statistics, 0.1 is usual")
        self.eps = number_in(eps, "eps", 0, np.inf, low_open=True,
                             meaning="added to the variance under the square root so that a channel that does "
                                     "not vary is not divided by 0; 1e-5 is usual")
        self.params["gamma"] = np.ones(channels, dtype=dtype)     # scale: starts as "keep the spread"
        self.params["beta"] = np.zeros(channels, dtype=dtype)     # shift: starts as "keep the mean at 0"
        # statistics for evaluation: saved with the weights (state_dict), not trained
        self.buffers = {"running_mean": np.zeros(channels, dtype=dtype),
                        "running_var": np.ones(channels, dtype=dtype)}

    def _rows(self, x):               # the input as (C, M) rows
        raise NotImplementedError

    def _unrows(self, rows, shape):   # (C, M) rows back to the input's shape
        raise NotImplementedError

    def forward(self, x, training=None):
        training = self._mode(training)
        x = self._check(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        rows = self._rows(x.astype(gamma.dtype, copy=False))
        C, M = rows.shape
        self._ran_training, self._out_shape = training, x.shape
        if not training:
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            a = (gamma / np.sqrt(rv + self.eps)).astype(gamma.dtype)
            b = (beta - rm * a).astype(gamma.dtype)
            self._rows_in, self._a = rows, a
            return self._unrows(fast_nn.batch_norm_affine(rows, a, b), x.shape)
        if M < 2:
            self._out_shape = None
            raise ValueError(
                f"{self.label} in training mode got {'no' if M == 0 else 'one'} value per channel (input "
                f"shape {x.shape}): the batch statistics need at least 2 (one value has no variance; it would "
                "be normalised to beta whatever it is and drag the running variance towards 0). Train on "
                "batches of 2 or more (in fit, the last batch of an epoch holds len(x) % batch_size images: choose a "
                "batch_size that leaves 0 or at least 2), or use training=False (the running statistics) for a single "
                "example.")
        y, mean, var, self._xhat, self._inv_std = fast_nn.batch_norm_forward(rows, gamma, beta, self.eps)
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        rm += (self.momentum * (mean - rm)).astype(rm.dtype)
        rv += (self.momentum * (var * (M / (M - 1)) - rv)).astype(rv.dtype)
        return self._unrows(y, x.shape)

    def backward(self, grad, input_grad=True):
        gamma = self.params["gamma"]
        g = self._rows(self._check_grad(grad).astype(gamma.dtype, copy=False))
        if self._ran_training:
            self.grads["gamma"], self.grads["beta"], dx = fast_nn.batch_norm_backward(
                g, self._xhat, self._inv_std, gamma, input_grad)
        else:                                              # y = a x + b: a straight line per channel
            rv, rm = self.buffers["running_var"], self.buffers["running_mean"]
            xhat = (self._rows_in - rm[:, None]) / np.sqrt(rv + self.eps)[:, None]
            self.grads["beta"] = g.sum(axis=1)
            self.grads["gamma"] = (g * xhat).sum(axis=1).astype(gamma.dtype)
            dx = g * self._a[:, None] if input_grad else None
        return None if dx is None else self._unrows(dx, self._out_shape)

    def __repr__(self):
        return f"{type(self).__name__}({self.channels}, momentum={self.momentum}, eps={self.eps})"

    @property
    def label(self):
        return f"{type(self).__name__} {self.channels}"


class BatchNorm2D(_BatchNorm):
    """Batch normalisation of feature maps x (N, C, H, W) -> y (N, C, H, W): each channel normalised over
    the batch and the positions, M = N*H*W values per channel (the formulas are _BatchNorm's)."""

    def _check(self, x):
        x = _check_input(x, 4, "BatchNorm2D", "a batch of feature maps (N, C, H, W)")
        if x.shape[1] != self.channels:
            raise ValueError(f"BatchNorm2D({self.channels}) got {x.shape[1]} channels (shape {x.shape}).")
        return x

    def output_shape(self, input_shape):
        if len(input_shape) != 4 or input_shape[1] != self.channels:
            raise ValueError(f"BatchNorm2D({self.channels}) expects (N, {self.channels}, H, W), "
                             f"got {tuple(input_shape)}.")
        return tuple(input_shape)

    def _rows(self, x):
        return ChannelMajor.to_matrix(x)                          # (C, N*H*W), free if channel-major

    def _unrows(self, rows, shape):
        N, C, H, W = shape
        return ChannelMajor.from_matrix(rows, N, (H, W))          # channel-major, seen as (N, C, H, W)


class BatchNorm1D(_BatchNorm):
    """Batch normalisation of vectors x (N, D) -> y (N, D): each feature normalised over the batch, M = N.
    Goes between a Dense layer and its ReLU."""

    def _check(self, x):
        x = _check_input(x, 2, "BatchNorm1D", f"a batch of vectors (N, {self.channels})")
        if x.shape[1] != self.channels:
            raise ValueError(f"BatchNorm1D({self.channels}) got {x.shape[1]} features (shape {x.shape}).")
        return x

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.channels:
            raise ValueError(f"BatchNorm1D({self.channels}) expects (N, {self.channels}), got {tuple(input_shape)}.")
        return tuple(input_shape)

    def _rows(self, x):
        return np.ascontiguousarray(x.T)

    def _unrows(self, rows, shape):
        return rows.T


# -- modern architectures (notebook 10): global average pooling and residual blocks -----------------------
class GlobalAvgPool2D(Layer):
    """The mean of each feature map: x (N, C, H, W) -> y (N, C), one number per channel.

    forward   y[n, c] = mean over (i, j) of x[n, c, i, j]
    backward  dL/dx[n, c, i, j] = g[n, c] / (H W): each pixel receives its share of the mean's gradient
    In place of Flatten and a big dense layer: the dense layer after it has C inputs, not C x H x W
    (Network in Network, 2013; ResNet).
    """

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"GlobalAvgPool2D expects feature maps (N, C, H, W), got {tuple(input_shape)}.")
        if input_shape[2] < 1 or input_shape[3] < 1:
            raise ValueError(f"GlobalAvgPool2D got feature maps of {input_shape[2]}x{input_shape[3]} pixels (shape "
                             f"{tuple(input_shape)}): an empty map has no mean. The layers before it shrank the "
                             "maps away; use fewer poolings or strides, or larger images.")
        return tuple(input_shape[:2])

    def forward(self, x, training=None):
        self._mode(training)
        x = _check_input(x, 4, "GlobalAvgPool2D", "a batch of feature maps (N, C, H, W)")
        self._out_shape, self._x_shape = self.output_shape(x.shape), x.shape
        return x.mean(axis=(2, 3))

    def backward(self, grad, input_grad=True):
        grad = self._check_grad(grad)
        if not input_grad:
            return None
        N, C, H, W = self._x_shape
        dx = ChannelMajor.empty((N, C, H, W), grad.dtype)            # laid out like the conv layers' maps
        dx[...] = (grad / grad.dtype.type(H * W))[:, :, None, None]
        return dx

    def __repr__(self):
        return "GlobalAvgPool2D()"


class Residual(Layer):
    """A residual block: y = ReLU(body(x) + shortcut(x)) (He et al., 2016). Its children: ``body``,
    ``shortcut`` (two Sequential) and ``relu``.

    ``body`` is a list of layers (or a Sequential), typically Conv2D 3x3, ReLU, Conv2D 3x3 (padding
    "same", so the shape is kept). The ``shortcut`` is the identity (``None``, an empty Sequential), or
    layers that bring x to the body's output shape when the body changes it, usually one 1x1 Conv2D with
    the body's stride (a *projection*). ``relu=False`` leaves out the final ReLU.

    forward   y = relu(body(x) + shortcut(x))
    backward  with g the gradient after the final ReLU, the sum sends g unchanged down both paths:
              dL/dx = body.backward(g) + shortcut.backward(g)      (= ... + g for the identity)
    The "+ g" is the point: however small the body's gradient gets, the identity passes g through
    untouched, so a deep stack of blocks keeps a usable gradient in its first layers.
    """

    def __init__(self, body, shortcut=None, relu: bool = True):
        super().__init__()
        self.body = body if isinstance(body, Sequential) else Sequential(body)
        self.shortcut = shortcut if isinstance(shortcut, Sequential) else Sequential(shortcut or [])
        if not self.body.layers:
            raise ValueError("a Residual block needs at least one layer in its body.")
        self.relu = ReLU() if boolean(relu, "relu") else None

    def children(self):
        return [("body", self.body), ("shortcut", self.shortcut)] + ([("relu", self.relu)] if self.relu else [])

    def output_shape(self, input_shape):
        body, short = self.body.output_shape(input_shape), self.shortcut.output_shape(input_shape)
        if body != short:
            raise ValueError(
                f"the body's output {body} and the shortcut's {short} must have the same shape to be added. "
                "When the body changes the number of channels or the size, give the shortcut a 1x1 Conv2D "
                "with the body's output channels and stride, e.g. shortcut=[Conv2D(C_in, C_out, 1, stride=2)].")
        return body

    def forward(self, x, training=None):
        training = self._mode(training)
        x = _check_input(x, 4, "Residual", "a batch of feature maps (N, C, H, W)")
        self.output_shape(x.shape)
        out, short = self.body._chain(x, training), self.shortcut._chain(x, training)
        y = np.add(out, short, dtype=out.dtype)      # keeps the conv output's channel-major layout
        self._out_shape = y.shape
        return self.relu.forward(y, training=training) if self.relu is not None else y

    def backward(self, grad, input_grad=True):
        grad = self._check_grad(grad)
        g = self.relu.backward(grad) if self.relu is not None else grad
        gb = self.body.backward(g, input_grad=input_grad)
        gs = self.shortcut.backward(g, input_grad=input_grad)
        return np.add(gb, gs, dtype=gb.dtype) if input_grad else None

    @property
    def label(self):
        """Short: the convolutions of each path, e.g. "Residual [3x3 16->32 s2, 3x3 32->32] + 1x1 16->32 s2"."""
        def short(layer):
            if isinstance(layer, Conv2D):
                (kh, kw), s = layer.kernel_size, layer.stride[0]
                return f"{kh}x{kw} {layer.in_channels}->{layer.out_channels}" + (f" s{s}" if s != 1 else "")
            if isinstance(layer, _BatchNorm):
                return "BN"
            return None if isinstance(layer, ReLU) else layer.label

        body = ", ".join(t for t in map(short, self.body) if t)
        path = ", ".join(t for t in map(short, self.shortcut) if t) or "identity"
        return f"Residual [{body}] + {path}"

    def __repr__(self):
        short = "None" if not self.shortcut.layers else "[" + ", ".join(map(repr, self.shortcut)) + "]"
        return f"Residual([{', '.join(map(repr, self.body))}], shortcut={short}, relu={self.relu is not None})"


# -- cheaper convolutions (notebook 10): depthwise-separable and multi-branch blocks ---------------------
class DepthwiseSeparable(Sequential):
    """MobileNet's block (Howard et al., 2017): a k x k convolution split in two. Its children, in order:

        Conv2D(C_in, C_in, k, stride, padding, groups=C_in)   depthwise: each channel filtered on its own
        [BatchNorm2D(C_in)] ReLU()                            between the two (batch_norm=True adds BN)
        Conv2D(C_in, C_out, 1)                                pointwise: mixes the channels, 1x1

    No activation after the pointwise convolution: like a Conv2D, the block ends linear, and the caller
    puts the ReLU (or BatchNorm2D and ReLU, as MobileNet does) after it.

    Costs, for an output of H' x W' and C_out channels (biases left out):
        weights        C_in*k*k + C_in*C_out       against C_in*C_out*k*k for a k x k Conv2D
        multiply-adds  H'W' (C_in*k*k + C_in*C_out) against H'W' C_in*C_out*k*k
    a ratio of 1/C_out + 1/k^2: for k = 3 and 64 channels, about 8 times fewer.
    forward and backward are Sequential's: the layers one after the other, and back.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding="same",
                 batch_norm: bool = False, rng=None, dtype=np.float32):
        in_channels = positive_int(in_channels, "in_channels")
        rng = generator(rng)
        between = ([BatchNorm2D(in_channels, dtype=dtype)] if boolean(batch_norm, "batch_norm") else []) + [ReLU()]
        super().__init__([Conv2D(in_channels, in_channels, kernel_size, stride=stride, padding=padding,
                                 groups=in_channels, rng=rng, dtype=dtype)]
                         + between + [Conv2D(in_channels, out_channels, 1, rng=rng, dtype=dtype)])
        self.in_channels, self.out_channels = in_channels, self.layers[-1].out_channels

    def backward(self, grad, input_grad: bool = True):
        """As a layer inside a network, it returns dL/d(input) unless told not to."""
        return super().backward(grad, input_grad=input_grad)

    @property
    def label(self):
        (kh, kw), s = self.layers[0].kernel_size, self.layers[0].stride[0]
        return (f"DepthwiseSeparable {self.in_channels}->{self.out_channels} {kh}x{kw}"
                + (f" stride {s}" if s != 1 else ""))

    def __repr__(self):
        first = self.layers[0]
        return (f"DepthwiseSeparable({self.in_channels}, {self.out_channels}, kernel_size={first.kernel_size}, "
                f"stride={first.stride}, padding={first.padding_arg!r}, batch_norm={len(self.layers) == 4})")


class Branches(Layer):
    """Parallel branches on the same input, their outputs concatenated along the channels (Inception's
    idea, Szegedy et al., 2015). Its children: the branches "0", "1", ... (each a Sequential).

    forward   y = concat(branch_0(x), branch_1(x), ...) along axis 1: (N, C_0 + C_1 + ..., H', W')
              every branch must give the same N, H', W' (e.g. 1x1; 1x1 -> 3x3 padding 1; 1x1 -> 5x5
              padding 2; MaxPool2D(3, stride=1, padding=1) -> 1x1)
    backward  the gradient g splits by channel: branch b gets g[:, its channels]; each branch sends back
              dL/dx through its layers, and since x fed every branch, dL/dx = the sum of what they send.
    """

    def __init__(self, branches):
        super().__init__()
        if isinstance(branches, Layer) or not hasattr(branches, "__iter__"):
            raise TypeError("branches must be a list of branches, each a list of layers or a Sequential, "
                            f"got {type(branches).__name__}.")
        self.branches = [b if isinstance(b, Sequential) else Sequential(b) for b in branches]
        if not self.branches:
            raise ValueError("Branches needs at least one branch, e.g. Branches([[Conv2D(16, 8, 1)], ...]).")

    def children(self):
        return [(str(i), branch) for i, branch in enumerate(self.branches)]

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Branches expects feature maps (N, C, H, W), got {tuple(input_shape)}.")
        outs = [branch.output_shape(input_shape) for branch in self.branches]
        for i, out in enumerate(outs):
            if len(out) != 4 or out[0] != outs[0][0] or out[2:] != outs[0][2:]:
                raise ValueError(
                    f"the branches' outputs must agree in everything but channels to be concatenated: branch 0 "
                    f"gives {outs[0]}, branch {i} {out} (input {tuple(input_shape)}). Give each k x k layer "
                    "padding k // 2 and the same stride in every branch, e.g. MaxPool2D(3, stride=1, padding=1).")
        return (outs[0][0], sum(out[1] for out in outs), *outs[0][2:])

    def forward(self, x, training=None):
        training = self._mode(training)
        x = _check_input(x, 4, "Branches", "a batch of feature maps (N, C, H, W)")
        N, C, H, W = self.output_shape(x.shape)
        outs = [branch._chain(x, training) for branch in self.branches]
        y = ChannelMajor.empty((N, C, H, W), outs[0].dtype)     # laid out like the conv layers' maps
        self._splits = np.cumsum([out.shape[1] for out in outs])[:-1]     # where each branch's channels start
        for out, start in zip(outs, [0, *self._splits]):
            y[:, start : start + out.shape[1]] = out
        self._out_shape = y.shape
        return y

    def backward(self, grad, input_grad=True):
        grad = self._check_grad(grad)
        dx = None
        for branch, g in zip(self.branches, np.split(grad, self._splits, axis=1)):
            d = branch.backward(g, input_grad=input_grad)
            if input_grad:
                dx = d if dx is None else np.add(dx, d, dtype=d.dtype)
        return dx

    @property
    def label(self):
        def short(branch):
            parts = []
            for layer in branch:
                if isinstance(layer, Conv2D):
                    parts.append(f"{layer.kernel_size[0]}x{layer.kernel_size[1]} {layer.out_channels}")
                elif isinstance(layer, MaxPool2D):
                    parts.append(f"pool {layer.size}x{layer.size}")
            return "->".join(parts) or "identity"
        return "Branches [" + " | ".join(map(short, self.branches)) + "]"

    def __repr__(self):
        inner = ", ".join("[" + ", ".join(map(repr, b)) + "]" for b in self.branches)
        return f"Branches([{inner}])"
