"""Checks of the arguments that the package's functions and layers are called with.

(Not to be confused with ``helpers.checks``, the self-checks of the notebooks' exercises.) Every error
says which argument was wrong, what it was, and how to fix it, because the person reading it is usually
a learner in the middle of a notebook.
"""
from __future__ import annotations

import numpy as np


def as_real_array(a, name: str, empty_ok: bool = False) -> np.ndarray:
    """Return ``a`` as a numpy array of real numbers, or raise a TypeError/ValueError naming ``name``.

    ``empty_ok``: accept an array with no values (an empty batch), instead of calling it an error.
    """
    arr = np.asarray(a)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(
            f"{name} must be an array of numbers, got dtype {arr.dtype}. "
            f"Convert it first, e.g. np.asarray({name}, dtype=np.float32)."
        )
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(
            f"{name} must hold real numbers, got complex dtype {arr.dtype}. Use np.real({name}) or np.abs({name})."
        )
    if arr.size == 0 and not empty_ok:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one value along every axis.")
    return arr


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The floating dtype to compute in: the smallest float that holds every input exactly.

    float32 stays float32, and so does uint8 (every 0..255 value is exact in float32); float64, int32 or
    int64 anywhere gives float64.

    Integer images (uint8 above all) are converted, because uint8 arithmetic wraps around silently:
    200 + 100 == 44 in uint8.
    """
    return np.result_type(*[a.dtype for a in arrays], np.float32)


def pair(value, name: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(2, 1)`` -> ``(2, 1)``; anything else is an error naming ``name``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        return int(value[0]), int(value[1])
    raise TypeError(f"{name} must be an int or a pair of ints (rows, cols), got {value!r}.")


def positive_int(value, name: str) -> int:
    """``value`` as an int of at least 1, or an error naming ``name`` (2.5, True and 0 are refused)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value!r}.")
    return int(value)


def positive_pair(value, name: str) -> tuple[int, int]:
    """Like :func:`pair`, but each value must be at least 1 (stride, dilation, pooling window)."""
    p = pair(value, name)
    if min(p) < 1:
        raise ValueError(f"{name} must be at least 1, got {value!r}. A {name} of 1 moves/uses every pixel.")
    return p


def real_number(value, name: str) -> float:
    """``value`` as a finite float, or an error naming ``name`` ("0.1", True, None and NaN are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}). "
                        f"Write it without quotes, e.g. {name}=0.01.")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return float(value)


def number_in(value, name: str, low: float, high: float, low_open: bool = False, high_open: bool = False,
              meaning: str = "") -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (ends open or closed), or an
    error naming ``name``, the interval and, if given, what the number means."""
    v = real_number(value, name)
    if (v < low or (low_open and v == low)) or (v > high or (high_open and v == high)):
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        hi = "infinity" if high == np.inf else f"{high:g}"
        why = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be in {left}{low:g}, {hi}{right}{why}, got {value!r}.")
    return v


def boolean(value, name: str) -> bool:
    """``value`` as a bool, or an error naming ``name`` (the string "no" is not False, and would be true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    return bool(value)


def generator(rng, name: str = "rng") -> np.random.Generator:
    """A numpy random Generator from ``rng``: the course's one meaning of a random-state argument.

    ``None`` is seed 0 (the same numbers on every run: a notebook re-run shows the same results), an int
    is a seed, and a Generator is used as it is (draws from it advance it). Everywhere in helpers
    (layers, augmentation) ``rng`` means this.
    """
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"{name} must be None (seed 0), a seed (int) or a numpy Generator, got {type(rng).__name__}.")


def class_indices(values, n: int, name: str) -> np.ndarray:
    """One class index, or one per image, as (n,) int64 (the range is checked where the classes are known)."""
    c = np.asarray(values)
    if c.dtype == bool or not np.issubdtype(c.dtype, np.integer):
        raise TypeError(f"{name} must be integers (one class index, or one per image), got {c.dtype} {values!r:.60}.")
    if c.ndim > 1 or (c.ndim == 1 and len(c) != n):
        raise ValueError(f"{name} must be one int or {n} ints (one per image), got shape {c.shape}.")
    return np.broadcast_to(c, (n,)).astype(np.int64)
