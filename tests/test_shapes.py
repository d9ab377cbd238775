"""helpers.shapes beyond output_size: how windows tile an axis, and a receptive field measured by backprop."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.nn import Conv2D, MaxPool2D, ReLU
from helpers.shapes import measured_field, output_size, tiling


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 20), k=st.integers(1, 5), p=st.integers(0, 3), s=st.integers(1, 4), d=st.integers(1, 3))
def test_tiling_agrees_with_the_windows_counted_one_by_one(n, k, p, s, d):
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        with pytest.raises(ValueError, match="larger than the padded input"):
            tiling(n, k, p, s, d)
        return
    t = tiling(n, k, p, s, d)
    starts = list(range(0, n + 2 * p - span + 1, s))                 # every window, one by one
    assert t["out"] == len(starts) == output_size(n, k, p, s, d)
    assert t["span"] == span and t["padded"] == n + 2 * p
    assert t["covered"] == starts[-1] + span
    assert t["leftover"] == n + 2 * p - t["covered"]
    real_pixels_past_the_last_window = [i for i in range(t["covered"], n + 2 * p) if p <= i < p + n]
    assert t["dropped_pixels"] == len(real_pixels_past_the_last_window)


def test_tiling_of_notebook_04s_example():
    assert tiling(8, 3, 0, 2) == {"out": 3, "span": 3, "padded": 8, "covered": 7, "leftover": 1,
                                  "dropped_pixels": 1}
    assert tiling(7, 3, 1, 2)["leftover"] == 0


@pytest.mark.parametrize("kernels", [[3], [5], [3, 3], [3, 3, 3], [7, 3]])
def test_measured_field_of_stride_1_convolutions_is_1_plus_the_sum_of_k_minus_1(kernels):
    layers = []
    for i, k in enumerate(kernels):
        layers += [Conv2D(1, 1, k, rng=i), ReLU()]
    side = 1 + sum(k - 1 for k in kernels)
    assert measured_field(layers, size=side + 6) == (side, side)


def test_measured_field_through_max_pooling_is_what_notebook_08_prints():
    # computed: 3, then + 1 (pool), + 2*2 (conv at jump 2), + 1*2 (pool at jump 2) = 10 pixels that *can*
    # matter; max pooling sends each gradient to one winner of its window, so fewer are reached for one input
    layers = [Conv2D(1, 4, 3, padding=1, rng=0), MaxPool2D(2), Conv2D(4, 4, 3, padding=1, rng=1), MaxPool2D(2)]
    assert measured_field(layers) == (8, 8)


def test_measured_field_of_a_stack_with_stride_2():
    # a 3x3 at stride 2 then a 3x3: 3 + (3 - 1) * 2 = 7
    assert measured_field([Conv2D(1, 1, 3, stride=2, rng=0), Conv2D(1, 1, 3, rng=1)], size=21) == (7, 7)
