"""Neural-network layers in numpy, each a small class with a forward and a backward pass.

Notebook 07 builds and trains CNNs out of these::

    Conv2D  ReLU  MaxPool2D  Flatten  Dense  Dropout      layers
    SoftmaxCrossEntropy                                    the loss (softmax and cross-entropy fused)
    Sequential                                             a stack of layers, with a summary table
    SGD  Adam                                              optimizers (in helpers.optim)
    BatchNorm2D  BatchNorm1D                               batch normalisation (notebook 09, at the end)
    GlobalAvgPool2D  Residual                              global pooling, residual blocks (notebook 10, at the end)

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

from ._arguments import as_real_array, boolean, number_in, positive_int, positive_pair
from ._threads import by_channel, matmul
from .fast_conv import col2im, conv_matrix, im2col
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
    out = np.empty(shape, dtype)
    flat = out.reshape(-1)
    # drawn a block at a time, the same numbers as in one go: drawing all of AlexNet's first dense layer
    # at once would hold 37.7 million float64 values twice over (600 MB) to keep them as float32
    for i in range(0, flat.size, 2**20):
        flat[i : i + 2**20] = rng.standard_normal(min(2**20, flat.size - i)) * np.sqrt(2.0 / fan_in)
    return out


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

    ``out_shape`` is None until the layer has run forward in training mode, and again after a forward pass
    in evaluation mode (training=False), which keeps nothing: backward always differentiates the forward
    pass just before it, never an earlier batch's.
    """
    name = type(layer).__name__
    if out_shape is None:
        raise RuntimeError(f"{name}: call forward(x, training=True) before backward; backward needs what a "
                           "training forward pass keeps, and a forward pass with training=False (evaluation) "
                           "keeps nothing, so that backward never returns an earlier batch's gradient.")
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
        if training:                                           # backward needs the columns: keep them
            cols = self._workspace("_cols", (K, N * oh * ow), W.dtype)
            im2col(x, self.kernel_size, self.stride, self.padding, out=cols)
            wm = W.reshape(F, K)                               # one filter per row, ordered (c, m, n) like the columns
            y = matmul(wm, cols)                               # wm @ cols: (F, N*H'*W')
        else:   # evaluation keeps no columns: the same product, a block of images at a time (see fast_conv)
            self._cols = None
            y = conv_matrix(x, W, self.stride, self.padding)
        self._x_shape = x.shape
        y += b[:, None]
        self._y_shape = (N, F, oh, ow) if training else None     # evaluation: nothing for backward
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
        y_shape = self.output_shape(x.shape)
        self._x_shape = x.shape
        self._y_shape = y_shape if training else None               # evaluation: nothing for backward
        # feature maps stored channel-major (see ChannelMajor) get their gradient laid out the same way
        self._channel_major = ChannelMajor.holds(x)
        return x.reshape(y_shape)

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
        x = x.astype(W.dtype, copy=False)
        self._x = x if training else None            # evaluation: nothing for backward
        y = matmul(x, W)                             # x @ W
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
        self._y_shape = x.shape if training else None   # evaluation: nothing for backward
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
    """Layers applied one after the other. ``model(x)`` runs them in inference mode.

    ``model.forward(x)`` runs them in the model's mode: training (the default, or after ``train()``)
    or evaluation (after ``eval()``): Dropout drops values and BatchNorm uses the batch's statistics
    only in training mode. ``forward(x, training=...)`` overrides the mode for one call (fit and
    evaluate do that).
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self.training = True
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer objects, got {type(layer).__name__}.")

    def train(self, mode: bool = True) -> Sequential:
        """Training mode: Dropout drops, BatchNorm normalises with each batch's own statistics.

        ``mode`` must be True or False: ``train(False)`` is the same as ``eval()``.
        """
        self.training = boolean(mode, "mode")
        return self

    def eval(self) -> Sequential:
        """Evaluation mode: Dropout passes everything, BatchNorm uses its running statistics."""
        return self.train(False)

    #: Evaluation runs a larger batch through the layers this many images at a time: every image is
    #: scored alone then, and the feature maps of 1,000 images at once take 200 MB in notebook 07's first
    #: two layers, those of 256 images 51 MB.
    eval_batch = 256

    def forward(self, x, training=None):
        training = self.training if training is None else boolean(training, "training")
        if not training and np.ndim(x) > 1 and len(x) > self.eval_batch:
            x, step = np.asarray(x), self.eval_batch
            return np.concatenate([self.forward(x[i : i + step], training=False) for i in range(0, len(x), step)])
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
        """Every parameter under a name like ``"0.W"`` (layer index, parameter name), and the statistics
        some layers keep for evaluation (BatchNorm's running mean and variance, ``layer.buffers``)."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in {**layer.params, **getattr(layer, "buffers", {})}.items()}

    def load_state_dict(self, state) -> None:
        """Copy parameters in from :meth:`state_dict`'s format.

        Every array is checked first, its name, shape and dtype (floating point, converted to the model's
        dtype), and only then is anything copied: weights that do not fit leave the model exactly as it
        was, never half loaded.
        """
        if not hasattr(state, "items"):
            raise TypeError(f"state must be a dict of arrays as model.state_dict() makes, got {type(state).__name__}.")
        mine = self.state_dict()
        missing, extra = set(mine) - set(state), set(state) - set(mine)
        if missing or extra:
            raise ValueError(f"the weights do not fit this model: missing {sorted(missing)}, "
                             f"unexpected {sorted(extra)}.")
        checked = {}
        for key, value in state.items():
            value = np.asarray(value)
            if not np.issubdtype(value.dtype, np.floating):
                raise TypeError(f"{key}: weights are floating-point numbers, the file has dtype {value.dtype}; "
                                "nothing was loaded.")
            if value.shape != mine[key].shape:
                raise ValueError(f"{key}: the model has shape {mine[key].shape}, the file {value.shape}; "
                                 "nothing was loaded. Were the weights saved from a model built the same way?")
            checked[key] = value
        for key, value in checked.items():                 # all checked: now change the model
            i, name = key.split(".")
            layer = self.layers[int(i)]
            store = layer.params if name in layer.params else layer.buffers
            store[name] = value.astype(store[name].dtype)

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n])"


# -- Batch normalisation (notebook 09) ---------------------------------------------------------------

from ._threads import in_parallel  # noqa: E402  (the section's own import, kept with it)


class _BatchNorm(Layer):
    """What BatchNorm1D and BatchNorm2D share; they differ only in which axes are one "channel".

    Both work on the values laid out as rows, one row per channel: (C, M) with M values each.

    The running variance is the *unbiased* estimate, the batch variance times M / (M - 1), as in PyTorch;
    the normalisation itself divides by the batch's own (biased, / M) variance. Training mode therefore
    needs at least 2 values per channel (PyTorch refuses fewer too): one value has no spread, it would
    normalise to beta whatever it is and pull the running variance towards 0.
    """

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
        # statistics for evaluation: saved with the weights (Sequential.state_dict), not trained
        self.buffers = {"running_mean": np.zeros(channels, dtype=dtype),
                        "running_var": np.ones(channels, dtype=dtype)}
        self._xhat = None

    def _rows(self, x):               # the input as (C, M) rows
        raise NotImplementedError

    def _unrows(self, rows, shape):   # (C, M) rows back to the input's shape
        raise NotImplementedError

    def forward(self, x, training=True):
        x = self._check(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        rows = self._rows(x.astype(gamma.dtype, copy=False))
        C, M = rows.shape
        y = np.empty_like(rows)
        if not training:                                   # y = x * a + b with the running statistics
            a = (gamma / np.sqrt(self.buffers["running_var"] + self.eps)).astype(gamma.dtype)
            b = (beta - self.buffers["running_mean"] * a).astype(gamma.dtype)

            def apply(part):                               # part: a range of channels
                np.multiply(rows[part], a[part, None], out=y[part])
                y[part] += b[part, None]
            in_parallel(apply, C, values_per_item=M)
            self._xhat = None                              # evaluation keeps nothing for backward
            return self._unrows(y, x.shape)
        if M < 2:
            raise ValueError(
                f"{self.label} in training mode got {'no' if M == 0 else 'one'} value per channel (input "
                f"shape {x.shape}): the batch statistics need at least 2 (one value has no variance; it would "
                "be normalised to beta whatever it is and drag the running variance towards 0). Train on "
                "batches of 2 or more (in fit, the last batch of an epoch holds len(x) % batch_size images: choose a "
                "batch_size that leaves 0 or at least 2), or use training=False (the running statistics) for a single "
                "example.")
        mean, var = np.empty(C, gamma.dtype), np.empty(C, gamma.dtype)
        xhat = np.empty_like(rows)

        def centre(part):                                  # the mean, x - mean, and the variance
            mean[part] = rows[part].mean(axis=1)
            np.subtract(rows[part], mean[part, None], out=xhat[part])
            var[part] = np.einsum("cm,cm->c", xhat[part], xhat[part]) / M
        in_parallel(centre, C, values_per_item=M)
        inv_std = (1 / np.sqrt(var + self.eps)).astype(gamma.dtype)

        def normalise(part):
            xhat[part] *= inv_std[part, None]
            np.multiply(xhat[part], gamma[part, None], out=y[part])
            y[part] += beta[part, None]
        in_parallel(normalise, C, values_per_item=M)
        # running statistics for evaluation; the variance's is unbiased (M - 1), as in PyTorch
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        rm += (self.momentum * (mean - rm)).astype(rm.dtype)
        rv += (self.momentum * (var * (M / (M - 1)) - rv)).astype(rv.dtype)
        self._xhat, self._inv_std, self._shape = xhat, inv_std, x.shape
        return self._unrows(y, x.shape)

    def backward(self, grad, input_grad=True):
        gamma = self.params["gamma"]
        grad = _check_grad(self, grad, None if self._xhat is None else self._shape)
        g = self._rows(grad.astype(gamma.dtype, copy=False))
        xhat, inv_std = self._xhat, self._inv_std
        C, M = g.shape
        dbeta, dgamma = np.empty(C, gamma.dtype), np.empty(C, gamma.dtype)

        def sums(part):
            dbeta[part] = g[part].sum(axis=1)
            dgamma[part] = np.einsum("cm,cm->c", g[part], xhat[part])
        in_parallel(sums, C, values_per_item=M)
        self.grads["beta"], self.grads["gamma"] = dbeta, dgamma
        if not input_grad:
            return None
        # dL/dx = gamma / (sigma M) * (M g - sum(g) - xhat * sum(g * xhat)), per channel (notebook 09)
        #       = gamma / sigma * (g - mean(g) - xhat * mean(g * xhat))
        scale = gamma * inv_std
        mean_g, mean_gx = dbeta / M, dgamma / M
        dx = np.empty_like(g)

        def back(part):
            np.multiply(xhat[part], mean_gx[part, None], out=dx[part])
            np.subtract(g[part], dx[part], out=dx[part])
            dx[part] -= mean_g[part, None]
            dx[part] *= scale[part, None]
        in_parallel(back, C, values_per_item=M)
        return self._unrows(dx, self._shape)

    def astype(self, dtype):
        super().astype(dtype)
        self.buffers = {k: v.astype(dtype) for k, v in self.buffers.items()}
        return self

    def __repr__(self):
        return f"{type(self).__name__}({self.channels}, momentum={self.momentum}, eps={self.eps})"

    @property
    def label(self):
        return f"{type(self).__name__} {self.channels}"


class BatchNorm2D(_BatchNorm):
    """Batch normalisation of feature maps: each channel normalised over the batch and the positions.

    forward, training:   mu_c, var_c = mean and variance of x[:, c] over (N, H, W)
                         xhat = (x - mu_c) / sqrt(var_c + eps),   y = gamma_c * xhat + beta_c
                         running_mean/var += momentum * (batch statistic - running one), where the
                         variance's batch statistic is unbiased, var_c * M / (M - 1), as in PyTorch
    forward, evaluation: the same with the running mean and variance in place of the batch's
    backward, with M = N*H*W values per channel and g = dL/dy:
        dL/dbeta_c  = sum g,    dL/dgamma_c = sum g * xhat
        dL/dx       = gamma_c / (sqrt(var_c + eps) M) * (M g - sum g - xhat * sum g * xhat)

    x (N, C, H, W) -> y (N, C, H, W). Feature maps stored channel-major (see the module docstring) are
    read and written without copies.
    """

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
    """Batch normalisation of vectors (N, D): each feature normalised over the batch. Same formulas as
    BatchNorm2D with M = N. Goes between a Dense layer and its ReLU."""

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


__all__ += ["BatchNorm1D", "BatchNorm2D"]


# ---------------------------------------------------------------------------------------------------------
# Modern architectures (notebook 10): global average pooling and residual blocks
# ---------------------------------------------------------------------------------------------------------

class GlobalAvgPool2D(Layer):
    """The mean of each feature map: (N, C, H, W) -> (N, C), one number per channel.

    In place of Flatten followed by a big dense layer: the dense layer after it then has C inputs, not
    C x H x W (Network in Network, 2013; ResNet). Backward: each of the H x W pixels of a map receives
    1 / (H x W) of the gradient of its mean.
    """

    def __init__(self):
        super().__init__()
        self._x_shape = None

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"GlobalAvgPool2D expects feature maps (N, C, H, W), got {tuple(input_shape)}.")
        if input_shape[2] < 1 or input_shape[3] < 1:
            raise ValueError(f"GlobalAvgPool2D got feature maps of {input_shape[2]}x{input_shape[3]} pixels (shape "
                             f"{tuple(input_shape)}): an empty map has no mean. The layers before it shrank the "
                             "maps away; use fewer poolings or strides, or larger images.")
        return tuple(input_shape[:2])

    def forward(self, x, training=True):
        x = _check_input(x, 4, "GlobalAvgPool2D", "a batch of feature maps (N, C, H, W)")
        self.output_shape(x.shape)
        self._x_shape = x.shape if training else None         # evaluation: nothing for backward
        return x.mean(axis=(2, 3))

    def backward(self, grad, input_grad=True):
        grad = _check_grad(self, grad, None if self._x_shape is None else self._x_shape[:2])
        if not input_grad:
            return None
        N, C, H, W = self._x_shape
        # channel-major like the conv layers' maps (see ChannelMajor)
        dx = ChannelMajor.empty((N, C, H, W), grad.dtype)
        dx[...] = (grad / grad.dtype.type(H * W))[:, :, None, None]
        return dx

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
        self._y_shape = None                        # the sum's shape, kept by a training forward pass

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
        self._y_shape = y.shape if training else None  # evaluation: nothing for backward
        return self.relu.forward(y, training=training) if self.relu is not None else y

    def backward(self, grad, input_grad=True):
        grad = _check_grad(self, grad, self._y_shape)
        g = self.relu.backward(grad) if self.relu is not None else grad
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
            if isinstance(layer, _BatchNorm):
                return "BN"
            return None if isinstance(layer, ReLU) else layer.label

        body = ", ".join(t for t in map(short, self.body) if t)
        path = ", ".join(t for t in map(short, self.shortcut) if t) or "identity"
        return f"Residual [{body}] + {path}"

    def __repr__(self):
        short = "None" if not self.shortcut else "[" + ", ".join(map(repr, self.shortcut)) + "]"
        return f"Residual([{', '.join(map(repr, self.body))}], shortcut={short}, relu={self.relu is not None})"


__all__ += ["GlobalAvgPool2D", "Residual"]
