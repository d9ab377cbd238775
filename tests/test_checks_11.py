"""The self-checks of notebook 11 accept right answers and reject the usual wrong ones with a hint."""
import numpy as np
import pytest

from helpers.checks.inside import check_field_rows, check_occlusion_drop, check_pixel_gradient
from helpers.losses import softmax
from helpers.models import fashion_cnn


@pytest.fixture(scope="module")
def net():
    return fashion_cnn(seed=3)


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).random((1, 28, 28)).astype(np.float32)


def verdict(capsys, call):
    ok = call()
    return bool(ok), capsys.readouterr().out


@pytest.mark.parametrize("answer, hint", [
    ((3, 10), None), ([3, 10], None), ((np.int64(3), 10.0), None),
    ((6, 13), "padding"),             # no padding shift: 2 * 3 .. 2 * 3 + 7
    ((0, 7), "jump"),                 # start + row instead of start + row * jump
    ((3, 9), "8"),                    # one row short
    (..., "Replace the ..."), ("3 to 10", "two whole numbers"),
])
def test_field_rows(capsys, net, answer, hint):
    ok, out = verdict(capsys, lambda: check_field_rows(answer, net, layer=4, row=3))
    assert ok is (hint is None), out
    if hint:
        assert hint in out


def test_field_rows_of_the_first_layer(capsys, net):
    assert check_field_rows((4, 6), net, layer=1, row=5)
    assert not check_field_rows((5, 7), net, layer=1, row=5)


def occluded_probs(net, image, label, rows, cols):
    covered = image.copy()
    covered[:, rows[0]:rows[1], cols[0]:cols[1]] = 0.5
    return softmax(net(np.stack([image, covered])))[:, label]


def test_occlusion_drop(capsys, net, image):
    p = occluded_probs(net, image, 2, (10, 16), (8, 14))
    right = float(p[0] - p[1])
    assert abs(right) > 1e-4                         # the square changes something, so the hints can tell
    assert verdict(capsys, lambda: check_occlusion_drop(right, net, image, 2, (10, 16), (8, 14)))[0]
    ok, out = verdict(capsys, lambda: check_occlusion_drop(-right, net, image, 2, (10, 16), (8, 14)))
    assert not ok and "sign" in out
    p7 = occluded_probs(net, image, 2, (10, 17), (8, 15))
    ok, out = verdict(capsys, lambda: check_occlusion_drop(float(p7[0] - p7[1]), net, image, 2, (10, 16), (8, 14)))
    assert not ok and "stops before" in out
    ok, out = verdict(capsys, lambda: check_occlusion_drop(..., net, image, 2, (10, 16), (8, 14)))
    assert not ok and "Replace the ..." in out


def test_pixel_gradient(capsys, net, image):
    label, (r, c), h = 4, (12, 14), 1e-3
    up, down = image.copy(), image.copy()
    up[0, r, c] += h
    down[0, r, c] -= h
    z = net(np.stack([up, down]))[:, label].astype(np.float64)
    right = (z[0] - z[1]) / (2 * h)
    assert abs(right) > 0.02                       # large enough for the hints to tell the answers apart
    assert verdict(capsys, lambda: check_pixel_gradient(right, net, image, label, (r, c)))[0]
    # the learner's way, one image at a time, agrees within the tolerance
    one_by_one = (net(up[None])[0, label] - net(down[None])[0, label]) / (2 * h)
    assert verdict(capsys, lambda: check_pixel_gradient(one_by_one, net, image, label, (r, c)))[0]
    ok, out = verdict(capsys, lambda: check_pixel_gradient(2 * right, net, image, label, (r, c)))
    assert not ok and "2h" in out
    p = softmax(net(np.stack([up, down])))[:, label]
    ok, out = verdict(capsys, lambda: check_pixel_gradient((p[0] - p[1]) / (2 * h), net, image, label, (r, c)))
    assert not ok and "probability" in out
    ok, out = verdict(capsys, lambda: check_pixel_gradient(right + 1.0, net, image, label, (r, c)))
    assert not ok and "is not it" in out
