"""Self-checks for the exercises: ``check_xxx(answer)`` says whether an answer is right and, if not, why.

Each check prints one line starting with "Correct:" or "Not yet:" and returns True or False, so a test
can call it too. A wrong answer gets a hint aimed at the usual mistake, never the solution itself.
"""
from __future__ import annotations

import numpy as np


class Verdict:
    """What a check returns: true or false like a bool, for tests and ``if`` statements.

    In a notebook it shows nothing (a bare ``False`` under the hint would only confuse): the printed
    line has already said everything.
    """

    __slots__ = ("ok",)

    def __init__(self, ok: bool):
        self.ok = bool(ok)

    def __bool__(self) -> bool:
        return self.ok

    def __eq__(self, other):
        return self.ok == bool(other) if isinstance(other, (bool, Verdict)) else NotImplemented

    def __hash__(self):
        return hash(self.ok)

    def __repr__(self) -> str:
        return f"Verdict({self.ok})"

    def _ipython_display_(self):
        """Display nothing."""


def call_learner(fn, *args):
    """Run the learner's function; (result, None) or (None, the message to print)."""
    if fn is ... or fn is None:
        return None, "Define your function first, then pass it (without calling it) to the check."
    try:
        got = fn(*args)
    except Exception as exc:   # the learner's code
        return None, f"your function raised {type(exc).__name__}: {exc}"
    if got is None:
        return None, "your function returned None: end it with `return` and the result."
    return got, None


#: how a verdict starts: plain words, which every font shows (an emoji mark needs an emoji font, and
#: shows as an empty box where none is installed); the message after the colon starts in lower case.
CORRECT = "Correct:"
NOT_YET = "Not yet:"


def report(ok: bool, message: str) -> Verdict:
    """Print the verdict of a check ("Correct: ..." or "Not yet: ...") and return it."""
    print(f"{CORRECT if ok else NOT_YET} {message}")
    return Verdict(ok)


def answer_array(answer, placeholder: str):
    """The learner's ``answer`` as a float64 array, or the Verdict that says what is wrong with it: still the
    ``...`` of the exercise (``placeholder`` says what replaces it), or not numbers."""
    if answer is ... or answer is None:
        return report(False, f"Replace the ... with {placeholder}.")
    try:
        return np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return report(False, f"the answer should be an array of numbers, got {type(answer).__name__}.")


def largest_difference(answer: np.ndarray, expected: np.ndarray) -> tuple[int, ...]:
    """The index (plain ints) where ``answer`` and ``expected``, arrays of one shape, differ the most."""
    where = np.unravel_index(np.argmax(np.abs(answer - expected)), expected.shape)
    return tuple(int(i) for i in where)


def usual_mistake(value, right, wrong, close) -> str | None:
    """The hint of the first usual mistake ``value`` matches, or None.

    ``wrong``: (what that mistake gives, its hint) pairs; ``close(a, b)``: do two answers agree? A mistake
    that gives the right answer for these inputs is skipped, so no right answer is told it is wrong.
    """
    for candidate, hint in wrong:
        if close(value, candidate) and not close(candidate, right):
            return hint
    return None


def compare_array(answer, expected, name: str = "your answer", atol: float = 1e-6) -> tuple[bool, str]:
    """Compare an array answer with the expected one. Returns (ok, explanation of the first difference)."""
    try:
        answer = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False, f"{name} should be an array of numbers, got {type(answer).__name__}."
    expected = np.asarray(expected, dtype=float)
    if answer.shape != expected.shape:
        return False, f"{name} has shape {answer.shape}, expected {expected.shape}."
    if not np.allclose(answer, expected, atol=atol):
        index = largest_difference(answer, expected)
        return False, f"{name} differs at index {index}: got {answer[index]:.4g}, expected {expected[index]:.4g}."
    return True, f"{name} matches."
