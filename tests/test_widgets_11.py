"""The explorer of notebook 11: every control redraws, and the numbers shown match helpers.interpret."""
import numpy as np
import pytest

from helpers.interpret import feature_maps, receptive_field
from helpers.losses import softmax
from helpers.models import fashion_cnn
from helpers.widgets.inside import FeatureMapExplorer

PNG = b"\x89PNG"


def pictures(explorer) -> list:
    return [v for v in explorer.snapshot() if isinstance(v, bytes)]


@pytest.fixture(scope="module")
def net():
    return fashion_cnn(seed=5)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    x = np.zeros((3, 1, 28, 28), dtype=np.float32)
    x[0, 0, 5:20, 8:14] = 1.0                         # three different pictures
    x[1, 0, 10:14, 2:26] = 0.7
    x[2] = rng.random((1, 28, 28))
    return x


def state(e):
    return pictures(e), e.info.value, e.strongest, float(e.maps.sum())


def test_explorer_draws_the_chosen_layer_and_channel(net, images):
    e = FeatureMapExplorer(net, images, labels=[0, 1, 2], class_names=[f"class {i}" for i in range(10)])
    assert all(p.startswith(PNG) for p in pictures(e) if p) and e.message.value == ""
    assert e.panel_signed.widget.layout.display == "none"        # a ReLU's maps: the non-negative panel shows
    assert e.layer.value == 1                          # the first ReLU by default
    assert [v for _, v in e.layer.options] == [0, 1, 2, 3, 4, 5]   # the layers with feature maps
    np.testing.assert_array_equal(e.maps, feature_maps(net, images[:1], [1])[0][1][0])
    assert e.strongest == np.unravel_index(np.argmax(e.maps[0]), e.maps[0].shape)
    np.testing.assert_allclose(e.probabilities, softmax(net(images[:1]))[0], rtol=1e-5)
    assert "class " in e.info.value and "The network says" in e.info.value


@pytest.mark.parametrize("control, value", [("image", 1), ("layer", 4), ("channel", 3)])
def test_each_control_changes_the_picture_and_the_numbers(net, images, control, value):
    e = FeatureMapExplorer(net, images)
    before = state(e)
    getattr(e, control).value = value
    after = state(e)
    assert e.message.value == ""
    assert after[0] != before[0]                                    # the pictures
    assert after[1] != before[1]                                    # the text under the controls
    image, layer, channel = e.image.value, e.layer.value, e.channel.value
    maps = feature_maps(net, images[image:image + 1], [layer])[0][1][0]
    np.testing.assert_array_equal(e.maps, maps)
    assert f"Channel {channel}:" in e.info.value and f"max {maps[channel].max():.3f}" in e.info.value


def test_a_convolution_output_is_shown_signed(net, images):
    e = FeatureMapExplorer(net, images, layer=3)
    assert e.maps.min() < 0 < e.maps.max()
    assert e.panel_positive.widget.layout.display == "none" and e.panel_signed.widget.layout.display is None
    lim = np.abs(e.maps[0]).max()
    assert [t.value for t in e.bar_signed.ticks] == [
        f'<span style="font-size:11px">{v + 0.0:.3g}</span>' for v in (lim, 0.0, -lim)]


def test_the_field_is_the_receptive_field_of_the_strongest_position(net, images):
    e = FeatureMapExplorer(net, images, image=0, layer=4, channel=7)
    size, jump, start = receptive_field(net, 4)
    r, c = e.strongest
    assert e.field == (start + r * jump, start + c * jump, size) and size == 8


def test_channel_slider_follows_the_layer(net, images):
    e = FeatureMapExplorer(net, images, layer=4, channel=60)     # 64 channels in the second convolution
    assert e.channel.max == 63 and e.channel.value == 60
    e.layer.value = 1                                            # 32 channels: the slider shrinks with it
    assert e.channel.max == 31 and e.channel.value <= 31
    assert e.message.value == "" and e.maps.shape == (32, 28, 28)


def test_bad_input_is_refused_clearly(net):
    with pytest.raises(ValueError, match="batch"):
        FeatureMapExplorer(net, np.zeros((28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="layers with feature maps"):
        FeatureMapExplorer(net, np.zeros((2, 1, 28, 28), dtype=np.float32), layer=7)
