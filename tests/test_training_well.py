"""Notebook 09's helpers: augmentation, AdamW and L2, learning-rate schedules, fit's augment and early
stopping hooks, the improved model."""
import numpy as np
import pytest

from helpers.augment import Augment, random_flip, random_shift
from helpers.models import fashion_cnn, fashion_cnn_bn
from helpers.nn import BatchNorm2D, Dense, Sequential
from helpers.optim import Adam, AdamW, add_l2_gradient, cosine_schedule, step_schedule
from helpers.training import fit


def shift_loops(img, dy, dx):
    """The definition: out[i, j] = img[i - dy, j - dx] where that is inside the image, else 0."""
    H, W = img.shape
    out = np.zeros_like(img)
    for i in range(H):
        for j in range(W):
            if 0 <= i - dy < H and 0 <= j - dx < W:
                out[i, j] = img[i - dy, j - dx]
    return out


def test_random_shift_moves_each_image_by_its_own_offset():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 255, (40, 1, 6, 7), dtype=np.uint8)
    out = random_shift(x, 2, rng=1)
    assert out.shape == x.shape and out.dtype == x.dtype
    offsets = set()
    for a, b in zip(x[:, 0], out[:, 0]):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if np.array_equal(shift_loops(a, dy, dx), b)]
        assert len(found) == 1
        offsets.add(found[0])
    assert len(offsets) > 10                                  # different images, different offsets
    np.testing.assert_array_equal(random_shift(x, 2, rng=1), out)  # seeded
    np.testing.assert_array_equal(random_shift(x, 0, rng=1), x)


def test_random_flip_mirrors_about_half_the_images_left_right():
    x = np.random.default_rng(2).random((400, 5, 5))
    out = random_flip(x, rng=3)
    flipped = np.array([np.array_equal(o, a[:, ::-1]) for o, a in zip(out, x)])
    kept = np.array([np.array_equal(o, a) for o, a in zip(out, x)])
    assert np.all(flipped ^ kept)
    assert 150 < flipped.sum() < 250
    assert np.array_equal(random_flip(x, rng=3, p=0.0), x)
    assert np.array_equal(random_flip(x, rng=3, p=1.0), x[..., ::-1])


def test_augment_bad_input():
    with pytest.raises(ValueError, match="batch of images"):
        random_shift(np.zeros((5, 5)), 1)
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(np.zeros((2, 5, 5)), -1)
    with pytest.raises(ValueError, match="probability"):
        random_flip(np.zeros((2, 5, 5)), p=2)
    with pytest.raises(TypeError, match="Generator"):
        Augment(1)(np.zeros((2, 5, 5)), rng="seed")


def _one_layer(w):
    layer = Dense(2, 2, rng=0, dtype=np.float64)
    layer.params["W"] = np.array(w, dtype=np.float64)
    return layer


def test_adamw_decays_weights_apart_from_the_gradient():
    lr, wd = 0.1, 0.5
    a, b = _one_layer([[1.0, -2.0], [3.0, 4.0]]), _one_layer([[1.0, -2.0], [3.0, 4.0]])
    for layer in (a, b):
        layer.grads = {"W": np.array([[0.1, 0.0], [5.0, -1.0]]), "b": np.ones(2)}
    AdamW([(a, "W"), (a, "b")], lr=lr, weight_decay=wd).step()
    Adam([(b, "W"), (b, "b")], lr=lr).step()
    # one AdamW step = the same Adam step applied to the shrunk weights; the bias is not decayed
    shrunk = np.array([[1.0, -2.0], [3.0, 4.0]]) * (1 - lr * wd)
    np.testing.assert_allclose(a.params["W"], shrunk + (b.params["W"] - np.array([[1.0, -2.0], [3.0, 4.0]])))
    np.testing.assert_allclose(a.params["b"], b.params["b"])
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW([(a, "W")], weight_decay=-1)


def test_l2_adds_weight_decay_times_w_to_the_weight_gradients_only():
    layer = _one_layer([[1.0, -2.0], [3.0, 4.0]])
    layer.grads = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    penalty = add_l2_gradient([(layer, "W"), (layer, "b")], 0.1)
    np.testing.assert_allclose(layer.grads["W"], 0.1 * layer.params["W"])
    np.testing.assert_array_equal(layer.grads["b"], 0)
    assert penalty == pytest.approx(0.05 * 30)


def test_schedules():
    s = step_schedule(0.1, drop=0.5, every=2)
    assert [s(e) for e in range(1, 6)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    c = cosine_schedule(1.0, 5, final_lr=0.0)
    assert [c(e) for e in range(1, 6)] == pytest.approx([1.0, 0.8535534, 0.5, 0.1464466, 0.0])
    w = cosine_schedule(1.0, 6, warmup=2)
    assert [w(e) for e in (1, 2, 3, 6)] == pytest.approx([1 / 3, 2 / 3, 1.0, 0.0])
    with pytest.raises(ValueError):
        cosine_schedule(1.0, 5, final_lr=2.0)
    with pytest.raises(ValueError):
        step_schedule(0.1, drop=0)


def test_fit_applies_augment_to_training_batches_and_stops_early():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 255, (64, 8, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 64)
    seen = []

    def augment(batch, r):
        seen.append(batch.shape)
        return batch[..., ::-1]
    from helpers.nn import Flatten
    model = Sequential([Flatten(), Dense(64, 3, rng=0)])
    h = fit(model, x, y, Adam(model.parameters()), epochs=5, batch_size=32, progress=False, augment=augment,
            on_epoch_end=lambda epoch, m, hist: epoch == 2)
    assert h.epoch == [1, 2]                                  # stopped after epoch 2
    assert seen == [(32, 8, 8)] * 4


def test_improved_model_shapes_and_parameters():
    m, base = fashion_cnn_bn(seed=0), fashion_cnn(seed=0)
    assert m.shapes((2, 1, 28, 28))[-1][1] == (2, 10)
    n_bn = sum(layer.n_params for layer in m.layers if "BatchNorm" in type(layer).__name__)
    assert m.n_params == base.n_params + n_bn == base.n_params + 2 * (32 + 64 + 128)
    assert isinstance(m.layers[1], BatchNorm2D)


def test_shipped_improved_weights_classify_the_shipped_sample_and_carry_their_single_test_result():
    """data/ carries what notebook 09's training run made; the notebook shows it when it does not train."""
    from helpers.images import data_dir, load_sample
    from helpers.training import History, evaluate, load_weights

    sample = load_sample("fashion_mnist_sample")
    model = fashion_cnn_bn(seed=0)
    extra = load_weights(data_dir() / "fashion_improved_weights.npz", model)
    assert np.any(model.layers[1].buffers["running_var"] != 1)          # trained statistics, not the initial ones
    _, acc = evaluate(model, sample["images"], sample["labels"])
    assert acc > 0.90, acc
    history = History.from_arrays(extra)
    # A floor on validation (where the recipe was tuned) says the run trained; the test accuracy is only
    # carried, evaluated once, and checked against the per-image answers elsewhere, never against a target.
    assert max(history.val_acc) >= 0.92, max(history.val_acc)
    assert 0.0 < float(extra["test_accuracy"]) <= 1.0
    assert 1 <= int(extra["best_epoch"]) <= len(history.epoch) == len(extra["lr_by_epoch"])
    assert history.val_acc[int(extra["best_epoch"]) - 1] == max(history.val_acc)
    with np.load(data_dir() / "training_well_experiments.npz") as f:
        names = {k.split("__")[0] for k in f.files}
    assert {"optim0", "range", "schedule1", "ablation5", "init_He"} <= names
