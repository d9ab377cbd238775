"""BatchNorm1D / BatchNorm2D against their definition, gradient checks, running statistics, and the
train()/eval() modes of Sequential (which also switch Dropout)."""
import numpy as np
import pytest

from helpers.gradcheck import check_layer, check_model
from helpers.nn import (
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    ReLU,
    Sequential,
    SoftmaxCrossEntropy,
)
from helpers.training import load_weights, save_weights


def definition_2d(x, gamma, beta, eps=1e-5):
    """Per channel c: (x - mean) / sqrt(var + eps) * gamma + beta, statistics over (N, H, W), by loops."""
    y = np.empty_like(x, dtype=np.float64)
    for c in range(x.shape[1]):
        v = x[:, c].astype(np.float64)
        y[:, c] = (v - v.mean()) / np.sqrt(v.var() + eps) * gamma[c] + beta[c]
    return y


def test_batchnorm2d_forward_matches_definition():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.5, (6, 4, 5, 7))
    bn = BatchNorm2D(4, dtype=np.float64)
    bn.params["gamma"] = rng.normal(size=4)
    bn.params["beta"] = rng.normal(size=4)
    y = bn.forward(x, training=True)
    assert y.shape == x.shape
    np.testing.assert_allclose(y, definition_2d(x, bn.params["gamma"], bn.params["beta"]), rtol=1e-10, atol=1e-10)


def test_batchnorm2d_output_has_zero_mean_unit_variance_per_channel():
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(32, 3, 6, 6)) * np.array([0.1, 5, 50])[None, :, None, None] + 7).astype(np.float32)
    y = BatchNorm2D(3).forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-3)


def test_batchnorm2d_reads_channel_major_maps_like_plain_ones():
    rng = np.random.default_rng(2)
    conv = Conv2D(2, 5, 3, padding="same", rng=0)
    maps = conv.forward(rng.random((4, 2, 8, 8), dtype=np.float32))     # channel-major view
    plain = np.ascontiguousarray(maps)
    a, b = BatchNorm2D(5), BatchNorm2D(5)
    np.testing.assert_allclose(a.forward(maps), b.forward(plain), rtol=1e-6, atol=1e-6)
    g = rng.standard_normal(maps.shape).astype(np.float32)
    np.testing.assert_allclose(a.backward(g), b.backward(g), rtol=1e-5, atol=1e-6)


def test_batchnorm1d_forward_matches_definition():
    rng = np.random.default_rng(3)
    x = rng.normal(-2, 3, (10, 6))
    bn = BatchNorm1D(6, dtype=np.float64)
    bn.params["gamma"] = rng.normal(size=6)
    bn.params["beta"] = rng.normal(size=6)
    want = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) * bn.params["gamma"] + bn.params["beta"]
    np.testing.assert_allclose(bn.forward(x, training=True), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("layer, shape", [(BatchNorm2D(3), (4, 3, 5, 5)), (BatchNorm1D(5), (6, 5))])
def test_batchnorm_gradient_check(layer, shape):
    rng = np.random.default_rng(4)
    layer.astype(np.float64)
    layer.params["gamma"] = rng.normal(size=layer.channels)
    layer.params["beta"] = rng.normal(size=layer.channels)
    errors = check_layer(layer, rng.normal(1.0, 2.0, shape))
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < 1e-6, errors


def test_batchnorm_in_a_network_gradient_check():
    net = Sequential([Conv2D(1, 3, 3, padding="same", rng=1), BatchNorm2D(3), ReLU(), MaxPool2D(2), Flatten(),
                      Dense(3 * 4 * 4, 6, rng=2), BatchNorm1D(6), ReLU(), Dense(6, 4, rng=3)])
    rng = np.random.default_rng(5)
    errors = check_model(net, SoftmaxCrossEntropy(), rng.standard_normal((5, 1, 8, 8)), np.array([0, 1, 2, 3, 1]))
    # a bias just before BatchNorm is subtracted away with the mean: its gradient is 0 (up to rounding),
    # where a relative error means nothing
    for k in ("0.b", "5.b"):
        assert np.abs(net.layers[int(k[0])].grads["b"]).max() < 1e-12
    rest = {k: v for k, v in errors.items() if k not in ("0.b", "5.b")}
    assert len(rest) == 8 and max(rest.values()) < 1e-6, errors


def test_running_statistics_follow_the_batches_and_are_used_in_evaluation():
    rng = np.random.default_rng(6)
    bn = BatchNorm2D(2, momentum=0.1, dtype=np.float64)
    x = rng.normal(4.0, 3.0, (8, 2, 4, 4))
    bn.forward(x, training=True)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)       # unbiased, as in PyTorch
    np.testing.assert_allclose(bn.buffers["running_mean"], 0.1 * mean)
    np.testing.assert_allclose(bn.buffers["running_var"], 0.9 + 0.1 * var)
    for _ in range(300):
        bn.forward(x, training=True)
    np.testing.assert_allclose(bn.buffers["running_mean"], mean, rtol=1e-6)
    np.testing.assert_allclose(bn.buffers["running_var"], var, rtol=1e-6)
    before = {k: v.copy() for k, v in bn.buffers.items()}
    one = x[:1] + 100                                                  # one odd image
    y = bn.forward(one, training=False)
    np.testing.assert_allclose(y, (one - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5))
    for k in before:                                                   # evaluation does not learn statistics
        np.testing.assert_array_equal(bn.buffers[k], before[k])


def test_sequential_modes_switch_dropout_and_batchnorm():
    rng = np.random.default_rng(7)
    model = Sequential([Dense(8, 8, rng=0), BatchNorm1D(8), Dropout(0.5, rng=1)])
    x = rng.normal(size=(16, 8)).astype(np.float32)
    assert model.training
    y_train = model.forward(x)
    assert np.mean(y_train == 0) > 0.2                      # dropout dropped values
    model.eval()
    assert not model.training
    a, b = model.forward(x), model.forward(x)
    np.testing.assert_array_equal(a, b)                     # no randomness in evaluation
    np.testing.assert_array_equal(a, model(x))              # and the same as model(x), always inference
    np.testing.assert_allclose(model.forward(x, training=False), a)
    assert model.train() is model and model.training
    assert not np.array_equal(model.forward(x), model.forward(x))   # random masks again


def test_state_dict_carries_running_statistics(tmp_path):
    rng = np.random.default_rng(8)
    model = Sequential([Conv2D(1, 2, 3, rng=0), BatchNorm2D(2), ReLU(), Flatten(), Dense(2 * 4 * 4, 3, rng=1)])
    x = rng.random((5, 1, 6, 6), dtype=np.float32)
    for _ in range(5):
        model.forward(x, training=True)
    state = model.state_dict()
    assert {"1.gamma", "1.beta", "1.running_mean", "1.running_var"} <= set(state)
    path = save_weights(tmp_path / "w.npz", model)
    other = Sequential([Conv2D(1, 2, 3, rng=5), BatchNorm2D(2), ReLU(), Flatten(), Dense(2 * 4 * 4, 3, rng=6)])
    load_weights(path, other)
    np.testing.assert_array_equal(other.layers[1].buffers["running_var"], model.layers[1].buffers["running_var"])
    np.testing.assert_allclose(other(x), model(x))
    # the optimizer sees gamma and beta, not the statistics
    assert [(type(layer).__name__, n) for layer, n in model.parameters() if isinstance(layer, BatchNorm2D)] == \
        [("BatchNorm2D", "gamma"), ("BatchNorm2D", "beta")]


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="channels"):
        BatchNorm2D(3).forward(np.zeros((2, 4, 5, 5), np.float32))
    with pytest.raises(ValueError, match="feature maps"):
        BatchNorm2D(3).forward(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="features"):
        BatchNorm1D(3).forward(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="channels must be at least 1"):
        BatchNorm2D(0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1D(3, momentum=0)
    with pytest.raises(RuntimeError, match="forward"):
        BatchNorm1D(3).backward(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="floats"):
        BatchNorm1D(3).forward(np.zeros((2, 3), np.uint8))
    assert BatchNorm2D(3).output_shape((7, 3, 4, 4)) == (7, 3, 4, 4)
    assert "BatchNorm2D 3" in Sequential([BatchNorm2D(3)]).summary((None, 3, 4, 4))
