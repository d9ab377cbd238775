"""The architecture explorer (notebooks 08 and 10): every control changes the table and its numbers, and the
numbers are what the layers themselves report."""
import pytest
from _explorers import pictures

from helpers.interpret import receptive_field
from helpers.models import alexnet, multiply_adds
from helpers.nn import Conv2D, ReLU, Residual, Sequential
from helpers.widgets.architecture import (
    ALEXNET_OPTIONS,
    BLOCK_OPTIONS,
    BLOCKS,
    HEAD,
    MAX_ROWS,
    ROW,
    ArchitectureExplorer,
    alexnet_variant,
    draw_table,
    layer_rows,
)


@pytest.fixture(scope="module")
def net():
    return alexnet()


def texts(ex):
    return [v for v in ex.snapshot() if isinstance(v, str)]


def assert_rows_are_the_layers(ex):
    """The explorer's rows are model.shapes, multiply_adds and receptive_field of the model it shows."""
    model, shape = ex.model, ex.input_shape
    shapes = model.shapes((1, *shape))
    macs = multiply_adds(model, shape)
    assert [r["label"] for r in ex.rows] == [name for name, _, _ in shapes]
    assert [r["shape"] for r in ex.rows] == [s[1:] for _, s, _ in shapes]
    assert [r["params"] for r in ex.rows] == [n for _, _, n in shapes]
    assert [r["macs"] for r in ex.rows] == [m for _, m in macs]
    assert sum(r["params"] for r in ex.rows) == model.n_params
    for i, r in enumerate(ex.rows):
        if r["field"] is not None:
            assert r["field"] == receptive_field(model, i)[0]
    assert f"{model.n_params:,}" in ex.info.value and f"{sum(m for _, m in macs):,}" in ex.info.value


@pytest.mark.parametrize("block", list(BLOCKS))
def test_each_block_control_changes_the_table_and_the_numbers_are_the_layers(block):
    ex = ArchitectureExplorer("block", block=block)
    assert ex.message.value == "" and len(ex.controls) == 7
    assert_rows_are_the_layers(ex)
    for control in ex.controls:
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        value = next(o for o in options if o != control.value)
        pics, words, params = pictures(ex), texts(ex), ex.model.n_params
        control.value = value
        assert ex.message.value == "", (control.description, ex.message.value)
        assert pictures(ex) != pics and texts(ex) != words, control.description
        assert_rows_are_the_layers(ex)
        if control.description not in ("input", "stride"):      # these change shapes, not parameters
            assert ex.model.n_params != params or control.description == "block", control.description


def test_the_residual_block_is_counted_as_the_layers_built_by_hand():
    """Built independently here: a residual block 16 -> 32, 3x3, stride 2, with a 1x1 projection."""
    ex = ArchitectureExplorer("block", block="residual", c_in=16, c_out=32, kernel=3, stride=2, size=32)
    by_hand = Sequential([Residual([Conv2D(16, 32, 3, stride=2, padding=1), ReLU(), Conv2D(32, 32, 3, padding=1)],
                                   shortcut=[Conv2D(16, 32, 1, stride=2)])])
    assert ex.rows[0]["params"] == by_hand.n_params == (16 * 9 * 32 + 32) + (32 * 9 * 32 + 32) + (16 * 32 + 32)
    assert ex.rows[0]["macs"] == multiply_adds(by_hand, (16, 32, 32))[0][1]
    assert ex.rows[0]["shape"] == (32, 16, 16) and ex.rows[0]["field"] == 7
    ex.repeat.value = 3                  # two more blocks 32 -> 32, stride 1: the field grows by 2 x 2 x 2 each
    assert len(ex.rows) == 3 and [r["field"] for r in ex.rows] == [7, 15, 23]


def test_the_alexnet_table_is_the_model_and_each_control_changes_it(net):
    ex = ArchitectureExplorer("alexnet", model=net)
    assert ex.message.value == "" and len(ex.controls) == 4
    assert ex.model.n_params == net.n_params == 61_266_088
    assert layer_rows(net, (3, 224, 224)) == ex.rows
    assert_rows_are_the_layers(ex)
    assert "95.7%" in ex.info.value                   # the dense layers' share of the parameters
    for control, value in [(ex.kernel, 7), (ex.filters, 64), (ex.width, 512), (ex.size, 192)]:
        pics, words = pictures(ex), texts(ex)
        control.value = value
        assert ex.message.value == "", ex.message.value
        assert pictures(ex) != pics and texts(ex) != words, control.description
        assert_rows_are_the_layers(ex)
    dense = [r for r in ex.rows if r["label"].startswith("Dense")]
    assert [r["label"] for r in dense] == ["Dense 6400->512", "Dense 512->512", "Dense 512->1000"]
    assert ex.rows[0]["label"] == "Conv2D 3->64 7x7 stride 4 pad 0" and ex.rows[0]["shape"] == (64, 47, 47)
    for control, value in [(ex.kernel, 11), (ex.filters, 96), (ex.width, 4096), (ex.size, 224)]:
        control.value = value                          # back to the start: the model's own layers again
    assert all(a is b for a, b in zip(ex.model.layers, net.layers))


def test_a_setting_seen_before_shows_the_same_table_without_counting_again(net, monkeypatch):
    import helpers.widgets.architecture as architecture

    ex = ArchitectureExplorer("alexnet", model=net)
    first = (pictures(ex), texts(ex), ex.rows)
    ex.kernel.value = 7
    counted = []
    monkeypatch.setattr(architecture, "layer_rows", lambda *a: counted.append(a) or layer_rows(*a))
    ex.kernel.value = 11                               # back: rows from the first visit, no forward pass
    assert counted == [] and (pictures(ex), texts(ex), ex.rows) == first
    assert_rows_are_the_layers(ex)
    ex.filters.value = 64                              # a new setting is counted
    assert len(counted) == 1 and ex.rows == layer_rows(ex.model, (3, 224, 224))


def test_a_new_setting_leaves_the_model_unchanged(net):
    before = [lay.params.get("W") for lay in net.layers]
    variant = alexnet_variant(net, 9, 32, 512)
    assert all(lay.params.get("W") is w for lay, w in zip(net.layers, before))
    assert variant.layers[0] is not net.layers[0] and variant.layers[6] is net.layers[6]
    assert variant.shapes((1, 3, 224, 224))[-1][1] == (1, 1000)


def test_the_picture_fits_an_840_by_700_output_area(net):
    tallest = [ArchitectureExplorer("block", block=b, repeat=4) for b in BLOCKS]     # the most rows
    for ex in (ArchitectureExplorer("alexnet", model=net), *tallest):
        width, height = int(ex.table.image.width), int(ex.table.image.height)
        assert width + 8 <= 840
        rows = [r for r in ex.widget.children[:-3] if r is not ex.info]
        for r in rows:
            assert sum(int(c.layout.width[:-2]) + 8 for c in r.children) <= 840
        # rows of controls (36 px each), three lines of numbers (18 px each), the table, the note under it
        assert 36 * len(rows) + 3 * 18 + height + 20 <= 700, height
        still = ex.still()
        assert still.shape[1] <= 840 + 16 and still.shape[0] <= 700, still.shape


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(network="resnet"), ValueError, "network must be one of 'alexnet', 'block'"),
    (dict(network="block", block="inception"), ValueError, "block must be one of 'plain stack'"),
    (dict(network="block", c_in=12), ValueError, r"c_in must be one of \[8, 16"),
    (dict(network="block", kernel=3.0), TypeError, "kernel must be a whole number"),
    (dict(network="block", stride=True), TypeError, "stride must be a whole number"),
    (dict(network="block", width=512), TypeError, "unknown setting 'width' for network='block'"),
    (dict(network="alexnet", model=Sequential([ReLU()])), ValueError, "model must be helpers.models.alexnet"),
    (dict(network="alexnet", model="alexnet"), TypeError, "model must be helpers.models.alexnet"),
])
def test_bad_settings_are_named_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        ArchitectureExplorer(**kwargs)


def test_bad_alexnet_settings_are_named_errors(net):
    with pytest.raises(ValueError, match=r"size must be one of \[160, 192, 224, 256\]"):
        ArchitectureExplorer("alexnet", model=net, size=200)
    with pytest.raises(ValueError, match="kernel must be one of"):
        ArchitectureExplorer("alexnet", model=net, kernel=5)


def test_options_are_the_controls():
    ex = ArchitectureExplorer("block")
    assert [v for _, v in ex.c_in.options] == list(BLOCK_OPTIONS["c_in"])
    assert list(ex.block.options) == list(BLOCKS)
    assert set(ALEXNET_OPTIONS) == {"size", "kernel", "filters", "width"}
    assert bytes(ex.table.image.value).startswith(b"\x89PNG")


def test_a_residual_blocks_paths_are_rows_asked_from_their_layers():
    ex = ArchitectureExplorer("block", block="residual", c_in=16, c_out=32, kernel=3, stride=2, size=32, repeat=2)
    first, second = ex.rows
    body = Sequential([Conv2D(16, 32, 3, stride=2, padding=1), ReLU(), Conv2D(32, 32, 3, padding=1)])
    assert [r["label"].split(": ")[0] for r in first["paths"]] == ["body"] * 3 + ["shortcut"]
    assert [r["params"] for r in first["paths"][:3]] == [n for _, _, n in body.shapes((1, 16, 32, 32))]
    assert [r["macs"] for r in first["paths"][:3]] == [m for _, m in multiply_adds(body, (16, 32, 32))]
    assert sum(r["params"] for r in first["paths"]) == first["params"]
    assert sum(r["macs"] for r in first["paths"]) == first["macs"]
    assert [r["field"] for r in first["paths"]] == [3, 3, 7, 1]          # the 1x1 shortcut sees one pixel
    # the second block keeps channels and size: its shortcut is the identity, which sees what its input sees
    assert second["paths"][-1]["label"] == "shortcut: identity" and second["paths"][-1]["field"] == 7
    assert [r["field"] for r in second["paths"][:3]] == [11, 11, 15] and second["field"] == 15


def test_the_depthwise_separable_block_is_its_layers_and_costs_an_eighth_of_a_3x3_convolution():
    """64 -> 64 channels, 3x3, stride 1, on 28x28 (the input menu's nearest is 32: counted at 32x32 here)."""
    ex = ArchitectureExplorer("block", block="depthwise-separable", c_in=64, c_out=64, kernel=3, stride=1, size=32)
    assert [r["label"] for r in ex.rows] == ["Conv2D 64->64 3x3 depthwise pad 1", "ReLU",
                                            "Conv2D 64->64 1x1 valid", "ReLU"]
    assert [r["params"] for r in ex.rows] == [64 * 9 + 64, 0, 64 * 64 + 64, 0]
    assert [r["macs"] for r in ex.rows] == [32 * 32 * 64 * 9, 0, 32 * 32 * 64 * 64, 0]
    assert [r["field"] for r in ex.rows] == [3, 3, 3, 3]
    standard = ArchitectureExplorer("block", block="plain stack", c_in=64, c_out=64, kernel=3, stride=1, size=32)
    first = standard.rows[0]                                  # one 3x3 convolution 64 -> 64
    assert first["params"] == 64 * 64 * 9 + 64 and first["macs"] == 32 * 32 * 64 * 64 * 9
    assert first["macs"] / sum(r["macs"] for r in ex.rows) == pytest.approx(1 / (1 / 64 + 1 / 9))


def test_a_multi_branch_blocks_branches_are_rows_asked_from_their_layers():
    ex = ArchitectureExplorer("block", block="multi-branch", c_in=16, c_out=32, kernel=3, stride=1, size=16)
    block, relu = ex.rows
    assert block["label"].startswith("Branches") and relu["label"] == "ReLU"
    assert block["shape"] == (32, 16, 16) and block["field"] == 5             # the 5x5 branch sees 5 pixels
    assert [r["label"].split(": ")[0] for r in block["paths"]] == ["1x1"] + ["3x3"] * 3 + ["5x5"] * 3 + ["pool"] * 2
    assert [r["shape"][0] for r in block["paths"]] == [8, 4, 4, 8, 4, 4, 8, 16, 8]
    assert [r["field"] for r in block["paths"]] == [1, 1, 1, 3, 1, 1, 5, 3, 3]
    assert sum(r["params"] for r in block["paths"]) == block["params"] == ex.model.layers[0].n_params
    by_hand = (16 * 8 + 8) + (16 * 4 + 4) + (4 * 9 * 8 + 8) + (16 * 4 + 4) + (4 * 25 * 8 + 8) + (16 * 8 + 8)
    assert block["params"] == by_hand
    assert sum(r["macs"] for r in block["paths"]) == block["macs"] == 16 * 16 * (by_hand - (8 + 4 + 8 + 4 + 8 + 8))


def test_a_tall_table_folds_the_paths_of_later_blocks_into_their_rows():
    ex = ArchitectureExplorer("block", block="multi-branch", repeat=4)
    blocks = ex.rows[::2]
    assert len(blocks) == 4 and all(len(r["paths"]) == 9 for r in blocks)    # every block's paths are computed
    unfolded = len(ex.rows) + 4 * 9
    height = int(ex.table.image.height)
    lines = (height - (HEAD + 1)) // ROW - 1                                 # rows of layers: not the total
    assert lines <= MAX_ROWS < unfolded
    assert lines == len(ex.rows) + 9 * 2                                     # the first two blocks' paths shown
    assert height == draw_table(ex.rows).shape[0]
