"""Train here, or load the shipped run: how notebooks 07, 09, 10 and 11 decide, in one place.

    runs = Runs(data_dir() / "training_well_experiments.npz", data_found=FULL)
    for seed in runs.seeds_to_train(SEEDS):         # every seed, one, or none: see below
        h = fit(...)
        runs.check("ablation0", seed=seed, index=SEEDS.index(seed), val_acc=h.val_acc, atol=0.01)
        runs.keep("ablation0", ...)                  # only when making the shipped files
    results = runs.shipped("ablation0")             # what the compared cells show, in every mode

The setting ``CNN_COURSE_TRAIN`` (docs/teaching.md has the table):

- ``auto`` (the default): with the full dataset found, train each notebook's main network and ONE seed
  of each experiment run over several seeds, check that seed against the shipped result for the same
  seed (within a stated tolerance: machines round floats differently), and load the other seeds from
  ``data/``; without the dataset, load everything. A main run of ten minutes and more (09's improved
  CNN, 10's ResNet) trains its first ``FIRST_EPOCHS`` epochs, checked against the shipped run's first
  epochs, and the shipped weights are used after that: ``epochs_to_train`` and ``check_first_epochs``.
- ``all``: train every seed of every experiment, as the shipped files were made (fails without the data).
- ``0``: load everything; nothing trains.

``CNN_COURSE_SAVE=1`` (with ``all``) writes what the notebook trained into ``data/``: how the shipped
files are made. Printed, compared outputs are the same in every mode: they read the shipped results.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._files import save_npz

__all__ = ["TRAIN_ENV", "SAVE_ENV", "FIRST_EPOCHS", "train_setting", "should_train", "saving", "check_first_epochs",
           "Runs"]

#: Whether a notebook trains its networks or loads the shipped results: auto, all or 0.
TRAIN_ENV = "CNN_COURSE_TRAIN"
#: Set to 1 to write what a notebook trained into data/ (how the shipped files are made).
SAVE_ENV = "CNN_COURSE_SAVE"
#: How many epochs of a long main run ``auto`` trains, to check them against the shipped run's.
FIRST_EPOCHS = 2


def train_setting(data_found: bool) -> str:
    """What ``CNN_COURSE_TRAIN`` asks for here: "all", "auto" (one seed per experiment) or "load".

    ``auto`` (the default) becomes "load" when the full dataset was not found; ``all`` (or ``1``) without
    the data is an error that says how to get it.
    """
    setting = os.environ.get(TRAIN_ENV, "auto").strip().lower()
    if setting in ("", "auto"):
        return "auto" if data_found else "load"
    if setting in ("all", "1", "yes", "true"):
        if not data_found:
            raise RuntimeError(f"{TRAIN_ENV}={setting} asks to train, but the full dataset was not found: "
                               f"provide it (see docs/data.md) or unset {TRAIN_ENV} to load the shipped results.")
        return "all"
    if setting in ("0", "no", "false"):
        return "load"
    raise ValueError(f"{TRAIN_ENV} must be auto, all or 0, not {setting!r}.")


def should_train(data_found: bool) -> bool:
    """Whether a notebook trains its main network here (``auto`` with the data, or ``all``)."""
    return train_setting(data_found) != "load"


def saving() -> bool:
    """Whether ``CNN_COURSE_SAVE=1`` asks to write the results of this run into data/."""
    setting = os.environ.get(SAVE_ENV, "0").strip().lower()
    if setting not in ("", "0", "1", "no", "yes", "false", "true"):
        raise ValueError(f"{SAVE_ENV} must be 0 or 1, not {setting!r}.")
    return setting in ("1", "yes", "true")


def check_first_epochs(val_acc_here, val_acc_shipped, atol: float = 0.01) -> str:
    """Check the first epochs trained here against the same epochs of the shipped run; return a line to print.

    ``val_acc_here``: the validation accuracy after each epoch trained here (the run's first epochs, with
    the whole run's learning-rate schedule, seeds and batches); ``val_acc_shipped``: the shipped run's,
    every epoch. ``atol``: machines round floats differently and training amplifies it, so allow about
    two standard errors of an accuracy on 5,000 validation images. Raises AssertionError when they differ more.
    """
    here = np.asarray(val_acc_here, dtype=float)
    shipped = np.asarray(val_acc_shipped, dtype=float)[:len(here)]
    if len(here) == 0 or len(here) != len(shipped):
        raise ValueError(f"val_acc_here: expected 1 to {len(np.asarray(val_acc_shipped))} epochs of accuracies, "
                         f"got {len(here)}.")
    line = (f"validation accuracy of the first {len(here)} epochs: here {', '.join(f'{a:.4f}' for a in here)}; "
            f"shipped run {', '.join(f'{a:.4f}' for a in shipped)}")
    if not np.allclose(here, shipped, rtol=0, atol=atol):
        raise AssertionError(f"{line}: they differ by more than {atol}, so this machine does not reproduce the "
                             "shipped run (a changed recipe, data or helpers?).")
    return line + f" (within {atol})"


class Runs:
    """The shipped results of a notebook's experiments (one .npz file) and what to train here.

    Arrays are stored as ``"<experiment>__<name>"``. ``data_found``: whether the full dataset is here.
    """

    def __init__(self, path, data_found: bool):
        self.path = Path(path)
        self.setting = train_setting(data_found)
        self.save = saving()
        if self.save and self.setting != "all":
            raise RuntimeError(f"{SAVE_ENV}=1 writes the shipped results, which are made with every seed: "
                               f"set {TRAIN_ENV}=all as well.")

    @property
    def train(self) -> bool:
        """Train the notebook's main network here?"""
        return self.setting != "load"

    def seeds_to_train(self, seeds) -> list:
        """The seeds of a several-seed experiment to train here: all of them (``all``), the first one
        (``auto``: checked against the shipped run, the others loaded) or none (loading)."""
        seeds = list(seeds)
        return {"all": seeds, "auto": seeds[:1], "load": []}[self.setting]

    def epochs_to_train(self, epochs: int) -> int:
        """The epochs of a long main run (``epochs`` in all) to train here: every one (``all``), the first
        ``FIRST_EPOCHS`` (``auto``: check them with ``check_first_epochs``, then use the shipped weights) or
        none (loading)."""
        return {"all": epochs, "auto": min(epochs, FIRST_EPOCHS), "load": 0}[self.setting]

    def describe(self, seeds) -> str:
        """One line for the training cell: which seeds train here and which come from the shipped run."""
        here = self.seeds_to_train(seeds)
        if not here:
            return "not training here: every seed's results below are the shipped run's"
        if len(here) == len(list(seeds)):
            return f"training every seed here: {', '.join(map(str, here))}"
        rest = [s for s in seeds if s not in here]
        return (f"training seed {here[0]} here (checked against the shipped run); seeds "
                f"{', '.join(map(str, rest))} are loaded from the shipped run ({TRAIN_ENV}=all trains them all)")

    def shipped(self, name: str | None = None) -> dict[str, np.ndarray]:
        """An experiment's arrays as the shipped run stored them (``name=None``: every array of the file,
        under its own name, for files that hold one experiment)."""
        with np.load(self.path) as f:
            if name is None:
                return {k: f[k] for k in f.files}
            found = {k.split("__", 1)[1]: f[k] for k in f.files if k.startswith(name + "__")}
        if not found:
            raise KeyError(f"{self.path.name} holds no results of {name!r}.")
        return found

    def keep(self, name: str, **arrays) -> None:
        """Store an experiment's arrays in the shipped file, only when making it (``CNN_COURSE_SAVE=1``)."""
        if not self.save:
            return
        stored = {}
        if self.path.exists():
            with np.load(self.path) as f:
                stored = {k: f[k] for k in f.files}
        stored.update({f"{name}__{k}": np.asarray(v) for k, v in arrays.items()})
        save_npz(self.path, stored)             # whole or absent, never half a file

    def check(self, name: str | None, index=None, atol: float = 0.0, **arrays) -> None:
        """Compare what trained here with the shipped run: ``arrays[k]`` against ``shipped(name)[k]``
        (``[index]`` of it, e.g. the row of one seed, or a slice of the first seeds), within ``atol``.

        Machines differ in float rounding, and a training run amplifies the differences, so compare with
        a tolerance of the size of the result's own noise (for an accuracy, about its standard error).
        Raises AssertionError with both values when they differ by more.
        """
        stored = self.shipped(name)
        for key, value in arrays.items():
            expected = stored[key] if index is None else stored[key][index]
            value, expected = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
            if value.shape != expected.shape or not np.allclose(value, expected, rtol=0, atol=atol,
                                                                equal_nan=True):
                where = f"{name or self.path.name}, {key}" + ("" if index is None else f" (seed row {index})")
                raise AssertionError(f"{where}: trained here {np.round(value, 4)}, shipped {np.round(expected, 4)}; "
                                     f"they differ by more than {atol}.")
