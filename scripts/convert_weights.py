"""Rename the arrays of weight files saved before the layers were a tree (run once per file; idempotent).

    python scripts/convert_weights.py [FILE.npz ...]     (every data/*.npz when none is given)

A residual block used to save the arrays of the layers inside it under flat names, ``"4.body0_W"``,
``"4.short1_running_var"``; now a block's layers are children of the block, and every array is saved
under its path in the tree: ``"4.body.0.W"``, ``"4.shortcut.1.running_var"``. This script renames the
old names to the new ones and leaves every value as it was, bit for bit. A file that has no old name
(already converted, or a model without residual blocks) is left alone, untouched; the other arrays
of a file (a history, results) keep their names. A converted file is written to a temporary file and
renamed over the old one, so an interrupted run never leaves half a file.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: an old flat name inside a residual block: "body" or "short", the layer's index, "_", the rest
_OLD = re.compile(r"^(body|short)(\d+)_(.+)$")
_PATHS = {"body": "body", "short": "shortcut"}


def new_name(key: str) -> str:
    """``"4.body0_W"`` -> ``"4.body.0.W"``; blocks inside blocks too (``"4.body2_short0_b"`` ->
    ``"4.body.2.shortcut.0.b"``); any other name unchanged."""
    top, dot, rest = key.partition(".")
    if not dot or not top.isdigit():
        return key                              # not a parameter (a history, a result): keep it
    parts = [top]
    while (m := _OLD.match(rest)) is not None:
        parts += [_PATHS[m.group(1)], m.group(2)]
        rest = m.group(3)
    return ".".join(parts + [rest])


def convert(path: Path) -> bool:
    """Rename the old names in ``path``; True if the file was rewritten, False if it was left alone."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    renamed = {new_name(k): v for k, v in arrays.items()}
    if list(renamed) == list(arrays):
        return False
    if len(renamed) != len(arrays):
        raise ValueError(f"{path}: two arrays would get the same new name; nothing was changed.")
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **renamed)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def main(argv: list[str]) -> None:
    files = [Path(a) for a in argv] or sorted((ROOT / "data").glob("*.npz"))
    for path in files:
        done = convert(path)
        print(f"{path.name}: {'converted to the new names' if done else 'no old names, left alone'}")


if __name__ == "__main__":
    main(sys.argv[1:])
