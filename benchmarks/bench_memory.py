"""Benchmark of memory: each notebook's kernel peak memory, run top to bottom in a fresh kernel.

    make bench      (or: python -m benchmarks.bench_memory [--notebooks 07 09] [--no-training] [--epochs N])

A learner's kernel on a JupyterHub or on Binder gets a fixed share of memory (Binder guarantees 1 GB
and stops a kernel past 2 GB; a hub of 16 GB for a class of 30 leaves about 500 MB each). So each
notebook has a budget for the peak resident memory (VmHWM, the most physical memory the kernel process
held at any moment) of its kernel, on the course's default settings:

- with the shipped weights (``CNN_COURSE_TRAIN=0``): at most 500 MB;
- training its networks (``CNN_COURSE_TRAIN=1``, for the notebooks that ask ``should_train``, and only
  when the full Fashion-MNIST is on this machine): at most 1 GB.

Training takes minutes per notebook, and its peak is reached in the first epoch: its first steps
allocate every buffer a step needs, and the evaluation at the end of the epoch allocates what
evaluation needs; later epochs reuse them (notebook 07 trained in full, once: 653 MB; capped at one
epoch per network: 651 MB, measured on the same day). So the "with training" runs cap every call of
``helpers.training.fit`` at ``--epochs`` epochs (default 1; set by ``CNN_COURSE_BENCH_EPOCHS`` for
``make bench``; 0 trains as the notebook says). A capped network misses the accuracy floor its
training cell asserts, and a cell that keeps the weights of epoch 5 finds none: in capped runs errors
are listed and the cells after them still run, but they are not failures (uncapped, any error is). The
table says which runs were capped.

Memory is in MB of 1,000,000 bytes. Each notebook runs in a temporary copy of the repository's
``helpers/``, ``data/`` and ``notebooks/``, so a training run never overwrites the shipped weights.
The cell in which each run reached its peak is printed, with how much that cell added, to show where
the memory goes. Exit status 1 if a budget is passed or a notebook fails.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from i18n import LANGUAGES  # noqa: E402

BUDGET_SHIPPED_MB = 500
BUDGET_TRAINING_MB = 1000
EPOCHS_ENV = "CNN_COURSE_BENCH_EPOCHS"

# Run first in a "with training" kernel: every fit() call trains at most CAP epochs. The notebooks
# import fit from helpers.training after this cell, so they get the capped one.
_CAP_CELL = """\
import helpers.training as _training
_fit = _training.fit
def _capped_fit(*args, epochs=1, **kwargs):
    return _fit(*args, epochs=min(epochs, {cap}), **kwargs)
_training.fit = _capped_fit
"""

# Run last: the kernel's own record of its peak, where /proc is missing (macOS).
_PEAK_CELL = """\
import resource as _resource, sys as _sys
_peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss
print("PEAK_BYTES", _peak if _sys.platform == "darwin" else _peak * 1024)
"""


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of process ``pid``, in bytes (empty where /proc does not exist)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def _first_line(cell) -> str:
    lines = [s for s in cell.source.splitlines() if s.strip() and not s.lstrip().startswith("#")]
    return (lines[0] if lines else "").strip()[:60]


def data_found() -> bool:
    """Whether the full Fashion-MNIST is on this machine (without downloading it)."""
    from helpers.datasets import DatasetNotFoundError, load_fashion_mnist

    try:
        load_fashion_mnist(download=False)
    except (DatasetNotFoundError, OSError, ValueError):
        return False
    return True


def trains(path: Path) -> bool:
    """Whether the notebook trains only when asked to (``should_train`` or ``helpers.runs.Runs``): those get a
    training run."""
    nb = nbformat.read(path, as_version=4)
    return any("should_train(" in c.source or "Runs(" in c.source for c in nb.cells if c.cell_type == "code")


def measure(path: Path, env: dict[str, str], cap: int | None = None) -> dict:
    """Run notebook ``path`` in a fresh kernel with the environment ``env``; its peak memory and more."""
    nb = nbformat.read(path, as_version=4)
    first = 0
    if cap is not None:
        nb.cells.insert(0, nbformat.v4.new_code_cell(_CAP_CELL.format(cap=cap)))
        first = 1
    nb.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    record = {"cells": [], "errors": []}

    def after_cell(cell, cell_index, execute_reply):
        pid = getattr(getattr(client.km, "provisioner", None), "process", None)
        status = _status(pid.pid) if pid is not None else {}
        record["cells"].append((cell_index - first, _first_line(cell), status.get("VmHWM"), status.get("VmRSS")))
        if execute_reply and execute_reply.get("content", {}).get("status") == "error":
            content = execute_reply["content"]
            record["errors"].append((cell_index - first, content.get("ename"), content.get("evalue", "")[:120]))

    old_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)            # the kernel inherits this process's environment
    client = NotebookClient(nb, timeout=3600, kernel_name="python3", allow_errors=cap is not None,
                            resources={"metadata": {"path": str(path.parent)}}, on_cell_executed=after_cell)
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        record["errors"].append((None, type(exc).__name__, str(exc).strip().splitlines()[-1][:120]))
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    record["seconds"] = time.perf_counter() - start
    peaks = [c[2] for c in record["cells"] if c[2] is not None]
    if peaks:
        record["peak"] = max(peaks)
    else:                                              # no /proc: the kernel's own figure, from the last cell
        text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
        record["peak"] = int(text.split()[-1]) if "PEAK_BYTES" in text else None
    # where the memory went: the cell that raised the peak most, and the cell that set it
    rises, before = [], 0
    for index, line, hwm, _ in record["cells"][:-1]:
        if hwm is not None:
            rises.append((hwm - before, index, line))
            before = hwm
    record["rises"] = sorted(rises, reverse=True)[:3]
    return record


def _copy_course(root: Path, where: Path) -> Path:
    """A copy of the course to run: the English notebooks (those in notebooks/<lang>/ only translate their
    markdown: scripts/i18n.py), helpers/ and data/."""
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for part in ("helpers", "data", "notebooks"):
        shutil.copytree(root / part, where / part, ignore=lambda folder, names: [
            *skip(folder, names), *(n for n in names if Path(folder) == root / "notebooks" and n in LANGUAGES)])
    return where / "notebooks"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="*", default=None, help="numbers, e.g. 07 09 (default: all)")
    parser.add_argument("--no-training", action="store_true", help="only the runs with the shipped weights")
    parser.add_argument("--epochs", type=int, default=int(os.environ.get(EPOCHS_ENV, "1")),
                        help=f"cap of epochs per fit() call in training runs (0: no cap; default ${EPOCHS_ENV} or 1)")
    parser.add_argument("--cells", action="store_true", help="print every cell's peak and current memory")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course to measure (default: this one)")
    args = parser.parse_args(argv)
    if args.epochs < 0:
        parser.error(f"--epochs (or {EPOCHS_ENV}) must be 0 (no cap) or more, got {args.epochs}.")
    paths = sorted((args.root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        paths = [p for p in paths if p.name[:2] in {n.zfill(2) for n in args.notebooks}]
    with_data = data_found()
    print(f"Peak memory of each notebook's kernel (VmHWM), MB of 10^6 bytes; budgets: {BUDGET_SHIPPED_MB} MB "
          f"with the shipped weights, {BUDGET_TRAINING_MB} MB training. Full Fashion-MNIST "
          f"{'found' if with_data else 'not found: no training runs'}.")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        notebooks = _copy_course(args.root, Path(tmp))
        for path in paths:
            plans = [("shipped weights", {"CNN_COURSE_TRAIN": "0"}, None, BUDGET_SHIPPED_MB)]
            if with_data and not args.no_training and trains(path):
                cap = args.epochs or None
                what = f"training, {cap} epoch{'s' * (cap != 1)} per fit" if cap else "training, full"
                plans.append((what, {"CNN_COURSE_TRAIN": "1"}, cap, BUDGET_TRAINING_MB))
            for what, env, cap, budget in plans:
                r = measure(notebooks / path.name, env, cap)
                r.update(name=path.stem, what=what, budget=budget, capped=cap is not None)
                runs.append(r)
                _print_run(r, args.cells)
    return _summary(runs)


def _mb(n) -> str:
    return "?" if n is None else f"{n / 1e6:,.0f}"


def _print_run(r: dict, cells: bool = False) -> None:
    print(f"\n{r['name']} ({r['what']}): peak {_mb(r['peak'])} MB (budget {r['budget']:,}), {r['seconds']:.0f} s")
    if cells:
        for index, line, hwm, rss in r["cells"][:-1]:
            print(f"  cell {index:>3}: peak {_mb(hwm):>5} MB, now {_mb(rss):>5} MB: {line}")
    for rise, index, line in r["rises"]:
        start = " (with the kernel's start)" if index == r["cells"][0][0] else ""
        print(f"  cell {index:>3} raised the peak by {_mb(rise):>5} MB{start}: {line}")
    for index, name, value in r["errors"]:
        print(f"  error in cell {index}: {name}: {value}")


def _summary(runs: list) -> int:
    failures = []
    print(f"\n{'notebook':<38}{'run':<28}{'peak MB':>9}{'budget':>8}  verdict")
    print("-" * 92)
    for r in runs:
        # capped training misses its accuracy floors, and a cell that expects epoch 5 finds none: errors
        # are expected there (listed above), and the cells after them still run; uncapped, none is
        bad = [] if r["capped"] else r["errors"]
        over = r["peak"] is None or r["peak"] > r["budget"] * 1e6
        verdict = "over budget" if over else "ok"
        if bad:
            verdict += f", {len(bad)} error(s)"
        elif r["errors"]:
            verdict += f" ({len(r['errors'])} error(s) of capped training)"
        print(f"{r['name']:<38}{r['what']:<28}{_mb(r['peak']):>9}{r['budget']:>8,}  {verdict}")
        if over or bad:
            failures.append(f"{r['name']} ({r['what']}): {verdict}, peak {_mb(r['peak'])} MB")
    print()
    if failures:
        print("MISSED TARGETS:")
        for f in failures:
            print("  -", f)
        return 1
    print("All notebooks within their memory budgets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
