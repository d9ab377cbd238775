"""helpers.style: the course's figure style, and the check that a figure's text is readable where it is shown.

Jupyter shows a figure in an output area about 840 px wide and scales a wider picture down to fit, so a
figure's text is shown at (points * dpi / 72) * min(1, 840 / picture width) pixels.
"""
import io
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from IPython.core.formatters import PNGFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import style  # noqa: E402


@pytest.fixture(autouse=True)
def course_style():
    with matplotlib.rc_context():
        style.use_course_style()
        yield
    plt.close("all")


def _png_width(fig) -> int:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return Image.open(buffer).size[0]


def _wide_figure_with_small_titles():
    """14 inches at 100 dpi with 8-point titles: the picture is scaled to about 0.7, the titles to ~8 px."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.5))
    for ax in axes:
        ax.imshow([[0, 1], [1, 0]])
        ax.set_title("kernel", fontsize=8)
        ax.axis("off")
    return fig


def test_a_figure_that_fits_the_output_area_reads_at_its_font_sizes():
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title")
    assert _png_width(fig) < style.DISPLAY_WIDTH
    # nothing is scaled: the smallest text is the 10-point tick labels at 100 dpi
    assert style.smallest_text_px(fig) == pytest.approx(10 * 100 / 72)
    assert style.small_text_warning(fig) is None


def test_a_wide_figure_with_small_titles_fails_and_the_width_is_the_picture_jupyter_shows():
    fig = _wide_figure_with_small_titles()
    width = _png_width(fig)
    assert style.shown_width_px(fig) == pytest.approx(width, abs=2)
    assert style.smallest_text_px(fig) == pytest.approx(8 * 100 / 72 * 840 / width, rel=0.01)
    assert style.smallest_text_px(fig) < style.MIN_TEXT_PX
    message = style.small_text_warning(fig)
    assert message.startswith("Warning: 4 text(s)") and "'kernel'" in message
    # the same figure in a wider output area is not scaled down, and reads at 8 * 100 / 72 = 11.1 px
    assert style.smallest_text_px(fig, display_width=2000) == pytest.approx(8 * 100 / 72)


def test_only_text_that_is_drawn_counts():
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.imshow([[0, 1], [1, 0]])
    ax.tick_params(labelsize=4)          # tiny tick labels, but the axis is hidden: never drawn
    ax.axis("off")
    ax.set_title("")                     # an empty title is not drawn either
    ax.text(0, 0, "visible", fontsize=12)
    assert [s for s, _ in style.text_sizes_px(fig)] == ["visible"]
    assert style.smallest_text_px(fig) == pytest.approx(12 * 100 / 72)
    empty, _ = plt.subplots()
    empty.axes[0].axis("off")
    assert style.smallest_text_px(empty) == float("inf")


def test_a_figure_outside_pyplot_is_measured_too():
    fig = Figure(figsize=(12, 3), dpi=100)
    fig.add_subplot().set_title("small", fontsize=6)
    assert style.smallest_text_px(fig, tight=False) == pytest.approx(6 * 100 / 72 * 840 / 1200)


def test_display_width_must_be_positive():
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="display_width"):
        style.smallest_text_px(fig, display_width=0)


def test_the_notebook_warns_under_a_figure_with_small_text_and_only_then(capsys):
    png = PNGFormatter()
    shell = types.SimpleNamespace(display_formatter=types.SimpleNamespace(formatters={"image/png": png}))
    png.for_type(Figure, lambda fig, **kwargs: b"the picture")
    style._watch_shown_figures(shell)
    style._watch_shown_figures(shell)          # a second call does not wrap twice
    good, ax = plt.subplots(figsize=(6, 3))
    ax.set_title("fine")
    assert png(good) == b"the picture" and capsys.readouterr().err == ""
    assert png(_wide_figure_with_small_titles()) == b"the picture"
    err = capsys.readouterr().err
    assert err.count("Warning:") == 1 and "smaller than 9 px" in err
