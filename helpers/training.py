"""Training a helpers.nn model: one step, the loop, evaluation, saving weights.

    (x_train, y_train), (x_val, y_val) = split_validation(x, y, 5000)   # the test set stays untouched
    history = fit(model, x_train, y_train, optimizer, epochs=5, batch_size=128,
                  validation=(x_val, y_val), plot=LivePlot("CNN"))   # every choice is made on (x_val, y_val)
    loss, acc = evaluate(model, x_test, y_test)                  # once, at the end
    save_weights("weights.npz", model, history=history)

One step of training (:func:`train_step`): take a batch, run it forward, measure the loss, run the
gradient backward, let the optimizer change the weights. One epoch: every training image once, in a new
random order. The live plot of the curves is helpers.widgets.live.LivePlot, passed in as ``plot``.

The test set is for the end: a number measured on images that chose the epoch count or the learning
rate is no longer an estimate for new images. Choices are made on a validation split of the training set.
"""
from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from ._arguments import positive_int
from ._files import save_npz
from .losses import softmax
from .nn import Sequential, SoftmaxCrossEntropy
from .runs import TRAIN_ENV, should_train  # how the notebooks decide to train: see helpers.runs

__all__ = [
    "prepare", "split_validation", "course_split", "VALIDATION_SIZE", "VALIDATION_SEED", "fit", "evaluate",
    "predict_classes", "confusion_matrix", "History", "train_step", "Step", "save_weights", "load_weights",
    "should_train", "TRAIN_ENV",
]



def prepare(images) -> np.ndarray:
    """uint8 images (N, H, W) -> float32 (N, 1, H, W) scaled to 0..1: what the networks take."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"prepare expects uint8 images 0..255, got {images.dtype}.")
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise ValueError(f"expected images (N, H, W) or (N, C, H, W), got shape {images.shape}.")
    return images.astype(np.float32) * np.float32(1 / 255)


def split_validation(x, y, size=5000, rng=0, stratify: bool = True):
    """Hold out part of a training set for validation: ``((x_train, y_train), (x_val, y_val))``.

    ``size``: how many images go to validation (an int), or which fraction of them (a float in (0, 1)).
    With ``stratify`` each class keeps its share of the images in both parts (up to rounding), so a
    validation accuracy is not skewed by an unlucky draw of classes. Seeded by ``rng``; both parts keep
    the original order of the images.
    """
    y = np.asarray(y)
    n = len(y)
    if len(x) != n:
        raise ValueError(f"{len(x)} images but {n} labels.")
    if isinstance(size, (float, np.floating)) and 0 < size < 1:
        size = int(round(size * n))
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or not 0 < size < n:
        raise ValueError(f"size must be a number of images between 1 and {n - 1}, or a fraction between 0 "
                         f"and 1, got {size!r}.")
    order = np.random.default_rng(rng).permutation(n)
    if stratify:
        classes, counts = np.unique(y, return_counts=True)
        share = counts * size / n
        take = np.floor(share).astype(np.int64)
        # the images left over by rounding down go to the classes with the largest remainders
        take[np.argsort(-(share - take), kind="stable")[: size - take.sum()]] += 1
        shuffled = y[order]
        val = np.concatenate([order[shuffled == c][:k] for c, k in zip(classes, take)])
    else:
        val = order[:size]
    is_val = np.zeros(n, dtype=bool)
    is_val[val] = True
    return (x[~is_val], y[~is_val]), (x[is_val], y[is_val])


#: The course's one validation split of the 60,000 Fashion-MNIST training images (notebooks 07, 09, 10, 11).
VALIDATION_SIZE, VALIDATION_SEED = 5000, 0


def course_split(x, y):
    """The validation split every notebook uses: ``((x_train, y_train), (x_val, y_val))``.

    ``split_validation(x, y, VALIDATION_SIZE, rng=VALIDATION_SEED)``: 55,000 images to train on and
    5,000 (500 of each class) to choose with, the same images in every notebook, so that a network
    trained in one notebook is never validated in another on images it was trained on.
    """
    return split_validation(x, y, VALIDATION_SIZE, rng=VALIDATION_SEED)


def _as_input(x) -> np.ndarray:
    return prepare(x) if np.asarray(x).dtype == np.uint8 else np.asarray(x, dtype=np.float32)


@dataclass
class History:
    """What happened in each epoch: mean training loss and accuracy (averaged over the epoch's steps,
    while the weights were still changing), validation loss and accuracy (after the epoch), seconds spent
    training (evaluation excluded), the learning rate, and the loss of every step."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {f"history_{k}": np.asarray(v, dtype=np.float64) for k, v in self.__dict__.items()}

    @classmethod
    def from_arrays(cls, arrays) -> History:
        h = cls()
        for k in h.__dict__:
            key = f"history_{k}"
            if key in arrays:
                values = np.asarray(arrays[key])
                # epochs are counts: back to int, so that they index lists (a .npz stores them as float)
                setattr(h, k, values.astype(np.int64).tolist() if k == "epoch" else values.tolist())
        return h

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds))


def predict_classes(model: Sequential, x, batch_size: int = 1000) -> np.ndarray:
    """The class with the highest score for each image."""
    return np.concatenate([
        model.forward(_as_input(x[i:i + batch_size]), training=False).argmax(axis=1)
        for i in range(0, len(x), batch_size)
    ])


def evaluate(model: Sequential, x, y, batch_size: int = 1000, mirror: bool = False) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on (x, y), in inference mode.

    ``mirror=True`` is *test-time augmentation*: each image is also shown mirrored left-right, and the
    prediction is the mean of the two softmax probability vectors (for a network trained on mirrored
    images, which sees both as the same class).
    """
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels.")
    if len(x) == 0:
        raise ValueError("x holds no images: a loss and an accuracy need at least one.")
    loss_fn, total, correct = SoftmaxCrossEntropy(), 0.0, 0
    for i in range(0, len(x), batch_size):
        batch = _as_input(x[i:i + batch_size])
        scores = model.forward(batch, training=False)
        labels = np.asarray(y[i:i + batch_size]).astype(np.int64)
        if mirror:
            probs = (softmax(scores, axis=1) + softmax(model.forward(batch[..., ::-1], training=False), axis=1)) / 2
            rows = np.arange(len(labels))
            total += float(-np.log(np.maximum(probs[rows, labels], 1e-30)).sum())   # 1e-30: never ln 0
            correct += int((probs.argmax(axis=1) == labels).sum())
        else:
            total += loss_fn.forward(scores, labels) * len(labels)
            correct += int((scores.argmax(axis=1) == labels).sum())
    return total / len(x), correct / len(x)


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """counts[i, j] = how many images of class i were predicted as class j (the diagonal is right)."""
    y_true, y_pred = np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same shape.")
    n = int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1) if n_classes is None else n_classes
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


class Step(NamedTuple):
    """What one training step returns: the batch's mean loss and the scores it computed (N, classes)."""

    loss: float
    scores: np.ndarray


def train_step(model, loss, optimizer, x, y) -> Step:
    """One step of training on the batch ``x`` (N, C, H, W) floats with labels ``y`` (N,) ints:

        scores = model.forward(x, training=True)     forward, in training mode
        L = loss(scores, y)                            how wrong the scores are
        model.backward(loss.backward())               dL/d(every parameter), through every layer
        optimizer.step()                               change the parameters against their gradients

    ``loss`` is a loss layer (``helpers.nn.SoftmaxCrossEntropy()``), ``optimizer`` one of helpers.optim
    built on ``model.parameters()``. Returns ``Step(loss, scores)``: the accuracy of the batch is
    ``(step.scores.argmax(axis=1) == y).mean()``.
    """
    scores = model.forward(x, training=True)
    value = loss.forward(scores, y)
    model.backward(loss.backward())
    optimizer.step()
    return Step(value, scores)


def fit(model: Sequential, x, y, optimizer, epochs: int = 1, batch_size: int = 128, validation=None,
        rng=0, progress: bool = True, plot=None, plot_every: int = 50, on_epoch_end=None,
        history: History | None = None, lr_schedule=None, augment=None, early_stopping: int | None = None) -> History:
    """Train ``model`` on images ``x`` (uint8 (N, H, W) or float (N, C, H, W)) with labels ``y``: epochs of
    :func:`train_step` over batches of ``batch_size``, the images in a new random order each epoch
    (seeded by ``rng``). Returns the History (pass an earlier ``history`` to continue it).

    - ``validation=(x_val, y_val)``: evaluated after every epoch. Pass the validation split of the training
      set here, never the test set: the test set must not choose anything.
    - ``progress``: a tqdm progress bar. ``plot``: an object with ``update(history, steps_per_epoch)``,
      called every ``plot_every`` steps and after each epoch, e.g. ``helpers.widgets.live.LivePlot("CNN")``.
    - ``lr_schedule(epoch)``: the learning rate of each epoch (epochs count from 1, or on from a continued
      ``history``). When it is given, fit sets ``optimizer.lr`` from it at the start of every epoch (the
      rate the optimiser was built with is not used) and records it in ``history.lr``; without one, fit
      never changes ``optimizer.lr``.
    - ``augment(batch, rng)``: changes each training batch before it goes in (helpers.augment), drawing
      from a generator of its own (spawned from ``rng``), so the batches are the same with and without it.
    - ``on_epoch_end(epoch, model, history)``: called after each epoch; returning True stops training.
    - ``early_stopping=k`` (needs ``validation``): stop when the validation loss has not improved for k
      epochs in a row, and put back the weights of the epoch with the lowest validation loss.
    """
    _check_fit(x, y, batch_size, epochs, validation, early_stopping)
    rng = np.random.default_rng(rng)
    # one generator per source of randomness: the batch order never depends on what augmentation drew
    augment_rng = rng.spawn(1)[0] if augment is not None else None
    y = np.asarray(y).astype(np.int64)
    loss_fn, history = SoftmaxCrossEntropy(), History() if history is None else history
    steps_per_epoch = -(-len(x) // batch_size)
    if plot is not None:
        plot.update(history, steps_per_epoch)
    start = history.epoch[-1] if history.epoch else 0
    best = _Best(early_stopping)
    # one bar for the whole run (a notebook keeps one small output, not one per epoch)
    bar = tqdm(total=epochs * len(x), unit="img", leave=False, disable=not progress, mininterval=0.5)
    for epoch in range(start + 1, start + epochs + 1):
        bar.set_description(f"epoch {epoch}/{start + epochs}")
        if lr_schedule is not None:
            optimizer.lr = _scheduled_rate(lr_schedule, epoch)
        history.lr.append(float(optimizer.lr))
        order = rng.permutation(len(x))
        seconds, total_loss, correct = 0.0, 0.0, 0
        for step, i in enumerate(range(0, len(x), batch_size), 1):
            t0 = time.perf_counter()
            idx = order[i:i + batch_size]
            xb, yb = _as_input(x[idx] if augment is None else augment(x[idx], augment_rng)), y[idx]
            loss, scores = train_step(model, loss_fn, optimizer, xb, yb)
            seconds += time.perf_counter() - t0
            total_loss += loss * len(idx)
            correct += int((scores.argmax(axis=1) == yb).sum())
            history.step_loss.append(loss)
            bar.update(len(idx))
            if plot is not None and step % plot_every == 0:
                plot.update(history, steps_per_epoch)
        history.epoch.append(epoch)
        history.train_loss.append(total_loss / len(x))
        history.train_acc.append(correct / len(x))
        history.seconds.append(seconds)
        if validation is not None:
            vl, va = evaluate(model, *validation)
            history.val_loss.append(vl)
            history.val_acc.append(va)
        if plot is not None:
            plot.update(history, steps_per_epoch)
        if on_epoch_end is not None and on_epoch_end(epoch, model, history) is True:
            break
        if best.stop(model, history):
            break
    bar.close()
    best.restore(model)
    return history


def _check_fit(x, y, batch_size, epochs, validation, early_stopping) -> None:
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels.")
    if len(x) == 0:
        raise ValueError("x holds no images: there is nothing to train on.")
    positive_int(batch_size, "batch_size")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a whole number, 0 or more, got {epochs!r}.")
    if validation is not None and len(validation[0]) == 0:
        raise ValueError("validation=(x_val, y_val) holds no images: pass a validation split, or None.")
    if early_stopping is not None and (validation is None or early_stopping < 1):
        raise ValueError("early_stopping=k needs validation=(x_val, y_val) and k of 1 or more, "
                         f"got k={early_stopping!r} and validation={'given' if validation else None}.")


class _Best:
    """Early stopping: the weights of the epoch with the lowest validation loss, and when to stop."""

    def __init__(self, patience):
        self.patience, self.loss, self.state, self.since = patience, np.inf, None, 0

    def stop(self, model, history) -> bool:
        if self.patience is None:
            return False
        if history.val_loss[-1] < self.loss:         # copies: the optimizer changes the parameters in place
            self.loss, self.since = history.val_loss[-1], 0
            self.state = {k: v.copy() for k, v in model.state_dict().items()}
            return False
        self.since += 1
        return self.since >= self.patience

    def restore(self, model) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


def _scheduled_rate(lr_schedule, epoch: int) -> float:
    """lr_schedule(epoch) as a float, or an error: a negative rate would climb the loss, NaN ruin every weight."""
    lr = lr_schedule(epoch)
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)) or np.ndim(lr):
        raise TypeError(f"lr_schedule({epoch}) must return a number (the learning rate), got {lr!r}.")
    if not (np.isfinite(lr) and lr >= 0):
        raise ValueError(f"lr_schedule({epoch}) returned {lr!r}: a learning rate must be a finite number, 0 or "
                         "more (a negative one would step uphill, up the loss).")
    return float(lr)


def save_weights(path, model: Sequential, history: History | None = None, **extra) -> Path:
    """Save the model's parameters (and optionally its history and other arrays) as a .npz file.

    Written to a temporary file and renamed, so an interrupted save never leaves half a file.
    """
    path = Path(path)
    arrays = dict(model.state_dict())
    if history is not None:
        arrays.update(history.as_arrays())
    for k, v in extra.items():
        if k in arrays:
            raise ValueError(f"{k!r} clashes with a parameter name.")
        arrays[k] = np.asarray(v)
    save_npz(path, arrays)
    return path


def load_weights(path, model: Sequential) -> dict[str, np.ndarray]:
    """Load parameters saved by :func:`save_weights` into ``model``; return the other arrays in the file
    (``History.from_arrays(extra)`` rebuilds the history). Never unpickles.

    Every array's name, shape and dtype is checked before the model changes (Sequential.load_state_dict):
    a file made for another model leaves this one as it was.
    """
    path = Path(path)
    with open(path, "rb") as f:
        start = f.read(4)
    if start != b"PK\x03\x04":                       # a .npz file is a zip archive of .npy arrays
        raise ValueError(f"{path.name} is not a weights file (a .npz archive as save_weights writes): it does "
                         "not start like a zip archive. Was it saved with save_weights, and completely?")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:    # pickled arrays are never loaded
        raise ValueError(f"{path.name} is not a weights file that save_weights wrote: {exc}") from None
    params = {k: v for k, v in arrays.items() if k.split(".")[0].isdigit()}
    model.load_state_dict(params)
    return {k: v for k, v in arrays.items() if k not in params}


