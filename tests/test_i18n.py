"""The course in other languages stays in step with the English (scripts/i18n.py).

- the generated notebooks (notebooks/<lang>/) are exactly what the translations in i18n/<lang>/ and the
  English notebooks make, and regenerating changes nothing;
- their code cells (id, source, outputs, execution count, metadata) and all their metadata are the
  English notebook's own: nbval runs the English notebooks only;
- every markdown cell of a translated notebook has a translation of its *current* English text: editing
  an English sentence fails here until its translations are updated, and the message says which;
- the notebooks each language must have (scripts/i18n.py REQUIRED) have their translation files;
- links in a generated notebook resolve, and a link to another notebook stays in the same language.
The machinery is tested on a small course made in a temporary folder.
"""
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import i18n  # noqa: E402

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = i18n.english_notebooks()
GENERATED = sorted(p for lang in i18n.LANGUAGES for p in (ROOT / "notebooks" / lang).glob("*.ipynb"))


# -- the course's own translations ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_every_required_notebook_has_its_translation_file(lang):
    problems = i18n.missing_files(langs=[lang])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ENGLISH, ids=[p.stem for p in ENGLISH])
def test_every_markdown_cell_has_a_translation_of_its_current_english_text(path):
    _assert_translations_in_step(ROOT, path.stem)


def _assert_translations_in_step(root, stem):
    problems = [line for line in i18n.cell_problems(root) if line.startswith(f"notebooks/{stem}.ipynb,")]
    assert not problems, "\n".join(problems)


def test_regenerating_the_translated_notebooks_changes_nothing():
    problems = i18n.build_problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", GENERATED, ids=[p.relative_to(ROOT / "notebooks").as_posix() for p in GENERATED])
def test_a_translated_notebook_has_the_english_code_cells_outputs_and_metadata(path):
    _assert_same_but_markdown(ROOT / "notebooks" / path.name, path)


EVERY_NOTEBOOK = ENGLISH + GENERATED


@pytest.mark.parametrize("path", EVERY_NOTEBOOK,
                         ids=[p.relative_to(ROOT / "notebooks").as_posix() for p in EVERY_NOTEBOOK])
def test_bold_and_italics_render_in_every_markdown_cell(path):
    # CommonMark closes ** only where it is "right-flanking": **87.82%**に (punctuation, then a letter with
    # no space, as Japanese and Chinese write) shows its asterisks instead of bold text.
    problems = [f"{path.relative_to(ROOT).as_posix()}, cell {cell.id}: {stray!r}"
                for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"
                for stray in unrendered_asterisks(cell.source)]
    assert not problems, "emphasis that renders as asterisks (move the ** or the punctuation):\n" + "\n".join(problems)


def unrendered_asterisks(markdown: str) -> list[str]:
    """The asterisks left in the rendered text of ``markdown``, with some context, but for a product
    written `a * b` or `*=` (code spans, code blocks and $formulas$ are left out)."""
    import mistune  # a dependency of nbconvert, which Jupyter renders markdown with

    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", "", markdown, flags=re.S)
    html = mistune.create_markdown(plugins=["table", "strikethrough"])(text)
    html = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", html, flags=re.S)
    return [m.group(0) for m in re.finditer(r".{0,20}\*.{0,20}", html)
            if not re.fullmatch(r".{0,20}\s\*(\s|=).{0,20}", m.group(0))]


def test_unrendered_asterisks_are_found():
    assert unrendered_asterisks("テスト精度は**87.82%**に達しました。")
    assert unrendered_asterisks("*stray")
    assert not unrendered_asterisks("テスト精度は**87.82**%に達しました。")
    assert not unrendered_asterisks("**bold**, *italic*, L = sum(y * G), jump *= stride, `a*b`, $a*b$")


@pytest.mark.parametrize("path", GENERATED, ids=[p.relative_to(ROOT / "notebooks").as_posix() for p in GENERATED])
def test_links_in_a_translated_notebook_resolve_and_stay_in_its_language(path):
    _assert_links_resolve(path, ROOT)


def _assert_same_but_markdown(english_path: Path, translated_path: Path):
    english, translated = json.loads(english_path.read_text()), json.loads(translated_path.read_text())
    def but(d, key):
        return {k: v for k, v in d.items() if k != key}
    assert but(translated, "cells") == but(english, "cells"), (
        f"{translated_path.name}: its metadata (widget state, kernel) differs from the English notebook's")
    assert [c["id"] for c in translated["cells"]] == [c["id"] for c in english["cells"]]
    for mine, theirs in zip(translated["cells"], english["cells"]):
        if theirs["cell_type"] == "markdown":
            assert but(mine, "source") == but(theirs, "source"), f"{translated_path.name}: cell {theirs['id']}"
        else:
            assert mine == theirs, f"{translated_path.name}: cell {theirs['id']} differs from the English notebook's"


def _links(text: str) -> list[str]:
    return [m.group(2) for pattern in i18n.LINK_PATTERNS for m in pattern.finditer(text)]


def _assert_links_resolve(path: Path, root: Path):
    """Every relative link in the notebook's markdown leads to a file of the repository; a link to a
    notebook leads to that language's one when the language has it."""
    lang, broken, astray = path.parent.name, [], []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for link in _links(cell.source):
            if i18n.SCHEME.match(link) or link.startswith("#"):
                continue
            target = (path.parent / link.split("#")[0]).resolve()
            if not target.exists() or root.resolve() not in target.parents:
                broken.append(link)
            elif target.suffix == ".ipynb" and target.parent.name != lang and (root / "notebooks" / lang /
                                                                               target.name).exists():
                astray.append(link)
    assert not broken, f"{path.relative_to(root)}: links that lead nowhere: {broken}"
    assert not astray, f"{path.relative_to(root)}: links that leave the language for a notebook it has: {astray}"


def test_the_languages_are_declared_once_and_kept_out_of_nbval():
    """nbval (make test, make test-colab) collects notebooks/ recursively: it must skip the translations,
    whose code cells and outputs are the English ones by construction."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert set(i18n.LANGUAGES) <= set(pyproject["norecursedirs"])
    assert {".*", "venv"} <= set(pyproject["norecursedirs"]), "keep pytest's own norecursedirs"
    assert set(i18n.REQUIRED) == set(i18n.LANGUAGES) == set(i18n.ENGLISH_ONLY)


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_each_language_has_a_front_door_linked_from_readme(lang):
    readme = ROOT / f"README.{lang}.md"
    assert readme.exists(), f"README.{lang}.md is missing"
    assert f"(README.{lang}.md)" in (ROOT / "README.md").read_text().split("\n", 1)[0], (
        f"README.md's first line does not link README.{lang}.md")
    text = readme.read_text(encoding="utf-8")
    assert i18n.LIST_START in text and "(README.md)" in text and f"COURSE_LANG={lang}" in text
    broken = [t for t in re.findall(r"\]\(([^)\s]+)\)", text)
              if not i18n.SCHEME.match(t) and not (ROOT / t.split("#")[0]).exists()]
    assert not broken, f"README.{lang}.md links to nothing: {broken}"


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
@pytest.mark.parametrize("lang, pack", [("ja", "ja-JP"), ("zh", "zh-CN"), ("ru", "ru-RU")])
def test_make_lab_opens_a_language_with_jupyterlabs_language_pack(tmp_path, lang, pack):
    result = subprocess.run(["make", "-n", "-C", str(ROOT), "lab", f"COURSE_LANG={lang}",
                             f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    commands = result.stdout.replace("\\\n", " ")
    assert f"pip install jupyterlab-language-pack-{pack}" in commands
    assert '"locale": "%s"' in commands and pack.replace("-", "_") in commands
    assert f"JUPYTER_CONFIG_PATH=\"{tmp_path / 'venv'}/lab-{lang}" in commands
    assert re.search(rf"jupyter lab notebooks/{lang}( |$)", commands, flags=re.M)


@needs_make
def test_make_lab_names_the_languages_when_given_another(tmp_path):
    result = subprocess.run(["make", "-n", "-C", str(ROOT), "lab", "COURSE_LANG=de", f"VENV={tmp_path / 'venv'}"],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "ja, zh and ru" in result.stderr


# -- the machinery, on a small course in a temporary folder ----------------------------------------------

MD_TITLE = "# 01 · A first notebook\n\nThe [next notebook](02_b.ipynb) and [the set-up](../docs/setup.md#start)."
MD_BODY = "A sentence.\n\n![a picture](../data/pic.png) <img src=\"../data/pic.png\" width=\"100\">, [web](https://example.org)"
JA = {"title": "# 01 · 最初のノートブック\n\n[次のノートブック](02_b.ipynb)と[セットアップ](../docs/setup.md#start)。",
      "body": "一つの文。\n\n![写真](../data/pic.png) <img src=\"../data/pic.png\" width=\"100\">、[ウェブ](https://example.org)"}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _notebook(path: Path, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m": {"model_name": "X"}}}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)


@pytest.fixture(autouse=True)
def _nothing_required_in_a_small_course(request, monkeypatch):
    """The small courses in tmp_path require no notebook (the course's REQUIRED names its own)."""
    if "tmp_path" in request.fixturenames:
        monkeypatch.setattr(i18n, "REQUIRED", {lang: () for lang in i18n.LANGUAGES})


def _course(tmp_path: Path) -> Path:
    """notebooks/01_a.ipynb and 02_b.ipynb, with ja translations of both and a zh translation of 01_a."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "docs" / "setup.md").write_text("# Start\n")
    (tmp_path / "data" / "pic.png").write_bytes(b"png")
    (tmp_path / "notebooks" / "_setup_cell.py").write_text('COURSE_REPO = "https://github.com/owner/course"\n')
    code = nbformat.v4.new_code_cell("print(1)", execution_count=1, outputs=[
        nbformat.v4.new_output("stream", text="1\n"),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})])
    code.metadata["tags"] = ["nbval-ignore-output"]
    code.id = "code-1"
    cells = [nbformat.v4.new_markdown_cell(MD_TITLE, id="title"), code,
             nbformat.v4.new_markdown_cell(MD_BODY, id="body"), nbformat.v4.new_raw_cell("raw text", id="raw")]
    _notebook(tmp_path / "notebooks" / "01_a.ipynb", cells)
    _notebook(tmp_path / "notebooks" / "02_b.ipynb", [
        nbformat.v4.new_markdown_cell("# 02 · B\n\nBack to [the first](01_a.ipynb).", id="b-title")])
    _translate(tmp_path, "ja", "01_a", {"title": (MD_TITLE, JA["title"]), "body": (MD_BODY, JA["body"])})
    _translate(tmp_path, "ja", "02_b", {"b-title": ("# 02 · B\n\nBack to [the first](01_a.ipynb).",
                                                    "# 02 · B\n\n[最初](01_a.ipynb)に戻る。")})
    _translate(tmp_path, "zh", "01_a", {"title": (MD_TITLE, "# 01 · 第一本\n\n[下一本](02_b.ipynb)。"),
                                        "body": (MD_BODY, "一句话。")})
    return tmp_path


def _translate(root: Path, lang: str, stem: str, cells: dict):
    """Write i18n/<lang>/<stem>.json: cells = {cell id: (English text, translation)}."""
    i18n.write_translation({"notebook": f"{stem}.ipynb", "language": lang, "cells": {
        cell_id: {"en_sha256": _sha(en), "text": text} for cell_id, (en, text) in cells.items()}},
        i18n.translation_path(lang, stem, root))


def _set_english(root: Path, stem: str, cell_id: str, text: str):
    path = root / "notebooks" / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.id == cell_id).source = text
    nbformat.write(nb, path)


def test_build_replaces_only_the_markdown_and_regenerating_changes_nothing(tmp_path):
    root = _course(tmp_path)
    assert i18n.main(["--root", str(root), "check"]) == 1            # not built yet
    assert i18n.main(["--root", str(root), "build"]) == 0
    for lang, stem in [("ja", "01_a"), ("ja", "02_b"), ("zh", "01_a")]:
        _assert_same_but_markdown(root / "notebooks" / f"{stem}.ipynb", i18n.output_path(lang, stem, root))
    ja = nbformat.read(i18n.output_path("ja", "01_a", root), as_version=4)
    assert ja.cells[0].source.startswith("# 01 · 最初のノートブック") and ja.cells[2].source.startswith("一つの文。")
    assert not (root / "notebooks" / "zh" / "02_b.ipynb").exists()
    written = {p: p.read_bytes() for p in (root / "notebooks").rglob("*.ipynb")}
    assert i18n.build(root) == [] and i18n.main(["--root", str(root), "check"]) == 0
    assert {p: p.read_bytes() for p in (root / "notebooks").rglob("*.ipynb")} == written
    # written as scripts/execute_notebooks.py writes a notebook (nbformat), so the English reads back the same
    english = root / "notebooks" / "01_a.ipynb"
    assert english.read_text() == i18n.render(nbformat.read(english, as_version=4))


def test_links_are_rewritten_for_the_language_folder_and_resolve(tmp_path):
    root = _course(tmp_path)
    i18n.build(root)
    ja = nbformat.read(i18n.output_path("ja", "01_a", root), as_version=4)
    assert "(02_b.ipynb)" in ja.cells[0].source and "(../../docs/setup.md#start)" in ja.cells[0].source
    assert "(../../data/pic.png)" in ja.cells[2].source and 'src="../../data/pic.png"' in ja.cells[2].source
    assert "(https://example.org)" in ja.cells[2].source
    zh = nbformat.read(i18n.output_path("zh", "01_a", root), as_version=4)
    assert "(../02_b.ipynb)" in zh.cells[0].source             # zh has no 02_b yet: the English one
    for path in sorted((root / "notebooks").glob("*/*.ipynb")):
        _assert_links_resolve(path, root)


def test_a_link_check_finds_a_broken_link_and_one_leaving_the_language(tmp_path):
    root = _course(tmp_path)
    i18n.build(root)
    path = i18n.output_path("ja", "02_b", root)
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "[gone](../nowhere.md)"
    nbformat.write(nb, path)
    with pytest.raises(AssertionError, match="lead nowhere"):
        _assert_links_resolve(path, root)
    nb.cells[0].source = "[English](../01_a.ipynb)"
    nbformat.write(nb, path)
    with pytest.raises(AssertionError, match="leave the language"):
        _assert_links_resolve(path, root)


@pytest.mark.parametrize("target, has, expected", [
    ("02_b.ipynb", True, "02_b.ipynb"), ("./02_b.ipynb#part", True, "./02_b.ipynb#part"),
    ("02_b.ipynb", False, "../02_b.ipynb"), ("../docs/a.md", True, "../../docs/a.md"),
    ("img/x.png", True, "../img/x.png"), ("https://x.org/a.ipynb", True, "https://x.org/a.ipynb"),
    ("#anchor", True, "#anchor"), ("mailto:a@b.c", True, "mailto:a@b.c"),
])
def test_localise_link(target, has, expected):
    assert i18n.localise_link(target, lambda name: has) == expected


@pytest.mark.parametrize("text, expected", [
    ("[-1, -1, 1, 1]: the right half minus the left", "[-1, -1, 1, 1]: the right half minus the left"),
    ("[setup]: ../docs/setup.md", "[setup]: ../../docs/setup.md"),
    ('[setup]: ../docs/setup.md "Setting up"', '[setup]: ../../docs/setup.md "Setting up"'),
    ("`kernels[0](x)` and [the data](../data/README.md)", "`kernels[0](x)` and [the data](../../data/README.md)"),
    ("```python\nf[0](x)\n```\n![a](pic.png)", "```python\nf[0](x)\n```\n![a](../pic.png)"),
    ('<img src="../docs/a.png" alt="a">', '<img src="../../docs/a.png" alt="a">'),
])
def test_localise_links_rewrites_links_only_not_code_or_text_that_looks_like_one(text, expected):
    assert i18n.localise_links(text, lambda name: True) == expected


def test_a_changed_english_sentence_fails_naming_the_notebook_cell_languages_and_command(tmp_path):
    root = _course(tmp_path)
    i18n.build(root)
    _assert_translations_in_step(root, "01_a")
    changed = MD_BODY.replace("A sentence.", "A changed sentence.")
    _set_english(root, "01_a", "body", changed)
    with pytest.raises(AssertionError) as info:
        _assert_translations_in_step(root, "01_a")
    message = str(info.value)
    assert "notebooks/01_a.ipynb, cell body:" in message and "changed since the ja, zh translation" in message
    assert "i18n/ja/01_a.json, i18n/zh/01_a.json" in message and "python scripts/i18n.py show ja 01_a" in message
    assert "cell title" not in message                        # only the changed cell
    assert i18n.main(["--root", str(root), "check"]) == 1
    # until the translations are updated, the generated notebooks show the current English for that cell
    i18n.build(root)
    assert nbformat.read(i18n.output_path("ja", "01_a", root), as_version=4).cells[2].source.startswith("A changed")
    _translate(root, "ja", "01_a", {"title": (MD_TITLE, JA["title"]), "body": (changed, "変えた文。")})
    with pytest.raises(AssertionError, match="since the zh translation"):
        _assert_translations_in_step(root, "01_a")
    _translate(root, "zh", "01_a", {"title": (MD_TITLE, "# 01 · 第一本"), "body": (changed, "改过的一句话。")})
    _assert_translations_in_step(root, "01_a")
    assert i18n.main(["--root", str(root), "check"]) == 1      # the notebooks are not rebuilt yet
    i18n.build(root)
    assert i18n.main(["--root", str(root), "check"]) == 0
    assert nbformat.read(i18n.output_path("ja", "01_a", root), as_version=4).cells[2].source == "変えた文。"


def test_a_new_or_removed_markdown_cell_is_reported(tmp_path):
    root = _course(tmp_path)
    path = root / "notebooks" / "02_b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph.", id="new-cell"))
    nbformat.write(nb, path)
    assert any("02_b.ipynb, cell new-cell: has no ja translation" in line for line in i18n.cell_problems(root))
    nb.cells = nb.cells[1:]
    nbformat.write(nb, path)
    problems = i18n.cell_problems(root)
    assert any("cell b-title: is no longer a markdown cell in English, but the ja" in line for line in problems)
    status = "\n".join(i18n.status(root, ["ja"]))
    assert "02_b: 1 missing (new-cell); 1 obsolete (b-title)" in status and "01_a: up to date" in status


def test_a_required_notebook_without_its_translation_file_fails(tmp_path, monkeypatch):
    root = _course(tmp_path)
    monkeypatch.setattr(i18n, "REQUIRED", {"ja": ("01_a", "02_b"), "zh": ("01_a", "02_b"), "ru": ()})
    assert i18n.missing_files(root) == [
        "notebooks/02_b.ipynb has no zh translation: i18n/zh/02_b.json is missing"
        " (scripts/i18n.py REQUIRED says zh must have it)"]
    assert "02_b: not translated (required)" in i18n.status(root, ["zh"])[2]
    monkeypatch.setattr(i18n, "REQUIRED", {"ja": ("03_gone",), "zh": (), "ru": ()})
    assert "lists '03_gone', which is no English notebook" in i18n.missing_files(root)[0]


def test_a_generated_notebook_without_its_translation_is_reported_and_removed(tmp_path):
    root = _course(tmp_path)
    i18n.build(root)
    i18n.translation_path("ja", "02_b", root).unlink()
    assert any("notebooks/ja/02_b.ipynb has no translation file" in line for line in i18n.out_of_step(root))
    assert "notebooks/ja/02_b.ipynb: removed (no i18n/ja/02_b.json)" in i18n.build(root)
    assert not i18n.output_path("ja", "02_b", root).exists() and i18n.out_of_step(root) == []


@pytest.mark.parametrize("content, match", [
    ("{not json", "not valid JSON"),
    ('{"notebook": "01_a.ipynb", "language": "zh", "cells": {}}', '"language" must be'),
    ('{"notebook": "01_a.ipynb", "language": "ja", "cells": {"title": {"text": "x"}}}', "cell 'title' must be"),
])
def test_a_malformed_translation_file_is_named_with_what_is_wrong(tmp_path, content, match):
    root = _course(tmp_path)
    i18n.translation_path("ja", "01_a", root).write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        i18n.build(root)
    assert "01_a.json" in str(info.value)
    assert i18n.main(["--root", str(root), "check"]) != 0


def test_a_translation_of_a_notebook_that_does_not_exist_is_refused(tmp_path):
    root = _course(tmp_path)
    _translate(root, "ru", "07_gone", {})
    with pytest.raises(ValueError, match="no English notebook notebooks/07_gone.ipynb"):
        i18n.build(root)


def test_the_readme_notebook_list_is_written_in_the_language_with_english_marked(tmp_path):
    root = _course(tmp_path)
    for lang in ("ja", "zh"):
        (root / f"README.{lang}.md").write_text(f"# Course\n\n{i18n.LIST_START}\nold\n{i18n.LIST_END}\n\nEnd.\n")
    i18n.build(root)
    ja = (root / "README.ja.md").read_text(encoding="utf-8")
    assert ("- [01 · 最初のノートブック](notebooks/ja/01_a.ipynb) · [Colab](https://colab.research.google.com"
            "/github/owner/course/blob/main/notebooks/ja/01_a.ipynb)") in ja and "old" not in ja
    assert ja.endswith(f"{i18n.LIST_END}\n\nEnd.\n")
    zh = (root / "README.zh.md").read_text(encoding="utf-8")
    assert f"- [02 · B](notebooks/02_b.ipynb) ({i18n.ENGLISH_ONLY['zh']})" in zh
    assert i18n.build_problems(root) == []
    _set_english(root, "02_b", "b-title", "# 02 · Bee")
    assert "README.zh.md: its notebook list is not what" in "\n".join(i18n.build_problems(root))


def test_show_prints_the_english_to_translate_and_what_changed_since_from_git(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = _course(tmp_path)

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                       capture_output=True)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "one")
    _set_english(root, "01_a", "body", MD_BODY.replace("A sentence.", "A better sentence."))
    git("commit", "-qam", "two")
    shown = i18n.show("ja", "01_a", root)
    new_hash = _sha(MD_BODY.replace("A sentence.", "A better sentence."))
    assert f"=== cell body (stale): en_sha256 {new_hash}" in shown and "cell title" not in shown
    assert "-A sentence." in shown and "+A better sentence." in shown
    assert shown.rstrip().endswith("[web](https://example.org)")
    assert "=== cell title (up to date)" in i18n.show("ja", "01_a", root, everything=True)
    assert "is up to date" in i18n.show("ja", "02_b", root)
