"""Grouped and depthwise convolution, the depthwise-separable block and the multi-branch block (notebook 10):
gradient checks, PyTorch parity, their shapes, costs and receptive fields against hand counts."""
import numpy as np
import pytest

from helpers.conv import conv2d_loops
from helpers.gradcheck import check_layer
from helpers.interpret import receptive_field
from helpers.models import multiply_adds
from helpers.nn import Branches, Conv2D, DepthwiseSeparable, MaxPool2D, ReLU, Sequential

rng = np.random.default_rng(0)

#: (in, out, groups, kernel, stride, padding, dilation): grouped, depthwise (groups = in), depthwise with
#: a channel multiplier (out = 2 in), strides, paddings and dilations
CASES = [(4, 6, 2, 3, 1, 1, 1), (4, 4, 4, 3, 2, 1, 1), (6, 12, 3, 3, 1, 2, 2), (4, 8, 4, 5, 2, 2, 1),
         (3, 3, 3, 1, 1, 0, 1), (6, 4, 2, 3, 3, 0, 2)]


def _inception(c_in, rng_seed=1):
    """Inception's four branches: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max pool -> 1x1."""
    s = iter(range(rng_seed, rng_seed + 10))
    return Branches([
        [Conv2D(c_in, 2, 1, rng=next(s))],
        [Conv2D(c_in, 2, 1, rng=next(s)), ReLU(), Conv2D(2, 3, 3, padding=1, rng=next(s))],
        [Conv2D(c_in, 1, 1, rng=next(s)), ReLU(), Conv2D(1, 2, 5, padding=2, rng=next(s))],
        [MaxPool2D(3, stride=1, padding=1), Conv2D(c_in, 2, 1, rng=next(s))],
    ])


def _group_by_group(x, W, b, groups, **kw):
    """The definition: groups convolutions side by side, each by the loops on its slice of channels."""
    c, f = x.shape[1] // groups, W.shape[0] // groups                  # channels and filters per group
    return np.concatenate([conv2d_loops(x[:, j * c:(j + 1) * c], W[j * f:(j + 1) * f], b[j * f:(j + 1) * f], **kw)
                           for j in range(groups)], axis=1)


# -- grouped convolution -----------------------------------------------------------------------------------
@pytest.mark.parametrize("c_in, c_out, groups, k, stride, padding, dilation", CASES)
def test_grouped_conv2d_is_groups_convolutions_side_by_side_and_passes_a_gradient_check(
        c_in, c_out, groups, k, stride, padding, dilation):
    layer = Conv2D(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, groups=groups, rng=3)
    assert layer.params["W"].shape == (c_out, c_in // groups, k, k)
    layer.params["b"] = rng.standard_normal(c_out).astype(np.float32)
    x = rng.standard_normal((2, c_in, 9, 10)).astype(np.float32)
    y = layer.forward(x)
    expected = _group_by_group(x, layer.params["W"], layer.params["b"], groups, stride=stride, padding=padding,
                               dilation=dilation)
    assert y.shape == layer.output_shape(x.shape) == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    errors = check_layer(layer, x.astype(np.float64))
    # a rel_error entry by entry: an input pixel with a near-zero gradient can reach 1e-6 or so
    assert max(errors.values()) < 1e-5, errors


@pytest.mark.parametrize("c_in, c_out, groups, k, stride, padding, dilation", CASES)
@pytest.mark.parametrize("training", [True, False])
def test_grouped_conv2d_matches_torch_forward_and_backward(c_in, c_out, groups, k, stride, padding, dilation,
                                                          training):
    torch = pytest.importorskip("torch")
    layer = Conv2D(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, groups=groups, rng=5,
                   dtype=np.float64)
    layer.params["b"] = rng.standard_normal(c_out)
    x = rng.standard_normal((3, c_in, 11, 9))
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["W"], requires_grad=True)
    bt = torch.tensor(layer.params["b"], requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = layer.forward(x, training=training)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(y.shape)
    (yt * torch.tensor(g)).sum().backward()
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["W"], wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_groups_1_is_the_ordinary_convolution():
    a, b = Conv2D(4, 6, 3, padding=1, rng=2), Conv2D(4, 6, 3, padding=1, groups=1, rng=2)
    x = rng.standard_normal((2, 4, 7, 7)).astype(np.float32)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    assert a.label == b.label and "groups" not in repr(b)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(groups=3), ValueError, ["groups=3", "divide", "in_channels (4)", "out_channels (6)"]),
    (dict(groups=4), ValueError, ["groups=4", "out_channels (6)"]),
    (dict(groups=0), ValueError, ["groups"]),
    (dict(groups=2.0), TypeError, ["groups", "int"]),
    (dict(groups=True), TypeError, ["groups"]),
])
def test_bad_groups_are_named_errors(kwargs, error, words):
    with pytest.raises(error) as info:
        Conv2D(4, 6, 3, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_depthwise_and_grouped_layers_say_so_in_their_labels():
    assert Conv2D(8, 8, 3, groups=8).label == "Conv2D 8->8 3x3 depthwise valid"
    assert Conv2D(8, 4, 3, groups=2).label == "Conv2D 8->4 3x3 groups 2 valid"
    assert "groups=2" in repr(Conv2D(8, 4, 3, groups=2))


# -- max pooling with padding (Inception's pooling branch) -------------------------------------------------
def test_padded_max_pooling_keeps_the_size_ignores_the_border_and_passes_a_gradient_check():
    pool = MaxPool2D(3, stride=1, padding=1)
    x = -1 - rng.random((2, 3, 6, 5))                      # all negative: a border of 0 would win, -inf does not
    y = pool.forward(x)
    assert y.shape == pool.output_shape(x.shape) == (2, 3, 6, 5)
    assert y[0, 0, 0, 0] == x[0, 0, :2, :2].max()
    assert max(check_layer(pool, x).values()) < 1e-8
    with pytest.raises(ValueError, match="padding must be between 0 and size // 2 = 1"):
        MaxPool2D(3, padding=2)
    with pytest.raises(TypeError, match="padding must be an int"):
        MaxPool2D(3, padding=1.0)


# -- the depthwise-separable block -------------------------------------------------------------------------
@pytest.mark.parametrize("stride, padding", [(1, "same"), (2, 1), (1, 0)])
def test_depthwise_separable_is_depthwise_then_pointwise_and_passes_a_gradient_check(stride, padding):
    block = DepthwiseSeparable(4, 6, 3, stride=stride, padding=padding, rng=1)
    depth, relu, point = block.layers
    assert (depth.groups, depth.out_channels, depth.stride, point.kernel_size) == (4, 4, (stride, stride), (1, 1))
    assert isinstance(relu, ReLU)
    assert [path for path, _ in block.walk()] == ["", "0", "1", "2"]
    x = rng.standard_normal((2, 4, 7, 8))
    expected = point.forward(relu.forward(depth.forward(x.astype(np.float32))))
    np.testing.assert_array_equal(block.forward(x.astype(np.float32)), expected)
    errors = check_layer(block, x)
    assert set(errors) == {"x", "0.W", "0.b", "2.W", "2.b"}
    assert max(errors.values()) < 1e-6, errors


def test_depthwise_separable_with_batch_norm_between_passes_a_gradient_check():
    block = DepthwiseSeparable(3, 5, 3, batch_norm=True, rng=2)
    assert [type(layer).__name__ for layer in block] == ["Conv2D", "BatchNorm2D", "ReLU", "Conv2D"]
    errors = check_layer(block, rng.standard_normal((4, 3, 6, 6)))
    # the depthwise bias "0.b" is cancelled by the batch normalisation after it: its gradient is 0, so
    # its relative error compares two roundings of 0 and says nothing; every other one must be small
    del errors["0.b"]
    assert max(errors.values()) < 1e-5, errors


def test_a_64_channel_depthwise_separable_block_costs_what_the_hand_count_says():
    """C_in = C_out = 64 on 28x28 (padding 1): a 3x3 Conv2D against depthwise 3x3 + pointwise 1x1."""
    standard = Sequential([Conv2D(64, 64, 3, padding=1)])
    separable = Sequential([DepthwiseSeparable(64, 64, 3, padding=1)])
    assert standard.n_params == 64 * 64 * 9 + 64 == 36_928
    assert separable.n_params == (64 * 9 + 64) + (64 * 64 + 64) == 4_800
    assert multiply_adds(standard, (64, 28, 28))[0][1] == 28 * 28 * 64 * 64 * 9 == 28_901_376
    assert multiply_adds(separable, (64, 28, 28))[0][1] == 28 * 28 * (64 * 9 + 64 * 64) == 3_662_848
    assert separable.shapes((1, 64, 28, 28)) == [("DepthwiseSeparable 64->64 3x3", (1, 64, 28, 28), 4_800)]
    # the same receptive field: the pointwise 1x1 adds nothing to it
    assert receptive_field(standard, 0) == receptive_field(separable, 0) == (3, 1, -1)


def test_a_grouped_convolution_has_a_groups_th_of_the_weights_and_multiply_adds():
    for groups in (1, 2, 4, 8):
        model = Sequential([Conv2D(8, 16, 3, padding=1, groups=groups)])
        assert model.n_params == 16 * (8 // groups) * 9 + 16
        assert multiply_adds(model, (8, 10, 10))[0][1] == 10 * 10 * 16 * (8 // groups) * 9


# -- the multi-branch block --------------------------------------------------------------------------------
def test_branches_concatenate_along_channels_and_pass_a_gradient_check():
    block = _inception(4)
    x = rng.standard_normal((2, 4, 7, 8))
    y = block.forward(x.astype(np.float32))
    assert y.shape == block.output_shape(x.shape) == (2, 2 + 3 + 2 + 2, 7, 8)
    parts = [branch.forward(x.astype(np.float32)) for branch in block.branches]
    np.testing.assert_array_equal(y, np.concatenate(parts, axis=1))
    assert "3.0" in dict(block.walk()) and len(block.parameters()) == 2 * 6
    errors = check_layer(block, x)
    assert max(errors.values()) < 1e-6, errors


def test_branches_send_each_branch_its_channels_of_the_gradient_and_add_what_comes_back():
    block = Branches([[Conv2D(2, 1, 1, rng=1)], [Conv2D(2, 2, 3, padding=1, rng=2)]])
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    block.forward(x)
    g = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    dx = block.backward(g)
    a, b = block.branches
    a.forward(x), b.forward(x)
    np.testing.assert_allclose(dx, a.backward(g[:, :1], input_grad=True) + b.backward(g[:, 1:], input_grad=True),
                               rtol=1e-6)


def test_branches_that_disagree_in_size_are_a_named_error():
    block = Branches([[Conv2D(4, 2, 1)], [Conv2D(4, 2, 3)]])          # 3x3 without padding: 2 pixels smaller
    with pytest.raises(ValueError, match=r"branch 0 gives \(1, 2, 8, 8\), branch 1 \(1, 2, 6, 6\).*padding k // 2"):
        block.output_shape((1, 4, 8, 8))
    with pytest.raises(ValueError, match="must agree"):
        block.forward(np.zeros((1, 4, 8, 8), np.float32))
    with pytest.raises(ValueError, match="at least one branch"):
        Branches([])
    with pytest.raises(TypeError, match="list of branches"):
        Branches(Conv2D(4, 2, 1))


def test_a_multi_branch_block_costs_the_sum_of_its_branches_and_sees_its_widest_branch():
    block = _inception(4)
    model = Sequential([Conv2D(1, 4, 3, padding=1, rng=0), block])
    per_branch = [4 * 2, 4 * 2 + 2 * 3 * 9, 4 * 1 + 1 * 2 * 25, 4 * 2]          # weights by hand
    assert block.n_params == sum(per_branch) + (2 + 2 + 3 + 1 + 2 + 2)          # + the biases
    assert multiply_adds(model, (1, 7, 8))[1][1] == 7 * 8 * sum(per_branch)
    assert model.shapes((1, 1, 7, 8))[1][1:] == ((1, 9, 7, 8), block.n_params)
    # 3x3 then the 5x5 branch: 3 + 4 = 7 pixels, starting 1 + 2 = 3 pixels before the image
    assert receptive_field(model, 1) == (7, 1, -3)
    assert receptive_field(Sequential([block]), 0) == (5, 1, -2)
