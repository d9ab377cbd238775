"""helpers.training (loop, evaluation, confusion matrix, weights files), helpers.models, the filter
explorer of notebook 07 and the self-checks of notebooks 07-08."""
import numpy as np
import pytest

from helpers.checks.training import (
    check_avgpool_backward,
    check_conv_params,
    check_dense_params,
    check_dense_weight_grad,
    check_leaky_relu_backward,
    check_receptive_field,
    check_relu_backward,
)
from helpers.images import load_sample
from helpers.models import alexnet, fashion_cnn, fashion_dense, mnist_source_net
from helpers.nn import Conv2D
from helpers.optim import SGD, Adam
from helpers.training import (
    History,
    confusion_matrix,
    evaluate,
    fit,
    load_weights,
    predict_classes,
    prepare,
    save_weights,
    split_validation,
)


@pytest.fixture(scope="module")
def digits():
    s = load_sample("mnist_sample")
    return s["images"], s["labels"]


def test_fit_learns_digits_and_records_history(digits):
    x, y = digits
    model = mnist_source_net(seed=0)
    seen = []
    h = fit(model, x[:1000], y[:1000], SGD(model.parameters(), lr=0.05, momentum=0.9), epochs=2, batch_size=32,
            validation=(x[4000:], y[4000:]), progress=False, on_epoch_end=lambda e, m, hist: seen.append(e))
    assert h.epoch == [1, 2] and seen == [1, 2] and len(h.seconds) == 2 and len(h.step_loss) == 2 * 32
    assert h.val_acc[-1] > 0.8, h.val_acc
    loss, acc = evaluate(model, x[4000:], y[4000:])
    assert acc == pytest.approx(h.val_acc[-1]) and loss == pytest.approx(h.val_loss[-1])
    assert (predict_classes(model, x[4000:]) == y[4000:]).mean() == pytest.approx(acc)


def test_fit_is_reproducible_with_a_seed(digits):
    x, y = digits
    runs = []
    for _ in range(2):
        model = fashion_dense(seed=3)
        fit(model, x[:256], y[:256], Adam(model.parameters()), epochs=1, batch_size=64, rng=5, progress=False)
        runs.append(model.state_dict()["1.W"])
    np.testing.assert_array_equal(*runs)


def test_split_validation_is_seeded_stratified_and_disjoint():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), [100, 200, 300, 400]).astype(np.uint8)
    x = np.arange(len(y) * 4).reshape(len(y), 2, 2)        # each image is unique: tells the parts apart
    (xt, yt), (xv, yv) = split_validation(x, y, 100, rng=1)
    assert len(xv) == 100 and len(xt) == 900
    np.testing.assert_array_equal(np.bincount(yv), [10, 20, 30, 40])   # every class keeps its share
    seen = np.concatenate([xt[:, 0, 0], xv[:, 0, 0]])
    assert sorted(seen.tolist()) == x[:, 0, 0].tolist()                 # disjoint, and nothing lost
    np.testing.assert_array_equal(xv[:, 0, 0] // 4, np.flatnonzero(np.isin(x[:, 0, 0], xv[:, 0, 0])))
    assert all(yv == y[xv[:, 0, 0] // 4]) and all(yt == y[xt[:, 0, 0] // 4])    # labels stay with images
    again = split_validation(x, y, 100, rng=1)[1][0]
    other = split_validation(x, y, 100, rng=2)[1][0]
    np.testing.assert_array_equal(again, xv)
    assert not np.array_equal(other, xv)
    # a fraction, rounding that leaves a remainder, and no stratification
    (_, _), (_, yv) = split_validation(x, y, 0.1, rng=0)
    assert len(yv) == 100
    (_, _), (_, yv) = split_validation(x, y, 7, rng=0)
    assert len(yv) == 7 and np.bincount(yv, minlength=4).tolist() in ([1, 1, 2, 3], [0, 1, 2, 4], [1, 1, 2, 3])
    (_, _), (_, yv) = split_validation(x, y[rng.permutation(len(y))], 50, stratify=False)
    assert len(yv) == 50
    for bad in (0, 1000, -5, 1.5, "10", True):
        with pytest.raises(ValueError, match="size"):
            split_validation(x, y, bad)
    with pytest.raises(ValueError, match="labels"):
        split_validation(x[:10], y, 5)


def test_early_stopping_keeps_the_weights_of_the_best_validation_epoch(digits):
    x, y = digits
    (xt, yt), (xv, yv) = split_validation(x[:600], y[:600], 200, rng=0)
    model = mnist_source_net(seed=0)
    states = {}

    def keep(epoch, m, hist):
        states[epoch] = {k: v.copy() for k, v in m.state_dict().items()}

    # 400 digits: the validation loss soon stops improving, and training stops 2 epochs after its best
    h = fit(model, xt, yt, SGD(model.parameters(), lr=0.05), epochs=25, batch_size=8, validation=(xv, yv),
            progress=False, on_epoch_end=keep, early_stopping=2)
    best = h.epoch[int(np.argmin(h.val_loss))]
    assert len(h.epoch) < 25 and h.epoch[-1] - best == 2 and best > 1, (h.epoch, h.val_loss)
    assert h.lr == [0.05] * len(h.epoch)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, states[best][k])
    assert evaluate(model, xv, yv)[0] == pytest.approx(min(h.val_loss))
    with pytest.raises(ValueError, match="validation"):
        fit(model, xt, yt, SGD(model.parameters(), lr=0.1), early_stopping=2, progress=False)


def test_confusion_matrix():
    cm = confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1], 3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    assert cm.sum() == 5
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0])


def test_save_and_load_weights_round_trip(tmp_path, digits):
    x, y = digits
    model = fashion_cnn(seed=1)
    h = History(epoch=[1], train_loss=[0.5], train_acc=[0.8], val_loss=[0.6], val_acc=[0.7], seconds=[3.0],
                step_loss=[1.0, 0.5])
    path = save_weights(tmp_path / "w.npz", model, history=h, note=np.array([1, 2, 3]))
    other = fashion_cnn(seed=2)
    extra = load_weights(path, other)
    np.testing.assert_array_equal(extra["note"], [1, 2, 3])
    back = History.from_arrays(extra)
    assert back.val_acc == [0.7] and back.epoch == [1] and isinstance(back.epoch[0], int)
    xb = prepare(x[:8])
    np.testing.assert_array_equal(model(xb), other(xb))
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]          # no temporary file left behind
    with pytest.raises(ValueError, match="do not fit"):
        load_weights(path, fashion_dense())


def test_prepare_and_bad_input():
    x = prepare(np.full((2, 28, 28), 255, np.uint8))
    assert x.shape == (2, 1, 28, 28) and x.dtype == np.float32 and x.max() == 1
    with pytest.raises(TypeError):
        prepare(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="labels"):
        fit(fashion_dense(), np.zeros((3, 28, 28), np.uint8), [0, 1], SGD(fashion_dense().parameters()))


def test_live_plot_replaces_its_image():
    from helpers.widgets.live import LivePlot

    plot = LivePlot("test")
    h = History(step_loss=[2.3, 2.0, 1.5, 1.2])
    plot.update(h, steps_per_epoch=4)
    first = bytes(plot.widget.value)
    h.epoch, h.train_acc, h.val_acc, h.val_loss = [1], [0.5], [0.6], [1.1]
    plot.update(h, steps_per_epoch=4)
    assert first[:4] == b"\x89PNG" and bytes(plot.widget.value) != first


def test_models_shapes_and_parameter_counts():
    assert fashion_cnn().n_params == 421_642
    assert fashion_dense().n_params == 101_770
    assert mnist_source_net().n_params == 8 * 9 + 8 + 1352 * 10 + 10
    a = alexnet()
    rows = a.shapes((8, 3, 224, 224))
    assert rows[-1][1] == (8, 1000)
    assert [r[1] for r in rows if r[0].startswith("MaxPool")][-1] == (8, 256, 6, 6)
    assert len(alexnet(relu_between_linear=False).layers) == len(a.layers) - 2
    # the source's AlexNet has no bias in its convolutions: 61,264,904 parameters; ours has 1,184 more
    conv_biases = sum(layer.params["b"].size for layer in a.layers if isinstance(layer, Conv2D))
    assert conv_biases == 96 + 192 + 384 + 256 + 256 == 1_184
    assert a.n_params - conv_biases == 61_264_904 and a.n_params == 61_266_088


def test_filter_explorer_slider_changes_the_picture(digits):
    from helpers.widgets.filters import FilterExplorer

    x, _ = digits
    snaps = {e: (Conv2D(1, 4, 3, padding="same", rng=e).params["W"], np.zeros(4, np.float32)) for e in (0, 1, 2)}
    ex = FilterExplorer(snaps, x[:3])
    before = ex.snapshot()
    ex.epoch.value = 0
    assert ex.snapshot() != before and ex.maps.shape == (4, 28, 28)
    ex.image.value = 2
    assert ex.maps.shape == (4, 28, 28)


def test_checks_accept_right_answers_and_hint_at_usual_mistakes(capsys):
    assert check_relu_backward(lambda g, x: g * (x > 0))
    assert not check_relu_backward(lambda g, x: np.maximum(g, 0))
    assert "input" in capsys.readouterr().out.split("\n")[-2]
    assert not check_relu_backward(...)
    r = np.random.default_rng(0)
    xx, g = r.standard_normal((4, 3)), r.standard_normal((4, 2))
    assert check_dense_weight_grad(xx.T @ g, xx, g)
    assert not check_dense_weight_grad(g.T @ xx, xx, g)
    assert "transposed" in capsys.readouterr().out.split("\n")[-2]
    assert check_conv_params(18_496, 32, 64, 3) and not check_conv_params(18_432, 32, 64, 3)
    assert check_dense_params(401_536, 3136, 128) and not check_dense_params(401_408, 3136, 128)
    assert check_receptive_field(5, [(3, 1), (3, 1)]) and check_receptive_field(10, [(3, 1), (2, 2), (3, 1), (2, 2)])
    assert not check_receptive_field(7, [(3, 1), (2, 2), (3, 1), (2, 2)])


def test_checks_of_the_new_exercises_accept_right_answers_and_explain_wrong_ones(capsys):
    def last_line():
        return capsys.readouterr().out.strip().split("\n")[-1]

    assert check_leaky_relu_backward(lambda g, x: g * np.where(x > 0, 1.0, 0.1))
    for wrong, hint in [
        (lambda g, x: g * (x > 0), "plain ReLU"),
        (lambda g, x: np.where(x > 0, 1.0, 0.1), "local slope alone"),
        (lambda g, x: np.where(g > 0, g, 0.1 * g), "input"),
        (lambda g, x: g * np.where(x >= 0, 1.0, 0.1), "x = 0"),
        (lambda g, x: None, "returned None"),
        (lambda g, x: 1 / 0, "ZeroDivisionError"),
        (..., "Define your function"),
    ]:
        assert not check_leaky_relu_backward(wrong)
        assert hint in last_line()
    assert check_avgpool_backward(lambda g: np.repeat(np.repeat(g, 2, axis=0), 2, axis=1) / 4)
    for wrong, hint in [
        (lambda g: np.repeat(np.repeat(g, 2, axis=0), 2, axis=1), "divide by 4"),
        (lambda g: np.kron(g, [[1, 0], [0, 0]]), "max pooling"),
        (lambda g: g / 4, "shape of the input"),
        (lambda g: np.zeros((6, 8)), "differs at index"),
    ]:
        assert not check_avgpool_backward(wrong)
        assert hint in last_line()


def test_shipped_weights_are_trained_models_that_classify_the_shipped_sample():
    """data/ carries the models notebook 07 trained, with their validation curves and their single test
    evaluation; the notebook shows them when it does not train."""
    from helpers.images import data_dir

    sample = load_sample("fashion_mnist_sample")
    files = {"dense": fashion_dense, "dense_more_epochs": fashion_dense, "cnn": fashion_cnn}
    acc, info = {}, {}
    for name, build in files.items():
        model = build()
        extra = load_weights(data_dir() / f"fashion_{name}_weights.npz", model)
        _, acc[name] = evaluate(model, sample["images"], sample["labels"])
        history = History.from_arrays(extra)
        info[name] = (model, extra, history)
        # the history is the validation split's (5,000 images), one entry per epoch, with the learning rate
        assert len(history.val_acc) == len(history.train_acc) == len(history.lr) == len(history.epoch) >= 5
        cm = extra["test_confusion"]
        assert cm.shape == (10, 10) and cm.sum() == 10_000                     # the whole test set, once
        assert np.trace(cm) / cm.sum() == pytest.approx(float(extra["test_acc"]))
    assert acc["cnn"] > 0.88 and acc["dense"] > 0.84 and acc["cnn"] > acc["dense"], acc
    # the floors notebook 07 asserts on its single test evaluation
    test_acc = {name: float(extra["test_acc"]) for name, (_, extra, _) in info.items()}
    assert test_acc["dense_more_epochs"] >= 0.878 and test_acc["cnn"] >= 0.91 and test_acc["dense"] >= 0.85, test_acc
    # the source's recipe is the dense run's weights after epoch 5; "more epochs" kept its best epoch
    _, _, dense_history = info["dense"]
    best = dense_history.epoch[int(np.argmin(dense_history.val_loss))]
    assert dense_history.epoch[-1] - best == 3 or dense_history.epoch[-1] == 30   # early stopping, patience 3
    cnn, extra, history = info["cnn"]
    best = history.epoch[int(np.argmin(history.val_loss))]
    assert extra["conv1_W_by_epoch"].shape == (len(history.epoch) + 1, 32, 1, 3, 3)
    np.testing.assert_array_equal(extra["conv1_W_by_epoch"][best], cnn.layers[0].params["W"])


def test_evaluate_with_mirror_averages_the_probabilities_of_image_and_mirror(digits):
    x, y = digits
    model = mnist_source_net(seed=0)
    xs, ys = x[:300], y[:300]
    loss, acc = evaluate(model, xs, ys, batch_size=128, mirror=True)

    def probs(images):
        z = model.forward(prepare(images), training=False).astype(np.float64)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    p = (probs(xs) + probs(xs[:, :, ::-1])) / 2          # the definition, on the whole set at once
    assert acc == pytest.approx((p.argmax(axis=1) == ys).mean())
    assert loss == pytest.approx(-np.log(p[np.arange(len(ys)), ys]).mean(), rel=1e-4)
    # images that are their own mirror image: the same as without mirroring
    symmetric = np.concatenate([xs[:, :, :14], xs[:, :, :14][:, :, ::-1]], axis=2)
    plain = evaluate(model, symmetric, ys)
    assert evaluate(model, symmetric, ys, mirror=True) == pytest.approx(plain, rel=1e-4)


def test_augmentation_does_not_change_the_batch_order():
    # "the same batches" must be true: augmentation draws from its own generator, not the shuffle's
    from helpers.nn import Dense, Flatten, Sequential
    from helpers.training import fit

    class Recorder:
        def __init__(self):
            self.seen = []

        def __call__(self, x, rng):
            rng.random(len(x))                      # an augmentation that draws from its generator
            return x

    x = np.arange(20, dtype=np.uint8).reshape(20, 1, 1).repeat(4, axis=1).repeat(4, axis=2)
    y = np.arange(20) % 2
    orders = []
    for augment in (None, Recorder()):
        seen = []
        model = Sequential([Flatten(), Dense(16, 2, rng=0)])
        original = model.forward

        def forward(xb, training=True, seen=seen, original=original):
            if training:
                seen.append(np.rint(xb[:, 0, 0, 0] * 255).astype(int).tolist())
            return original(xb, training=training)

        model.forward = forward
        fit(model, x, y, SGD(model.parameters(), lr=1e-9), epochs=3, batch_size=6, rng=5, progress=False,
            augment=augment)
        orders.append(seen)
    assert orders[0] == orders[1]


def test_course_split_is_sevens_split():
    from helpers.training import course_split, split_validation

    x = np.arange(12_000).reshape(-1, 1)
    y = np.arange(12_000) % 10
    (a, _), (v, yv) = course_split(x, y)
    (a2, _), (v2, _) = split_validation(x, y, 5000, rng=0)
    assert len(v) == 5000 and np.array_equal(v, v2) and np.array_equal(a, a2)
    assert np.bincount(yv).tolist() == [500] * 10
