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
