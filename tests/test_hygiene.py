"""Lint and notebook hygiene: what a contributor's change must keep true.

- ruff passes over helpers/, tests/, benchmarks/, scripts/ and the notebooks (ruff reads .ipynb itself);
- every notebook's set-up cell (its first code cell) is notebooks/_setup_cell.py, and that cell, run as
  in Colab, fetches the course or, when it cannot, prints one message with the ways out and stops;
- every notebook is stored executed in order (execution counts 1, 2, 3, ...), with no error output
  except in cells tagged raises-exception, and with its widget state saved when it shows explorers,
  so GitHub and nbviewer show each explorer's last picture.
"""
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import sync_setup_cell  # noqa: E402

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


# -- the set-up cell ---------------------------------------------------------------------------------

SETUP = ROOT / "notebooks" / "_setup_cell.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_starts_with_the_setup_cell_folded(path):
    cells = json.loads(path.read_text())["cells"]
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert "".join(first_code["source"]) == sync_setup_cell.setup_source(), (
        f"{path.name}: its first code cell is not notebooks/_setup_cell.py: run python scripts/sync_setup_cell.py"
    )
    meta = first_code.get("metadata", {})
    assert meta.get("jupyter", {}).get("source_hidden") is True and meta.get("cellView") == "form", (
        f"{path.name}: the set-up cell is not folded (JupyterLab, Colab): run python scripts/sync_setup_cell.py"
    )


def test_setup_cell_is_short_and_says_in_its_first_line_what_it_does():
    lines = SETUP.read_text().rstrip("\n").splitlines()
    assert lines[0].startswith("# @title Set-up: ") and len(lines[0]) <= 100, (
        "the first line is the title Colab shows for the folded cell: '# @title Set-up: what it does'"
    )
    assert len(lines) <= 25, f"the set-up cell has {len(lines)} lines: keep it short, it comes before the lesson"
    assert max(len(line) for line in lines) <= MAX_LINE


def test_sync_setup_cell_updates_only_the_setup_cell_and_is_idempotent(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    old = nbformat.v4.new_code_cell("# Set-up. an older version\nimport sys", execution_count=1)
    later = nbformat.v4.new_code_cell("print(1)", execution_count=2,
                                      outputs=[nbformat.v4.new_output("stream", text="1\n")])
    old.metadata["tags"] = ["keep-me"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), old, later]
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    assert sync_setup_cell.main(["--check", str(path)]) == 1
    assert sync_setup_cell.main([str(path)]) == 0
    after = nbformat.read(path, as_version=4)
    assert [c.source for c in after.cells] == ["# Title", SETUP.read_text().rstrip("\n"), "print(1)"]
    assert after.cells[1].execution_count == 1 and after.cells[2].outputs == later.outputs
    assert after.cells[1].metadata == {"tags": ["keep-me"], "jupyter": {"source_hidden": True}, "cellView": "form"}
    assert "cellView" not in after.cells[2].metadata
    written = path.read_bytes()
    assert sync_setup_cell.main(["--check", str(path)]) == 0
    assert sync_setup_cell.main([str(path)]) == 0 and path.read_bytes() == written


def test_sync_setup_cell_inserts_one_where_there_is_none(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                         nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "02_x.ipynb"
    nbformat.write(nb, path)
    sync_setup_cell.main([str(path)])
    cells = nbformat.read(path, as_version=4).cells
    assert [c.source for c in cells] == ["# Title", SETUP.read_text().rstrip("\n"), "x = 1"]
    assert sync_setup_cell.is_folded(cells[1]) and not sync_setup_cell.is_folded(cells[2])


def test_sync_setup_cell_folds_a_setup_cell_whose_source_is_already_in_step(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP.read_text().rstrip("\n"))])
    path = tmp_path / "03_x.ipynb"
    nbformat.write(nb, path)
    assert sync_setup_cell.main(["--check", str(path)]) == 1
    assert sync_setup_cell.main([str(path)]) == 0
    assert sync_setup_cell.is_folded(nbformat.read(path, as_version=4).cells[0])


def _run_setup_cell_as_in_colab(monkeypatch, tmp_path, git_script: str | None):
    """Run the set-up cell as Colab would, with a stand-in `git` (None: no git at all), in tmp_path."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    if git_script is not None:
        git = fake_bin / "git"
        git.write_text("#!/bin/sh\n" + git_script)
        git.chmod(0o755)
    # no git: a PATH with nothing else on it; else the stand-in first, and the usual tools for its script
    monkeypatch.setenv("PATH", str(fake_bin) if git_script is None else str(fake_bin) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("CNN_COURSE_DIR", str(tmp_path / "course"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    exec(compile(SETUP.read_text(), str(SETUP), "exec"), {"__name__": "__main__"})


@pytest.mark.parametrize("git, reason", [
    ("echo \"fatal: could not read Username for 'https://github.com': terminal prompts disabled\" >&2; exit 128",
     "could not read Username"),
    ("echo \"fatal: unable to access 'https://github.com/': Could not resolve host: github.com\" >&2; exit 128",
     "Could not resolve host"),
    ("exit 1", "git exit status 1"),
    (None, "No such file or directory"),
])
def test_setup_cell_when_the_clone_fails_prints_one_message_with_the_ways_out_and_stops(
        monkeypatch, tmp_path, capsys, git, reason):
    with pytest.raises(RuntimeError, match="see the message above") as info:
        _run_setup_cell_as_in_colab(monkeypatch, tmp_path, git)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    out = capsys.readouterr()
    assert out.out.count("Could not fetch the course") == 1 and reason in out.out
    assert "Download ZIP" in out.out and "unzip" in out.out and "CNN_COURSE_DIR" in out.out
    assert "Traceback" not in out.out + out.err and out.err == ""


def test_setup_cell_asks_git_for_no_password(monkeypatch, tmp_path):
    """A moved repository makes GitHub ask for a user name; the cell must fail at once instead."""
    with pytest.raises(RuntimeError):
        _run_setup_cell_as_in_colab(monkeypatch, tmp_path, f'echo "$GIT_TERMINAL_PROMPT" > {tmp_path}/prompt; exit 128')
    assert (tmp_path / "prompt").read_text().strip() == "0"


def test_setup_cell_clones_once_and_puts_the_course_on_the_path(monkeypatch, tmp_path, capsys):
    clone = f'echo "$@" >> {tmp_path}/calls; mkdir -p "$6/helpers"; touch "$6/helpers/__init__.py"'
    _run_setup_cell_as_in_colab(monkeypatch, tmp_path, clone)
    assert sys.path[0] == str(tmp_path / "course") and capsys.readouterr().out == ""
    _run_setup_cell_as_in_colab(monkeypatch, tmp_path, clone)          # run again: no second clone
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 1 and calls[0].startswith("clone -q --depth 1 https://github.com/")


# -- what a learner reads: lines that fit the output area, characters every font has ------------------

#: longest code line and printed line, in characters: what fits JupyterLab's and Colab's output area
#: (about 840 px of 8.4-px monospace characters) without wrapping or a scroll bar
MAX_LINE = 100


def _streams(nb):
    """(code cell number, stream text) for every printed output of the stored notebook."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code, 1):
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                yield i, "".join(out["text"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_lines_and_printed_lines_fit_the_output_area(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    long_code = [(i, len(line)) for i, c in enumerate(code, 1) for line in "".join(c["source"]).splitlines()
                 if len(line) > MAX_LINE]
    long_printed = [(i, line[:40] + "...") for i, text in _streams(nb) for line in text.splitlines()
                    if len(line) > MAX_LINE]
    assert not long_code, f"{path.name}: code lines over {MAX_LINE} characters (cell, length): {long_code}"
    assert not long_printed, f"{path.name}: printed lines over {MAX_LINE} characters (cell, start): {long_printed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_printed_characters_are_in_the_fonts_every_platform_has(path):
    """DejaVu Sans Mono is the monospace font of a minimal Linux (and matplotlib ships it): a character it
    lacks, such as an emoji, shows as an empty box there."""
    ttLib = pytest.importorskip("fontTools.ttLib")
    import matplotlib

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"
    glyphs = ttLib.TTFont(font).getBestCmap()
    nb = json.loads(path.read_text())
    missing = sorted({(i, ch) for i, text in _streams(nb) for ch in text if ord(ch) > 127 and ord(ch) not in glyphs})
    assert not missing, f"{path.name}: printed characters without a glyph in DejaVu Sans Mono (cell, char): {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stored_figure_has_text_too_small_to_read(path):
    # helpers.style warns under a figure whose text shows under 9 px; nbval compares outputs, so a
    # warning stored with the notebook would pass it: the stored notebooks must hold none
    nb = json.loads(path.read_text())
    flagged = [i for i, cell in enumerate(nb["cells"]) for out in cell.get("outputs", [])
               if "smaller than 9 px" in "".join(out.get("text", ""))]
    assert not flagged, f"{path.name}: figures with text under 9 px in cells {flagged} (see the warning there)"


@pytest.mark.parametrize("folder", ["notebooks", "notebooks/ja", "."])
def test_setup_cell_outside_colab_finds_the_clone_from_a_notebooks_folder_or_a_language_folder(
        monkeypatch, tmp_path, folder):
    """JupyterLab runs a notebook in its own folder: notebooks/, or notebooks/<lang>/ for a translation."""
    clone = tmp_path / "clone"
    (clone / "helpers").mkdir(parents=True)
    (clone / "helpers" / "__init__.py").touch()
    (clone / folder).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("CNN_COURSE_DIR", str(tmp_path / "no-course-here"))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(clone / folder)
    exec(compile(SETUP.read_text(), str(SETUP), "exec"), {"__name__": "__main__"})
    assert sys.path[0] == str(clone)
    exec(compile(SETUP.read_text(), str(SETUP), "exec"), {"__name__": "__main__"})   # run again: added once
    assert sys.path.count(str(clone)) == 1


def test_every_setting_the_docs_tell_you_to_set_is_one_the_code_reads():
    """A ``CNN_COURSE_...=`` or ``COURSE_...=`` in the notebooks, README or docs names an environment variable the
    code reads (a string in helpers/, scripts/, benchmarks/ or the set-up cell) or a variable of the Makefile;
    an old name (``COURSE_SAVE_WEIGHTS``) would be a setting that silently does nothing."""
    import re

    code = [*ROOT.glob("helpers/**/*.py"), *ROOT.glob("scripts/*.py"), *ROOT.glob("benchmarks/*.py"),
            ROOT / "notebooks" / "_setup_cell.py"]
    read = {m for p in code for m in re.findall(r"[\"'](CNN_COURSE_[A-Z_]+)[\"']", p.read_text(encoding="utf-8"))}
    read |= set(re.findall(r"^([A-Z_]+)\s*\?=", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M))
    texts = [*ROOT.glob("notebooks/**/*.ipynb"), *ROOT.glob("README*.md"), *ROOT.glob("docs/*.md"),
             ROOT / "data" / "README.md"]
    told = {(m, p.relative_to(ROOT).as_posix()) for p in texts
            for m in re.findall(r"\b((?:CNN_)?COURSE_[A-Z_]+)=", p.read_text(encoding="utf-8"))}
    assert {"CNN_COURSE_TRAIN", "CNN_COURSE_SAVE", "CNN_COURSE_DATA", "COURSE_LANG"} <= {m for m, _ in told}
    assert sorted((m, p) for m, p in told if m not in read) == []
