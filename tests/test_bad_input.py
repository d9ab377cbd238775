"""Bad input to the layers, optimisers, schedules, training loop and interpretation tools of notebooks
07-11: each gets a clear error naming the argument (or a documented behaviour), and nothing is changed
before the error (no half-loaded model, no gradient or weight touched)."""
import re

import numpy as np
import pytest

from helpers.gradcheck import numerical_gradient, rel_error
from helpers.interpret import feature_maps, input_gradient, occlusion
from helpers.nn import (
    BatchNorm1D,
    BatchNorm2D,
    Branches,
    Conv2D,
    Dense,
    DepthwiseSeparable,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
    Residual,
    Sequential,
    SoftmaxCrossEntropy,
)
from helpers.optim import SGD, AdaGrad, Adam, AdamW, RMSProp, add_l2_gradient, cosine_schedule, step_schedule
from helpers.training import evaluate, fit, load_weights, save_weights


def x4(shape=(2, 3, 4, 4), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# -- batch normalisation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, shape, words", [
    (BatchNorm1D(3), (0, 3), "no value per channel"),
    (BatchNorm2D(3), (0, 3, 4, 4), "no value per channel"),
    (BatchNorm1D(3), (1, 3), "one value per channel"),
    (BatchNorm2D(3), (1, 3, 1, 1), "one value per channel"),
])
def test_batchnorm_training_refuses_fewer_than_two_values_per_channel_and_keeps_its_statistics(layer, shape, words):
    before = {k: v.copy() for k, v in layer.buffers.items()}
    with pytest.raises(ValueError, match=words + ".*training=False"):
        layer.forward(np.ones(shape, np.float32), training=True)
    for k, v in layer.buffers.items():                    # not NaN, not dragged towards 0
        np.testing.assert_array_equal(v, before[k])


def test_batchnorm_accepts_one_image_with_several_pixels_and_one_example_in_evaluation():
    bn = BatchNorm2D(3)
    assert bn.forward(x4((1, 3, 2, 2)), training=True).shape == (1, 3, 2, 2)       # 4 values per channel
    assert BatchNorm1D(3).forward(np.ones((1, 3), np.float32), training=False).shape == (1, 3)
    assert BatchNorm1D(3).forward(np.ones((0, 3), np.float32), training=False).shape == (0, 3)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"eps": 0}, ValueError, "eps"),
    ({"eps": -1e-5}, ValueError, "eps"),
    ({"eps": float("nan")}, ValueError, "eps"),
    ({"eps": "1e-5"}, TypeError, "eps"),
    ({"momentum": "0.1"}, TypeError, "momentum"),
    ({"momentum": float("nan")}, ValueError, "momentum"),
])
def test_batchnorm_settings_name_the_argument(kwargs, error, words):
    for cls in (BatchNorm1D, BatchNorm2D):
        with pytest.raises(error, match=words):
            cls(3, **kwargs)


# -- backward: the gradient's shape, and only after a training forward pass --------------------------------
def residual(relu=True):
    return Residual([Conv2D(3, 3, 3, padding="same", rng=0), ReLU(), Conv2D(3, 3, 3, padding="same", rng=1)],
                    relu=relu)


@pytest.mark.parametrize("make, x, bad_grad", [
    (lambda: BatchNorm1D(3), x4((4, 3)), np.zeros((4, 2), np.float32)),
    (lambda: BatchNorm1D(3), x4((4, 3)), np.zeros((2, 3), np.float32)),
    (lambda: BatchNorm2D(3), x4(), np.zeros((2, 3, 4, 5), np.float32)),
    (lambda: BatchNorm2D(3), x4(), np.zeros((2, 3, 16), np.float32)),
    (lambda: GlobalAvgPool2D(), x4(), np.zeros((2, 4), np.float32)),
    (lambda: GlobalAvgPool2D(), x4(), np.zeros((2, 3, 1, 1), np.float32)),
    (lambda: residual(relu=False), x4(), np.zeros((2, 3, 4, 1), np.float32)),
    (lambda: residual(relu=False), x4(), np.zeros((2, 3, 2, 2), np.float32)),
    (lambda: residual(relu=True), x4(), np.zeros((1, 3, 4, 4), np.float32)),
    (lambda: Branches([[Conv2D(3, 2, 1, rng=0)], [Conv2D(3, 1, 1, rng=1)]]), x4(), np.zeros((2, 2, 4, 4), np.float32)),
    (lambda: DepthwiseSeparable(3, 2, 3, rng=0), x4(), np.zeros((2, 3, 4, 4), np.float32)),
])
def test_backward_with_a_wrong_shaped_gradient_names_both_shapes(make, x, bad_grad):
    layer = make()
    y = layer.forward(x, training=True)
    expected = re.escape(str(tuple(y.shape))) + ".*" + re.escape(str(bad_grad.shape))
    with pytest.raises(ValueError, match=r"gradient.*shape " + expected):
        layer.backward(bad_grad)


LAYERS = [
    (lambda: Conv2D(3, 2, 3, rng=0), (2, 3, 5, 5)),
    (ReLU, (2, 3, 4, 4)),
    (lambda: MaxPool2D(2), (2, 3, 4, 4)),
    (Flatten, (2, 3, 4, 4)),
    (lambda: Dense(6, 2, rng=0), (2, 6)),
    (lambda: Dropout(0.5, rng=0), (2, 6)),
    (lambda: BatchNorm1D(6), (2, 6)),
    (lambda: BatchNorm2D(3), (2, 3, 4, 4)),
    (GlobalAvgPool2D, (2, 3, 4, 4)),
    (lambda: residual(relu=False), (2, 3, 4, 4)),
    (lambda: residual(relu=True), (2, 3, 4, 4)),
    (lambda: Sequential([Conv2D(3, 2, 3, rng=0), ReLU(), Flatten()]), (2, 3, 5, 5)),
    (lambda: Conv2D(3, 6, 3, stride=2, padding=1, groups=3, rng=0), (2, 3, 5, 5)),
    (lambda: MaxPool2D(3, stride=1, padding=1), (2, 3, 4, 4)),
    (lambda: DepthwiseSeparable(3, 4, 3, batch_norm=True, rng=0), (2, 3, 4, 4)),
    (lambda: Branches([[Conv2D(3, 2, 1, rng=0)], [MaxPool2D(3, stride=1, padding=1), Conv2D(3, 1, 1, rng=1)]]),
     (2, 3, 4, 4)),
]


@pytest.mark.parametrize("make, shape", LAYERS)
def test_backward_differentiates_the_last_forward_pass_in_its_mode_never_an_earlier_batch(make, shape):
    layer = make().astype(np.float64)
    layer.forward(x4(shape, seed=3).astype(np.float64) * 2 + 1, training=True)   # running statistics not 0, 1
    y = layer.forward(x4(shape, seed=1).astype(np.float64), training=True)
    x2 = x4(shape, seed=2).astype(np.float64)
    layer.forward(x2, training=False)                          # another batch, evaluation mode
    g = np.random.default_rng(5).normal(size=y.shape)
    dx = layer.backward(g, input_grad=True)
    numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x2, training=False) * g)), x2)
    assert rel_error(dx, numeric) < 1e-6


@pytest.mark.parametrize("make, shape", LAYERS)
def test_backward_before_any_forward_pass_refuses_with_one_message(make, shape):
    layer = make()
    with pytest.raises(RuntimeError, match=r"no forward pass to differentiate. Call forward\(x\) first"):
        layer.backward(np.ones(layer.output_shape(shape), np.float32))


def test_softmax_cross_entropy_backward_before_forward_refuses_with_the_same_message():
    with pytest.raises(RuntimeError, match="no forward pass to differentiate"):
        SoftmaxCrossEntropy().backward()


def test_sequential_backward_after_an_evaluation_in_parts_refuses():
    model = Sequential([Conv2D(1, 2, 3, rng=0), ReLU(), Flatten(), Dense(2 * 4 * 4, 3, rng=1)])
    model.eval_batch = 2
    x = x4((5, 1, 6, 6))
    model.forward(x, training=True)
    model.eval()(x)                                            # 5 images, evaluated 2 at a time
    with pytest.raises(RuntimeError, match="no forward pass to differentiate"):
        model.backward(np.ones((5, 3), np.float32))


def test_predict_keeps_nothing_for_backward_even_for_a_small_batch():
    # scores are all predict gives: notebook 11 ran three networks on 200 images, and the feature maps
    # their layers kept for a backward pass held 160 MB until this
    model = Sequential([Conv2D(1, 2, 3, rng=0), ReLU(), Flatten(), Dense(2 * 4 * 4, 3, rng=1)])
    x = x4((5, 1, 6, 6))
    np.testing.assert_array_equal(model.predict(x), model.forward(x, training=False))
    model.predict(x)
    assert all(getattr(layer, name) is None for _, layer in model.walk() for name in layer._keeps)
    with pytest.raises(RuntimeError, match="no forward pass to differentiate"):
        model.backward(np.ones((5, 3), np.float32))


@pytest.mark.parametrize("dilation", [0, -1, 1.5, "2", (1, 0)])
def test_conv2d_dilation_must_be_a_positive_int_or_pair(dilation):
    with pytest.raises((TypeError, ValueError), match="dilation"):
        Conv2D(1, 2, 3, dilation=dilation)


@pytest.mark.parametrize("rng", ["0", 1.5, True, [1]])
def test_rng_must_be_none_a_seed_or_a_generator(rng):
    from helpers.augment import random_flip

    for make in (lambda: Dense(2, 2, rng=rng), lambda: Dropout(0.5, rng=rng),
                 lambda: random_flip(np.zeros((2, 4, 4), np.float32), rng)):
        with pytest.raises(TypeError, match="rng must be None"):
            make()


def test_weights_saved_with_the_old_residual_names_are_refused_with_the_way_to_convert_them():
    model = Sequential([residual(relu=True)])
    old = {"0.body{}_{}".format(*k.split(".")[2:]): v for k, v in model.state_dict().items()}   # "0.body0_W"
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="convert_weights"):
        model.load_state_dict(old)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize("mode", ["yes", 1, None])
def test_train_takes_true_or_false_and_the_mode_reaches_every_layer_inside(mode):
    model = Sequential([residual(relu=True)])
    with pytest.raises(TypeError, match="mode must be True or False"):
        model.train(mode)
    model.eval()
    assert not any(layer.training for _, layer in model.walk())


@pytest.mark.parametrize("shape", [(2, 3, 0, 0), (2, 3, 0, 4), (2, 3, 4, 0)])
def test_global_average_pooling_of_an_empty_map_is_an_error_not_nan(shape):
    with pytest.raises(ValueError, match="empty map has no mean"):
        GlobalAvgPool2D().forward(np.zeros(shape, np.float32))
    with pytest.raises(ValueError, match="empty map"):
        Sequential([GlobalAvgPool2D()]).shapes(shape)


# -- modes ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["no", "False", 0, 1, None])
def test_train_requires_a_bool(mode):
    model = Sequential([Dense(3, 2, rng=0), Dropout(0.5, rng=0)]).eval()
    with pytest.raises(TypeError, match="mode must be True or False"):
        model.train(mode)
    assert model.training is False                              # unchanged
    with pytest.raises(TypeError, match="training must be True or False"):
        model.forward(np.ones((2, 3), np.float32), training="no")
    assert model.train(np.bool_(True)).training is True and model.train(False).training is False


# -- loading weights ----------------------------------------------------------------------------------------
def small(seed, width=3):
    return Sequential([Conv2D(1, 2, 3, rng=seed), BatchNorm2D(2), ReLU(), Flatten(), Dense(2 * 4 * 4, width,
                                                                                             rng=seed + 1)])


def test_weights_that_do_not_fit_leave_the_model_unchanged(tmp_path):
    model = small(0)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    path = save_weights(tmp_path / "other.npz", small(5, width=4))         # the last layer differs
    with pytest.raises(ValueError, match=r"4\.W: the model has shape \(32, 3\), the file \(32, 4\).*nothing"):
        load_weights(path, model)
    for k, v in model.state_dict().items():                                 # not half loaded
        np.testing.assert_array_equal(v, before[k])
    state = {k: v.copy() for k, v in small(5).state_dict().items()}
    state["4.b"] = state["4.b"].astype(np.int64)
    with pytest.raises(TypeError, match=r"4\.b.*int64.*nothing"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(TypeError, match="state must be a dict"):
        model.load_state_dict([1, 2])


def test_a_file_that_is_not_a_weights_file_says_so(tmp_path):
    text = tmp_path / "weights.npz"
    text.write_text("these are not weights\n")
    with pytest.raises(ValueError, match="weights.npz is not a weights file") as info:
        load_weights(text, small(0))
    assert "pickle" not in str(info.value)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{"0.W": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="not a weights file"):
        load_weights(pickled, small(0))


# -- optimisers -----------------------------------------------------------------------------------------
def model_and_parameters():
    model = Sequential([Dense(3, 2, rng=0)])
    return model, model.parameters()


@pytest.mark.parametrize("make, error, words", [
    (lambda p: SGD(p, lr="0.01"), TypeError, "lr must be a number"),
    (lambda p: SGD(p, lr=float("nan")), ValueError, "lr"),
    (lambda p: SGD(p, lr=0), ValueError, "lr"),
    (lambda p: SGD(p, lr=0.1, momentum="0.9"), TypeError, "momentum"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), ValueError, "momentum"),
    (lambda p: Adam(p, lr="1e-3"), TypeError, "lr"),
    (lambda p: Adam(p, beta1=1.0), ValueError, "beta1"),
    (lambda p: Adam(p, beta2=1.5), ValueError, "beta2"),
    (lambda p: Adam(p, beta1=-0.1), ValueError, "beta1"),
    (lambda p: Adam(p, eps=-1e-8), ValueError, "eps"),
    (lambda p: AdamW(p, weight_decay=float("nan")), ValueError, "weight_decay"),
    (lambda p: AdamW(p, weight_decay=-0.1), ValueError, "weight_decay"),
    (lambda p: AdamW(p, beta2=1.0), ValueError, "beta2"),
    (lambda p: SGD(p, momentum=0.9, nesterov="yes"), TypeError, "nesterov must be True or False"),
    (lambda p: SGD(p, nesterov=True), ValueError, "nesterov=True needs a momentum above 0"),
    (lambda p: AdaGrad(p, lr=0), ValueError, r"lr must be in \(0, infinity"),
    (lambda p: AdaGrad(p, lr=-0.1), ValueError, "lr must be in"),
    (lambda p: AdaGrad(p, eps=-1e-10), ValueError, r"eps must be in \[0, infinity"),
    (lambda p: AdaGrad(p, eps=float("inf")), ValueError, "eps must be a finite number"),
    (lambda p: RMSProp(p, lr=0), ValueError, "lr must be in"),
    (lambda p: RMSProp(p, lr="0.01"), TypeError, "lr must be a number"),
    (lambda p: RMSProp(p, rho=1.0), ValueError, r"rho must be in \[0, 1\)"),
    (lambda p: RMSProp(p, rho=-0.1), ValueError, "rho must be in"),
    (lambda p: RMSProp(p, rho=None), TypeError, "rho must be a number"),
    (lambda p: RMSProp(p, eps=-1e-8), ValueError, "eps must be in"),
])
def test_optimizer_settings_name_the_argument(make, error, words):
    _, parameters = model_and_parameters()
    with pytest.raises(error, match=words):
        make(parameters)


@pytest.mark.parametrize("opt", [SGD, AdaGrad, RMSProp, Adam, AdamW])
def test_an_optimizer_given_the_model_says_pass_its_parameters(opt):
    model, _ = model_and_parameters()
    with pytest.raises(TypeError, match=re.escape("model.parameters()")):
        opt(model)
    with pytest.raises(TypeError, match="parameters"):
        opt([np.zeros(3)])
    with pytest.raises(TypeError, match="parameters"):
        opt(3)


def test_add_l2_gradient_before_backward_says_call_backward_and_changes_nothing():
    model = Sequential([Dense(3, 2, rng=0), Dense(2, 2, rng=1)])
    x = np.ones((4, 3), np.float32)
    loss_fn = SoftmaxCrossEntropy()
    with pytest.raises(RuntimeError, match="call model.backward before add_l2_gradient"):
        add_l2_gradient(model.parameters(), 0.01)
    loss_fn.forward(model.forward(x), np.zeros(4, np.int64))
    model.backward(loss_fn.backward())
    del model.layers[1].grads["W"]                                # the second layer's gradient missing
    g0 = model.layers[0].grads["W"].copy()
    with pytest.raises(RuntimeError, match="backward"):
        add_l2_gradient(model.parameters(), 0.01)
    np.testing.assert_array_equal(model.layers[0].grads["W"], g0)  # the first layer's not changed either
    for bad, error in ((float("nan"), ValueError), (-0.1, ValueError), ("0.01", TypeError)):
        with pytest.raises(error, match="weight_decay"):
            add_l2_gradient(model.parameters(), bad)


# -- schedules ------------------------------------------------------------------------------------------
def test_schedules_check_their_settings_and_count_epochs_from_one():
    with pytest.raises(TypeError, match="every"):
        step_schedule(0.1, every=2.5)
    with pytest.raises(TypeError, match="lr"):
        step_schedule("0.1")
    step = step_schedule(0.1, drop=0.5, every=2)
    assert [step(e) for e in (1, 2, 3, 4, 5)] == [0.1, 0.1, 0.05, 0.05, 0.025]
    for schedule in (step, cosine_schedule(0.1, 5), cosine_schedule(0.1, 5, warmup=2)):
        for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), ("1", TypeError)):
            with pytest.raises(error, match="epoch"):
                schedule(bad)
    with pytest.raises(TypeError, match="epochs"):
        cosine_schedule(0.1, 5.5)
    with pytest.raises(TypeError, match="warmup"):
        cosine_schedule(0.1, 5, warmup=1.5)
    with pytest.raises(ValueError, match="final_lr"):
        cosine_schedule(0.1, 5, final_lr=0.2)


def test_cosine_schedule_is_never_negative_and_stays_at_final_lr_after_its_last_epoch():
    schedule = cosine_schedule(0.1, 5, final_lr=0.001, warmup=1)
    rates = [schedule(e) for e in range(1, 12)]
    assert min(rates) > 0
    assert rates[1] == pytest.approx(0.1)                                 # the top, after the warm-up
    assert rates[4:] == pytest.approx([0.001] * 7)                        # epoch 5 on: final_lr


# -- the training loop -----------------------------------------------------------------------------------
def tiny_data(n=8):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 6, 6), dtype=np.uint8), rng.integers(0, 3, n)


def tiny_model():
    return Sequential([Flatten(), Dense(36, 3, rng=0)])


@pytest.mark.parametrize("rate", [-0.1, float("nan"), float("inf")])
def test_fit_refuses_a_negative_or_nan_scheduled_rate_before_any_step(rate):
    x, y = tiny_data()
    model = tiny_model()
    before = model.layers[1].params["W"].copy()
    with pytest.raises(ValueError, match=r"lr_schedule\(1\) returned"):
        fit(model, x, y, SGD(model.parameters(), lr=0.1), epochs=2, lr_schedule=lambda e: rate, progress=False)
    np.testing.assert_array_equal(model.layers[1].params["W"], before)
    with pytest.raises(TypeError, match=r"lr_schedule\(1\) must return a number"):
        fit(model, x, y, SGD(model.parameters(), lr=0.1), lr_schedule=lambda e: "0.1", progress=False)


def test_fit_accepts_a_rate_of_zero_as_cosine_to_zero_ends():
    x, y = tiny_data()
    model = tiny_model()
    history = fit(model, x, y, SGD(model.parameters(), lr=0.1), epochs=2, lr_schedule=cosine_schedule(0.1, 2),
                  progress=False)
    assert history.lr == [0.1, 0.0]


def test_fit_names_its_bad_arguments():
    x, y = tiny_data()
    model = tiny_model()
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no images"):
        fit(model, x[:0], y[:0], opt, progress=False)
    with pytest.raises(TypeError, match="batch_size"):
        fit(model, x, y, opt, batch_size=2.5, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, x, y, opt, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, x, y, opt, epochs=1.5, progress=False)
    with pytest.raises(ValueError, match="validation"):
        fit(model, x, y, opt, validation=(x[:0], y[:0]), progress=False)
    with pytest.raises(ValueError, match="no images"):
        evaluate(model, x[:0], y[:0])


# -- interpretation tools -------------------------------------------------------------------------------
def net5():
    return Sequential([Conv2D(1, 2, 3, padding="same", rng=0), ReLU(), Flatten(), Dense(2 * 8 * 8, 5, rng=1)])


def images(n=3):
    return np.random.default_rng(0).random((n, 1, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("classes, error, words", [
    (5, ValueError, r"classes must be a class index 0\.\.4"),
    (-1, ValueError, r"classes must be a class index 0\.\.4.*got -1"),
    ([0, 1], ValueError, "one per image"),
    ([[0, 1, 2]], ValueError, "one per image"),
    (1.0, TypeError, "classes must be integers"),
    (True, TypeError, "classes must be integers"),
])
def test_input_gradient_checks_its_classes(classes, error, words):
    with pytest.raises(error, match=words):
        input_gradient(net5(), images(), classes)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"target": -1}, ValueError, r"target must be a class index 0\.\.4"),
    ({"target": 5}, ValueError, "target"),
    ({"target": 1.0}, TypeError, "target"),
    ({"target": 1, "stride": 0}, ValueError, "stride"),
    ({"target": 1, "stride": 2.5}, TypeError, "stride"),
    ({"target": 1, "size": 9}, ValueError, "size"),
    ({"target": 1, "size": 2.5}, TypeError, "size"),
    ({"target": 1, "batch_size": 0}, ValueError, "batch_size"),
    ({"target": 1, "batch_size": 2.5}, TypeError, "batch_size"),
    ({"target": 1, "fill": "grey"}, TypeError, "fill"),
])
def test_occlusion_checks_its_arguments_and_never_takes_the_last_class_for_minus_one(kwargs, error, words):
    with pytest.raises(error, match=words):
        occlusion(net5(), images(1)[0], **kwargs)


def test_feature_maps_checks_its_layer_list():
    with pytest.raises(ValueError, match="layers is empty"):
        feature_maps(net5(), images(), layers=[])
    with pytest.raises(TypeError, match=r"list of layer indices, e\.g\. \[1\]"):
        feature_maps(net5(), images(), layers=1)
    with pytest.raises(ValueError, match="layer must be an index"):
        feature_maps(net5(), images(), layers=[True])
    assert feature_maps(net5(), images(), layers=[1])[0][1].shape == (3, 2, 8, 8)


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1), lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                                  AdaGrad, RMSProp, Adam, AdamW])
def test_a_step_before_backward_says_call_backward_and_changes_nothing(make):
    """One layer's gradient missing: the error names the fix, and no weight (nor the step count) moved,
    not even those of the layers whose gradients were there."""
    model = Sequential([Dense(3, 2, rng=0), Dense(2, 2, rng=1)])
    opt = make(model.parameters())
    with pytest.raises(RuntimeError, match=re.escape("call model.backward before step()")):
        opt.step()
    loss_fn = SoftmaxCrossEntropy()
    loss_fn.forward(model.forward(np.ones((4, 3), np.float32)), np.zeros(4, np.int64))
    model.backward(loss_fn.backward())
    del model.layers[1].grads["W"]
    before = [model.layers[i].params[k].copy() for i in (0, 1) for k in ("W", "b")]
    with pytest.raises(RuntimeError, match="backward"):
        opt.step()
    after = [model.layers[i].params[k] for i in (0, 1) for k in ("W", "b")]
    assert all(np.array_equal(a, b) for a, b in zip(before, after)) and opt.t == 0
