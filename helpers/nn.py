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
receptive field laid out as a column, :func:`helpers.conv.im2col`) followed by one matrix product. The
columns are kept for the backward pass and their buffer is reused from one step to the next. Feature
maps are *stored* channel-major, (C, N, H, W) in memory, and handed out as (N, C, H, W) views of that
memory: the matrix product then writes them without a transpose, and im2col reads them tap by tap in
long contiguous runs. The shapes you see are always (N, C, H, W). Every big step (the products,
im2col, ReLU, pooling) is shared out over the CPU cores by helpers._threads, which says why.
"""
from __future__ import annotations

import numpy as np

from ._threads import in_parallel, matmul
from .conv import col2im, im2col, output_size, resolve_padding
from .pooling import pool2d, pool2d_backward

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


def _by_channel(work, x: np.ndarray) -> None:
    """Call ``work(ix)`` with index tuples that together select all of ``x``, a range of channels
    (axis 1) each, shared out over the CPU cores. Element-wise layers run on every core this way,
    like the matrix products do; see helpers._threads.
    """
    if x.ndim < 2 or x.size == 0:
        work((...,))
    else:
        in_parallel(lambda part: work((slice(None), part)), x.shape[1], values_per_item=x.size // x.shape[1])


def _check_input(x, ndim: int, name: str, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != ndim:
        raise ValueError(f"{name} expects {what}, got an array of shape {x.shape}.")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} expects floats, got {x.dtype}. Scale uint8 images to 0..1 first, "
            "e.g. helpers.images.normalize(x)."
        )
    return x


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
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}.")
        kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else tuple(kernel_size)
        self.kernel_size = (int(kh), int(kw))
        self.stride = (stride, stride) if np.isscalar(stride) else tuple(stride)
        self.padding = resolve_padding(padding, self.kernel_size)
        self.padding_arg = padding
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        fan_in = in_channels * kh * kw
        self.params["W"] = he_normal((out_channels, in_channels, kh, kw), fan_in, _rng(rng), dtype)
        self.params["b"] = np.zeros(out_channels, dtype=dtype)
        self._cols = None        # im2col columns of the last forward pass, (kh*kw*C, N*H'*W'), reused
        self._dcols = None       # workspace for dL/d(columns), reused
        self._x_shape = None

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
        wm = W.transpose(0, 2, 3, 1).reshape(F, K)            # rows ordered (m, n, c) like the columns
        y = matmul(wm, cols)                                   # wm @ cols (F, N*H'*W'): channel-major maps
        y += b[:, None]
        return y.reshape(F, N, oh, ow).transpose(1, 0, 2, 3)   # seen as (N, F, H', W'), no copy

    def backward(self, grad, input_grad=True):
        if self._x_shape is None:
            raise RuntimeError("call forward before backward.")
        W = self.params["W"]
        F, C, kh, kw = W.shape
        N = self._x_shape[0]
        g = np.asarray(grad, dtype=W.dtype).transpose(1, 0, 2, 3).reshape(F, -1)   # free if channel-major
        cols = self._cols
        self.grads["W"] = matmul(g, cols.T).reshape(F, kh, kw, C).transpose(0, 3, 1, 2)      # g @ cols.T
        self.grads["b"] = g.sum(axis=1)
        if not input_grad:
            return None
        wm = W.transpose(0, 2, 3, 1).reshape(F, -1)
        dcols = self._workspace("_dcols", cols.shape, W.dtype)
        matmul(wm.T, g, out=dcols)                             # wm.T @ g
        _, _, H, Wd = self._x_shape
        (ph, pw) = self.padding
        # gather into a channel-major buffer, seen as (N, C, H, W): the layer below reads it without copies
        padded = np.empty((C, N, H + 2 * ph, Wd + 2 * pw), dtype=W.dtype).transpose(1, 0, 2, 3)  # col2im zeroes it
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

    def forward(self, x, training=True):
        x = np.asarray(x)
        y = np.empty_like(x)                             # keeps x's memory layout
        self._mask = np.empty_like(x, dtype=bool) if training else None   # only backward needs it

        def relu(ix):                                    # ix selects some of the channels
            np.maximum(x[ix], 0, out=y[ix])
            if training:
                np.greater(x[ix], 0, out=self._mask[ix])
        _by_channel(relu, x)
        return y

    def backward(self, grad, input_grad=True):
        if getattr(self, "_mask", None) is None:
            raise RuntimeError("call forward(x, training=True) before backward.")
        grad = np.asarray(grad)
        dx = np.empty_like(grad)
        _by_channel(lambda ix: np.multiply(grad[ix], self._mask[ix], out=dx[ix]), grad)
        return dx

    def __repr__(self):
        return "ReLU()"


class MaxPool2D(Layer):
    """Max pooling over ``size`` x ``size`` windows (stride ``size`` unless given).

    Backward: each output gradient goes to the one input pixel that was the maximum of its window
    (the first one if several tie), the others get 0. The common case, 2x2 windows side by side on an
    even-sized map, is done on four strided views; anything else uses helpers.pooling.
    """

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = int(size)
        self.stride = self.size if stride is None else int(stride)

    def output_shape(self, input_shape):
        *lead, H, W = input_shape
        return (*lead, output_size(H, self.size, 0, self.stride), output_size(W, self.size, 0, self.stride))

    def _fast(self, shape):
        return self.size == 2 and self.stride == 2 and shape[-1] % 2 == 0 and shape[-2] % 2 == 0

    def forward(self, x, training=True):
        x = _check_input(x, 4, "MaxPool2D", "a batch of feature maps (N, C, H, W)")
        self._x_shape = x.shape
        if not self._fast(x.shape):
            y, self._idx = pool2d(x, self.size, self.stride, return_indices=True)
            return y
        N, C, H, W = x.shape
        y = np.empty_like(x, shape=(N, C, H // 2, W // 2))         # laid out like x
        self._mask = np.empty_like(y, dtype=np.uint8) if training else None

        def pool(ix):                                           # ix selects some of the channels
            x6 = x[ix].reshape(N, -1, H // 2, 2, W // 2, 2)      # window (i, j) is x6[:, :, i, :, j, :]
            rows = np.maximum(x6[:, :, :, 0], x6[:, :, :, 1])     # max of the two rows of each window
            yp = np.maximum(rows[..., 0], rows[..., 1], out=y[ix])        # then of the two columns
            if not training:
                return
            # Which of the 4 pixels won, 0..3 (the first one if several tie): one byte per window, built
            # from "is it not tap t" flags as  w = nb0 * (1 + nb1 * (1 + nb2)).
            taps = [x6[:, :, :, m, :, n] for m in (0, 1) for n in (0, 1)]
            winner = self._mask[ix]
            np.not_equal(taps[2], yp, out=winner.view(bool))
            winner += np.uint8(1)
            winner *= np.not_equal(taps[1], yp).view(np.uint8)
            winner += np.uint8(1)
            winner *= np.not_equal(taps[0], yp).view(np.uint8)
        _by_channel(pool, x)
        return y

    def backward(self, grad, input_grad=True):
        if not self._fast(self._x_shape):
            return pool2d_backward(grad, self._x_shape, self.size, self.stride, indices=self._idx)
        if self._mask is None:
            raise RuntimeError("call forward(x, training=True) before backward.")
        grad = np.asarray(grad)
        N, C, H, W = self._x_shape
        # laid out like the gradient (channel-major when it is), each window's gradient to its winner
        dx = np.empty_like(grad, shape=(N, C, H, W))

        def unpool(ix):                                         # ix selects some of the channels
            for t, (m, n) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
                np.multiply(grad[ix], self._mask[ix] == t, out=dx[ix][:, :, m::2, n::2])
        _by_channel(unpool, dx)
        return dx

    @property
    def label(self):
        return f"MaxPool2D {self.size}x{self.size}" + ("" if self.stride == self.size else f" stride {self.stride}")

    def __repr__(self):
        return f"MaxPool2D(size={self.size}, stride={self.stride})"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W), in C order (channel, then row, then column)."""

    def forward(self, x, training=True):
        x = np.asarray(x)
        self._x_shape = x.shape
        # feature maps stored channel-major (see the module docstring) get their gradient laid out the same way
        self._channel_major = x.ndim == 4 and x.transpose(1, 0, 2, 3).flags.c_contiguous and x.shape[0] > 1
        return x.reshape(x.shape[0], -1)

    def backward(self, grad, input_grad=True):
        grad = np.asarray(grad).reshape(self._x_shape)
        if self._channel_major:
            grad = np.ascontiguousarray(grad.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
        return grad

    def output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def __repr__(self):
        return "Flatten()"


class Dense(Layer):
    """Fully connected: y = x @ W + b, x (N, D_in), W (D_in, D_out), b (D_out,).

    Backward: dL/dW = x.T @ g, dL/db = sum of g over the batch, dL/dx = g @ W.T.
    """

    def __init__(self, in_features: int, out_features: int, rng=None, dtype=np.float32):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}.")
        self.in_features, self.out_features = int(in_features), int(out_features)
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
        grad = np.asarray(grad, dtype=self.params["W"].dtype)
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
        if not 0 <= p < 1:
            raise ValueError(f"p is the probability of dropping a value, in [0, 1), got {p!r}.")
        self.p = float(p)
        self.rng = _rng(rng)
        self._mask = None

    def forward(self, x, training=True):
        x = np.asarray(x)
        if not training or self.p == 0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self._mask

    def backward(self, grad, input_grad=True):
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


# ---------------------------------------------------------------------------------------------------------
# Modern architectures (notebook 10): global average pooling and residual blocks
# ---------------------------------------------------------------------------------------------------------

class GlobalAvgPool2D(Layer):
    """The mean of each feature map: (N, C, H, W) -> (N, C), one number per channel.

    In place of Flatten followed by a big dense layer: the dense layer after it then has C inputs, not
    C x H x W (Network in Network, 2013; ResNet). Backward: each of the H x W pixels of a map receives
    1 / (H x W) of the gradient of its mean.
    """

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"GlobalAvgPool2D expects feature maps (N, C, H, W), got {tuple(input_shape)}.")
        return tuple(input_shape[:2])

    def forward(self, x, training=True):
        x = _check_input(x, 4, "GlobalAvgPool2D", "a batch of feature maps (N, C, H, W)")
        self._x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, grad, input_grad=True):
        if getattr(self, "_x_shape", None) is None:
            raise RuntimeError("call forward before backward.")
        if not input_grad:
            return None
        N, C, H, W = self._x_shape
        grad = np.asarray(grad)
        # channel-major like the conv layers' maps (see the module docstring), seen as (N, C, H, W)
        dx = np.empty((C, N, H, W), dtype=grad.dtype)
        dx[...] = (grad.T / grad.dtype.type(H * W))[:, :, None, None]
        return dx.transpose(1, 0, 2, 3)

    @property
    def label(self):
        return "GlobalAvgPool2D"

    def __repr__(self):
        return "GlobalAvgPool2D()"


class _Nested(dict):
    """The ``params`` (or ``grads``, ``buffers``) of a block, as one flat dict over the layers inside it.

    Keys are ``"<part><i>_<name>"``, e.g. ``"body2_W"`` for the weights of the third layer of the body:
    no dots, so Sequential.state_dict's ``"layer.name"`` keys stay two-part. Reading and writing go
    straight to the inner layer's own dict, so optimizers and load_state_dict change the inner layers.
    """

    def __init__(self, parts, attr):
        super().__init__()
        self._parts, self._attr = parts, attr      # parts: [(prefix, [layers])]

    def _where(self, key):
        prefix_i, _, name = key.partition("_")
        for prefix, layers in self._parts:
            if prefix_i.startswith(prefix) and prefix_i[len(prefix):].isdigit():
                i = int(prefix_i[len(prefix):])
                if i < len(layers) and hasattr(layers[i], self._attr):
                    return getattr(layers[i], self._attr), name
        raise KeyError(key)

    def __getitem__(self, key):
        d, name = self._where(key)
        return d[name]

    def __setitem__(self, key, value):
        d, name = self._where(key)
        d[name] = value

    def __contains__(self, key):
        try:
            d, name = self._where(key)
        except KeyError:
            return False
        return name in d

    def keys(self):
        return [f"{prefix}{i}_{name}" for prefix, layers in self._parts for i, layer in enumerate(layers)
                for name in getattr(layer, self._attr, {})]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def values(self):
        return [self[k] for k in self.keys()]

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __repr__(self):
        return repr({k: getattr(v, "shape", v) for k, v in self.items()})


class Residual(Layer):
    """A residual block: y = ReLU(body(x) + shortcut(x)) (He et al., 2016).

    ``body`` is a list of layers, typically Conv2D 3x3, ReLU, Conv2D 3x3 (with padding "same", so the
    shape is kept). The ``shortcut`` is the identity (``None``), or a list of layers that bring x to the
    body's output shape when the body changes it, usually one 1x1 Conv2D with the body's stride (a
    *projection*). ``relu=False`` leaves out the final ReLU.

    forward   y = relu(body(x) + shortcut(x))
    backward  with g the gradient after the final ReLU, the sum sends g unchanged down both paths:
              dL/dx = body.backward(g) + shortcut.backward(g)      (= ... + g for the identity)
    The "+ g" is the point: however small the body's gradient gets, the identity passes g through
    untouched, so a deep stack of blocks keeps a usable gradient in its first layers.

    The parameters of the inner layers appear in ``params`` and ``grads`` under flat names
    (``"body0_W"``, ``"short0_b"``, ...), so Sequential, the optimizers and save/load work unchanged.
    """

    def __init__(self, body, shortcut=None, relu: bool = True):
        super().__init__()
        self.body = list(body.layers if isinstance(body, Sequential) else body)
        self.shortcut = [] if shortcut is None else list(
            shortcut.layers if isinstance(shortcut, Sequential) else shortcut)
        if not self.body:
            raise ValueError("a Residual block needs at least one layer in its body.")
        for layer in self.body + self.shortcut:
            if not isinstance(layer, Layer):
                raise TypeError(f"Residual takes Layer objects, got {type(layer).__name__}.")
        self.relu = ReLU() if relu else None
        parts = [("body", self.body), ("short", self.shortcut)]
        self.params = _Nested(parts, "params")
        self.grads = _Nested(parts, "grads")
        self.buffers = _Nested(parts, "buffers")   # statistics kept for evaluation (batch normalisation's)

    @staticmethod
    def _chain(layers, shape):
        for layer in layers:
            shape = layer.output_shape(shape)
        return tuple(shape)

    def output_shape(self, input_shape):
        body = self._chain(self.body, input_shape)
        short = self._chain(self.shortcut, input_shape)
        if body != short:
            raise ValueError(
                f"the body's output {body} and the shortcut's {short} must have the same shape to be added. "
                "When the body changes the number of channels or the size, give the shortcut a 1x1 Conv2D "
                "with the body's output channels and stride, e.g. shortcut=[Conv2D(C_in, C_out, 1, stride=2)].")
        return body

    def forward(self, x, training=True):
        x = _check_input(x, 4, "Residual", "a batch of feature maps (N, C, H, W)")
        self.output_shape(x.shape)
        out = x
        for layer in self.body:
            out = layer.forward(out, training=training)
        short = x
        for layer in self.shortcut:
            short = layer.forward(short, training=training)
        y = np.add(out, short, dtype=out.dtype)      # keeps the conv output's channel-major layout
        return self.relu.forward(y, training=training) if self.relu is not None else y

    def backward(self, grad, input_grad=True):
        g = self.relu.backward(grad) if self.relu is not None else np.asarray(grad)
        gb = g
        for i, layer in enumerate(reversed(self.body)):
            gb = layer.backward(gb, input_grad=input_grad or i < len(self.body) - 1)
        gs = g
        for i, layer in enumerate(reversed(self.shortcut)):
            gs = layer.backward(gs, input_grad=input_grad or i < len(self.shortcut) - 1)
        if not input_grad:
            return None
        return np.add(gb, gs, dtype=gb.dtype)

    def layers(self):
        """Every layer inside the block: the body's, then the shortcut's."""
        return self.body + self.shortcut

    def astype(self, dtype):
        for layer in self.layers():
            layer.astype(dtype)
        return self

    @property
    def label(self):
        """Short: the convolutions of each path, e.g. "Residual [3x3 16->32 s2, 3x3 32->32] + 1x1 16->32 s2"."""
        def short(layer):
            if isinstance(layer, Conv2D):
                (kh, kw), s = layer.kernel_size, layer.stride[0]
                return f"{kh}x{kw} {layer.in_channels}->{layer.out_channels}" + (f" s{s}" if s != 1 else "")
            return None if isinstance(layer, ReLU) else layer.label

        body = ", ".join(t for t in map(short, self.body) if t)
        path = ", ".join(t for t in map(short, self.shortcut) if t) or "identity"
        return f"Residual [{body}] + {path}"

    def __repr__(self):
        short = "None" if not self.shortcut else "[" + ", ".join(map(repr, self.shortcut)) + "]"
        return f"Residual([{', '.join(map(repr, self.body))}], shortcut={short}, relu={self.relu is not None})"


__all__ += ["GlobalAvgPool2D", "Residual"]
