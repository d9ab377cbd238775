"""The project's own set-up files agree with each other."""
import re

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names for the PyPI packages that are called differently there
CONDA_NAME = {"opencv-python-headless": "opencv"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
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


def test_every_notebook_starts_with_the_same_setup_cell():
    import json

    setup = (ROOT / "notebooks" / "_setup_cell.py").read_text().strip()
    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(nb_path.read_text())["cells"]
        first_code = next(c for c in cells if c["cell_type"] == "code")
        assert "".join(first_code["source"]).strip() == setup, f"{nb_path.name}: first code cell is not _setup_cell.py"


def test_colab_and_binder_links_point_at_the_repository_the_notebooks_fetch():
    import re as _re

    setup = (ROOT / "notebooks" / "_setup_cell.py").read_text()
    repo = _re.search(r'COURSE_REPO = "https://github.com/([^"]+)"', setup).group(1)
    readme = (ROOT / "README.md").read_text()
    links = _re.findall(r"(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/([\w.-]+/[\w.-]+)/", readme)
    assert links, "README has no Colab or Binder links"
    assert set(links) == {repo}, f"README links to {set(links)}, the notebooks fetch {repo}"
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{nb.name}" in readme, f"README's table does not list {nb.name}"
