"""helpers.plotting: the figures several notebooks draw (values written on cells, tiles in a grid)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.plotting import mosaic, show_values  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def written(ax) -> dict:
    """{(row, col): (text, colour)} of the numbers drawn on the cells."""
    return {(round(t.get_position()[1]), round(t.get_position()[0])): (t.get_text(), t.get_color()) for t in ax.texts}


def test_show_values_writes_every_value_white_on_dark_cells_and_black_on_light_ones(ax):
    img = np.array([[0, 127, 128], [255, 30, 200]], dtype=np.uint8)
    im = show_values(ax, img, "pixels", vmin=0, vmax=255, ticks=False)
    assert written(ax) == {(0, 0): ("0", "white"), (0, 1): ("127", "white"), (0, 2): ("128", "black"),
                           (1, 0): ("255", "black"), (1, 1): ("30", "white"), (1, 2): ("200", "black")}
    assert im.norm.vmin == 0 and im.norm.vmax == 255
    assert ax.get_title() == "pixels" and not len(ax.get_xticks()) and not len(ax.get_yticks())


def test_show_values_centres_a_diverging_colour_map_on_zero(ax):
    im = show_values(ax, [[-1.0, 0.0], [0.5, -0.0]], "kernel", cmap="RdBu_r", fmt="{:.1f}")
    assert (im.norm.vmin, im.norm.vmax) == (-1.0, 1.0)
    texts = written(ax)
    assert texts[0, 0] == ("-1.0", "white")                         # deep blue
    assert texts[0, 1] == ("0.0", "black") and texts[1, 1] == ("0.0", "black")    # white, and no "-0.0"
    assert list(ax.get_xticks()) == [0, 1] and list(ax.get_yticks()) == [0, 1]


def test_show_values_limits_default_to_the_values(ax):
    im = show_values(ax, [[2, 5], [9, 3]], "x", cmap="viridis")
    assert (im.norm.vmin, im.norm.vmax) == (2, 9)
    assert written(ax)[1, 0] == ("9", "black") and written(ax)[0, 0] == ("2", "white")   # viridis: yellow, purple


@pytest.mark.parametrize("values, error", [(np.zeros((2, 2, 2)), ValueError), ([["a"]], TypeError)])
def test_show_values_refuses_what_is_not_a_2d_array_of_numbers(ax, values, error):
    with pytest.raises(error, match="values"):
        show_values(ax, values, "bad")


def test_mosaic_places_tile_i_at_row_i_div_cols_and_column_i_mod_cols():
    tiles = np.arange(5)[:, None, None] * np.ones((5, 2, 3))
    out = mosaic(tiles, cols=2, gap=1)
    assert out.shape == (3 * 2 + 2, 2 * 3 + 1)
    for i in range(5):
        r, c = divmod(i, 2)
        assert (out[r * 3 : r * 3 + 2, c * 4 : c * 4 + 3] == i).all()
    assert np.isnan(out[2]).all() and np.isnan(out[:, 3]).all()      # the gaps
    assert np.isnan(out[6:, 4:]).all()                               # the unused place of the last row
    assert mosaic(np.ones((5, 2, 2)), cols=4).shape == (5, 11)
    assert (mosaic(tiles, cols=5, gap=0, fill=-1) != -1).all()


@pytest.mark.parametrize("kwargs, error, word", [(dict(tiles=np.ones((2, 2))), ValueError, "tiles"),
                                                 (dict(cols=0), ValueError, "cols"),
                                                 (dict(gap=-1), ValueError, "gap")])
def test_mosaic_refuses_bad_arguments(kwargs, error, word):
    args = dict(tiles=np.ones((3, 2, 2))) | kwargs
    with pytest.raises(error, match=word):
        mosaic(**args)
