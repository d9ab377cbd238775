"""The self-checks of notebooks 04-06 accept right answers and reject the usual wrong ones with a hint."""
import numpy as np
import pytest

from helpers.checks.padding_stride import check_leftover, check_output_size, check_same_padding
from helpers.checks.pooling import check_flatten_size, check_max_pool_function, check_pooled, check_pooled_shape
from helpers.checks.softmax import check_ce_gradient, check_cross_entropy_value, check_softmax_function
from helpers.losses import one_hot, softmax

X4 = np.array([[2, 5, 6, 1], [9, 3, 7, 3], [8, 5, 7, 8], [6, 6, 1, 1]])


def verdict(capsys, call):
    ok = call()
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("answer, hint", [
    (16, None), (np.int64(16), None), (16.0, None),
    (15, "+1"), (17, "rounded up"), (..., "Replace the ..."), ("16 pixels", "whole number"),
])
def test_output_size(capsys, answer, hint):
    ok, out = verdict(capsys, lambda: check_output_size(answer, n=32, k=5, padding=2, stride=2))
    assert bool(ok) is (hint is None)
    if hint:
        assert hint in out


def test_output_size_hints_for_padding_stride_and_dilation(capsys):
    # padding counted once: floor((10 + 2 - 3) / 1) + 1 = 10 instead of 12
    assert not check_output_size(10, n=10, k=3, padding=2)
    assert "both sides" in capsys.readouterr().out
    # divided by 2 instead of the stride 3: floor(9 / 2) + 1 = 5 instead of 4
    assert not check_output_size(5, n=12, k=3, padding=0, stride=3)
    assert "divided by 2" in capsys.readouterr().out
    # dilation ignored: floor((9 - 3) / 1) + 1 = 7 instead of 5
    assert not check_output_size(7, n=9, k=3, dilation=2)
    assert "d(k-1)+1" in capsys.readouterr().out
    assert check_output_size(5, n=9, k=3, dilation=2)


def test_same_padding(capsys):
    assert check_same_padding(3, k=7)
    assert not check_same_padding(6, k=7)
    assert "both sides" in capsys.readouterr().out
    assert not check_same_padding(..., k=7)


def test_leftover(capsys):
    assert check_leftover(3, n=10, k=3, padding=0, stride=4)
    assert check_leftover(0, n=7, k=3, padding=1, stride=2)
    assert not check_leftover(2, n=10, k=3, padding=0, stride=4)       # counted s instead of k for the last window
    assert "(out - 1)*s + k" in capsys.readouterr().out


def test_pooled(capsys):
    assert check_pooled([[4.75, 4.25], [6.25, 4.25]], X4, 2, mode="avg")
    assert check_pooled([[9, 7], [8, 8]], X4, 2, mode="max")
    capsys.readouterr()
    assert not check_pooled([[5, 5], [7, 5]], X4, 2, mode="avg")     # what the source printed
    assert "rounded" in capsys.readouterr().out
    assert not check_pooled([[9, 7], [8, 8]], X4, 2, mode="avg")
    assert "max pooling" in capsys.readouterr().out
    assert not check_pooled(np.zeros((3, 3)), X4, 2, mode="max")
    assert "overlapped" in capsys.readouterr().out
    assert not check_pooled(..., X4)


def test_pooled_shape(capsys):
    assert check_pooled_shape((13, 13, 32), (28, 28, 32), size=3, stride=2)
    capsys.readouterr()
    for wrong, hint in [((13, 13), "channels"), ((13, 13, 16), "channel count"), ((26, 26, 32), "stride 1")]:
        assert not check_pooled_shape(wrong, (28, 28, 32), size=3, stride=2)
        assert hint in capsys.readouterr().out


def test_max_pool_function(capsys):
    assert check_max_pool_function(lambda x: x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2).max(axis=(1, 3)))
    capsys.readouterr()
    assert not check_max_pool_function(lambda x: x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2).mean(axis=(1, 3)))
    assert "average pooling" in capsys.readouterr().out
    assert not check_max_pool_function(lambda x: None)
    assert "None" in capsys.readouterr().out
    assert not check_max_pool_function(lambda x: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_flatten_size(capsys):
    assert check_flatten_size(147, (7, 7, 3))
    assert check_flatten_size(1352, (13, 13, 8))
    capsys.readouterr()
    assert not check_flatten_size(49, (7, 7, 3))
    assert "one feature map" in capsys.readouterr().out


def _stable(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_function(capsys):
    assert check_softmax_function(_stable)
    capsys.readouterr()
    assert not check_softmax_function(lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True))
    assert "Subtract the largest" in capsys.readouterr().out
    assert not check_softmax_function(lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum())
    assert "axis=-1" in capsys.readouterr().out
    assert not check_softmax_function(lambda z: np.exp(z - z.max(axis=-1, keepdims=True)))
    assert "sum to 1" in capsys.readouterr().out
    assert not check_softmax_function(lambda z: None)


def test_softmax_function_must_be_stable_row_by_row(capsys):
    """Subtracting the maximum of the whole batch passes on small batches, but not on rows far apart."""
    def batch_max(z):
        e = np.exp(z - z.max())
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(all="ignore"):
        assert np.isnan(batch_max(np.array([[0.0, 1.0], [-2000.0, -1999.0]]))).any()   # the hole is real
    assert not check_softmax_function(batch_max)
    out = capsys.readouterr().out
    assert "[[0, 1], [-2000, -1999]]" in out and "axis=-1, keepdims=True" in out


def test_cross_entropy_value(capsys):
    probs = [0.1, 0.7, 0.2]
    assert check_cross_entropy_value(-np.log(0.7), probs, 1)
    capsys.readouterr()
    for wrong, hint in [(np.log(0.7), "sign"), (-np.log10(0.7), "base 10"), (-np.log(0.2), "class 2"),
                        (0.3, "1 - p")]:
        assert not check_cross_entropy_value(wrong, probs, 1)
        assert hint in capsys.readouterr().out


def test_ce_gradient(capsys):
    z = np.array([2.0, 1.0, 0.1])
    p, y = softmax(z), one_hot(0, 3)
    assert check_ce_gradient(p - y, z, 0)
    capsys.readouterr()
    for wrong, hint in [(y - p, "sign"), (p, "subtract 1"), (-y / p[0], "probability p")]:
        assert not check_ce_gradient(wrong, z, 0)
        assert hint in capsys.readouterr().out
