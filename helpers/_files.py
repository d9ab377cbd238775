"""Writing a file so that it is whole or absent: downloads, copies of the data, saved weights and results.

An interrupted write (a full disk, a killed kernel) must never leave half a file where a notebook will
later look for a whole one, so every write goes to a temporary file next to the target and is renamed
over it, which the operating system does at once.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_atomically", "save_npz"]


def write_atomically(dest, data: bytes) -> Path:
    """Write ``data`` to a temporary file next to ``dest``, then rename it: ``dest`` is whole or absent."""
    dest = Path(dest)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def save_npz(path, arrays: dict) -> Path:
    """Save ``{name: array}`` as a compressed .npz file, atomically (numpy's own format: never pickled)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_atomically(path, buffer.getvalue())


def _umask() -> int:
    mask = os.umask(0)       # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask
