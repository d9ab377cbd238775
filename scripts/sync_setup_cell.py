"""Copy notebooks/_setup_cell.py into the set-up cell (the first code cell) of every notebook.

    python scripts/sync_setup_cell.py            # update notebooks/NN_*.ipynb where they differ
    python scripts/sync_setup_cell.py --check    # change nothing; exit 1 and name those that differ
    python scripts/sync_setup_cell.py notebooks/07_training.ipynb    # only these

Only the cell's source and the metadata that fold it change: its outputs and execution count stay, so
nbval and the stored outputs are unaffected (the set-up cell prints nothing where the course is
present). The cell is folded where the front end allows: JupyterLab hides its source
(``"jupyter": {"source_hidden": true}``) and Colab shows it as a form with the title of its first line
(``# @title ...`` and ``"cellView": "form"``). A notebook whose first code cell is not a set-up cell
(it does not start with "# @title Set-up" or "# Set-up") gets one inserted before it, and then needs
`make execute` to renumber its cells. tests/test_hygiene.py checks that every notebook is
in step with the file.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SETUP_FILE = ROOT / "notebooks" / "_setup_cell.py"
#: how a set-up cell starts (the second: before it had a Colab form title)
MARKS = ("# @title Set-up", "# Set-up")
#: the cell metadata that folds the set-up cell: hidden source in JupyterLab, a form in Colab
FOLDED = {"jupyter": {"source_hidden": True}, "cellView": "form"}


def setup_source(path: Path = SETUP_FILE) -> str:
    """The set-up cell's source, as a notebook cell holds it (no trailing newline)."""
    return path.read_text(encoding="utf-8").rstrip("\n")


def default_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def sync(nb, source: str) -> str | None:
    """Put ``source`` in the notebook's set-up cell, folded. Returns what changed ("updated", "inserted") or None."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if code and nb.cells[code[0]].source.lstrip().startswith(MARKS):
        cell = nb.cells[code[0]]
        if cell.source == source and is_folded(cell):
            return None
        cell.source = source
        fold(cell)
        return "updated"
    cell = nbformat.v4.new_code_cell(source)
    fold(cell)
    nb.cells.insert(code[0] if code else len(nb.cells), cell)
    return "inserted"


def is_folded(cell) -> bool:
    """Whether the cell carries the metadata that folds it in JupyterLab and Colab."""
    meta = cell.get("metadata", {})
    return meta.get("jupyter", {}).get("source_hidden") is True and meta.get("cellView") == "form"


def fold(cell) -> None:
    """Add the folding metadata to the cell, keeping whatever else its metadata holds (tags...)."""
    cell.metadata.setdefault("jupyter", {}).update(FOLDED["jupyter"])
    cell.metadata["cellView"] = FOLDED["cellView"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/NN_*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook differs")
    args = parser.parse_args(argv)
    source = setup_source()
    stale = []
    for path in args.notebooks or default_notebooks():
        nb = nbformat.read(path, as_version=4)
        change = sync(nb, source)
        if change is None:
            continue
        stale.append(path)
        if args.check:
            print(f"{path}: the set-up cell differs from {SETUP_FILE.name} or is not folded")
            continue
        nbformat.write(nb, path)
        note = " (a new cell: run `make execute` on it to renumber its cells)" if change == "inserted" else ""
        print(f"{path}: set-up cell {change}{note}")
    if args.check and stale:
        print("run: python scripts/sync_setup_cell.py")
        return 1
    if not stale:
        print("every set-up cell is in step with " + SETUP_FILE.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
