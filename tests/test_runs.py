"""helpers.runs: which seeds train here, the check against the shipped run, and saving only when asked."""
import numpy as np
import pytest

from helpers.runs import SAVE_ENV, TRAIN_ENV, Runs, should_train, train_setting

SEEDS = [0, 1, 2]


@pytest.fixture
def shipped(tmp_path):
    path = tmp_path / "runs.npz"
    np.savez_compressed(path, **{"exp__val_acc": np.array([[0.80, 0.85], [0.81, 0.86], [0.79, 0.84]]),
                                 "other__loss": np.array([1.0, 0.5])})
    return path


@pytest.mark.parametrize("value, found, setting, seeds", [
    ("auto", True, "auto", [0]), (None, True, "auto", [0]), ("auto", False, "load", []),
    ("all", True, "all", SEEDS), ("1", True, "all", SEEDS), ("0", True, "load", []), ("0", False, "load", []),
])
def test_the_setting_decides_which_seeds_train_here(monkeypatch, shipped, value, found, setting, seeds):
    if value is None:
        monkeypatch.delenv(TRAIN_ENV, raising=False)
    else:
        monkeypatch.setenv(TRAIN_ENV, value)
    runs = Runs(shipped, data_found=found)
    assert runs.setting == train_setting(found) == setting
    assert runs.seeds_to_train(SEEDS) == seeds
    assert runs.train == should_train(found) == (setting != "load")
    described = runs.describe(SEEDS)
    assert ("loaded from the shipped run" in described) == (setting == "auto")


def test_all_without_the_data_and_unknown_settings_are_errors(monkeypatch, shipped):
    monkeypatch.setenv(TRAIN_ENV, "all")
    with pytest.raises(RuntimeError, match="dataset was not found"):
        Runs(shipped, data_found=False)
    monkeypatch.setenv(TRAIN_ENV, "some")
    with pytest.raises(ValueError, match="auto, all or 0"):
        Runs(shipped, data_found=True)
    monkeypatch.setenv(TRAIN_ENV, "auto")
    monkeypatch.setenv(SAVE_ENV, "1")                 # the shipped files are made with every seed
    with pytest.raises(RuntimeError, match=f"{TRAIN_ENV}=all"):
        Runs(shipped, data_found=True)
    monkeypatch.setenv(SAVE_ENV, "maybe")
    with pytest.raises(ValueError, match="0 or 1"):
        Runs(shipped, data_found=True)


def test_check_compares_one_seed_row_within_the_tolerance(monkeypatch, shipped):
    monkeypatch.setenv(TRAIN_ENV, "auto")
    runs = Runs(shipped, data_found=True)
    runs.check("exp", index=1, atol=0.01, val_acc=[0.815, 0.855])
    with pytest.raises(AssertionError, match="seed row 1.*differ by more than 0.01"):
        runs.check("exp", index=1, atol=0.01, val_acc=[0.80, 0.855])
    with pytest.raises(AssertionError):
        runs.check("exp", index=0, atol=0.01, val_acc=[0.80])          # a different shape
    runs.check("other", loss=[1.0, 0.5])
    with pytest.raises(KeyError, match="no results of 'missing'"):
        runs.shipped("missing")


def test_keep_writes_only_when_making_the_shipped_files(monkeypatch, shipped):
    monkeypatch.setenv(TRAIN_ENV, "all")
    monkeypatch.delenv(SAVE_ENV, raising=False)
    before = shipped.read_bytes()
    Runs(shipped, data_found=True).keep("new", x=[1, 2])
    assert shipped.read_bytes() == before
    monkeypatch.setenv(SAVE_ENV, "1")
    runs = Runs(shipped, data_found=True)
    runs.keep("new", x=[1, 2])
    np.testing.assert_array_equal(runs.shipped("new")["x"], [1, 2])
    np.testing.assert_array_equal(runs.shipped("exp")["val_acc"][2], [0.79, 0.84])    # the rest kept


@pytest.mark.parametrize("value, found, epochs", [("auto", True, 2), ("all", True, 14), ("0", True, 0),
                                                  ("auto", False, 0)])
def test_a_long_main_run_trains_its_first_epochs_under_auto(monkeypatch, shipped, value, found, epochs):
    monkeypatch.setenv(TRAIN_ENV, value)
    assert Runs(shipped, data_found=found).epochs_to_train(14) == epochs
    assert Runs(shipped, data_found=found).epochs_to_train(1) == min(epochs, 1)


def test_the_first_epochs_are_checked_against_the_shipped_run():
    from helpers.runs import check_first_epochs

    shipped = [0.881, 0.9072, 0.9192, 0.93]
    line = check_first_epochs([0.8790, 0.9100], shipped, atol=0.01)
    assert "here 0.8790, 0.9100" in line and "shipped run 0.8810, 0.9072" in line
    with pytest.raises(AssertionError, match="differ by more than 0.01"):
        check_first_epochs([0.881, 0.8900], shipped, atol=0.01)          # the second epoch is off
    with pytest.raises(ValueError, match="val_acc_here"):
        check_first_epochs([], shipped)
    with pytest.raises(ValueError, match="val_acc_here"):
        check_first_epochs([0.9] * 5, shipped)                            # more epochs than the shipped run


def test_keep_writes_whole_files_or_leaves_the_old_one(monkeypatch, shipped):
    import helpers._files as files

    monkeypatch.setenv(TRAIN_ENV, "all")
    monkeypatch.setenv(SAVE_ENV, "1")
    runs = Runs(shipped, data_found=True)
    before = shipped.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        runs.keep("new", val_acc=np.array([0.5]))
    assert shipped.read_bytes() == before                                  # the old file, untouched
    assert [p.name for p in shipped.parent.iterdir()] == [shipped.name]    # no half-written file left
    monkeypatch.undo()
    monkeypatch.setenv(TRAIN_ENV, "all")
    monkeypatch.setenv(SAVE_ENV, "1")
    Runs(shipped, data_found=True).keep("new", val_acc=np.array([0.5]))
    assert Runs(shipped, data_found=True).shipped("new")["val_acc"].tolist() == [0.5]
    assert Runs(shipped, data_found=True).shipped("exp")["val_acc"].shape == (3, 2)
