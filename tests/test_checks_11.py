"""The self-checks of notebook 11 accept right answers and reject the usual wrong ones with a hint."""
import numpy as np
import pytest

from helpers.checks.inside import check_field_rows, check_occlusion_drop, check_pixel_gradient
from helpers.images import data_dir, load_sample
from helpers.losses import softmax
from helpers.models import fashion_cnn
from helpers.training import load_weights, prepare


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


def occluded_probs(net, image, label, rows, cols, fill=0.5):
    covered = image.copy()
    covered[:, rows[0]:rows[1], cols[0]:cols[1]] = fill
    return softmax(net(np.stack([image, covered])))[:, label]


def test_occlusion_drop(capsys, net, image):
    p = occluded_probs(net, image, 2, (10, 16), (8, 14))
    right = float(p[0] - p[1])
    assert abs(right) > 1e-4                         # the square changes something, so the hints can tell
    check = lambda answer: check_occlusion_drop(answer, net, image, 2, (10, 16), (8, 14), fill=0.5)  # noqa: E731
    assert verdict(capsys, lambda: check(right))[0]
    ok, out = verdict(capsys, lambda: check(-right))
    assert not ok and "sign" in out
    p7 = occluded_probs(net, image, 2, (10, 17), (8, 15))
    ok, out = verdict(capsys, lambda: check(float(p7[0] - p7[1])))
    assert not ok and "stops before" in out
    ok, out = verdict(capsys, lambda: check(...))
    assert not ok and "Replace the ..." in out


@pytest.fixture(scope="module")
def trained():
    """Notebook 11's network (07's shipped weights) and the shipped test images."""
    model = fashion_cnn()
    load_weights(data_dir() / "fashion_cnn_weights.npz", model)
    sample = load_sample("fashion_mnist_sample")
    x, y = prepare(sample["images"]), sample["labels"].astype(np.int64)
    return model, x, y, softmax(model.predict(x)).argmax(axis=1)


def test_exercise_2_tells_the_wrong_answers_from_the_right_one(capsys, trained):
    # Exercise 2 as notebook 11 sets it: the first T-shirt the network gets right, rows 4..9 and columns
    # 18..23 (the shoulder) covered with the background's value 0. The old exercise (a grey square on
    # rows 10..15, columns 8..13 of the ankle boot) moved p from 0.99976 to 0.99837, and a black square
    # gave nearly the same drop, so a wrong fill passed.
    model, x, y, pred = trained
    t = int(np.flatnonzero((y == 0) & (pred == 0))[0])
    rows, cols = (4, 10), (18, 24)
    image, label = x[t], int(y[t])
    p_black = occluded_probs(model, image, label, rows, cols, fill=0.0)
    p_grey = occluded_probs(model, image, label, rows, cols, fill=0.5)
    right, grey = float(p_black[0] - p_black[1]), float(p_grey[0] - p_grey[1])
    assert right > 0.3 and abs(right - grey) > 0.3                # a drop worth measuring; the fill matters

    def check(answer):
        return verdict(capsys, lambda: check_occlusion_drop(answer, model, image, label, rows, cols, fill=0.0))

    assert check(right)[0]
    z = model(np.stack([image, image]))[:, label]
    covered = image.copy()
    covered[:, rows[0]:rows[1], cols[0]:cols[1]] = 0.0
    z_after = model(covered[None])[0, label]
    swapped = occluded_probs(model, image, label, cols, rows, fill=0.0)
    for answer, hint in [(grey, "filled with 0.5"), (0.0, "a drop of 0"), (float(p_black[1]), "probability after"),
                         (float(z[0] - z_after), "class score"), (float(swapped[0] - swapped[1]), "swapped"),
                         (-right, "sign")]:
        ok, out = check(answer)
        assert not ok and hint in out, (answer, out)


def test_pixel_gradient_of_zero_is_its_own_mistake(capsys, trained):
    # on a confidently classified image (p = 1.000) the probability's gradient is about 0, and a learner
    # whose two copies were the same image got "that is the gradient of the probability"
    model, x, y, pred = trained
    k = int(np.flatnonzero((y == 9) & (pred == 9))[0])         # notebook 11's image k, an ankle boot
    ok, out = verdict(capsys, lambda: check_pixel_gradient(0, model, x[k], int(y[k]), pixel=(12, 14)))
    assert not ok and "exactly 0" in out and "copies" in out
    assert "that is the gradient of the probability" not in out
    ok, out = verdict(capsys, lambda: check_pixel_gradient(0.0, model, x[k], int(y[k]), pixel=(12, 14)))
    assert not ok and "exactly 0" in out


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
