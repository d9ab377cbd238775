"""helpers.interpret: each method checked against its definition on small networks."""
import numpy as np
import pytest

from helpers.gradcheck import numerical_gradient, rel_error
from helpers.interpret import (
    class_model,
    feature_maps,
    input_gradient,
    occlusion,
    occlusion_per_pixel,
    receptive_field,
    saliency_map,
    smoothgrad,
    top_activations,
    top_patches,
)
from helpers.losses import softmax
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


def tiny_net(dtype=np.float64, dropout=False):
    layers = [Conv2D(1, 3, 3, padding="same", rng=1), ReLU(), MaxPool2D(2),
              Conv2D(3, 4, 3, padding=1, rng=2), ReLU(), MaxPool2D(2), Flatten()]
    if dropout:
        layers.append(Dropout(0.5, rng=3))
    layers.append(Dense(4 * 2 * 2, 5, rng=4))
    return Sequential(layers).astype(dtype)


def images(n=3, size=8, seed=0):
    return np.random.default_rng(seed).random((n, 1, size, size))


def test_feature_maps_are_each_layers_output():
    net, x = tiny_net(), images()
    maps = feature_maps(net, x)
    assert [label for label, _ in maps] == [layer.label for layer in net.layers]
    h = x
    for layer, (_, m) in zip(net.layers, maps):
        h = layer.forward(h, training=False)
        np.testing.assert_array_equal(m, h)
    only = feature_maps(net, x, layers=[4, 1])
    assert [lab for lab, _ in only] == ["ReLU", "ReLU"]
    np.testing.assert_array_equal(only[0][1], maps[4][1])
    np.testing.assert_array_equal(only[1][1], maps[1][1])
    with pytest.raises(ValueError, match="index into model.layers"):
        feature_maps(net, x, layers=[12])


def test_feature_maps_a_batch_at_a_time_are_the_maps_of_all_at_once():
    # a batch at a time keeps a kernel's memory small (1,000 images at once: 350 MB in notebook 11)
    net, x = tiny_net(), images(7)
    whole = feature_maps(net, x, batch_size=7)
    for (label, part), (label_whole, all_at_once) in zip(feature_maps(net, x, batch_size=3), whole):
        assert label == label_whole and part.shape == all_at_once.shape
        np.testing.assert_allclose(part, all_at_once, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        feature_maps(net, x, batch_size=0)
    # and the layers keep nothing afterwards (the maps asked for are copies)
    assert all(getattr(layer, name) is None for _, layer in net.walk() for name in layer._keeps)


def test_input_gradient_a_batch_at_a_time_is_the_gradient_of_all_at_once():
    net, x = tiny_net(), images(7)
    classes = np.arange(7) % 5
    for part, all_at_once in zip(input_gradient(net, x, classes, batch_size=3),
                                 input_gradient(net, x, classes, batch_size=7)):
        np.testing.assert_allclose(part, all_at_once, rtol=1e-12, atol=1e-12)
    assert all(getattr(layer, name) is None for _, layer in net.walk() for name in layer._keeps)


@pytest.mark.parametrize("call, words", [
    (lambda net, x: feature_maps(net, x[:0]), "the batch holds no images"),
    (lambda net, x: input_gradient(net, x[:0], 0), "the batch holds no images"),
    (lambda net, x: input_gradient(net, x, 0, batch_size=0), "batch_size must be at least 1"),
])
def test_an_empty_batch_or_batch_size_0_is_refused_clearly(call, words):
    with pytest.raises(ValueError, match=words):
        call(tiny_net(), images(3))


def test_saliency_equals_a_finite_difference_gradient():
    net, x = tiny_net(), images(2)
    classes = np.array([1, 3])
    grad, scores = input_gradient(net, x, classes)
    np.testing.assert_allclose(scores, net(x))
    for n in range(2):
        xn = x[n:n + 1].copy()
        numeric = numerical_gradient(lambda: float(net(xn)[0, classes[n]]), xn)
        assert rel_error(grad[n:n + 1], numeric) < 1e-6
    np.testing.assert_array_equal(saliency_map(grad), np.abs(grad)[:, 0])


def test_input_gradient_skips_dropout_like_inference():
    with_drop, without = tiny_net(dropout=True), tiny_net()
    x = images(2)
    g1, s1 = input_gradient(with_drop, x, 2)
    g2, s2 = input_gradient(without, x, 2)
    np.testing.assert_allclose(g1, g2)
    np.testing.assert_allclose(s1, s2)


def test_input_gradient_of_batch_normalisation_is_the_inference_one():
    rng = np.random.default_rng(4)
    block = Residual([Conv2D(2, 2, 3, padding=1, rng=5), BatchNorm2D(2), ReLU()])
    net = Sequential([Conv2D(1, 2, 3, padding="same", rng=0), BatchNorm2D(2), ReLU(), block, MaxPool2D(2),
                      Flatten(), Dense(2 * 4 * 4, 6, rng=1), BatchNorm1D(6), ReLU(), Dropout(0.5, rng=2),
                      Dense(6, 3, rng=3)]).astype(np.float64)
    for _ in range(3):                                     # running statistics that are not 0 and 1
        net.forward(rng.random((4, 1, 8, 8)) * 3 + 1, training=True)
    state = {k: v.copy() for k, v in net.state_dict().items()}
    x = images(2)
    grad, scores = input_gradient(net, x, [0, 2])
    np.testing.assert_allclose(scores, net.forward(x, training=False))
    for n, c in enumerate([0, 2]):
        xn = x[n:n + 1].copy()
        numeric = numerical_gradient(lambda: float(net.forward(xn, training=False)[0, c]), xn)
        assert rel_error(grad[n:n + 1], numeric) < 1e-6
    # the network is left as it was: same statistics, same mode
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    assert all(layer.training for _, layer in net.walk())


def test_smoothgrad_is_the_mean_gradient_of_noisy_copies():
    net, x = tiny_net(), images(2)
    sg = smoothgrad(net, x, [0, 4], samples=5, noise=0.1, rng=3)
    rng = np.random.default_rng(3)
    spread = (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))[:, None, None, None]
    expected = np.mean([input_gradient(net, x + 0.1 * spread * rng.standard_normal(x.shape), [0, 4])[0]
                        for _ in range(5)], axis=0)
    np.testing.assert_allclose(sg, expected, rtol=1e-6, atol=1e-12)
    # without noise it is the plain gradient
    np.testing.assert_allclose(smoothgrad(net, x, [0, 4], samples=2, noise=0.0), input_gradient(net, x, [0, 4])[0])


def test_occlusion_of_an_irrelevant_region_changes_nothing():
    # a network that only looks at the left half: a dense layer with zero weights on the right half
    net = Sequential([Flatten(), Dense(64, 3, rng=0)]).astype(np.float64)
    W = net.layers[1].params["W"].reshape(8, 8, 3)
    W[:, 4:] = 0.0
    x = images(1)[0]
    drops, p0 = occlusion(net, x, target=1, size=2, stride=2, fill=0.5)
    assert drops.shape == (4, 4)
    assert np.isclose(p0, softmax(net(x[None]))[0, 1])
    # squares over the right half: nothing, up to rounding (a batch of one and a batch of many may take
    # different paths through the matrix product, 5e-17 apart)
    np.testing.assert_allclose(drops[:, 2:], 0.0, atol=1e-12)
    assert np.abs(drops[:, :2]).min() > 0                          # the left half matters


def test_occlusion_matches_covering_by_hand():
    net, x = tiny_net(), images(1)[0]
    drops, p0 = occlusion(net, x, target=2, size=3, stride=2, fill=0.3)
    assert drops.shape == ((8 - 3) // 2 + 1,) * 2
    covered = x.copy()
    covered[:, 2:5, 4:7] = 0.3                                     # position (1, 2)
    assert np.isclose(drops[1, 2], p0 - softmax(net(covered[None]))[0, 2])


def test_occlusion_per_pixel_averages_the_covering_squares():
    drops = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = occlusion_per_pixel(drops, (4, 4), size=3, stride=1)
    assert m[0, 0] == 1.0 and m[3, 3] == 4.0 and m[1, 1] == 2.5   # the centre is covered by all four
    m = occlusion_per_pixel(np.ones((1, 1)), (5, 5), size=3, stride=2)
    assert np.isnan(m[4, 4]) and m[0, 0] == 1.0


def test_receptive_field_matches_the_gradient():
    net = tiny_net()
    assert receptive_field(net, 0) == (3, 1, -1)
    assert receptive_field(net, 2) == (4, 2, -1)
    assert receptive_field(net, 3) == (8, 2, -3)
    assert receptive_field(net, 5) == (10, 4, -3)
    with pytest.raises(ValueError, match="whole image"):
        receptive_field(net, 7)
    with_bn = Sequential([Conv2D(1, 2, 3, padding=1, rng=0), BatchNorm2D(2), ReLU(), MaxPool2D(2),
                          Conv2D(2, 2, 5, rng=1), GlobalAvgPool2D()])
    assert receptive_field(with_bn, 2) == (3, 1, -1) and receptive_field(with_bn, 4) == (12, 2, -1)
    with pytest.raises(ValueError, match="whole image"):
        receptive_field(with_bn, 5)
    # a residual block: its body (two 3x3 convolutions, the first of stride 2) decides the field
    res = Sequential([Conv2D(1, 2, 3, padding=1, rng=0), ReLU(),
                      Residual([Conv2D(2, 4, 3, stride=2, padding=1, rng=1), ReLU(), Conv2D(4, 4, 3, padding=1, rng=2)],
                               shortcut=[Conv2D(2, 4, 1, stride=2, rng=3)])])
    assert receptive_field(res, 2) == (3 + 2 + 4, 2, -1 - 1 - 2)
    # measured: the gradient of one position of layer 3's output is non-zero inside the computed field only
    for layer in net.layers:
        if "W" in layer.params:
            layer.params["W"] = np.abs(layer.params["W"]) + 0.1
    x = images(1, size=16)
    body = Sequential(net.layers[:4])
    y = body.forward(x)
    g = np.zeros_like(y)
    g[0, 0, 3, 5] = 1.0
    for layer in reversed(body.layers):
        g = layer.backward(g)
    rows, cols = np.nonzero(g[0, 0])
    size, jump, start = receptive_field(net, 3)
    assert rows.min() >= start + 3 * jump and rows.max() <= start + 3 * jump + size - 1
    assert cols.min() >= start + 5 * jump and cols.max() <= start + 5 * jump + size - 1


def test_top_activations_are_the_argmax():
    maps = np.random.default_rng(1).standard_normal((6, 2, 4, 5))
    where, values = top_activations(maps, k=3)
    assert where.shape == (2, 3, 3) and values.shape == (2, 3)
    for c in range(2):
        per_image = maps[:, c].reshape(6, -1).max(axis=1)
        best = np.argsort(-per_image)[:3]
        np.testing.assert_array_equal(where[c, :, 0], best)
        for (n, r, col), v in zip(where[c], values[c]):
            assert maps[n, c, r, col] == v == maps[n, c].max()
    assert values[0, 0] == maps[:, 0].max()
    with pytest.raises(ValueError, match="k must be"):
        top_activations(maps, k=7)


def test_top_patches_are_the_receptive_fields_of_the_top_activations():
    net, x = tiny_net(), images(5, size=8, seed=2)
    patches, where, values, (size, jump, start) = top_patches(net, x, layer=4, k=2)
    assert patches.shape == (4, 2, 1, 8, 8)
    maps = feature_maps(net, x, [4])[0][1]
    for f in range(4):
        for j, (n, r, c) in enumerate(where[f]):
            assert maps[n, f, r, c] == values[f, j]
            for a in range(size):
                for b in range(size):
                    i, k = start + r * jump + a, start + c * jump + b
                    inside = 0 <= i < 8 and 0 <= k < 8
                    got = patches[f, j, 0, a, b]
                    assert (got == np.float32(x[n, 0, i, k])) if inside else np.isnan(got)


def test_class_model_raises_the_class_score():
    net = tiny_net()
    free, trace = class_model(net, target=2, shape=(1, 8, 8), steps=30, lr=0.05, l2=0.0, blur_every=0, clip=None)
    assert free.shape == (1, 8, 8) and len(trace) == 30
    assert trace[-1] > trace[0] + 1.0                           # plain gradient ascent climbs
    img, trace = class_model(net, target=2, shape=(1, 8, 8), steps=30, lr=0.05)
    assert trace[-1] > trace[0] + 0.2                           # regularised, it still climbs
    assert 0.0 <= img.min() and img.max() <= 1.0                # clipped to the pixel range
    assert np.linalg.norm(img) < np.linalg.norm(free)           # and the penalty keeps it smaller
    again, _ = class_model(net, target=2, shape=(1, 8, 8), steps=30, lr=0.05)
    np.testing.assert_array_equal(img, again)                   # seeded


def test_bad_input_gets_a_clear_error():
    net = tiny_net()
    with pytest.raises(ValueError, match="x\\[None\\]"):
        input_gradient(net, np.zeros((8, 8)), 0)
    with pytest.raises(TypeError, match="uint8"):
        feature_maps(net, np.zeros((1, 1, 8, 8), dtype=np.int32))
    with pytest.raises(ValueError, match="size must be"):
        occlusion(net, images(1)[0], 0, size=9)
