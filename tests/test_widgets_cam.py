"""Notebook 11's Grad-CAM explorer: each control redraws; the maps shown are helpers.cam's and interpret's."""
import numpy as np
import pytest
from _explorers import PNG, pictures, three_images

from helpers.cam import cam, grad_cam, upsample
from helpers.interpret import input_gradient, saliency_map
from helpers.models import fashion_cnn, fashion_gap_cnn, fashion_resnet
from helpers.widgets.cam import CamExplorer


@pytest.fixture(scope="module")
def networks():
    return {"CNN": fashion_cnn(seed=5), "ResNet": fashion_resnet(seed=5), "GAP": fashion_gap_cnn(seed=5)}


@pytest.fixture(scope="module")
def data():
    return three_images(), np.array([1, 4, 8])


NAMES = [f"class {i}" for i in range(10)]


def test_the_explorer_shows_grad_cam_of_the_chosen_image_and_class(networks, data):
    x, y = data
    e = CamExplorer(networks, x, y, class_names=NAMES, image=1, network="ResNet")
    assert e.message.value == "" and all(p.startswith(PNG) for p in pictures(e) if p)
    expected, _, _ = grad_cam(networks["ResNet"], x[1:2], y[1])
    assert e.explained == 4 and e.map.shape == (7, 7)
    np.testing.assert_array_equal(e.map, expected[0])
    np.testing.assert_array_equal(e.overlay, upsample(expected, 28)[0])
    assert "class 4" in e.panel_image.title and "Grad-CAM, 7x7" in e.panel_map.title
    assert "each cell covers 4x4 pixels" in e.info.value


def test_saliency_is_the_input_gradient_and_another_class_another_map(networks, data):
    x, y = data
    e = CamExplorer(networks, x, y, method="saliency", image=2)
    np.testing.assert_array_equal(e.map, saliency_map(input_gradient(networks["CNN"], x[2:3], 8)[0])[0])
    before = e.map.copy()
    e.target.value = 3
    assert e.explained == 3 and not np.array_equal(e.map, before)
    np.testing.assert_array_equal(e.map, saliency_map(input_gradient(networks["CNN"], x[2:3], 3)[0])[0])


@pytest.mark.parametrize("control, value", [("image", 2), ("target", 0), ("network", "ResNet"),
                                            ("method", "saliency")])
def test_each_control_changes_the_picture_and_the_numbers(networks, data, control, value):
    x, y = data
    e = CamExplorer(networks, x, y, class_names=NAMES)
    before = (pictures(e), e.info.value)
    getattr(e, control).value = value
    assert e.message.value == ""
    assert pictures(e) != before[0] and e.info.value != before[1]


def test_cam_and_grad_cam_show_the_same_picture_on_the_gap_network(networks, data):
    # Grad-CAM = ReLU(CAM) / (h w) there: the same map up to its scale, so the same colours on a 0..max scale
    x, y = data
    e = CamExplorer(networks, x, y, network="GAP", method="Grad-CAM", image=0)
    grad_picture, grad_map = e.panel_map.value, e.map.copy()
    e.method.value = "CAM"
    assert e.message.value == ""
    np.testing.assert_allclose(e.map, np.maximum(cam(networks["GAP"], x[:1], y[0])[0][0], 0))
    np.testing.assert_allclose(e.map, grad_map * 49, rtol=1e-5, atol=1e-6 * e.map.max())
    assert e.panel_map.value == grad_picture
    assert e.bar.ticks[0].value != "" and "CAM" in e.info.value


def test_cam_on_a_network_without_a_gap_head_says_why_in_red(networks, data):
    x, y = data
    e = CamExplorer(networks, x, y, network="CNN")
    shown = pictures(e)
    e.method.value = "CAM"
    assert "CAM needs global average pooling" in e.message.value and "Grad-CAM" in e.message.value
    assert pictures(e) == shown                           # the last good picture stays
    e.network.value = "GAP"
    assert e.message.value == "" and pictures(e) != shown


@pytest.mark.parametrize("kwargs, error, match", [
    ({"image": 3}, ValueError, r"image must be 0\.\.2"),
    ({"network": "VGG"}, ValueError, "network must be one of"),
    ({"method": "LIME"}, ValueError, "method must be one of"),
    ({"target": 10}, ValueError, r"target must be 0\.\.9"),
    ({"labels": [1, 2]}, ValueError, "one class index per image: 3 images"),
    ({"class_names": ["a", "b"]}, ValueError, "class_names must name the 10 classes"),
    ({"networks": {}}, TypeError, "networks must be a dict"),
    ({"networks": {"CNN": [1]}}, TypeError, r"networks\['CNN'\] must be a helpers.nn.Sequential"),
])
def test_bad_input_is_refused_clearly(networks, data, kwargs, error, match):
    x, y = data
    args = {"networks": networks, "labels": y, **kwargs}
    with pytest.raises(error, match=match):
        CamExplorer(images=x, **args)


def px(width) -> int:
    return int(str(width).removesuffix("px"))


def test_it_fits_an_840_by_700_output_area(networks, data):
    x, y = data
    e = CamExplorer(networks, x, y, class_names=NAMES, network="ResNet")
    panels = [e.panel_image, e.panel_map, e.panel_overlay]
    assert sum(px(p.widget.layout.width) + 8 for p in panels) <= 840
    for p in panels:
        extra = 72 if p.colorbar is not None else 0
        assert int(p.image.width) + extra <= px(p.widget.layout.width)
    still = e.still()
    assert still.shape[1] <= 840 and still.shape[0] <= 700, still.shape
