"""Layers, loss, optimizers and the Sequential container of helpers.nn.

Every backward pass is checked against centred finite differences in float64 (relative error below
1e-6), layer by layer and for a whole small network; the fast paths against the general ones.
"""
import re

import numpy as np
import pytest

from helpers.conv import conv2d
from helpers.gradcheck import check_layer, check_model, numerical_gradient, rel_error
from helpers.nn import (
    ChannelMajor,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    ReLU,
    Sequential,
    SoftmaxCrossEntropy,
    he_normal,
)
from helpers.optim import SGD, Adam
from helpers.pooling import pool2d

TOL = 1e-6
rng = np.random.default_rng(42)


def _assert_small(errors):
    assert errors, "no gradient was checked"
    for name, err in errors.items():
        assert err < TOL, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("kernel, stride, padding, shape", [
    (3, 1, "valid", (2, 3, 6, 5)),
    (3, 1, "same", (2, 2, 5, 5)),
    ((3, 2), 2, 1, (2, 3, 7, 6)),
    (1, 1, 0, (3, 4, 3, 3)),
    (5, 2, 2, (1, 1, 9, 8)),
])
def test_conv2d_gradients(kernel, stride, padding, shape):
    layer = Conv2D(shape[1], 4, kernel, stride=stride, padding=padding, rng=1)
    _assert_small(check_layer(layer, rng.standard_normal(shape)))


def test_conv2d_forward_matches_the_core():
    layer = Conv2D(3, 5, 3, padding="same", rng=0)
    layer.params["b"] = rng.standard_normal(5).astype(np.float32)
    x = rng.standard_normal((4, 3, 8, 9)).astype(np.float32)
    y = layer.forward(x)
    assert y.shape == (4, 5, 8, 9) and y.dtype == np.float32
    np.testing.assert_allclose(y, conv2d(x, layer.params["W"], layer.params["b"], padding="same"), atol=1e-5)


def test_conv2d_reuses_its_workspaces_and_returns_fresh_outputs():
    layer = Conv2D(2, 3, 3, padding=1, rng=0)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    y1 = layer.forward(x).copy()
    cols = layer._cols
    y_kept = layer.forward(x)
    layer.forward(2 * x)
    assert layer._cols is cols, "the im2col buffer should be reused between steps of the same shape"
    np.testing.assert_array_equal(y_kept, y1)   # an output handed out is never overwritten later


def test_feature_maps_stay_channel_major_through_a_network_and_cost_no_copy_on_the_way_back():
    x = rng.standard_normal((4, 2, 8, 8)).astype(np.float32)
    conv, relu, pool = Conv2D(2, 3, 3, padding="same", rng=0), ReLU(), MaxPool2D(2)
    y = pool.forward(relu.forward(conv.forward(x)))
    assert y.shape == (4, 3, 4, 4) and ChannelMajor.holds(y)
    assert np.shares_memory(ChannelMajor.to_matrix(y), y)          # the gradient's matrix view is free
    assert not ChannelMajor.holds(x) and not np.shares_memory(ChannelMajor.to_matrix(x), x)
    dx = conv.backward(relu.backward(pool.backward(ChannelMajor.copy(np.ones_like(y)))))
    assert dx.shape == x.shape and dx.strides[0] < dx.strides[1]  # a channel-major buffer, its padding cut off


def test_relu_maxpool_flatten_dense_gradients():
    _assert_small(check_layer(ReLU(), rng.standard_normal((2, 3, 4, 4))))
    _assert_small(check_layer(MaxPool2D(2), rng.standard_normal((2, 3, 4, 6))))
    _assert_small(check_layer(MaxPool2D(3, 2), rng.standard_normal((2, 2, 7, 7))))   # the general path
    _assert_small(check_layer(Flatten(), rng.standard_normal((3, 2, 2, 2))))
    _assert_small(check_layer(Dense(5, 4, rng=1), rng.standard_normal((3, 5))))


def test_dropout_gradient_with_a_fixed_mask_and_identity_at_test_time():
    layer = Dropout(0.3, rng=0)
    x = rng.standard_normal((50, 40))
    y = layer.forward(x, training=True)
    kept = y != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(y[kept], x[kept] / 0.7)
    g = rng.standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(g), g * kept / 0.7)      # d(x * mask)/dx = mask
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_maxpool_fast_path_agrees_with_the_pooling_core_including_ties():
    x = rng.integers(0, 3, size=(3, 4, 6, 8)).astype(np.float32)     # many ties
    layer = MaxPool2D(2)
    y = layer.forward(x)
    np.testing.assert_array_equal(y, pool2d(x, 2))
    g = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(g)
    from helpers.pooling import pool2d_backward
    _, idx = pool2d(x, 2, return_indices=True)
    np.testing.assert_allclose(dx, pool2d_backward(g, x.shape, 2, indices=idx))
    assert np.isclose(dx.sum(), g.sum()), "each window's gradient must go to exactly one pixel"


def test_softmax_cross_entropy_value_gradient_and_stability():
    loss = SoftmaxCrossEntropy()
    z = np.array([[-1.0, 0.0, 3.0, 5.0]])
    assert np.isclose(loss.forward(z, np.array([3])), -np.log(0.8737), atol=1e-4)
    assert np.isfinite(loss.forward(np.array([[1000.0, 1001.0, 1002.0]]), np.array([0])))
    z = rng.standard_normal((5, 7))
    y = rng.integers(0, 7, 5)
    loss.forward(z, y)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(z, y), z)
    assert rel_error(analytic, numeric) < TOL
    assert np.isclose(SoftmaxCrossEntropy().forward(np.zeros((4, 10)), np.arange(4)), np.log(10))


def test_whole_network_gradient():
    model = Sequential([
        Conv2D(1, 3, 3, padding="same", rng=1), ReLU(), MaxPool2D(2),
        Conv2D(3, 4, 3, padding="same", rng=2), ReLU(), MaxPool2D(2),
        Flatten(), Dense(4 * 2 * 2, 6, rng=3), ReLU(), Dense(6, 5, rng=4),
    ])
    errors = check_model(model, SoftmaxCrossEntropy(), rng.standard_normal((3, 1, 8, 8)), np.array([1, 4, 0]))
    assert len(errors) == 8
    _assert_small(errors)


def test_he_initialisation_scale():
    w = he_normal((400, 300), 400, np.random.default_rng(0))
    assert w.dtype == np.float32 and abs(w.std() - np.sqrt(2 / 400)) < 0.002


def test_summary_table_shapes_and_parameter_counts():
    model = Sequential([Conv2D(1, 32, 3, padding="same"), ReLU(), MaxPool2D(2), Conv2D(32, 64, 3, padding="same"),
                        ReLU(), MaxPool2D(2), Flatten(), Dense(3136, 128), ReLU(), Dense(128, 10)])
    text = model.summary((None, 1, 28, 28))
    assert "(None, 64, 7, 7)" in text and "(None, 3136)" in text and "(None, 10)" in text
    assert "401,536" in text and "18,496" in text and "320" in text
    assert model.n_params == 320 + 18_496 + 401_536 + 1_290
    with pytest.raises(ValueError, match="input channels"):
        model.summary((None, 3, 28, 28))


def test_bad_inputs_get_clear_errors():
    with pytest.raises(TypeError, match="normalize"):
        Conv2D(1, 2, 3).forward(np.zeros((1, 1, 5, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match="Flatten"):
        Dense(10, 2).forward(np.zeros((2, 1, 2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="not a class index"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError):
        Dropout(1.0)
    with pytest.raises(RuntimeError, match="forward"):
        Conv2D(1, 2, 3).backward(np.zeros((1, 2, 3, 3)))


def test_state_dict_round_trip_and_mismatch():
    a = Sequential([Dense(4, 3, rng=0), ReLU(), Dense(3, 2, rng=1)])
    b = Sequential([Dense(4, 3, rng=5), ReLU(), Dense(3, 2, rng=6)])
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(a(x), b(x))
    with pytest.raises(ValueError, match="do not fit"):
        Sequential([Dense(4, 3)]).load_state_dict(a.state_dict())


@pytest.mark.parametrize("make_opt", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.05)])
def test_optimizers_fit_a_separable_problem(make_opt):
    r = np.random.default_rng(0)
    x = r.standard_normal((200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = Sequential([Dense(2, 8, rng=0), ReLU(), Dense(8, 2, rng=1)])
    loss, opt = SoftmaxCrossEntropy(), make_opt(model.parameters())
    first = loss.forward(model.forward(x), y)
    for _ in range(100):
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
    assert loss.forward(model.forward(x), y) < first / 4
    assert (model(x).argmax(1) == y).mean() > 0.95


def test_adam_first_step_moves_each_weight_by_lr():
    model = Sequential([Dense(3, 2, rng=0)])
    before = model.layers[0].params["W"].copy()
    model.layers[0].grads = {"W": np.full((3, 2), 0.01, np.float32), "b": np.full(2, -5.0, np.float32)}
    Adam(model.parameters(), lr=0.001).step()
    np.testing.assert_allclose(before - model.layers[0].params["W"], 0.001, rtol=1e-3)


def test_summary_labels_name_each_layer_with_its_settings():
    model = Sequential([Conv2D(3, 8, 5, stride=2, padding=2), ReLU(), MaxPool2D(3, 2), MaxPool2D(2), Flatten(),
                        Dropout(0.5), Dense(8, 4)])
    labels = [layer.label for layer in model.layers]
    assert labels == ["Conv2D 3->8 5x5 stride 2 pad 2", "ReLU", "MaxPool2D 3x3 stride 2", "MaxPool2D 2x2", "Flatten",
                      "Dropout 0.5", "Dense 8->4"]


# -- faults found by bad input: each gets an error that says what is wrong, or is handled --------------------
def _trained_once(layer, x):
    layer.forward(x, training=True)
    return layer


@pytest.mark.parametrize("layer, grad", [
    (MaxPool2D(2), np.zeros((1, 1, 2, 2), np.float32)),
    (MaxPool2D(3, 2), np.zeros((1, 1, 2, 2), np.float32)),
    (ReLU(), np.zeros((1, 1, 2, 2), np.float32)),
    (Flatten(), np.zeros((1, 4), np.float32)),
    (Dense(4, 2), np.zeros((1, 2), np.float32)),
    (Dropout(0.5), np.zeros((1, 2), np.float32)),
])
def test_backward_before_forward_says_so(layer, grad):
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(grad)


def test_softmax_cross_entropy_backward_before_forward_says_so():
    with pytest.raises(RuntimeError, match="forward"):
        SoftmaxCrossEntropy().backward()


@pytest.mark.parametrize("layer, shape, out_shape", [
    (MaxPool2D(2), (0, 3, 4, 4), (0, 3, 2, 2)),
    (MaxPool2D(3, 2), (0, 3, 7, 7), (0, 3, 3, 3)),
    (Conv2D(3, 2, 3), (0, 3, 5, 5), (0, 2, 3, 3)),
    (ReLU(), (0, 3, 4, 4), (0, 3, 4, 4)),
    (Flatten(), (0, 3, 2, 2), (0, 12)),
    (Dense(12, 5), (0, 12), (0, 5)),
])
def test_an_empty_batch_gives_an_empty_result_forward_and_backward(layer, shape, out_shape):
    y = layer.forward(np.zeros(shape, np.float32))
    assert y.shape == out_shape
    assert layer.backward(np.zeros(out_shape, np.float32)).shape == shape


@pytest.mark.parametrize("make, words", [
    (lambda: MaxPool2D(2.5), "size"),
    (lambda: MaxPool2D(0), "size"),
    (lambda: MaxPool2D(True), "size"),
    (lambda: MaxPool2D(2, stride=1.5), "stride"),
    (lambda: MaxPool2D(2, stride=0), "stride"),
    (lambda: Conv2D(1, 1, 2.5), "kernel_size"),
    (lambda: Conv2D(1, 1, (3, 2.5)), "kernel_size"),
    (lambda: Conv2D(1, 1, 0), "kernel_size"),
    (lambda: Conv2D(1, 1, 3, stride=0), "stride"),
    (lambda: Conv2D(1, 1, 3, stride=1.5), "stride"),
    (lambda: Conv2D(1, 1, 3, padding=-1), "padding"),
    (lambda: Conv2D(1, 1, 3, padding=1.5), "padding"),
    (lambda: Conv2D(1.5, 1, 3), "in_channels"),
    (lambda: Conv2D(True, 1, 3), "in_channels"),
    (lambda: Dense(4.0, 2), "in_features"),
    (lambda: Dropout("0.5"), "p"),
])
def test_bad_settings_name_the_argument(make, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make()


@pytest.mark.parametrize("layer, x, words", [
    (Conv2D(1, 1, 5), np.zeros((1, 1, 3, 3), np.float32), "larger than the padded input"),
    (Conv2D(1, 1, 3), np.zeros((1, 2, 5, 5), np.float32), "input channels"),
    (Conv2D(1, 1, 3), np.zeros((1, 5, 5), np.float32), r"\(N, C, H, W\)"),
    (MaxPool2D(2), np.zeros((2, 4, 4), np.float32), r"\(N, C, H, W\)"),
    (MaxPool2D(2), np.zeros((1, 1, 4, 4), np.int64), "floats"),
    (MaxPool2D(3), np.zeros((1, 1, 2, 2), np.float32), "larger than the input"),
    (ReLU(), np.array(["a"]), "numbers"),
    (Flatten(), np.zeros(3, np.float32), "batch"),
    (Dense(3, 2), np.zeros((2, 3), np.int64), "floats"),
    (Dropout(0.5), np.zeros((2, 3), np.int64), "floats"),
])
def test_bad_forward_inputs_get_clear_errors(layer, x, words):
    with pytest.raises((TypeError, ValueError), match=words):
        layer.forward(x)


@pytest.mark.parametrize("layer, x, bad_grad", [
    (Conv2D(1, 2, 3), np.zeros((2, 1, 5, 5), np.float32), np.zeros((2, 2, 9), np.float32)),
    (Conv2D(1, 2, 3), np.zeros((2, 1, 5, 5), np.float32), np.zeros((2, 3, 3, 2), np.float32)),
    (MaxPool2D(2), np.zeros((2, 3, 4, 4), np.float32), np.zeros((2, 3, 4, 4), np.float32)),
    (MaxPool2D(3, 2), np.zeros((2, 3, 7, 7), np.float32), np.zeros((2, 3, 2, 2), np.float32)),
    (ReLU(), np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32)),
    (ReLU(), np.zeros((2, 3), np.float32), np.zeros((1, 3), np.float32)),
    (Flatten(), np.zeros((2, 3, 2, 2), np.float32), np.zeros((2, 13), np.float32)),
    (Dense(3, 2), np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32)),
    (Dense(3, 2), np.zeros((4, 3), np.float32), np.zeros((1, 2), np.float32)),
    (Dropout(0.5, rng=0), np.ones((4, 3), np.float32), np.zeros((1, 3), np.float32)),
])
def test_backward_with_a_wrong_shaped_gradient_says_which_shape_it_needs(layer, x, bad_grad):
    y = layer.forward(x)
    with pytest.raises(ValueError, match=r"gradient.*shape " + re.escape(str(tuple(y.shape)))):
        layer.backward(bad_grad)
