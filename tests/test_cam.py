"""helpers.cam: Grad-CAM against finite differences, CAM against Grad-CAM on a GAP-headed network, bad input."""
import numpy as np
import pytest

from helpers.cam import cam, grad_cam, last_feature_maps, upsample
from helpers.gradcheck import numerical_gradient, rel_error
from helpers.models import fashion_cnn, fashion_gap_cnn, fashion_resnet
from helpers.nn import (
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
    Residual,
    Sequential,
)


def dense_head_net():
    """A tiny CNN with a Flatten-Dense head (like notebook 07's), with ReLU, batch norm and dropout in the head."""
    return Sequential([Conv2D(1, 3, 3, padding="same", rng=1), ReLU(), MaxPool2D(2),
                       Conv2D(3, 4, 3, padding=1, rng=2), ReLU(), MaxPool2D(2), Flatten(),
                       Dense(4 * 2 * 2, 6, rng=3), BatchNorm1D(6), ReLU(), Dropout(0.5, rng=4),
                       Dense(6, 5, rng=5)]).astype(np.float64)


def residual_net():
    """A tiny residual network: the Grad-CAM layer is a Residual block, hooked as one layer of the list."""
    body = [Conv2D(3, 4, 3, padding=1, rng=2), BatchNorm2D(4), ReLU(), Conv2D(4, 4, 3, padding=1, rng=3)]
    return Sequential([Conv2D(1, 3, 3, padding=1, rng=1), ReLU(), MaxPool2D(2),
                       Residual(body, [Conv2D(3, 4, 1, rng=4)]), Flatten(), Dense(4 * 4 * 4, 5, rng=5)
                       ]).astype(np.float64)


def gap_net():
    return Sequential([Conv2D(1, 3, 3, padding="same", rng=1), ReLU(), MaxPool2D(2),
                       Conv2D(3, 4, 3, padding=1, rng=2), ReLU(), GlobalAvgPool2D(),
                       Dense(4, 5, rng=3)]).astype(np.float64)


def images(n=3, side=8, seed=0):
    return np.random.default_rng(seed).random((n, 1, side, side))


def warm_up(model, x):
    """Give batch normalisation running statistics that are not the initial 0 and 1."""
    for _, layer in model.walk():
        if "running_var" in layer.buffers:
            layer.buffers["running_mean"][...] = np.linspace(-0.2, 0.3, layer.buffers["running_mean"].size)
            layer.buffers["running_var"][...] = np.linspace(0.5, 2.0, layer.buffers["running_var"].size)


# (not the ReLU before a max pooling: its zeros tie in the pooling windows, where the max has no derivative)
@pytest.mark.parametrize("make, layer", [(dense_head_net, 3), (dense_head_net, 5), (residual_net, 3),
                                         (gap_net, 4)])
def test_channel_weights_are_the_mean_gradient_by_finite_differences(make, layer):
    model, x = make(), images()
    warm_up(model, x)
    classes = np.array([0, 3, 4])
    _, weights, _ = grad_cam(model, x, classes, layer=layer)
    head = Sequential(model.layers[layer + 1:])
    A = x
    for lay in model.layers[:layer + 1]:
        A = lay.forward(A, training=False)
    A = np.array(A)
    rows = np.arange(len(x))
    numeric = numerical_gradient(lambda: head.forward(A, training=False)[rows, classes].sum(), A)
    # each image's score depends on its own maps only, so the sum's gradient holds every image's
    expected = numeric.mean(axis=(2, 3))
    assert np.abs(expected).max() > 1e-3                     # a check with something to check
    assert rel_error(weights, expected) < 1e-6


def test_grad_cam_is_the_weighted_sum_of_the_maps_then_relu():
    model, x = dense_head_net(), images()
    signed, weights, _ = grad_cam(model, x, 2, layer=5, relu=False)
    rectified, _, _ = grad_cam(model, x, 2, layer=5)
    A = np.array(Sequential(model.layers[:6]).forward(x, training=False))
    assert np.allclose(signed, (weights[:, :, None, None] * A).sum(axis=1))
    assert (signed < 0).any() and np.array_equal(rectified, np.maximum(signed, 0))


def test_cam_equals_grad_cam_up_to_the_scale_one_over_hw_on_a_gap_network():
    # dz_c/dA_k[i, j] = W[k, c] / (h w) everywhere, so alpha_k = W[k, c] / (h w): Grad-CAM = ReLU(CAM) / (h w)
    model, x = gap_net(), images()
    classes = np.array([1, 4, 0])
    maps, scores = cam(model, x, classes)
    signed, weights, scores_g = grad_cam(model, x, classes, relu=False)
    h, w = maps.shape[1:]
    assert (h, w) == (4, 4)
    assert np.allclose(signed * h * w, maps, rtol=1e-10, atol=1e-12)
    assert np.allclose(weights * h * w, model.layers[-1].params["W"][:, classes].T)
    assert np.allclose(grad_cam(model, x, classes)[0] * h * w, np.maximum(maps, 0))
    # the mean of the CAM plus the bias is the class's score
    b = model.layers[-1].params["b"][classes]
    assert np.allclose(maps.mean(axis=(1, 2)) + b, scores[np.arange(3), classes])
    assert np.array_equal(scores, scores_g)
    assert (maps < 0).any() and (maps > 0).any()


def test_the_default_layer_is_the_last_with_feature_maps():
    assert last_feature_maps(fashion_cnn()) == 5                 # the second max pooling, 64 x 7 x 7
    assert last_feature_maps(fashion_gap_cnn()) == 5             # the input of the global average pooling
    resnet = fashion_resnet(stem=4, widths=(4, 8), dense=8)
    i = last_feature_maps(resnet)
    assert isinstance(resnet.layers[i], Residual) and isinstance(resnet.layers[i + 1], Flatten)
    maps, weights, _ = grad_cam(resnet, images(2, 28), 0)
    assert maps.shape == (2, 7, 7) and weights.shape == (2, 8)


def test_grad_cam_leaves_the_model_as_it_was():
    model, x = dense_head_net(), images()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    model.train()
    grad_cam(model, x, 1, layer=3)
    assert model.training and all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("make", [dense_head_net, residual_net, gap_net])
def test_a_batch_at_a_time_gives_what_all_at_once_gives(make):
    # (the batches keep a kernel's memory small: 1,000 test images at once held 200 MB more in notebook 11)
    model, x = make(), images(n=7)
    classes = np.arange(7) % 5
    whole = grad_cam(model, x, classes, batch_size=7)
    for part, all_at_once in zip(grad_cam(model, x, classes, batch_size=3), whole):
        np.testing.assert_allclose(part, all_at_once, rtol=1e-12, atol=1e-12)
    if make is gap_net:
        for part, all_at_once in zip(cam(model, x, classes, batch_size=2), cam(model, x, classes, batch_size=7)):
            np.testing.assert_allclose(part, all_at_once, rtol=1e-12, atol=1e-12)


def test_upsample_is_bilinear_and_keeps_constant_maps():
    maps = np.arange(2 * 7 * 7, dtype=np.float32).reshape(2, 7, 7)
    up = upsample(maps, 28)
    assert up.shape == (2, 28, 28)
    assert np.allclose(upsample(np.full((1, 7, 7), 3.0), (28, 14)), 3.0)
    # a linear ramp stays a ramp between the cell centres, and keeps the corners' values
    assert up[0].min() == maps[0].min() and up[0].max() == maps[0].max()
    assert np.all(np.diff(up[0, 5:23, 5:23], axis=1) > 0)


@pytest.mark.parametrize("call, error, words", [
    (lambda m, x: grad_cam(m, x, 0, layer=12), ValueError, "layer must be an index"),
    (lambda m, x: grad_cam(m, x, 0, layer=6), ValueError, "not feature maps"),
    (lambda m, x: grad_cam(m, x, 5), ValueError, "classes must be a class index 0..4"),
    (lambda m, x: grad_cam(m, x, -1), ValueError, "classes must be a class index"),
    (lambda m, x: grad_cam(m, x, [0, 1]), ValueError, "one per image"),
    (lambda m, x: grad_cam(m, x, 1.5), TypeError, "classes must be integers"),
    (lambda m, x: grad_cam(m, x[0, 0, 0], 0), ValueError, "expected a batch of images"),
    (lambda m, x: grad_cam(m.layers, x, 0), TypeError, "helpers.nn.Sequential"),
    (lambda m, x: cam(m, x, 0), ValueError, "CAM needs a network whose global average pooling"),
    (lambda m, x: cam(gap_net(), x, 7), ValueError, "classes must be a class index 0..4"),
    (lambda m, x: upsample(x, 28), ValueError, "maps must be (N, h, w)"),
    (lambda m, x: upsample(x[:, 0], 0), ValueError, "size must be at least 1"),
    (lambda m, x: grad_cam(m, x, 0, batch_size=0), ValueError, "batch_size must be at least 1"),
    (lambda m, x: cam(gap_net(), x, 0, batch_size=0), ValueError, "batch_size must be at least 1"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call(dense_head_net(), images())


def _exercise():
    """Maps (6, 4, 4) >= 0 and a gradient whose channel means alternate in sign: a map with both signs."""
    rng = np.random.default_rng(3)
    A, g = rng.random((6, 4, 4)) ** 2, rng.standard_normal((6, 4, 4)) + np.array([1, -1] * 3)[:, None, None]
    signed = np.einsum("k,khw->hw", g.mean(axis=(1, 2)), A)
    assert (signed < 0).any() and (signed > 0).any()
    return A, g


@pytest.mark.parametrize("make, ok, hint", [
    (lambda A, g: np.maximum(np.einsum("k,khw->hw", g.mean(axis=(1, 2)), A), 0), True, "a 4x4 map"),
    (lambda A, g: np.einsum("k,khw->hw", g.mean(axis=(1, 2)), A), False, "ReLU"),
    (lambda A, g: np.maximum(np.einsum("k,khw->hw", g.sum(axis=(1, 2)), A), 0), False, "*mean*"),
    (lambda A, g: np.maximum((g * A).sum(axis=0), 0), False, "its own gradient"),
    (lambda A, g: np.zeros((4, 4)), False, "Weigh each channel"),
    (lambda A, g: np.zeros((6, 4)), False, "sum over the channels"),
    (lambda A, g: ..., False, "Replace the ..."),
    (lambda A, g: "map", False, "array of numbers"),
])
def test_the_grad_cam_check_accepts_the_map_and_refuses_the_usual_mistakes(capsys, make, ok, hint):
    from helpers.checks.cam import check_grad_cam

    A, g = _exercise()
    assert bool(check_grad_cam(make(A, g), A, g)) is ok
    out = capsys.readouterr().out
    assert out.startswith("Correct:" if ok else "Not yet:") and hint in out, out


def test_the_grad_cam_check_agrees_with_grad_cam_on_a_network():
    from helpers.checks.cam import check_grad_cam

    model, x = dense_head_net(), images(1)
    maps, _, _ = grad_cam(model, x, 2, layer=5)
    head = Sequential(model.layers[6:])
    A = np.array(Sequential(model.layers[:6]).forward(x, training=False))
    scores = head.forward(A, training=False)
    g = np.zeros_like(scores)
    g[0, 2] = 1
    dA = head.backward(g, input_grad=True)
    assert check_grad_cam(maps[0], A[0], dA[0])
