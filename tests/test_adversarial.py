"""The fast gradient sign method (helpers.adversarial) and the similarity tools (helpers.similarity) of
notebook 11: the step's size and direction, a linear model whose worst-case step is known, the loss's
gradient against finite differences, PCA against numpy's covariance eigenvectors, and bad input."""
import numpy as np
import pytest

from helpers.adversarial import fgsm, fgsm_step, loss_gradient
from helpers.losses import softmax
from helpers.models import fashion_cnn
from helpers.nn import Dense, Flatten, Sequential
from helpers.similarity import nearest, pca


def linear_model(classes=2, seed=0, dtype=np.float32):
    model = Sequential([Flatten(), Dense(16, classes, rng=seed, dtype=dtype)])
    return model


def images(n=3, seed=0, low=0.0, high=1.0, shape=(1, 4, 4)):
    return np.random.default_rng(seed).uniform(low, high, (n, *shape)).astype(np.float32)


@pytest.fixture(scope="module")
def cnn():
    return fashion_cnn(seed=3)


def test_every_pixel_moves_by_epsilon_where_not_clipped(cnn):
    x = images(4, seed=1, shape=(1, 28, 28))
    x[:, :, :3] = 0.0                                  # some pixels at the ends of the range
    x[:, :, -3:] = 1.0
    y = np.array([0, 3, 7, 9])
    eps = 0.05
    grad, _ = loss_gradient(cnn, x, y)
    adv = fgsm(cnn, x, y, eps)
    change = adv - x
    assert np.abs(change).max() == pytest.approx(eps, abs=1e-6)
    inside = (x >= eps) & (x <= 1 - eps) & (grad != 0)
    np.testing.assert_allclose(np.abs(change[inside]), eps, atol=1e-6)          # exactly epsilon
    np.testing.assert_array_equal(np.sign(change[inside]), np.sign(grad[inside]))  # uphill for the loss
    assert adv.min() >= 0 and adv.max() <= 1 and adv.dtype == np.float32
    assert (change[x == 0] >= 0).all() and (change[x == 1] <= 0).all()          # clipped, never outside 0..1


def test_epsilon_zero_changes_nothing(cnn):
    x = images(2, seed=2, shape=(1, 28, 28))
    np.testing.assert_array_equal(fgsm(cnn, x, [1, 2], 0.0), x)


def test_the_step_raises_the_loss_of_the_true_class(cnn):
    x = images(6, seed=4, shape=(1, 28, 28))
    y = np.arange(6)
    _, p = loss_gradient(cnn, x, y)
    p_adv = softmax(cnn.predict(fgsm(cnn, x, y, 0.01)).astype(np.float64))
    assert (p_adv[np.arange(6), y] < p[np.arange(6), y]).all()


def test_on_a_linear_model_fgsm_is_the_worst_case_step():
    # two classes, z = W x + b: over all changes d with |d_i| <= eps, the margin z_y - z_other falls most
    # for d = -eps sign(w_y - w_other), by exactly eps * ||w_y - w_other||_1. FGSM must find that d.
    model = linear_model(classes=2, seed=5, dtype=np.float64)
    x = np.full((2, 1, 4, 4), 0.5)                     # mid-range: no clipping for eps <= 0.5
    y = np.array([0, 1])
    eps = 0.1
    adv = fgsm(model, x, y, eps)
    W = model.layers[1].params["W"]                   # (16, 2) or (2, 16)
    W = W if W.shape == (2, 16) else W.T
    for n, c in enumerate(y):
        w_diff = W[c] - W[1 - c]
        np.testing.assert_allclose((adv - x)[n].ravel(), -eps * np.sign(w_diff), atol=1e-6)
        margin = lambda im: float(np.diff(model.predict(im[None].astype(np.float64))[0][[1 - c, c]])[0])  # noqa: E731
        assert margin(x[n]) - margin(adv[n]) == pytest.approx(eps * np.abs(w_diff).sum(), rel=1e-5)


def test_the_loss_gradient_matches_finite_differences():
    model = linear_model(classes=4, seed=6, dtype=np.float64)
    x = images(2, seed=7).astype(np.float64)
    y = np.array([2, 0])
    grad, probs = loss_gradient(model, x, y)
    np.testing.assert_allclose(probs, softmax(model.predict(x)), rtol=1e-10)

    def loss(im, c):
        return float(-np.log(softmax(model.predict(im[None]))[0, c]))

    h = 1e-6
    for n in range(2):
        for i in [(0, 0, 0), (0, 1, 2), (0, 3, 3)]:
            up, down = x[n].copy(), x[n].copy()
            up[i] += h
            down[i] -= h
            assert grad[n][i] == pytest.approx((loss(up, y[n]) - loss(down, y[n])) / (2 * h), rel=1e-5, abs=1e-9)


def test_batches_give_the_same_gradient(cnn):
    x = images(5, seed=8, shape=(1, 28, 28))
    whole, _ = loss_gradient(cnn, x, 4)
    parts, _ = loss_gradient(cnn, x, 4, batch_size=2)
    np.testing.assert_allclose(parts, whole, rtol=1e-4, atol=1e-6)   # float32 sums in another order


@pytest.mark.parametrize("call, error, words", [
    (lambda m, x: fgsm(m, x, [0, 1], -0.1), ValueError, "epsilon"),
    (lambda m, x: fgsm(m, x, [0, 1], 1.5), ValueError, "epsilon"),
    (lambda m, x: fgsm(m, x, [0, 1], "0.1"), TypeError, "epsilon"),
    (lambda m, x: fgsm(m, x[0], [0, 1], 0.1), ValueError, r"x must be a batch.*x\[None\]"),
    (lambda m, x: fgsm(m, x * 255, [0, 1], 0.1), ValueError, "0..1"),
    (lambda m, x: fgsm(m, (x * 255).astype(np.uint8), [0, 1], 0.1), TypeError, "prepare"),
    (lambda m, x: fgsm(m, x, [0, 1, 1], 0.1), ValueError, "one per image"),
    (lambda m, x: fgsm(m, x, [0, 2], 0.1), ValueError, r"labels must be class indices 0\.\.1"),
    (lambda m, x: fgsm(m, x, [0.0, 1.0], 0.1), TypeError, "labels"),
    (lambda m, x: fgsm_step(x, np.zeros((2, 1, 4, 5)), 0.1), ValueError, "grad must have the images' shape"),
])
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call(linear_model(), images(2))


# -- nearest neighbours and PCA ------------------------------------------------------------------------
def test_nearest_matches_a_brute_force_search():
    rng = np.random.default_rng(0)
    pool = rng.normal(size=(40, 5))
    q = pool[:6] + 0.01
    index, distance = nearest(q, pool, k=3)
    brute = np.linalg.norm(q[:, None] - pool[None], axis=2)
    np.testing.assert_array_equal(index, np.argsort(brute, axis=1)[:, :3])
    np.testing.assert_allclose(distance, np.sort(brute, axis=1)[:, :3], rtol=1e-6, atol=1e-7)
    index, _ = nearest(pool[:6], pool, k=2, exclude=np.arange(6))       # the query itself is left out
    assert not (index == np.arange(6)[:, None]).any()


def test_pca_agrees_with_the_covariance_eigenvectors():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)) + 3.0
    projected, components, explained = pca(x, k=2)
    cov = np.cov(x, rowvar=False)
    values, vectors = np.linalg.eigh(cov)
    top = vectors[:, ::-1][:, :2].T                                      # largest eigenvalues first
    for c, v in zip(components, top):
        assert abs(abs(c @ v) - 1) < 1e-8                                # the same axis (up to its sign)
    np.testing.assert_allclose(explained, values[::-1][:2] / values.sum(), rtol=1e-8)
    np.testing.assert_allclose(projected.var(axis=0, ddof=1), values[::-1][:2], rtol=1e-8)
    np.testing.assert_allclose(projected, (x - x.mean(axis=0)) @ components.T, rtol=1e-10)
    assert (components[np.arange(2), np.abs(components).argmax(axis=1)] > 0).all()  # sign fixed


@pytest.mark.parametrize("call, error, words", [
    (lambda: pca(np.zeros((5, 2, 2))), ValueError, "2-D array"),
    (lambda: pca(np.ones((5, 3)), k=4), ValueError, "k must be at most 3"),
    (lambda: pca(np.ones((5, 3)), k=0), ValueError, "k must be at least 1"),
    (lambda: nearest(np.ones((2, 3)), np.ones((4, 2)), k=1), ValueError, "same length"),
    (lambda: nearest(np.ones((2, 3)), np.ones((4, 3)), k=4, exclude=[0, 1]), ValueError, "k must be at most 3"),
    (lambda: nearest(np.ones((2, 3)), np.ones((4, 3)), k=1, exclude=[0]), ValueError, "one pool index per query"),
    (lambda: nearest(np.array([[np.nan, 0]]), np.ones((4, 2)), k=1), ValueError, "NaN"),
])
def test_similarity_bad_input(call, error, words):
    with pytest.raises(error, match=words):
        call()


# -- the exercise's self-check ---------------------------------------------------------------------------
def _exercise():
    rng = np.random.default_rng(3)
    image = rng.random((1, 6, 6)).astype(np.float32)
    image[0, 0] = 0.0                                 # pixels the clipping holds
    image[0, -1] = 1.0
    grad = rng.normal(size=image.shape).astype(np.float32)
    return image, grad


@pytest.mark.parametrize("make, ok, hint", [
    (lambda x, g, e: np.clip(x + e * np.sign(g), 0, 1), True, "moved by at most"),
    (lambda x, g, e: np.clip(x - e * np.sign(g), 0, 1), False, "down the gradient"),
    (lambda x, g, e: x + e * np.sign(g), False, "clip"),
    (lambda x, g, e: np.clip(x + e * g, 0, 1), False, "np.sign"),
    (lambda x, g, e: e * np.sign(g), False, "perturbation alone"),
    (lambda x, g, e: np.clip(x + 2 * e * np.sign(g), 0, 1), False, "plus epsilon times the sign"),
    (lambda x, g, e: x, False, "plus epsilon times the sign"),
    (lambda x, g, e: x[0], False, "shape"),
    (lambda x, g, e: ..., False, "Replace the ..."),
    (lambda x, g, e: "image", False, "array of numbers"),
])
def test_the_fgsm_check_accepts_the_step_and_refuses_the_usual_mistakes(capsys, make, ok, hint):
    from helpers.checks.adversarial import check_fgsm_step

    x, g = _exercise()
    assert bool(check_fgsm_step(make(x, g, 0.1), x, g, 0.1)) is ok
    out = capsys.readouterr().out
    assert out.startswith("Correct:" if ok else "Not yet:") and hint in out, out
