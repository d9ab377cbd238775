"""Run notebooks top to bottom in a fresh kernel and store them with their outputs and widget state.

    python scripts/execute_notebooks.py notebooks/*.ipynb

This is what `make execute` does. Each notebook runs with notebooks/ as its working directory, so the
stored outputs are exactly what a learner gets from Restart & Run All, and execution counts go 1, 2, 3...
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 3600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True, record_timing=False,   # no timestamps: a re-run changes only what changed
    )
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit("usage: python scripts/execute_notebooks.py NOTEBOOK.ipynb [...]")
    for p in paths:
        seconds = execute(Path(p))
        print(f"{p}: executed in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
