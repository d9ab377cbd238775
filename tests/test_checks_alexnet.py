"""Notebook 08's self-check on the architecture explorer: the right count passes, usual mistakes are refused
with their hint."""
import numpy as np
import pytest

from helpers.checks.alexnet import check_first_dense_params
from helpers.models import alexnet
from helpers.widgets.architecture import ArchitectureExplorer


@pytest.fixture(scope="module")
def net():
    return alexnet()


def test_the_explorers_number_is_accepted(net, capsys):
    ex = ArchitectureExplorer("alexnet", model=net, width=4096)
    ex.size.value = 256
    right = next(r["params"] for r in ex.rows if r["label"].startswith("Dense"))
    assert right == 256 * 7 * 7 * 4096 + 4096 == 51_384_320          # the notebook's solution
    assert check_first_dense_params(right, net, 256)
    assert check_first_dense_params(np.int64(right), net, 256)
    assert capsys.readouterr().out.startswith("Correct: at 256x256 the last pooling gives 256 x 7 x 7 = 12,544")


@pytest.mark.parametrize("answer, hint", [
    (..., "Replace the ..."),
    ("51384320", "give a number"),
    (True, "give a number"),
    (37_752_832, "that is the count at 224x224"),
    (12_544 * 4096, "add one bias per output"),
    (round(37_752_832 * (256 / 224) ** 2), "does not grow with the image's area exactly"),
    (51_384_321, "is not it"),
])
def test_wrong_answers_are_refused_with_their_hint(net, capsys, answer, hint):
    assert not check_first_dense_params(answer, net, 256)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out
