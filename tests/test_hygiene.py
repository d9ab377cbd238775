"""Lint and notebook hygiene: what a contributor's change must keep true.

- ruff passes over helpers/, tests/, benchmarks/, scripts/ and the notebooks (ruff reads .ipynb itself);
- every notebook is stored executed in order (execution counts 1, 2, 3, ...), with no error output
  except in cells tagged raises-exception, and with its widget state saved when it shows explorers,
  so GitHub and nbviewer show each explorer's last picture.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_ruff_passes():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [ruff, "check", "helpers", "tests", "benchmarks", "scripts", "notebooks"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_executed_in_order(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"execution counts are {counts[:15]}...: run `make execute` to re-run it top to bottom in a fresh kernel"
    )
    for i, cell in enumerate(code, 1):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"code cell {i} stored an error: {errors[0].get('ename')}"
        assert "execution" not in cell.get("metadata", {}), (
            f"code cell {i} stores execution timestamps, which change on every run: use `make execute`"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_with_widgets_saves_their_state(path):
    nb = json.loads(path.read_text())
    shows_widgets = any(
        WIDGET_VIEW in o.get("data", {}) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
    )
    if not shows_widgets:
        return
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    assert state, "the notebook shows widgets but saved no widget state: re-run it with `make execute`"
    assert any(m.get("model_name") == "ImageModel" for m in state.values()), "no explorer image in the saved state"
