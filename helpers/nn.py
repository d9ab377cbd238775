"""Neural-network layers in numpy, each a small class with a forward and a backward pass.

Notebook 07 builds and trains CNNs out of these::

    Conv2D  ReLU  MaxPool2D  Flatten  Dense  Dropout      layers
    SoftmaxCrossEntropy                                    the loss (softmax and cross-entropy fused)
    Sequential                                             a stack of layers, with a summary table
    SGD  Adam                                              optimizers (in helpers.optim)

Every layer follows the same contract:

- ``forward(x, training=True)`` computes the output and keeps what the backward pass will need;
- ``backward(grad)`` takes dL/d(output) and returns dL/d(input), and stores dL/d(parameter) in
  ``layer.grads`` (same keys as ``layer.params``).

Shapes: images are (N, C, H, W), vectors (N, D); N is the batch. Parameters are float32 unless a layer
is built with ``dtype=np.float64`` (or converted with ``Sequential.astype``), as the gradient checks do.

Speed, for the curious: a training step spends its time in the convolutions, done as im2col (every
receptive field laid out as a column, :func:`helpers.conv.im2col`) followed by one matrix product; the
layers call its twin in helpers.fast_conv, which copies on every core. The columns are kept for the
backward pass and their buffer is reused from one step to the next. Feature maps are stored
channel-major in memory (:class:`ChannelMajor` says what that means and why); the shapes you see are
always (N, C, H, W). Every big step (the products, im2col, ReLU, pooling) is shared out over the CPU
cores by helpers._threads, which says why.
"""
from __future__ import annotations

import numpy as np

from ._arguments import as_real_array, positive_int, positive_pair
from ._threads import by_channel, matmul
from .fast_conv import col2im, im2col
from .pooling import pool2d, pool2d_backward
from .shapes import output_size, resolve_padding

__all__ = [
    "Layer", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "Dropout", "SoftmaxCrossEntropy",
    "Sequential", "he_normal",
]


def he_normal(shape, fan_in: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He initialisation: normal with standard deviation sqrt(2 / fan_in).

    ReLU zeroes about half of its inputs, so each layer would halve the variance of the signal; the
    factor 2 compensates and keeps activations at the same scale from the first layer to the last.
    """
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def _rng(rng) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be None, a seed (int) or a numpy Generator, got {type(rng).__name__}.")


class ChannelMajor:
    """Feature maps (N, C, H, W) *stored* channel-major, (C, N, H, W) in memory: the layers' one layout trick.

    A convolution computes its F feature maps as one matrix product, filters (F, K) @ columns
    (K, N*H'*W'), so they come out as (F, N, H', W') in memory. Copying them into (N, F, H', W') order
    would move every value of every map on every step for nothing; the layer hands out an (N, F, H', W')
    *view* of that memory instead (:meth:`from_matrix`). The layers after it keep the layout they get
    (``np.empty_like`` does), so ReLU and pooling write channel-major maps too; the next convolution's
    im2col then reads each channel's pixels in long runs, and on the way back the gradient of a
    channel-major map is an (F, N*H'*W') matrix at no cost (:meth:`to_matrix`). Shapes stay (N, C, H, W)
    everywhere and every number is the same: only the order in memory differs.
    """

    @staticmethod
    def from_matrix(m: np.ndarray, N: int, hw) -> np.ndarray:
        """(C, N*H*W) matrix -> (N, C, H, W), a view of the same memory."""
        return m.reshape(m.shape[0], N, *hw).transpose(1, 0, 2, 3)

    @staticmethod
    def to_matrix(x: np.ndarray) -> np.ndarray:
        """(N, C, H, W) -> (C, N*H*W): a view when x is stored channel-major, a copy otherwise."""
        return x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)

    @staticmethod
    def empty(shape, dtype) -> np.ndarray:
        """An uninitialised (N, C, H, W) array, stored channel-major."""
        N, C, H, W = shape
        return np.empty((C, N, H, W), dtype).transpose(1, 0, 2, 3)

    @staticmethod
    def holds(x: np.ndarray) -> bool:
        """Is x a batch (N, C, H, W) of more than one image, stored channel-major?"""
        return x.ndim == 4 and x.shape[0] > 1 and x.transpose(1, 0, 2, 3).flags.c_contiguous

    @staticmethod
    def copy(x: np.ndarray) -> np.ndarray:
        """A copy of x (N, C, H, W), stored channel-major."""
        return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)


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


def _check_grad(layer, grad, out_shape) -> np.ndarray:
    """grad as an array of the forward output's shape ``out_shape``, or an error that says what is wrong.

    ``out_shape`` is None until the layer has run forward (in training mode, when it must keep something).
    """
    name = type(layer).__name__
    if out_shape is None:
        raise RuntimeError(f"{name}: call forward(x, training=True) before backward; backward needs what the "
                           "forward pass keeps.")
    grad = as_real_array(grad, "grad", empty_ok=True)
    if grad.shape != tuple(out_shape):
        raise ValueError(f"{name}.backward: the gradient must have the shape of the last forward output, "
                         f"shape {tuple(out_shape)}, got {grad.shape}.")
    return grad


class Layer:
    """Base class. ``params`` and ``grads`` map names ("W", "b") to arrays of the same shape."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x, training: bool = True):
        raise NotImplementedError

    def backward(self, grad, input_grad: bool = True):
        """dL/d(output) -> dL/d(input). With ``input_grad=False`` (the first layer) skip computing it."""
        raise NotImplementedError

    def output_shape(self, input_shape: tuple) -> tuple:
        """The shape of the output for an input of ``input_shape`` (the batch axis included)."""
        return tuple(input_shape)

    @property
    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def astype(self, dtype) -> Layer:
        """Convert parameters (and gradients) to ``dtype``, e.g. float64 for a gradient check."""
        for k in self.params:
            self.params[k] = self.params[k].astype(dtype)
        self.grads = {}
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def label(self) -> str:
        """A short name for summary tables."""
        return type(self).__name__


class Conv2D(Layer):
    """A bank of ``out_channels`` filters of ``kernel_size`` over ``in_channels`` channels.

    forward  x (N, C, H, W) -> y (N, F, H', W'),  y = W * x + b (cross-correlation, as in conv2d)
    backward, with g = dL/dy:
        dL/dW[f, c, m, n] = sum_{N, i, j} g[N, f, i, j] * x[N, c, i*s + m, j*s + n]
        dL/db[f]          = sum_{N, i, j} g[N, f, i, j]
        dL/dx             = every g[N, f, i, j] * W[f] added back onto the window it came from
    In matrix form, with X the im2col columns (K, P) and Wm the filters as rows (F, K):
        y = Wm @ X,   dWm = g @ X.T,   dX = Wm.T @ g,   dx = col2im(dX).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding="valid",
                 rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.kernel_size = kh, kw = positive_pair(kernel_size, "kernel_size")
        self.stride = positive_pair(stride, "stride")
        self.padding = resolve_padding(padding, self.kernel_size)
        self.padding_arg = padding
        fan_in = in_channels * kh * kw
        self.params["W"] = he_normal((out_channels, in_channels, kh, kw), fan_in, _rng(rng), dtype)
        self.params["b"] = np.zeros(out_channels, dtype=dtype)
        self._cols = None        # im2col columns of the last forward pass, (kh*kw*C, N*H'*W'), reused
        self._dcols = None       # workspace for dL/d(columns), reused
        self._x_shape = self._y_shape = None

    def output_shape(self, input_shape):
        N, C, H, W = input_shape
        if C != self.in_channels:
            raise ValueError(f"Conv2D expects {self.in_channels} input channels, got shape {tuple(input_shape)}.")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return (N, self.out_channels, output_size(H, kh, ph, sh), output_size(W, kw, pw, sw))

    def _workspace(self, name, shape, dtype):
        buf = getattr(self, name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype=dtype)
            setattr(self, name, buf)
        return buf

    def forward(self, x, training=True):
        x = _check_input(x, 4, "Conv2D", "a batch of images (N, C, H, W)")
        N, F, oh, ow = self.output_shape(x.shape)
        W, b = self.params["W"], self.params["b"]
        x = x.astype(W.dtype, copy=False)
        K = W[0].size
        cols = self._workspace("_cols", (K, N * oh * ow), W.dtype)
        im2col(x, self.kernel_size, self.stride, self.padding, out=cols)
        self._x_shape = x.shape
        wm = W.reshape(F, K)                                   # one filter per row, ordered (c, m, n) like the columns
        y = matmul(wm, cols)                                   # wm @ cols: (F, N*H'*W')
        y += b[:, None]
        self._y_shape = (N, F, oh, ow)
        return ChannelMajor.from_matrix(y, N, (oh, ow))        # (N, F, H', W'), no copy

    def backward(self, grad, input_grad=True):
        W = self.params["W"]
        g = _check_grad(self, grad, self._y_shape).astype(W.dtype, copy=False)
        F, C, kh, kw = W.shape
        N, _, H, Wd = self._x_shape
        g = ChannelMajor.to_matrix(g)                          # (F, N*H'*W')
        cols = self._cols
        self.grads["W"] = matmul(g, cols.T).reshape(F, C, kh, kw)      # g @ cols.T
        self.grads["b"] = g.sum(axis=1)
        if not input_grad:
            return None
        dcols = self._workspace("_dcols", cols.shape, W.dtype)
        matmul(W.reshape(F, -1).T, g, out=dcols)               # wm.T @ g
        (ph, pw) = self.padding
        padded = ChannelMajor.empty((N, C, H + 2 * ph, Wd + 2 * pw), W.dtype)     # col2im zeroes it
        return col2im(dcols, self._x_shape, self.kernel_size, self.stride, self.padding, out=padded)

    @property
    def label(self):
        kh, kw = self.kernel_size
        pad = self.padding_arg if isinstance(self.padding_arg, str) else f"pad {self.padding_arg}"
        stride = "" if self.stride == (1, 1) else f" stride {self.stride[0]}"
        return f"Conv2D {self.in_channels}->{self.out_channels} {kh}x{kw}{stride} {pad}"

    def __repr__(self):
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding_arg!r})")


class ReLU(Layer):
    """max(0, x). Backward: the gradient passes where x > 0 and is blocked where x <= 0."""

    def __init__(self):
        super().__init__()
        self._mask = None

    def forward(self, x, training=True):
        x = as_real_array(x, "ReLU's input", empty_ok=True)
        y = np.empty_like(x)                             # keeps x's memory layout (see ChannelMajor)
        self._mask = np.empty_like(x, dtype=bool) if training else None   # only backward needs it

        def relu(ix):                                    # ix selects some of the channels
            np.maximum(x[ix], 0, out=y[ix])
            if training:
                np.greater(x[ix], 0, out=self._mask[ix])
        by_channel(relu, x)
        return y

    def backward(self, grad, input_grad=True):
        grad = _check_grad(self, grad, None if self._mask is None else self._mask.shape)
        dx = np.empty_like(grad)
        by_channel(lambda ix: np.multiply(grad[ix], self._mask[ix], out=dx[ix]), grad)
        return dx

    def __repr__(self):
        return "ReLU()"


class MaxPool2D(Layer):
    """Max pooling over ``size`` x ``size`` windows (stride ``size`` unless given).

    forward   x (N, C, H, W) -> y (N, C, H', W'), each window's maximum (helpers.pooling.pool2d)
    backward  each output gradient goes to the one input pixel that was the maximum of its window
              (the first one if several tie); the others get 0 (helpers.pooling.pool2d_backward).
    """

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = positive_int(size, "size")
        self.stride = self.size if stride is None else positive_int(stride, "stride")
        self._x_shape = self._winners = None

    def output_shape(self, input_shape):
        *lead, H, W = input_shape
        return (*lead, output_size(H, self.size, 0, self.stride), output_size(W, self.size, 0, self.stride))

    def forward(self, x, training=True):
        x = _check_input(x, 4, "MaxPool2D", "a batch of feature maps (N, C, H, W)")
        if not training:                                # only backward needs to know which pixel won
            self._winners = None
            return pool2d(x, self.size, self.stride)
        y, self._winners = pool2d(x, self.size, self.stride, return_indices=True)
        self._x_shape = x.shape
        return y

    def backward(self, grad, input_grad=True):
        grad = _check_grad(self, grad, None if self._winners is None else self._winners.shape)
        return pool2d_backward(grad, self._x_shape, self.size, self.stride, indices=self._winners)

    @property
    def label(self):
        return f"MaxPool2D {self.size}x{self.size}" + ("" if self.stride == self.size else f" stride {self.stride}")

    def __repr__(self):
        return f"MaxPool2D(size={self.size}, stride={self.stride})"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W), in C order (channel, then row, then column)."""

    def __init__(self):
        super().__init__()
        self._x_shape = self._y_shape = None

    def forward(self, x, training=True):
        x = as_real_array(x, "Flatten's input", empty_ok=True)
        if x.ndim < 2:
            raise ValueError(f"Flatten expects a batch (N, ...) of at least 2 axes, got shape {x.shape}.")
        self._x_shape = x.shape
        self._y_shape = self.output_shape(x.shape)
        # feature maps stored channel-major (see ChannelMajor) get their gradient laid out the same way
        self._channel_major = ChannelMajor.holds(x)
        return x.reshape(self._y_shape)

    def backward(self, grad, input_grad=True):
        grad = _check_grad(self, grad, self._y_shape).reshape(self._x_shape)
        return ChannelMajor.copy(grad) if self._channel_major else grad

    def output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:], dtype=np.int64)))

    def __repr__(self):
        return "Flatten()"


class Dense(Layer):
    """Fully connected: y = x @ W + b, x (N, D_in), W (D_in, D_out), b (D_out,).

    Backward: dL/dW = x.T @ g, dL/db = sum of g over the batch, dL/dx = g @ W.T.
    """

    def __init__(self, in_features: int, out_features: int, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self._x = None
        self.params["W"] = he_normal((in_features, out_features), in_features, _rng(rng), dtype)
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.in_features:
            raise ValueError(f"Dense expects (N, {self.in_features}), got {tuple(input_shape)}. "
                             "Put a Flatten() before it if the input is a stack of feature maps.")
        return (input_shape[0], self.out_features)

    def forward(self, x, training=True):
        x = _check_input(x, 2, "Dense", f"a batch of vectors (N, {self.in_features}) (put a Flatten() before it "
                         "if the input is a stack of feature maps)")
        self.output_shape(x.shape)
        W = self.params["W"]
        self._x = x.astype(W.dtype, copy=False)
        y = matmul(self._x, W)                       # x @ W
        y += self.params["b"]
        return y

    def backward(self, grad, input_grad=True):
        out_shape = None if self._x is None else (self._x.shape[0], self.out_features)
        grad = _check_grad(self, grad, out_shape).astype(self.params["W"].dtype, copy=False)
        self.grads["W"] = matmul(self._x.T, grad)
        self.grads["b"] = grad.sum(axis=0)
        return matmul(grad, self.params["W"].T) if input_grad else None

    @property
    def label(self):
        return f"Dense {self.in_features}->{self.out_features}"

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features})"


class Dropout(Layer):
    """During training, zero each value with probability ``p`` and scale the rest by 1 / (1 - p)
    ("inverted dropout"), so that at test time (``training=False``) the layer does nothing."""

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p < 1:
            raise ValueError(f"p is the probability of dropping a value, a number in [0, 1), got {p!r}.")
        self.p = float(p)
        self.rng = _rng(rng)
        self._mask = self._y_shape = None

    def forward(self, x, training=True):
        x = _check_input(x, None, "Dropout", "an array")
        self._y_shape = x.shape
        if not training or self.p == 0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self._mask

    def backward(self, grad, input_grad=True):
        grad = _check_grad(self, grad, self._y_shape)
        return grad if self._mask is None else grad * self._mask

    @property
    def label(self):
        return f"Dropout {self.p:g}"

    def __repr__(self):
        return f"Dropout(p={self.p})"


class SoftmaxCrossEntropy:
    """Softmax of the scores followed by the mean cross-entropy with integer labels.

    forward(z, y):  p = softmax(z) row by row,  L = mean_i -ln p[i, y_i]
    backward():     dL/dz = (p - onehot(y)) / N       (softmax and log cancel into this simple form)

    Computed stably: z - max(z) before exponentiating, and ln p as (z - max) - ln(sum exp(z - max)).
    """

    def __init__(self):
        self.probs = None

    def forward(self, z, labels):
        z = _check_input(z, 2, "SoftmaxCrossEntropy", "scores of shape (N, classes)")
        labels = np.asarray(labels)
        if labels.shape != (z.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {z.shape[0]} integers (one class per row), got "
                             f"{labels.dtype} {labels.shape}.")
        if labels.size and (labels.min() < 0 or labels.max() >= z.shape[1]):
            raise ValueError(f"labels must be in 0..{z.shape[1] - 1}, got {labels.min()}..{labels.max()}.")
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        self.probs = e / s
        self._labels = labels
        rows = np.arange(z.shape[0])
        log_p = shifted[rows, labels] - np.log(s[:, 0])
        return float(-log_p.mean())

    def backward(self):
        if self.probs is None:
            raise RuntimeError("SoftmaxCrossEntropy: call forward(scores, labels) before backward.")
        g = self.probs.copy()
        g[np.arange(g.shape[0]), self._labels] -= 1
        return g / g.dtype.type(g.shape[0])

    def __repr__(self):
        return "SoftmaxCrossEntropy()"


class Sequential:
    """Layers applied one after the other. ``model(x)`` runs them in inference mode."""

    def __init__(self, layers):
        self.layers = list(layers)
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer objects, got {type(layer).__name__}.")

    def forward(self, x, training=True):
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    __call__ = lambda self, x: self.forward(x, training=False)   # noqa: E731

    def backward(self, grad):
        """Send dL/d(scores) back through every layer; fills each layer's ``grads``.

        The first layer's input is the data, whose gradient nobody needs, so it is not computed.
        """
        for i, layer in enumerate(reversed(self.layers)):
            grad = layer.backward(grad, input_grad=i < len(self.layers) - 1)
        return grad

    def predict(self, x, batch_size: int = 500) -> np.ndarray:
        """Scores (N, classes) for ``x``, a batch at a time, in inference mode."""
        outs = [self.forward(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
        return np.concatenate(outs)

    def parameters(self):
        """(layer, name) pairs for every parameter, in order: what an optimizer updates."""
        return [(layer, name) for layer in self.layers for name in layer.params]

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    def astype(self, dtype) -> Sequential:
        for layer in self.layers:
            layer.astype(dtype)
        return self

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

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter under a name like ``"0.W"`` (layer index, parameter name)."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def load_state_dict(self, state) -> None:
        """Copy parameters in from :meth:`state_dict`'s format; shapes must match exactly."""
        mine = self.state_dict()
        missing, extra = set(mine) - set(state), set(state) - set(mine)
        if missing or extra:
            raise ValueError(f"the weights do not fit this model: missing {sorted(missing)}, "
                             f"unexpected {sorted(extra)}.")
        for key, value in state.items():
            i, name = key.split(".")
            layer = self.layers[int(i)]
            value = np.asarray(value)
            if value.shape != layer.params[name].shape:
                raise ValueError(f"{key}: the model has shape {layer.params[name].shape}, the file {value.shape}.")
            layer.params[name] = value.astype(layer.params[name].dtype)

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n])"
