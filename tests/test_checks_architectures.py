"""The self-checks of notebook 10 accept right answers and give the specific hint for usual mistakes."""
import numpy as np
import pytest

from helpers.checks.architectures import (
    check_gap_backward,
    check_pointwise_conv,
    check_residual_backward,
    check_stacked_3x3,
)
from helpers.nn import Conv2D


def test_pointwise_conv(capsys):
    def right(x, W, b):
        return np.moveaxis(np.moveaxis(x, 1, -1) @ W.T + b, -1, 1)

    assert check_pointwise_conv(right)
    # the course's own Conv2D with a 1x1 kernel is a right answer too
    def with_layer(x, W, b):
        layer = Conv2D(W.shape[1], W.shape[0], 1, dtype=np.float64)
        layer.params["W"], layer.params["b"] = W[:, :, None, None], b
        return layer.forward(x)

    assert check_pointwise_conv(with_layer)
    assert not check_pointwise_conv(lambda x, W, b: np.moveaxis(np.moveaxis(x, 1, -1) @ W.T, -1, 1))
    assert "bias is missing" in capsys.readouterr().out
    assert not check_pointwise_conv(lambda x, W, b: np.moveaxis(x, 1, -1) @ W.T + b)
    assert "channels are last" in capsys.readouterr().out
    assert not check_pointwise_conv(lambda x, W, b: np.moveaxis(np.moveaxis(x, 1, -1) @ W.reshape(3, 6) + b, -1, 1))
    assert "transposed" in capsys.readouterr().out
    assert not check_pointwise_conv(lambda x, W, b: None)
    assert "returned None" in capsys.readouterr().out
    assert not check_pointwise_conv(...)


def test_stacked_3x3(capsys):
    assert check_stacked_3x3(2 * 9 * 64 * 64, 5)
    assert check_stacked_3x3(3 * 9 * 16 * 16, 7, n=3, channels=16)
    assert "1.39 times" in capsys.readouterr().out
    assert not check_stacked_3x3(9 * 64 * 64, 5)
    assert "that is one layer" in capsys.readouterr().out
    assert not check_stacked_3x3(2 * 9 * 64 * 64, 6)
    assert "overlap" in capsys.readouterr().out
    assert not check_stacked_3x3(25 * 64 * 64, 5)
    assert "single 5x5" in capsys.readouterr().out
    assert not check_stacked_3x3(..., ...)


def test_gap_backward(capsys):
    assert check_gap_backward(lambda g, s: np.broadcast_to(g[:, :, None, None] / (s[2] * s[3]), s))
    assert not check_gap_backward(lambda g, s: np.broadcast_to(g[:, :, None, None], s))
    assert "H * W" in capsys.readouterr().out
    assert not check_gap_backward(lambda g, s: g / (s[2] * s[3]))
    assert "input's shape" in capsys.readouterr().out


def test_residual_backward(capsys):
    assert check_residual_backward(lambda g, body_backward: body_backward(g) + g)
    assert not check_residual_backward(lambda g, body_backward: body_backward(g))
    assert "shortcut adds g" in capsys.readouterr().out
    assert not check_residual_backward(lambda g, body_backward: g)
    assert "shortcut's path only" in capsys.readouterr().out
    assert not check_residual_backward(lambda g, body_backward: body_backward(g) * g)
    assert "do not multiply" in capsys.readouterr().out


# -- the explorer exercise: multiply-adds of a depthwise-separable block -----------------------------------
def test_separable_madds_accepts_the_explorers_number(capsys):
    from helpers.checks.architectures import check_separable_madds
    from helpers.widgets.architecture import ArchitectureExplorer

    ex = ArchitectureExplorer("block", block="depthwise-separable", c_in=64, c_out=128, kernel=5, stride=2,
                              size=32)
    right = sum(r["macs"] for r in ex.rows)
    assert right == 16 * 16 * 64 * 25 + 16 * 16 * 128 * 64 == 2_506_752        # the notebook's solution
    assert check_separable_madds(right)
    assert check_separable_madds(np.int64(right))
    assert capsys.readouterr().out.startswith("Correct: the depthwise 5x5 does 16 x 16 x 64 x 25 = 409,600")


@pytest.mark.parametrize("answer, hint", [
    (..., "Replace the ..."),
    ("2506752", "give a number"),
    (True, "give a number"),
    (16 * 16 * 128 * 64 * 25, "standard 5x5 convolution"),
    (32 * 32 * (64 * 25 + 128 * 64), "the stride of 2 shrinks the output"),
    (16 * 16 * 64 * 25, "the depthwise convolution alone"),
    (16 * 16 * 128 * 64, "the pointwise 1x1 alone"),
    (16 * 16 * 64 * 64 * 25 + 16 * 16 * 128 * 64, "sees one channel"),
    (64 * 25 + 64 * 128, "weight count"),
    (64 * 25 + 64 + 64 * 128 + 128, "parameter count"),
    (2_506_753, "is not it"),
])
def test_separable_madds_refuses_wrong_answers(capsys, answer, hint):
    from helpers.checks.architectures import check_separable_madds

    assert not check_separable_madds(answer)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out
