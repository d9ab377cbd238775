"""The layers as a tree: one walk, the mode, the loss as a layer, dilation, rng, and the weight files'
names (scripts/convert_weights.py)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from helpers.augment import random_flip, random_shift
from helpers.conv import conv2d_loops
from helpers.gradcheck import check_layer, check_model
from helpers.losses import cross_entropy, cross_entropy_grad
from helpers.models import fashion_resnet
from helpers.nn import (
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    ReLU,
    Residual,
    Sequential,
    SoftmaxCrossEntropy,
)
from helpers.training import load_weights, save_weights

ROOT = Path(__file__).resolve().parents[1]
rng = np.random.default_rng(0)


def _convert_module():
    spec = importlib.util.spec_from_file_location("convert_weights", ROOT / "scripts" / "convert_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_resnet(seed=1):
    return fashion_resnet(stem=4, widths=(8, 8), blocks=(1, 1), dense=8, seed=seed, zero_init=False)


# -- one walk ----------------------------------------------------------------------------------------------
def test_the_walk_names_every_layer_by_its_path_and_everything_else_follows_it():
    block = Residual([Conv2D(2, 2, 3, padding=1, rng=1), BatchNorm2D(2), ReLU()], shortcut=[Conv2D(2, 2, 1, rng=2)])
    net = Sequential([Conv2D(1, 2, 3, padding=1, rng=0), block, GlobalAvgPool2D(), Dense(2, 3, rng=3)])
    paths = [path for path, _ in net.walk()]
    assert paths == ["", "0", "1", "1.body", "1.body.0", "1.body.1", "1.body.2", "1.shortcut", "1.shortcut.0",
                     "1.relu", "2", "3"]
    assert isinstance(net, Layer) and isinstance(block.body, Sequential)
    assert net.parameters() == [(layer, k) for _, layer in net.walk() for k in layer.params]
    assert list(net.state_dict()) == [
        "0.W", "0.b", "1.body.0.W", "1.body.0.b", "1.body.1.gamma", "1.body.1.beta", "1.body.1.running_mean",
        "1.body.1.running_var", "1.shortcut.0.W", "1.shortcut.0.b", "3.W", "3.b"]
    assert net.n_params == sum(v.size for k, v in net.state_dict().items() if "running" not in k)
    assert block.params == {}                       # a container keeps no arrays of its own
    net.astype(np.float64)
    assert all(v.dtype == np.float64 for v in net.state_dict().values())


def test_a_gradient_check_through_blocks_names_parameters_by_path():
    block = Residual([Conv2D(2, 3, 3, stride=2, padding=1, rng=1), ReLU(), Conv2D(3, 3, 3, padding=1, rng=2)],
                     shortcut=[Conv2D(2, 3, 1, stride=2, rng=3)])
    net = Sequential([Conv2D(1, 2, 3, padding=1, rng=0), block, GlobalAvgPool2D(), Dense(3, 4, rng=4)])
    errors = check_model(net, SoftmaxCrossEntropy(), rng.random((3, 1, 8, 8)), np.array([0, 1, 3]))
    assert sorted(errors) == ["0.W", "0.b", "1.body.0.W", "1.body.0.b", "1.body.2.W", "1.body.2.b",
                              "1.shortcut.0.W", "1.shortcut.0.b", "3.W", "3.b"]
    assert max(errors.values()) < 1e-6, errors


# -- the mode ----------------------------------------------------------------------------------------------
def test_model_of_x_follows_the_mode_like_forward():
    net = Sequential([Flatten(), Dense(16, 8, rng=0), ReLU(), Dropout(0.5, rng=1), Dense(8, 3, rng=2)])
    x = rng.random((6, 1, 4, 4), dtype=np.float32)
    inference = net.predict(x)
    assert net.training
    trained = net(x)                                # training mode: dropout drops
    assert not np.allclose(trained, inference)
    net.eval()
    np.testing.assert_array_equal(net(x), inference)
    np.testing.assert_array_equal(net.forward(x), inference)
    net.train()
    assert not np.allclose(net(x), inference)


def test_train_and_eval_reach_the_layers_inside_blocks():
    net = small_resnet()
    net.eval()
    assert [layer.training for _, layer in net.walk()] == [False] * len(list(net.walk()))
    net.train()
    assert all(layer.training for _, layer in net.walk())
    # a block's batch normalisation follows: in evaluation mode its running statistics do not move
    bn = net.layers[4].body[1]
    before = bn.buffers["running_mean"].copy()
    net.eval()(rng.random((4, 1, 28, 28), dtype=np.float32))
    np.testing.assert_array_equal(bn.buffers["running_mean"], before)


# -- the loss ----------------------------------------------------------------------------------------------
def test_softmax_cross_entropy_is_a_layer_built_on_helpers_losses():
    z = rng.standard_normal((5, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2])
    loss = SoftmaxCrossEntropy()
    assert isinstance(loss, Layer)
    assert loss(z, labels) == cross_entropy(z, labels)
    np.testing.assert_array_equal(loss.backward(), cross_entropy_grad(z, labels).astype(np.float32))
    np.testing.assert_allclose(loss.backward(2.0), 2 * cross_entropy_grad(z, labels), rtol=1e-6)


# -- dilation ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dilation, stride, padding", [(2, 1, 0), (2, 1, "same"), (3, 2, 1), ((2, 1), 1, "valid")])
def test_conv2d_dilation_matches_the_loops_and_passes_a_gradient_check(dilation, stride, padding):
    layer = Conv2D(2, 3, 3, stride=stride, padding=padding, dilation=dilation, rng=4)
    x = rng.standard_normal((2, 2, 9, 10)).astype(np.float32)
    expected = conv2d_loops(x, layer.params["W"], layer.params["b"], stride=stride, padding=padding,
                            dilation=dilation)
    y = layer.forward(x)
    assert y.shape == layer.output_shape(x.shape) == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    errors = check_layer(layer, x.astype(np.float64))
    assert max(errors.values()) < 1e-7, errors


# -- rng=None --------------------------------------------------------------------------------------------
def test_rng_none_means_seed_0_in_the_layers_and_in_augmentation():
    x = rng.random((8, 1, 6, 6), dtype=np.float32)
    np.testing.assert_array_equal(Dense(5, 4).params["W"], Dense(5, 4, rng=0).params["W"])
    np.testing.assert_array_equal(Dropout(0.5)(x), Dropout(0.5, rng=0)(x))
    np.testing.assert_array_equal(random_flip(x, None), random_flip(x, 0))
    np.testing.assert_array_equal(random_shift(x, 2, None), random_shift(x, 2, 0))


# -- the weight files --------------------------------------------------------------------------------------
@pytest.mark.parametrize("old, new", [
    ("4.body0_W", "4.body.0.W"), ("6.short1_running_var", "6.shortcut.1.running_var"),
    ("4.body2_short0_b", "4.body.2.shortcut.0.b"), ("0.W", "0.W"), ("history_epoch", "history_epoch"),
    ("4.body.0.W", "4.body.0.W"),
])
def test_convert_weights_renames_old_block_names_to_paths(old, new):
    assert _convert_module().new_name(old) == new


def test_convert_weights_converts_an_old_file_once_and_leaves_a_converted_one_alone(tmp_path):
    convert = _convert_module()
    net = small_resnet(seed=3)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    expected = net.eval()(x)
    old = {}                                        # the names weights were saved under before the tree
    for key, value in net.state_dict().items():
        p = key.split(".")
        old[key if len(p) == 2 else f"{p[0]}.{p[1].replace('shortcut', 'short')}{p[2]}_{p[3]}"] = value
    path = tmp_path / "old.npz"
    np.savez_compressed(path, history_epoch=np.arange(3), **old)
    other = small_resnet(seed=5)
    with pytest.raises(ValueError, match="convert_weights"):
        load_weights(path, other)
    assert convert.convert(path) is True
    stamp = path.stat().st_mtime_ns, path.read_bytes()
    assert convert.convert(path) is False           # already converted: untouched
    assert (path.stat().st_mtime_ns, path.read_bytes()) == stamp
    extra = load_weights(path, other)
    np.testing.assert_array_equal(extra["history_epoch"], np.arange(3))
    np.testing.assert_array_equal(other.eval()(x), expected)
    save_weights(tmp_path / "new.npz", other)
    assert convert.convert(tmp_path / "new.npz") is False


def test_shipped_weight_files_have_no_old_names():
    convert = _convert_module()
    for path in sorted((ROOT / "data").glob("*.npz")):
        with np.load(path) as f:
            assert all(convert.new_name(k) == k for k in f.files), path.name


def test_the_shipped_networks_give_their_recorded_test_accuracies_in_the_tree():
    """Every test image, when the full dataset is found (skipped otherwise; the shipped sample's answers are
    checked in test_residual)."""
    from helpers.datasets import load_fashion_mnist
    from helpers.images import data_dir
    from helpers.training import evaluate

    try:
        (_, _), (x_test, y_test) = load_fashion_mnist()
    except Exception as exc:                       # no dataset on this machine
        pytest.skip(f"Fashion-MNIST not found: {exc}")
    resnet = fashion_resnet(seed=0)                  # the one shipped network whose names changed
    extra = load_weights(data_dir() / "fashion_resnet_weights.npz", resnet)
    _, acc = evaluate(resnet, x_test, y_test)
    assert acc == pytest.approx(float(extra["test_accuracy_plain"]), abs=1e-12)
