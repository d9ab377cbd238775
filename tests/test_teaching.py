"""docs/teaching.md: every command on the teacher's page is run or checked here, and its table adds up.

Every fenced block and every link of the page goes through one of the checks below; a block that none
of them handles fails ``test_every_command_on_the_page_is_checked``, so a command added to the page
without a test is caught. The machine running the tests is offline: the ``pip install`` and ``conda``
lines are checked against ``pyproject.toml`` and ``environment.yml`` (their package specs parse and
name the course's packages), not run; MNIST, which cannot be had offline, is served to ``copy-to``
from a local stand-in mirror (its digests replaced); Fashion-MNIST is the real one, from the Debian
package (those tests are skipped without it).
"""
from __future__ import annotations

import math
import os
import re
import shlex
import subprocess
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from helpers import _threads, datasets
from helpers.training import TRAIN_ENV, should_train

try:
    import tomllib
except ModuleNotFoundError:          # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "teaching.md").read_text()
SHARED = "/srv/cnn-course-data"
DEBIAN = datasets.SYSTEM_DIRS["fashion-mnist"][0]
needs_fashion = pytest.mark.skipif(not all((DEBIAN / (f + ".gz")).is_file() for f in datasets.FILES),
                                   reason="needs the Debian package dataset-fashion-mnist (the machine is offline)")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", PAGE, flags=re.M | re.S)


def bash_lines() -> list[str]:
    return [line for block in blocks("bash") for line in block.splitlines() if line.strip()]


def links() -> list[str]:
    return re.findall(r"^    (https://\S+)$", PAGE, flags=re.M)


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower()


# -- the page's commands, each with its check -------------------------------------------------------

def test_every_command_on_the_page_is_checked():
    fences = re.findall(r"^```(\w*)$", PAGE, flags=re.M)
    assert set(fences[0::2]) <= {"bash", "python"}, f"a block in a language no test runs: {fences[0::2]}"
    known = {
        'python -m pip install ".[lab]"', "python -m pip install nbgitpuller",
        "conda env update --name base --file environment.yml",
        f"python -m helpers.datasets copy-to {SHARED}", f"chmod -R a-w {SHARED}",
        f"CNN_COURSE_DATA={SHARED} python -m helpers.datasets verify",
    }
    assert set(bash_lines()) == known, f"commands without a test: {set(bash_lines()) - known}"
    assert len(blocks("python")) == 2 and len(links()) == 2


def test_pip_install_names_the_course_with_its_lab_extra():
    (line,) = [x for x in bash_lines() if x.startswith("python -m pip install .") or '".[lab]"' in x]
    target = shlex.split(line)[-1]
    assert target == ".[lab]" and "lab" in project()["optional-dependencies"]
    assert (ROOT / "pyproject.toml").is_file()                    # "." is a clone's root
    listed = ("numpy", "matplotlib", "ipywidgets", "opencv-python-headless", "tqdm", "threadpoolctl", "jupyterlab")
    for name in listed:                                           # the page's list of packages is the project's
        assert name in PAGE.lower()
    assert {_name(r) for r in project()["dependencies"] + project()["optional-dependencies"]["lab"]} == set(listed)


def test_nbgitpuller_is_a_package_name_pip_accepts():
    from packaging.requirements import Requirement

    (line,) = [x for x in bash_lines() if "nbgitpuller" in x]
    assert Requirement(shlex.split(line)[-1]).name == "nbgitpuller"


def test_conda_update_reads_the_environment_file_of_the_repository():
    import yaml

    argv = shlex.split(next(x for x in bash_lines() if x.startswith("conda ")))
    env = yaml.safe_load((ROOT / argv[argv.index("--file") + 1]).read_text())
    names = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    wanted = {_name(r) for r in project()["dependencies"] + project()["optional-dependencies"]["lab"]}
    assert names == {"opencv" if n == "opencv-python-headless" else n for n in wanted}


@pytest.fixture
def stand_in_mnist(tmp_path, monkeypatch):
    """A local mirror of stand-in MNIST files, with their digests in place of the real ones."""
    import gzip
    import hashlib

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    rng, digests = np.random.default_rng(0), {}
    for name, shape in zip(datasets.FILES, ((60, 28, 28), (60,), (10, 28, 28), (10,))):
        arr = rng.integers(0, 256 if len(shape) > 1 else 10, shape).astype(np.uint8)
        data = gzip.compress(bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in shape)
                             + arr.tobytes(), mtime=0)
        (mirror / (name + ".gz")).write_bytes(data)
        digests[name] = (hashlib.sha256(data).hexdigest(), None)
    monkeypatch.setitem(datasets.DIGESTS, "mnist", digests)
    monkeypatch.setitem(datasets.MIRRORS, "mnist", (mirror.as_uri() + "/",))
    monkeypatch.setitem(datasets.SYSTEM_DIRS, "mnist", ())
    monkeypatch.setattr(datasets, "cache_dir", lambda: tmp_path / "no-cache")
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    monkeypatch.delenv(datasets.SEARCH_ENV, raising=False)
    return tmp_path


@needs_fashion
def test_the_shared_folder_commands_copy_make_read_only_and_verify(stand_in_mnist, monkeypatch, capsys):
    folder = stand_in_mnist / "srv" / "cnn-course-data"
    lines = [x.replace(SHARED, str(folder)) for x in bash_lines() if "helpers.datasets" in x or "chmod" in x]
    copy, chmod, verify = lines
    # 1. copy-to: Fashion-MNIST from the Debian package, MNIST from the (stand-in) mirror
    argv = shlex.split(copy)
    assert argv[:3] == ["python", "-m", "helpers.datasets"]
    assert datasets.main(argv[3:]) == 0
    out = capsys.readouterr().out
    assert "downloaded and verified" in out and f"from {DEBIAN}" in out
    # 2. chmod -R a-w, as written
    subprocess.run(["bash", "-c", chmod], check=True)
    assert not any(p.stat().st_mode & 0o222 for p in [folder, *folder.rglob("*")])
    try:
        # 3. verify, with the variable the command sets; it reads only
        env_part, _, command = verify.partition(" ")
        key, value = env_part.split("=", 1)
        monkeypatch.setenv(key, value)
        argv = shlex.split(command)
        before = sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))
        assert datasets.main(argv[3:]) == 0
        out = capsys.readouterr().out
        assert "fashion-mnist: verified, 60,000 training and 10,000 test images" in out
        assert "mnist: verified, 60 training and 10 test images" in out
        assert sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*")) == before
    finally:
        for p in [folder, *folder.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)


def test_verify_says_what_is_missing_and_fails(tmp_path, capsys):
    assert datasets.main(["verify", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "mnist: DatasetNotFoundError" in out and "fashion-mnist: DatasetNotFoundError" in out
    assert list(tmp_path.iterdir()) == []                        # nothing written, nothing downloaded


def test_the_hub_configuration_sets_the_data_one_core_and_a_limit_every_notebook_fits(monkeypatch):
    (config,) = [b for b in blocks("python") if "c.Spawner" in b]

    class Namespace:
        def __getattr__(self, name):
            value = Namespace()
            setattr(self, name, value)
            return value

    c = Namespace()
    exec(config, {"c": c})
    environment = c.Spawner.environment
    assert environment[datasets.ENV_VAR] == SHARED                 # the folder the copy-to line fills
    monkeypatch.setenv("OMP_NUM_THREADS", environment["OMP_NUM_THREADS"])
    assert _threads._threads_wanted() == 1                        # one core per kernel
    limit = re.fullmatch(r"(\d+(?:\.\d+)?)G", c.Spawner.mem_limit)
    peaks = [max(row[1], row[2] or 0) for row in memory_table()]
    assert float(limit.group(1)) * 1e9 >= max(peaks) * 1e6, "a notebook in the table needs more than the limit"


def test_the_nbgitpuller_link_pulls_this_repository_and_opens_a_notebook_that_exists():
    setup = (ROOT / "notebooks" / "_setup_cell.py").read_text()
    repo = re.search(r'COURSE_REPO = "(.+?)"', setup).group(1)
    (link,) = [x for x in links() if "git-pull" in x]
    url = urllib.parse.urlsplit(link)
    assert url.path == "/hub/user-redirect/git-pull"
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["repo"] == repo and query["branch"] == "main"
    clone = repo.rsplit("/", 1)[1]                                # nbgitpuller clones into the repo's name
    prefix = f"lab/tree/{clone}/"
    assert query["urlpath"].startswith(prefix)
    assert (ROOT / query["urlpath"][len(prefix):]).is_file()


def test_the_binder_link_is_the_readmes_and_binder_finds_environment_yml():
    (link,) = [x for x in links() if "mybinder.org" in x]
    assert f"({link})" in (ROOT / "README.md").read_text()
    setup = (ROOT / "notebooks" / "_setup_cell.py").read_text()
    repo = re.search(r'COURSE_REPO = "https://github.com/(.+?)"', setup).group(1)
    assert f"/v2/gh/{repo}/main?" in link and (ROOT / "environment.yml").is_file()
    assert (ROOT / link.rsplit("lab/tree/", 1)[1]).is_dir()


def test_env_magic_and_the_table_of_train_settings_are_what_should_train_does(monkeypatch):
    (magic,) = [b.strip() for b in blocks("python") if b.startswith("%env")]
    name, value = magic.removeprefix("%env ").split("=")
    assert name == TRAIN_ENV
    monkeypatch.setenv(name, value)
    assert should_train(True) is False                            # loads the shipped weights
    rows = re.findall(r"^\| `(\w+)`(?: \(or unset\))? \| (.+) \|$", PAGE, flags=re.M)[1:]     # after the header
    assert [r[0] for r in rows] == ["auto", "all", "0"]
    monkeypatch.setenv(name, "auto")
    assert should_train(True) is True and should_train(False) is False
    monkeypatch.delenv(name)
    assert should_train(True) is True and should_train(False) is False
    for value in ("all", "1"):
        monkeypatch.setenv(name, value)
        assert should_train(True) is True
        with pytest.raises(RuntimeError, match="dataset was not found"):
            should_train(False)
    monkeypatch.setenv(name, "0")
    assert should_train(True) is False and should_train(False) is False


# -- the memory table -------------------------------------------------------------------------------

def memory_table() -> list[tuple]:
    """(notebook, shipped MB, training MB or None, learners per 8, 16, 32, 64 GB) per row of the table."""
    table = PAGE.split("<!-- memory-table", 1)[1].split("<!-- end memory-table -->", 1)[0]
    rows = []
    for line in table.splitlines()[3:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        mb = [int(c.removesuffix(" MB").replace(",", "")) if c else None for c in cells[1:3]]
        rows.append((cells[0], mb[0], mb[1], *[int(c) for c in cells[3:]]))
    return rows


def test_the_memory_table_has_every_notebook_and_its_learner_counts_add_up():
    rows = memory_table()
    names = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [r[0].split()[0] for r in rows] == [n[:2] for n in names]
    for name, shipped, training, *learners in rows:
        peak = max(shipped, training or 0)
        assert learners == [math.floor((gb * 1000 - 1000) / peak) for gb in (8, 16, 32, 64)], name


def test_the_memory_table_names_the_notebooks_that_train_with_a_training_figure():
    import nbformat

    trains = {p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
              if "should_train(" in p.read_text() or "Runs(" in p.read_text()}
    assert {r[0][:2] for r in memory_table() if r[2] is not None} == trains
    assert nbformat                                                # (the bench reads notebooks the same way)


def test_the_page_is_linked_from_the_readme():
    assert "(docs/teaching.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("line", ["python -m helpers.datasets verify"])
def test_verify_without_a_folder_or_the_variable_says_how_to_give_one(line):
    env = {k: v for k, v in os.environ.items() if k != datasets.ENV_VAR}
    run = subprocess.run([sys.executable, *shlex.split(line)[1:]], env={**env, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "CNN_COURSE_DATA" in run.stderr
