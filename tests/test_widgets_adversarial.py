"""Notebook 11's adversarial explorer: each control redraws, and the numbers shown are helpers.adversarial's."""
import numpy as np
import pytest
from _explorers import PNG, pictures, three_images

from helpers.adversarial import fgsm
from helpers.losses import softmax
from helpers.models import fashion_cnn
from helpers.widgets.adversarial import AdversarialExplorer


@pytest.fixture(scope="module")
def net():
    return fashion_cnn(seed=5)


@pytest.fixture(scope="module")
def data():
    return three_images(), np.array([1, 4, 8])


def test_the_explorer_shows_fgsm_of_the_chosen_image(net, data):
    x, y = data
    e = AdversarialExplorer(net, x, y, class_names=[f"class {i}" for i in range(10)], image=1, epsilon=0.05)
    assert e.message.value == "" and all(p.startswith(PNG) for p in pictures(e) if p)
    expected = fgsm(net, x[1:2], y[1], 0.05)[0]
    np.testing.assert_array_equal(e.adversarial, expected)
    np.testing.assert_allclose(e.probabilities, softmax(net.predict(expected[None]).astype(np.float64))[0],
                               rtol=1e-6)
    np.testing.assert_allclose(e.clean_probabilities, softmax(net.predict(x[1:2]).astype(np.float64))[0],
                               rtol=1e-5)
    assert np.abs(e.perturbation).max() == pytest.approx(0.05, abs=1e-6)
    assert "Epsilon 0.050" in e.info.value and "class 4" in e.panel_image.title


@pytest.mark.parametrize("control, value", [("image", 2), ("epsilon", 0.1)])
def test_each_control_changes_the_picture_and_the_numbers(net, data, control, value):
    x, y = data
    e = AdversarialExplorer(net, x, y, epsilon=0.02)
    before = (pictures(e), e.info.value, e.probabilities.copy())
    getattr(e, control).value = value
    assert e.message.value == ""
    assert pictures(e) != before[0] and e.info.value != before[1]
    assert not np.array_equal(e.probabilities, before[2])
    np.testing.assert_array_equal(e.adversarial, fgsm(net, x[e.image.value:e.image.value + 1],
                                                      y[e.image.value], e.epsilon.value)[0])


def test_epsilon_zero_shows_the_image_unchanged(net, data):
    x, y = data
    e = AdversarialExplorer(net, x, y, epsilon=0.0)
    np.testing.assert_array_equal(e.adversarial, x[0])
    assert not e.perturbation.any()
    np.testing.assert_allclose(e.probabilities, e.clean_probabilities, rtol=1e-6)


def test_moving_epsilon_reuses_the_gradient(net, data, monkeypatch):
    x, y = data
    e = AdversarialExplorer(net, x, y)
    import helpers.widgets.adversarial as module

    def refuse(*args, **kwargs):
        raise AssertionError("the gradient was computed again for the same image")

    monkeypatch.setattr(module, "loss_gradient", refuse)
    e.epsilon.value = 0.1                              # one forward pass, no new gradient
    assert e.message.value == ""


@pytest.mark.parametrize("kwargs, error, match", [
    ({"image": 3}, ValueError, r"image must be 0\.\.2"),
    ({"epsilon": 0.5}, ValueError, "epsilon must be a number in 0..max_epsilon"),
    ({"max_epsilon": 0}, ValueError, "max_epsilon"),
    ({"labels": [1, 2]}, ValueError, "one class index per image: 3 images"),
    ({"labels": [1.0, 2.0, 3.0]}, ValueError, "one class index per image"),
])
def test_bad_input_is_refused_clearly(net, data, kwargs, error, match):
    x, y = data
    args = {"labels": y, **kwargs}
    with pytest.raises(error, match=match):
        AdversarialExplorer(net, x, **args)


def px(width) -> int:
    return int(str(width).removesuffix("px"))


def test_it_fits_an_840_by_700_output_area(net, data):
    x, y = data
    e = AdversarialExplorer(net, x, y, class_names=[f"class {i}" for i in range(10)], epsilon=0.1)
    panels = [e.panel_image, e.panel_change, e.panel_adversarial]
    widths = [px(p.widget.layout.width) for p in panels] + [int(e.plot.image.width)]
    assert sum(w + 8 for w in widths) <= 840, widths
    for p in panels:
        extra = 72 if p.colorbar is not None else 0
        assert int(p.image.width) + extra <= px(p.widget.layout.width)
    tallest = max(int(p.image.height) for p in [*panels, e.plot])
    # one row of controls, two lines of numbers, two lines of titles
    assert 36 + 2 * 20 + 2 * 17 + tallest + 40 <= 700, tallest
    assert sum(px(c.layout.width) + 16 for c in e.widget.children[0].children) <= 840
    still = e.still()
    assert still.shape[1] <= 840 and still.shape[0] <= 700, still.shape
