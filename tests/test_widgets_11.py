"""The explorer of notebook 11: every control redraws, and the numbers shown match helpers.interpret."""
import numpy as np
import pytest
from _explorers import PNG, pictures, three_images

from helpers.interpret import feature_maps, receptive_field
from helpers.losses import softmax
from helpers.models import fashion_cnn
from helpers.widgets.inside import FeatureMapExplorer


@pytest.fixture(scope="module")
def net():
    return fashion_cnn(seed=5)


@pytest.fixture(scope="module")
def images():
    return three_images()


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
    assert "class&nbsp;" in e.info.value and "The network says" in e.info.value


@pytest.mark.parametrize("control, value", [("example", 1), ("layer", 4), ("channel", 3)])
def test_each_control_changes_the_picture_and_the_numbers(net, images, control, value):
    e = FeatureMapExplorer(net, images)
    before = state(e)
    getattr(e, control).value = value
    after = state(e)
    assert e.message.value == ""
    assert after[0] != before[0]                                    # the pictures
    assert after[1] != before[1]                                    # the text under the controls
    image, layer, channel = e.image_index, e.layer.value, e.channel.value
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


@pytest.mark.parametrize("kwargs, match", [
    ({"image": 3}, r"image must be 0\.\.2"),                  # was clamped to the last image
    ({"image": -1}, r"image must be 0\.\.2"),
    ({"layer": 1, "channel": 32}, r"channel must be 0\.\.31 \(layer 1 has 32 channels\)"),   # was clamped to 31
    ({"channel": -1}, r"channel must be 0\.\.31"),
])
def test_indices_out_of_range_are_refused_not_clamped(net, images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        FeatureMapExplorer(net, images, **kwargs)


def test_labels_that_do_not_match_the_images_are_refused_at_construction(net, images):
    # fewer labels than images used to fail later, with an IndexError, when the slider reached the end
    with pytest.raises(ValueError, match="one class per image: 3 images"):
        FeatureMapExplorer(net, images, labels=[0, 1])
    with pytest.raises(ValueError, match="one class per image"):
        FeatureMapExplorer(net, images, labels=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="class indices 0..1"):
        FeatureMapExplorer(net, images, labels=[0, 1, 2], class_names=["a", "b"])


def test_integer_images_0_to_255_are_scaled_like_uint8(net, images):
    as_uint8 = np.round(images * 255).astype(np.uint8)
    reference = FeatureMapExplorer(net, as_uint8, layer=3)
    as_int64 = FeatureMapExplorer(net, as_uint8.astype(np.int64), layer=3)     # was shown unscaled (255x)
    np.testing.assert_array_equal(as_int64.maps, reference.maps)
    assert pictures(as_int64) == pictures(reference)
    with pytest.raises(ValueError, match="0..255"):
        FeatureMapExplorer(net, as_uint8.astype(np.int64) * 2)
    with pytest.raises(TypeError, match="dtype"):
        FeatureMapExplorer(net, images > 0.5)


def orange_pixels(png: bytes) -> np.ndarray:
    import cv2

    bgr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return np.all(np.abs(bgr.astype(int) - (14, 127, 255)) < 40, axis=2)


def test_a_field_past_the_lower_edge_is_drawn_cut_at_the_edge(net):
    x = np.zeros((1, 1, 28, 28), dtype=np.float32)
    x[0, 0, 24:28, 10:18] = 1.0                     # ink at the bottom: the strongest positions sit there
    e = FeatureMapExplorer(net, x, layer=5)
    size, jump, start = receptive_field(net, 5)
    low = [ch for ch in range(e.maps.shape[0]) if (start + np.unravel_index(np.argmax(e.maps[ch]),
                                                                            e.maps[ch].shape)[0] * jump + size > 28)]
    assert low, "no channel of layer 5 peaks at the bottom row: the test image does not test the edge"
    e.channel.value = low[0]
    top, left, size = e.field
    assert top + size > 28                          # the field itself reaches into the padding below
    assert e.field_inside[0] + e.field_inside[2] == 28
    orange = orange_pixels(e.panel_image.value)
    rows = np.flatnonzero(orange.any(axis=1))
    height = orange.shape[0]
    # the box's lower side is drawn along the picture's last rows (before, it lay outside the picture)
    assert rows.max() >= height - 3, (rows.max(), height)
    assert orange[height - 3:].any(axis=0).sum() >= 0.8 * orange.any(axis=0).sum()


def test_the_percentage_never_breaks_away_from_the_class_name(net, images):
    e = FeatureMapExplorer(net, images, labels=[0, 1, 2], class_names=[f"class {i}" for i in range(10)])
    k = int(e.probabilities.argmax())
    assert f"says: class&nbsp;{k}&nbsp;({e.probabilities[k]:.1%})." in e.info.value, e.info.value
    assert e.info.value.count("<br>") == 1                # two deliberate lines, no more


def test_choosing_a_class_runs_the_example_slider_over_that_class(net):
    rng = np.random.default_rng(1)
    x = rng.random((7, 1, 28, 28)).astype(np.float32)
    y = np.array([3, 5, 3, 8, 5, 5, 3])
    e = FeatureMapExplorer(net, x, labels=y, class_names=[f"c{i}" for i in range(10)], image=4)
    assert e.class_choice.value == 5 and e.image_index == 4 and e.example.value == 1
    assert [label for label, _ in e.class_choice.options] == ["all classes", "c3 (3)", "c5 (3)", "c8 (1)"]
    e.class_choice.value = 3
    assert e.example.max == 2 and e.example.value == 0 and e.image_index == 0
    shown = []
    for v in range(3):
        e.example.value = v
        shown.append(e.image_index)
        assert "c3" in e.panel_image.title and f"test image {e.image_index}" in e.panel_image.title
    assert shown == [0, 2, 6] and e.message.value == ""
    e.class_choice.value = 8
    assert e.example.max == 0 and e.image_index == 3
    e.class_choice.value = -1                                     # all classes: every image again
    assert e.example.max == 6


def test_without_labels_there_is_no_class_choice(net, images):
    e = FeatureMapExplorer(net, images)
    shown = set()

    def walk(w):
        shown.add(id(w))
        for child in getattr(w, "children", ()):
            walk(child)

    walk(e.widget)
    assert id(e.class_choice) not in shown and id(e.example) in shown and e.example.max == 2


def px(width) -> int:
    return int(str(width).removesuffix("px"))


@pytest.mark.parametrize("layer", [0, 1, 2, 3, 4, 5])
def test_it_fits_an_840_by_700_output_area(net, images, layer):
    e = FeatureMapExplorer(net, images, labels=[0, 1, 2], layer=layer)
    panels = [p for p in (e.panel_image, e.panel_signed, e.panel_positive, e.panel_all)
              if p.widget.layout.display != "none"]
    # each panel has a width, its picture (and colour bar) fits in it, and the row fits 840 px with margins
    assert sum(px(p.widget.layout.width) + 8 for p in panels) <= 840
    for p in panels:
        extra = 72 if p.colorbar is not None else 0
        assert int(p.image.width) + extra <= px(p.widget.layout.width), (p.title, p.image.width)
    tallest = max(int(p.image.height) for p in panels)
    # two rows of controls (about 36 px each), two lines of numbers, three lines of titles (about 17 px each)
    assert 2 * 36 + 2 * 20 + 3 * 17 + tallest + 40 <= 700, tallest
    for row in e.widget.children[:2]:
        assert sum(px(c.layout.width) for c in row.children) + 16 * len(row.children) <= 840
