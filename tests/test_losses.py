"""helpers.losses: softmax, log_softmax, cross-entropy and its gradient."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers.losses import cross_entropy, cross_entropy_grad, log_softmax, one_hot, softmax, softmax_naive

scores = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)),
                elements=st.floats(-1e4, 1e4, allow_nan=False))


def test_worked_example():
    np.testing.assert_allclose(softmax([-1, 0, 3, 5]), [0.0022, 0.0059, 0.1182, 0.8737], atol=5e-5)


@settings(max_examples=100, deadline=None)
@given(z=scores)
def test_softmax_rows_are_distributions(z):
    p = softmax(z)
    assert p.shape == z.shape and np.all(np.isfinite(p))
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)), p, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(z=scores, c=st.floats(-1e3, 1e3))
def test_softmax_ignores_a_constant_added_to_every_score(z, c):
    np.testing.assert_allclose(softmax(z + c), softmax(z), atol=1e-9)


def test_stable_at_1000_where_naive_overflows():
    z = np.array([1000.0, 1001.0, 1002.0])
    np.testing.assert_allclose(softmax(z), softmax([0.0, 1.0, 2.0]))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        assert np.all(np.isnan(softmax_naive(z)))
    assert np.isfinite(cross_entropy([0.0, 800.0], 0)) and cross_entropy([0.0, 800.0], 0) == pytest.approx(800.0)


def test_axis_and_temperature():
    z = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(softmax(z, axis=0).sum(axis=0), 1.0)
    np.testing.assert_allclose(softmax(z, temperature=2.0), softmax(z / 2))
    assert softmax(np.float32([1, 2])).dtype == np.float32


def test_cross_entropy_values():
    assert cross_entropy(np.zeros(10), 3) == pytest.approx(-np.log(0.1))          # 2.302...
    assert cross_entropy([-1, 0, 3, 5], 3) == pytest.approx(-np.log(softmax([-1, 0, 3, 5])[3]))
    assert cross_entropy([0.0, 50.0], 1) == pytest.approx(0.0, abs=1e-12)           # sure and right
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
    want = np.mean([-np.log(softmax(logits[0])[0]), -np.log(softmax(logits[1])[2])])
    assert cross_entropy(logits, np.array([0, 2])) == pytest.approx(want)
    assert isinstance(cross_entropy(logits, [0, 2]), float)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 4), k=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_gradient_is_p_minus_onehot_by_finite_differences(n, k, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * 3
    y = rng.integers(0, k, size=n)
    grad = cross_entropy_grad(z, y)
    np.testing.assert_allclose(grad, (softmax(z) - one_hot(y, k)) / n, atol=1e-12)
    h = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        dz = np.zeros_like(z)
        dz[idx] = h
        numeric[idx] = (cross_entropy(z + dz, y) - cross_entropy(z - dz, y)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_single_vector_gradient_shape():
    assert cross_entropy_grad([1.0, 2.0, 3.0], 1).shape == (3,)
    assert cross_entropy_grad([1.0, 2.0, 3.0], 1).sum() == pytest.approx(0.0)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: cross_entropy([1.0, 2.0], 2), ValueError, "not a class index"),
        (lambda: cross_entropy([1.0, 2.0], -1), ValueError, "not a class index"),
        (lambda: cross_entropy([[1.0, 2.0]], [0, 1]), ValueError, "one int per example"),
        (lambda: cross_entropy(np.zeros((2, 3, 4)), [0, 1]), ValueError, r"\(K,\) or \(N, K\)"),
        (lambda: cross_entropy([1.0, 2.0], 0.5), TypeError, "integer class indices"),
        (lambda: softmax(3.0), ValueError, "one score per class"),
        (lambda: softmax([]), ValueError, "empty"),
        (lambda: softmax(["a", "b"]), TypeError, "numbers"),
        (lambda: softmax([1.0, 2.0], temperature=0), ValueError, "temperature"),
    ],
)
def test_bad_inputs_give_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
