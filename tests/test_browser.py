"""Every notebook in a real browser: JupyterLab, Restart Kernel and Run All, then every explorer moved.

Needs Chromium (Debian's /usr/bin/chromium, or CHROMIUM=/path) and the playwright package; skipped
with a reason when either is missing. The notebooks run from a temporary copy, so the stored
notebooks are never overwritten by the browser. Screenshots go to screenshots/ (git-ignored).

The kernels run with CNN_COURSE_TRAIN=0: the training notebooks load the weights shipped in data/ (the
nbval run trains them, where the data is present); this test proves the notebooks run and their
explorers respond in a real browser, which needs no retraining. Each notebook must show, and move,
every explorer its stored outputs show: an explorer that is missing from the page is a failure.
Every wait is on a condition (a cell ran, an image changed), bounded generously for a loaded machine.

The page is what a laptop shows: 1280x900 with the file browser open (an output area about 848 pixels
wide). Each explorer must fit 840x700 pixels with its controls and pictures (its cell's visible
outputs, measured on the page), must not hide anything to the right (no horizontal overflow), and its
still picture (shown where widgets cannot run) must be hidden because the widget is drawn. A screenshot
of every explorer goes to a temporary directory, printed at the end.

Prints the median time from a slider key press to the new image of the kernel playground.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from i18n import LANGUAGES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = ROOT / "screenshots"
EXPLORER_SHOTS = Path(tempfile.mkdtemp(prefix="explorers-"))     # one picture per explorer
VIEWPORT = {"width": 1280, "height": 900}       # a laptop screen; JupyterLab opens with its file browser
FIT_WIDTH, FIT_HEIGHT = 840, 700                # every explorer fits this, controls and pictures together
RUN_ALL_TIMEOUT_S = 1800         # generous: the longest notebook runs in a few minutes on a quiet machine
WAIT_MS = 300_000                # bound on every other wait for a condition (page loaded, kernel idle...)
REDRAW_TIMEOUT_S = 120.0         # bound on an explorer's redraw after a key press
EXPLORER_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

pytestmark = [pytest.mark.slow, pytest.mark.browser]
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright for the browser test")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)", allow_module_level=True)

# JupyterLab settings for a quiet, deterministic page: every cell rendered (no windowing), no news or
# update checks (there is no network to ask).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free loopback port, serving a copy of notebooks/. Yields its base URL."""
    work = tmp_path_factory.mktemp("lab")
    # the English notebooks: the translated ones in notebooks/<lang>/ have the same code cells and outputs
    shutil.copytree(ROOT / "notebooks", work / "notebooks", ignore=lambda folder, names: [
        n for n in names if Path(folder) == ROOT / "notebooks" and n in LANGUAGES])
    # Trust the copies (the course's own notebooks): JupyterLab renders widget outputs only in trusted
    # cells, and whether a notebook counts as trusted otherwise depends on this machine's signature
    # database (notebooks saved in JupyterLab here before are, fresh ones are not).
    subprocess.run([sys.executable, "-m", "jupyter", "trust", *map(str, sorted((work / "notebooks").glob("*.ipynb")))],
                   check=True, capture_output=True)
    settings = work / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), "browser-test"
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work / 'notebooks'}",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={work / 'workspaces'}",
        "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(work / "server.log", "w")
    env = {**os.environ, "CNN_COURSE_TRAIN": "0"}          # the kernels load the shipped weights
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=work, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{(work / 'server.log').read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("JupyterLab did not start within 120 s")
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


# JavaScript run in the page --------------------------------------------------------------------------
PANEL_SELECTOR = ".jp-NotebookPanel:not(.lm-mod-hidden)"     # the notebook on show
RUN_STATE_JS = """() => {
    const PANEL = '""" + PANEL_SELECTOR + """';
    const panel = document.querySelector(PANEL);
    // a folded cell (the set-up cell) shows a placeholder prompt that never gets a number: not counted
    const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt:not(.jp-Placeholder-prompt)')]
        .map(p => p.textContent.trim());
    const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
    return {prompts, busy: prompts.some(p => p.includes('*')),
            status: status ? status.getAttribute('data-status') : null};
}"""

ERRORS_JS = """() => {
    const PANEL = '""" + PANEL_SELECTOR + """';
    const found = [];
    for (const out of document.querySelector(PANEL).querySelectorAll('.jp-OutputArea-output')) {
        const text = out.innerText || '';
        const mime = out.getAttribute('data-mime-type') || '';
        if (mime.includes('stderr') && /Traceback|\\w+Error\\b/.test(text)) found.push(text.slice(0, 500));
        const widgetFailure = /Error displaying widget|Failed to load model class|model not found/i;
        if (widgetFailure.test(text)) found.push(text.slice(0, 300));
    }
    return found;
}"""


def _open(page, base, token, name):
    # a workspace of its own, reset: only this notebook is open, so the page holds no other's cells
    workspace = Path(name).stem.replace("_", "-")
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{name}?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=WAIT_MS)
    # wait for the kernel to be connected before asking it to restart
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }",
        timeout=WAIT_MS,
    )


def _kernel_status(page):
    return page.evaluate(RUN_STATE_JS)["status"]


def _restart_and_run_all(page):
    # Clear the stored outputs first: a cell shows an execution count again only once it has run. A menu
    # click made while the page is still settling can be lost: click again until the prompts are cleared.
    cleared = (f"() => [...document.querySelector('{PANEL_SELECTOR}').querySelectorAll('.jp-CodeCell "
               ".jp-InputPrompt:not(.jp-Placeholder-prompt)')].every(p => !/\\[\\d+\\]/.test(p.textContent))")
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        page.click(".lm-MenuBar-itemLabel:text-is('Edit')", timeout=WAIT_MS)
        page.click("li[data-command='editmenu:clear-all']", timeout=WAIT_MS)
        try:
            page.wait_for_function(cleared, timeout=30_000)
            break
        except playwright_api.TimeoutError:
            if time.monotonic() > deadline:
                raise AssertionError(f"Edit > Clear All Outputs had no effect in {WAIT_MS // 1000} s") from None
            page.keyboard.press("Escape")         # close a menu left open, then try again
    # Restart, wait until the new kernel is idle, then Run All: the two in one command raced on a loaded
    # machine (the widget manager, catching up with the restart, cut the new explorers off the kernel).
    # A restart asked while the page is busy can be lost (seen on a loaded machine): ask once more.
    statuses = []
    for _attempt in range(2):
        page.keyboard.press("Escape")             # no menu or dialog left open
        page.click(".lm-MenuBar-itemLabel:text-is('Kernel')", timeout=WAIT_MS)
        page.click("li[data-command='kernelmenu:restart']")
        page.click(".jp-Dialog-button.jp-mod-accept", timeout=WAIT_MS)
        deadline = time.monotonic() + WAIT_MS / 2000
        seen_restart, idle_since = False, None
        while time.monotonic() < deadline:
            status = _kernel_status(page)
            statuses.append(status)
            seen_restart |= status != "idle"
            idle_since = (idle_since or time.monotonic()) if status == "idle" else None
            # idle after the restart was seen, or idle for 10 s (a restart too quick to catch)
            if idle_since is not None and (seen_restart or time.monotonic() - idle_since > 10):
                break
            page.wait_for_timeout(200)
        else:
            continue
        break
    else:
        raise AssertionError(f"the kernel was not idle {WAIT_MS / 1000:.0f} s after two restarts "
                             f"(statuses seen: {sorted(set(map(str, statuses)))})")
    page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=WAIT_MS)
    page.click("li[data-command='runmenu:run-all']")
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE_JS)
        numbered = [p for p in state["prompts"] if re.search(r"\[\d+\]", p)]
        if not state["busy"] and state["status"] == "idle":
            if len(numbered) == len(state["prompts"]) or page.evaluate(ERRORS_JS):
                return state["prompts"]     # all ran, or Run All stopped at an error
        page.wait_for_timeout(1_000)
    raise AssertionError(f"the notebook was still running after {RUN_ALL_TIMEOUT_S} s")


def _image_src(box):
    """The sources of every picture in an explorer (its panels): a redraw replaces those that changed."""
    srcs = [img.get_attribute("src") or "" for img in box.query_selector_all("img")]
    return "\n".join(srcs) if srcs else None


def _wait_for_new_image(page, box, before, timeout_s=REDRAW_TIMEOUT_S) -> float:
    """Seconds until the explorer's image differs from ``before``."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if _image_src(box) != before:
            return time.perf_counter() - start
        page.wait_for_timeout(5)
    raise AssertionError(f"the image did not change within {timeout_s} s")


def _nudge(page, box, key="ArrowRight") -> bool:
    """Move one control of an explorer: a slider by one key press, else a dropdown, else a checkbox."""
    handle = box.query_selector(".noUi-handle, .ui-slider-handle, input[type=range]")
    if handle is not None:
        handle.focus()
        page.keyboard.press(key)
        return True
    select = box.query_selector("select")
    if select is not None:
        options = select.query_selector_all("option")
        if len(options) > 1:
            current = select.input_value()
            other = next(o.get_attribute("value") for o in options if o.get_attribute("value") != current)
            select.select_option(other)
            return True
    checkbox = box.query_selector("input[type=checkbox]")
    if checkbox is not None:
        checkbox.click()
        return True
    return False


def expected_explorers(notebook: Path) -> list[str]:
    """The explorers the stored notebook shows, in order: the ``explorer-<Class>`` DOM class of each widget
    that a stored output displays (from the widget state saved with the notebook)."""
    nb = json.loads(notebook.read_text())
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    names = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            model_id = out.get("data", {}).get(EXPLORER_VIEW, {}).get("model_id")
            classes = state.get(model_id, {}).get("state", {}).get("_dom_classes", [])
            names += [c for c in classes if c.startswith("explorer-")]
    return names


EXPLORERS_JS = (
    "() => [...document.querySelector('" + PANEL_SELECTOR + "').querySelectorAll('[class*=\"explorer-\"]')]"
    ".filter(e => [...e.classList].some(c => c.startsWith('explorer-'))).length"
)


# the visible size of the outputs of the cell holding an explorer, whether anything overflows to the right,
# and the still pictures that are on show (they should be hidden where the widget is drawn)
FIT_JS = """(box) => {
    const cell = box.closest('.jp-Cell');
    const outs = [...cell.querySelectorAll('.jp-OutputArea-output')].filter(o => o.getBoundingClientRect().height > 0);
    const top = Math.min(...outs.map(o => o.getBoundingClientRect().top));
    const bottom = Math.max(...outs.map(o => o.getBoundingClientRect().bottom));
    const r = box.getBoundingClientRect();
    const stills = [...cell.querySelectorAll('.jp-OutputArea-output img')]
        .filter(im => !box.contains(im) && im.getBoundingClientRect().height > 0);
    return {width: Math.round(r.width), height: Math.round(bottom - top), overflow: box.scrollWidth - box.clientWidth,
            area: Math.round(cell.querySelector('.jp-OutputArea-output').getBoundingClientRect().width),
            stills_on_show: stills.length};
}"""


# an output that shows a widget's text form (VBox(children=...)) where the widget itself should be
WIDGETS_AS_TEXT_JS = (
    "() => [...document.querySelector('" + PANEL_SELECTOR + "').querySelectorAll('.jp-OutputArea-output')]"
    ".map(o => (o.innerText || '').trim()).filter(t => /^(VBox|HBox|Box|GridBox)\\(children=/.test(t))"
    ".map(t => t.slice(0, 80))"
)


def test_the_expected_explorers_are_read_from_the_stored_notebooks():
    """The list the browser test checks against is not empty where the course shows explorers."""
    found = {nb.stem[:2]: expected_explorers(nb) for nb in NOTEBOOKS}
    assert found.get("01") == ["explorer-PixelInspector"], found
    assert "explorer-KernelPlayground" in found.get("02", []), found
    assert {"explorer-CamExplorer", "explorer-AdversarialExplorer"} <= set(found.get("11", [])), found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab_and_its_explorers_respond(lab, browser, notebook, capsys):
    base, token = lab
    expected = expected_explorers(notebook)
    page = browser.new_page(viewport=VIEWPORT)
    try:
        _open(page, base, token, notebook.name)
        prompts = _restart_and_run_all(page)
        assert prompts, "no code cells ran"
        errors = page.evaluate(ERRORS_JS)
        assert not errors, f"{notebook.name} shows errors after Run All:\n" + "\n---\n".join(errors)

        if expected:      # widgets render after their cell ran: wait until all of them are on the page
            try:
                shown_or_text = f"() => ({EXPLORERS_JS})() >= {len(expected)} || ({WIDGETS_AS_TEXT_JS})().length"
                page.wait_for_function(shown_or_text, timeout=WAIT_MS)
            except playwright_api.TimeoutError:
                pass      # the assertion below says which are missing
        boxes = [b for b in page.query_selector(PANEL_SELECTOR).query_selector_all("[class*='explorer-']")
                 if any(c.startswith("explorer-") for c in b.get_attribute("class").split())]
        names = [next(c for c in b.get_attribute("class").split() if c.startswith("explorer-")) for b in boxes]
        as_text = page.evaluate(WIDGETS_AS_TEXT_JS)
        assert names == expected, (
            f"{notebook.name}: the page shows the explorers {names}, the stored notebook shows {expected}"
            + (f"; widgets shown as text instead (no widget manager, or an untrusted output): {as_text}"
               if as_text else "")
        )
        moved, misfits = [], []
        for box, name in zip(boxes, names):
            try:                            # its image arrives from the kernel after the box is drawn
                box.wait_for_selector("img[src]", state="attached", timeout=WAIT_MS)
            except playwright_api.TimeoutError:
                pass
            before = _image_src(box)
            assert before, f"{name} shows no image"
            box.scroll_into_view_if_needed()
            assert _nudge(page, box), f"{name} has no slider, dropdown or checkbox to move"
            try:
                _wait_for_new_image(page, box, before, timeout_s=5)
            except AssertionError:          # a slider already at its maximum: move it the other way
                _nudge(page, box, "ArrowLeft")
                _nudge(page, box, "ArrowLeft")
                _wait_for_new_image(page, box, before)
            moved.append(name)
            page.wait_for_timeout(300)              # let the redrawn pictures take their size
            fit = box.evaluate(FIT_JS)
            if fit["width"] > FIT_WIDTH + 8 or fit["height"] > FIT_HEIGHT or fit["overflow"] > 0:
                misfits.append(f"{name}: {fit['width']}x{fit['height']} px (output area {fit['area']} px wide, "
                               f"{fit['overflow']} px overflow to the right)")
            if fit["stills_on_show"]:
                misfits.append(f"{name}: its still picture shows beside the drawn widget")
            box.scroll_into_view_if_needed()
            box.screenshot(path=str(EXPLORER_SHOTS / f"{notebook.stem}-{name}.png"))
        with capsys.disabled():
            print(f"\n{notebook.name}: ran in the browser; explorers moved and redrawn: {', '.join(moved) or 'none'}")
            if moved:
                print(f"screenshots of its explorers: {EXPLORER_SHOTS}")
            for name, label in LATENCY_REPORTED.items():
                if f"explorer-{name}" in moved:
                    _measure_latency(page, name, label)
        screen = f"{VIEWPORT['width']}x{VIEWPORT['height']} with the file browser open"
        assert not misfits, (f"{notebook.name}: explorers that do not fit {FIT_WIDTH}x{FIT_HEIGHT} at {screen}:\n"
                             + "\n".join(misfits))
    finally:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{notebook.stem}.png"), full_page=False)
        page.close()


#: explorers whose slider-to-new-pixels latency is reported (printed, not asserted)
LATENCY_REPORTED = {"KernelPlayground": "kernel playground", "SobelExplorer": "Sobel explorer",
                    "PoolingExplorer": "pooling explorer"}


def _measure_latency(page, name: str, label: str, presses: int = 15):
    """Print the median time from a slider key press to new pixels in the explorer ``name``.

    The target is 60 ms on a quiet machine. It is printed, not asserted: a shared machine's timing is
    no pass/fail.
    """
    box = page.query_selector(PANEL_SELECTOR).query_selector(f".explorer-{name}")
    handle = box.query_selector(".noUi-handle, .ui-slider-handle, input[type=range]")
    if handle is None:
        pytest.fail(f"the {label} has no slider to time")
    times = []
    for i in range(presses):
        before = _image_src(box)
        handle.focus()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        times.append(_wait_for_new_image(page, box, before))
    median_ms = statistics.median(times) * 1e3
    print(f"{label}: median {median_ms:.0f} ms from slider key press to new pixels ({presses} presses)")
    SCREENSHOTS.mkdir(exist_ok=True)
    box.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
