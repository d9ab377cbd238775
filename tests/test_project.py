"""The project's own set-up files agree with each other, and the make targets and CI do what README says."""
import os
import re
import shutil
import subprocess
import sys

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names for the PyPI packages that are called differently there
CONDA_NAME = {"opencv-python-headless": "opencv"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_packages_as_pyproject():
    """environment.yml (conda, Binder) is a learner's environment: the dependencies and the `lab` extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["lab"]
    wanted = {CONDA_NAME.get(_name(r), _name(r)) for r in requirements if "python_version" not in r}
    text = (ROOT / "environment.yml").read_text()
    deps = text.split("\ndependencies:\n", 1)[1]
    conda = {_name(m) for m in re.findall(r"^  - ([a-z][a-z0-9_.-]*)(?![a-z0-9_.-]*:)", deps, flags=re.M)}
    conda -= {"python", "pip"}
    assert conda == wanted, f"only in environment.yml: {conda - wanted}; only in pyproject.toml: {wanted - conda}"


def test_readme_gives_the_two_set_up_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_lists_every_module_of_the_helpers_package():
    readme = (ROOT / "README.md").read_text()
    modules = sorted(p.name for p in (ROOT / "helpers").glob("*.py") if p.name != "__init__.py")
    modules += sorted(p.name + "/" for p in (ROOT / "helpers").iterdir() if (p / "__init__.py").exists())
    missing = [m for m in modules if f"`helpers/{m}`" not in readme]
    assert not missing, f"README's helpers table does not list {missing}"


DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_colab_and_binder_links_point_at_the_repository_the_notebooks_fetch():
    setup = (ROOT / "notebooks" / "_setup_cell.py").read_text()
    repo = re.search(r'COURSE_REPO = "https://github.com/([^"]+)"', setup).group(1)
    for page in [ROOT / "README.md", *DOCS]:
        text = page.read_text()
        links = re.findall(r"(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/([\w.-]+/[\w.-]+)/", text)
        assert set(links) <= {repo}, f"{page.name} links to {set(links)}, the notebooks fetch {repo}"
    readme = (ROOT / "README.md").read_text()
    detail = (ROOT / "docs" / "notebooks.md").read_text()
    assert "colab.research.google.com" in readme and "mybinder.org" in readme, "README has no Colab or Binder link"
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        colab = f"colab.research.google.com/github/{repo}/blob/main/notebooks/{nb.name}"
        assert f"(notebooks/{nb.name})" in readme and colab in readme, f"README's table does not list {nb.name}"
        assert f"(../notebooks/{nb.name})" in detail, f"docs/notebooks.md does not list {nb.name}"


# -- README is the front door; the docs pages hold the details, and every link between them leads somewhere --

def _anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _relative_links(page: Path) -> list[str]:
    """Targets of the page's markdown links and images that point inside the repository."""
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", page.read_text())
    return [t for t in targets if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file_that_exists(page):
    links = _relative_links(page)
    broken = []
    for link in links:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists() or ROOT not in [target, *target.parents]:
            broken.append(link)
        elif anchor and target.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", target.read_text(), flags=re.M)
            if anchor not in {_anchor(h) for h in headings}:
                broken.append(link)
    assert not broken, f"{page.name}: links to nothing in the repository: {broken}"


def test_readme_links_every_docs_page():
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in _relative_links(ROOT / "README.md")}
    missing = [p.name for p in DOCS if p.resolve() not in linked]
    assert not missing, f"README does not link {missing}: a page no one can find from the front door"


def test_readme_stays_a_front_door():
    """Measured tables, long explanations and troubleshooting belong in docs/, linked from README."""
    size = len((ROOT / "README.md").read_text().encode())
    assert size <= 10_000, f"README.md is {size:,} bytes: move details to a page in docs/ and link it"


def test_the_setup_cells_way_out_is_in_troubleshooting():
    """The set-up cell's message when it cannot fetch the course has its row in docs/troubleshooting.md."""
    setup = (ROOT / "notebooks" / "_setup_cell.py").read_text()
    assert "Could not fetch the course" in setup
    assert "Could not fetch the course" in (ROOT / "docs" / "troubleshooting.md").read_text()


# -- the make targets and CI: what they install and run, read with `make -n` (nothing is executed) ----

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make_n(target: str, tmp_path) -> str:
    """The commands `make <target>` would run with a fresh virtualenv (in tmp_path), without running them."""
    result = subprocess.run(["make", "-n", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}",
                             f"COLAB_VENV={tmp_path / 'colab'}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.replace("\\\n", " ")          # one line per command


@needs_make
def test_make_lab_installs_what_learners_need_and_no_test_tools(tmp_path):
    commands = _make_n("lab", tmp_path)
    assert '-e ".[lab]"' in commands and ".[test]" not in commands and "jupyter lab notebooks/" in commands
    lab = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["lab"]
    tools = {"pytest", "playwright", "ruff", "hypothesis", "nbval"}
    assert not tools & {_name(r) for r in lab}, lab


@needs_make
def test_make_test_installs_the_test_extra_and_runs_every_test_and_notebook(tmp_path):
    commands = _make_n("test", tmp_path)
    assert '-e ".[test]"' in commands
    pytest_line = next(line for line in commands.splitlines() if "-m pytest" in line)
    assert "--nbval" in pytest_line and " -m \"not" not in pytest_line and " -k " not in pytest_line
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert pyproject["testpaths"] == ["tests", "notebooks"]
    test = {_name(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
            ["optional-dependencies"]["test"]}
    assert {"pytest", "nbval", "playwright", "hypothesis", "ruff", "jupyterlab"} <= test


@needs_make
def test_make_test_colab_loads_the_shipped_weights(tmp_path):
    commands = _make_n("test-colab", tmp_path)
    pytest_line = next(line for line in commands.splitlines() if "-m pytest" in line)
    assert pytest_line.startswith("CNN_COURSE_TRAIN=0 ") and "--nbval" in pytest_line


@needs_make
def test_make_bench_installs_the_course_and_jupyter_not_the_test_tools_and_runs_every_benchmark(tmp_path):
    commands = _make_n("bench", tmp_path)       # jupyter: bench_memory runs the notebooks in kernels
    assert "pip install -e .\n" in commands and "[lab]" in commands and "[test]" not in commands
    for path in sorted((ROOT / "benchmarks").glob("bench*.py")):
        assert path.stem in commands, f"make bench does not run {path.name}"


def _fake_tools(tmp_path, fail: set[str]) -> dict:
    """A bin folder with a `make` that logs its target and fails for those in ``fail``, and a harmless
    `apt-get` that logs its arguments; returns the environment that puts them first on PATH."""
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "log"
    (fake / "make").write_text(f'#!/bin/sh\necho "make $*" >> {log}\n'
                               + "".join(f'[ "$1" = "{t}" ] && exit 3\n' for t in sorted(fail)) + "exit 0\n")
    (fake / "apt-get").write_text(f'#!/bin/sh\necho "apt-get $*" >> {log}\nexit 0\n')
    for f in fake.iterdir():
        f.chmod(0o755)
    return {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("fail, status", [(set(), 0), ({"test"}, 1), ({"test-colab"}, 1),
                                          ({"test", "test-colab"}, 1)])
def test_ci_runs_both_suites_and_fails_if_either_failed(tmp_path, fail, status):
    copy = tmp_path / "repo" / ".ci"
    copy.mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", copy / "run")
    env = _fake_tools(tmp_path, fail)
    result = subprocess.run(["bash", str(copy / "run")], env=env, capture_output=True, text=True, timeout=60)
    log = (tmp_path / "log").read_text().splitlines()
    assert [line for line in log if line.startswith("make")] == ["make test", "make test-colab"]
    assert (result.returncode != 0) == bool(status), result.stdout + result.stderr
    for target in ("test", "test-colab"):
        word = "FAILED" if target in fail else "passed"
        assert re.search(rf"^make {target}:\s+{word}", result.stdout, flags=re.M), result.stdout
    if os.geteuid() == 0:     # as root it installs the system packages first
        apt = next(line for line in log if line.startswith("apt-get install")).split()
        assert {"make", "python3", "python3-venv", "dataset-fashion-mnist", "chromium"} <= set(apt)


def bench_copy(tmp_path, benchmarks: dict):
    """A copy of the Makefile with stand-in ``benchmarks`` (name -> its source) and an installed virtualenv (its
    stamps newer than pyproject.toml: nothing to install). Returns run(*settings): `make -s bench` there, with
    ``settings`` such as "AGAINST=main" on make's command line."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bench, venv = tmp_path / "benchmarks", tmp_path / "venv"
    bench.mkdir()
    (bench / "__init__.py").write_text("")
    for name, source in benchmarks.items():
        (bench / f"{name}.py").write_text(source)
    (venv / "bin").mkdir(parents=True)
    os.symlink(sys.executable, venv / "bin" / "python")
    for stamp in (".installed", ".installed-lab"):
        (venv / stamp).touch()
    return lambda *settings: subprocess.run(["make", "-s", "bench", f"VENV={venv}", *settings], cwd=tmp_path,
                                            capture_output=True, text=True)


@needs_make
def test_make_bench_runs_every_benchmark_even_after_a_miss_and_fails_at_the_end(tmp_path):
    """Three stand-in benchmarks, two of which miss."""
    run = bench_copy(tmp_path, {name: f"print('ran {name}')\nraise SystemExit({code})\n"
                                for name, code in (("bench", 1), ("bench_training", 0), ("bench_explorers", 1))})
    result = run()
    assert result.returncode != 0
    out = result.stdout
    assert all(f"ran {n}" in out for n in ("bench", "bench_training", "bench_explorers")), out
    assert "targets missed in: benchmarks/bench.py benchmarks/bench_explorers.py" in out, out
    assert "pip install" not in out


@needs_make
def test_make_bench_against_passes_the_revision_to_the_benchmarks_that_take_it(tmp_path):
    """`make bench AGAINST=REV`: --against REV for a benchmark whose source has that option, nothing for others."""
    run = bench_copy(tmp_path, {"bench_a": "import sys\n# takes --against REV\nprint('a got', sys.argv[1:])\n",
                                "bench_b": "import sys\nprint('b got', sys.argv[1:])\n"})
    result = run("AGAINST=main~3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a got ['--against', 'main~3']" in result.stdout and "b got []" in result.stdout, result.stdout
    result = run()
    assert "a got []" in result.stdout and "b got []" in result.stdout, result.stdout
