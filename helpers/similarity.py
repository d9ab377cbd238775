"""What is similar to what: nearest neighbours and a 2-D picture of many vectors (notebook 11).

    nearest(queries, pool, k)     the k nearest rows of ``pool`` to each query (Euclidean distance)
    pca(vectors, k)               principal component analysis by the SVD: the k directions of largest spread

Vectors are rows: (N, D). Images (N, C, H, W) are flattened to (N, C*H*W) by the caller, and a network's
features come from ``helpers.interpret.feature_maps``.
"""
from __future__ import annotations

import numpy as np

from ._arguments import as_real_array, positive_int

__all__ = ["nearest", "pca"]


def _rows(a, name: str) -> np.ndarray:
    a = as_real_array(a, name)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of vectors (N, D), got shape {a.shape}. "
                         f"Flatten images first: {name}.reshape(len({name}), -1).")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds NaN or infinite values.")
    return a.astype(np.float64)


def nearest(queries, pool, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``pool`` (M, D) nearest to each row of ``queries`` (Q, D), by Euclidean distance.

    ``exclude``: optional (Q,) indices into ``pool``, one per query, never returned for that query (the
    query itself, when the queries are taken from the pool). Returns ``index`` (Q, k) ints into ``pool``,
    nearest first, and ``distance`` (Q, k).

    The squared distance is |q|^2 - 2 q.p + |p|^2: one matrix product for all pairs.
    """
    q, p = _rows(queries, "queries"), _rows(pool, "pool")
    if q.shape[1] != p.shape[1]:
        raise ValueError(f"queries and pool must have vectors of the same length, got {q.shape[1]} and {p.shape[1]}.")
    k = positive_int(k, "k")
    if exclude is not None:
        exclude = np.asarray(exclude)
        if exclude.shape != (len(q),) or not np.issubdtype(exclude.dtype, np.integer):
            raise ValueError(f"exclude must hold one pool index per query, shape ({len(q)},), got {exclude.shape}.")
    available = len(p) - (exclude is not None)
    if k > available:
        raise ValueError(f"k must be at most {available} (the pool has {len(p)} vectors), got {k}.")
    d2 = (q ** 2).sum(axis=1)[:, None] - 2 * q @ p.T + (p ** 2).sum(axis=1)[None, :]
    d2 = np.maximum(d2, 0.0)                                # rounding can make a 0 slightly negative
    if exclude is not None:
        d2[np.arange(len(q)), exclude] = np.inf
    index = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return index, np.sqrt(np.take_along_axis(d2, index, axis=1))


def pca(vectors, k: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal component analysis of ``vectors`` (N, D) by the singular value decomposition.

    Centre the vectors (subtract the mean of each column), then X = U S V^T: the rows of V^T are the
    directions of largest spread, in order, and the coordinates of the vectors along them are X V = U S.
    Returns ``projected`` (N, k), ``components`` (k, D) (unit vectors, each with its sign fixed so that
    its largest entry is positive) and ``explained`` (k,), the fraction of the total variance along each.
    """
    x = _rows(vectors, "vectors")
    k = positive_int(k, "k")
    if k > min(x.shape):
        raise ValueError(f"k must be at most {min(x.shape)} (the smaller of N and D), got {k}.")
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:k]
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]                # a direction and its opposite are the same axis
    total = float((s ** 2).sum())
    explained = s[:k] ** 2 / total if total > 0 else np.zeros(k)
    return centred @ components.T, components, explained
