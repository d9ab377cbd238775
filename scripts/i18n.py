"""Write the course's notebooks in other languages from the English ones and the translations in i18n/.

    python scripts/i18n.py build                 # write notebooks/<lang>/NN_*.ipynb from i18n/<lang>/NN_*.json
    python scripts/i18n.py check                 # change nothing; exit 1 naming what is missing, stale or not built
    python scripts/i18n.py status [ja zh ru]     # per language and notebook: the cells to translate or update
    python scripts/i18n.py show ja 07_training   # the English text of those cells, and what changed since

The English notebooks are the only executed source. A translation file, i18n/<lang>/<notebook stem>.json,
holds for each markdown cell (by cell id) the translated text and a fingerprint of the English text it
translates (`en_sha256`: the first 16 hex digits of the SHA-256 of the cell's source, UTF-8):

    {"notebook": "01_pixels.ipynb", "language": "ja",
     "cells": {"<cell id>": {"en_sha256": "<16 hex digits>", "text": "<translated markdown>"}, ...}}

`build` copies the English notebook and replaces only its markdown cells' sources: code cells, their
outputs, the widget state and all metadata stay byte for byte, so nbval needs to run the English notebooks
only. A markdown cell whose translation is missing, or was made from an older English text (the
fingerprint differs), keeps the current English text until the translation is updated: a generated
notebook never says something the English no longer says. Relative links are rewritten for the folder one
level down: a link to another notebook stays in the language's folder when that language has it (else it
leads to the English one), and any other relative link (../docs/..., ../data/..., an image) gets one more
"../". tests/test_i18n.py checks all of this; docs/translations.md says how to update a translation.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import io
import json
import posixpath
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

#: the languages the course is translated into: folder name -> the language's own name
LANGUAGES = {"ja": "日本語", "zh": "中文", "ru": "Русский"}

#: how each language's README says that a notebook is not translated yet and the link leads to the English
ENGLISH_ONLY = {"ja": "英語版のみ", "zh": "暂为英文版", "ru": "пока на английском"}
#: the notebook list in README.<lang>.md sits between these two lines; `build` writes it
LIST_START = "<!-- the notebook list: written by `python scripts/i18n.py build` -->"
LIST_END = "<!-- end of the notebook list -->"

#: The notebooks each language must have (file stems). This is the one place that says so: `check` and
#: tests/test_i18n.py fail when one of them has no translation file or a cell without an up-to-date
#: translation. (A translation file that is present is built and checked whether or not it is listed.)
TRANSLATED = ("01_pixels", "02_convolution", "03_sobel_filters", "04_padding_and_stride", "05_pooling",
              "06_softmax_and_cross_entropy", "07_training", "08_architectures", "09_training_well",
              "10_modern_architectures", "11_inside_a_trained_cnn")
REQUIRED: dict[str, tuple[str, ...]] = {"ja": TRANSLATED, "zh": TRANSLATED, "ru": TRANSLATED}

#: how a link target that leaves the repository starts (https:, mailto:, data:, ...)
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
#: a notebook of the course, as a link target inside notebooks/
NOTEBOOK_NAME = re.compile(r"[0-9][0-9]_[^/]*\.ipynb")
#: where markdown and HTML put link targets: [text](target "title"), ![alt](image), [label]: target,
#: <img src="...">, <a href="...">; group 1 is what comes before the target, group 2 the target. (A line
#: such as "[-1, 0, 1]: the kernel" is text, not a reference: a target is followed by nothing or a title.)
LINK_PATTERNS = (
    re.compile(r"(!?\[[^\]]*\]\(\s*)([^)\s]+)"),
    re.compile(r"""^( {0,3}\[[^\]]+\]:[ \t]*)(\S+)(?=[ \t]*(?:$|["'(]))""", flags=re.M),
    re.compile(r"""(\b(?:src|href)\s*=\s*["'])([^"']+)""", flags=re.I),
)


def en_sha256(source: str) -> str:
    """The fingerprint of an English cell's text: the first 16 hex digits of the SHA-256 of its UTF-8."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def english_notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def translation_path(lang: str, stem: str, root: Path = ROOT) -> Path:
    return root / "i18n" / lang / f"{stem}.json"


def output_path(lang: str, stem: str, root: Path = ROOT) -> Path:
    return root / "notebooks" / lang / f"{stem}.ipynb"


def read_translation(path: Path) -> dict:
    """The translation file at ``path``, checked: a clear ValueError names the file and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}): fix the file (a missing comma or quote?)") from None
    lang, stem = path.parent.name, path.stem
    if not isinstance(data, dict) or not isinstance(data.get("cells"), dict):
        raise ValueError(f'{path}: expected {{"notebook": ..., "language": ..., "cells": {{cell id: ...}}}}')
    if data.get("notebook") != f"{stem}.ipynb" or data.get("language") != lang:
        raise ValueError(f'{path}: "notebook" and "language" must be "{stem}.ipynb" and "{lang}" (the file\'s'
                         f' name and folder), got {data.get("notebook")!r} and {data.get("language")!r}')
    for cell_id, entry in data["cells"].items():
        if not (isinstance(entry, dict) and isinstance(entry.get("en_sha256"), str)
                and isinstance(entry.get("text"), str)):
            raise ValueError(f'{path}: cell {cell_id!r} must be {{"en_sha256": "<16 hex digits>", "text": "..."}},'
                             f" got {entry!r}")
    return data


def write_translation(data: dict, path: Path) -> None:
    """Write a translation file the way the translators do: readable UTF-8, one space of indent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")


# -- comparing a translation with the English notebook -------------------------------------------------

@dataclass
class Comparison:
    """What a translation file lacks against the current English notebook (lists of cell ids)."""
    missing: list[str] = field(default_factory=list)     # an English markdown cell with no (or an empty) translation
    stale: list[str] = field(default_factory=list)       # translated from an older English text
    obsolete: list[str] = field(default_factory=list)    # an entry for a cell that is no longer markdown in English

    @property
    def up_to_date(self) -> bool:
        return not (self.missing or self.stale or self.obsolete)


def markdown_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "markdown"]


def compare(english, translation: dict | None) -> Comparison:
    """Which of the English notebook's markdown cells the translation lacks or has from older English."""
    cells = (translation or {}).get("cells", {})
    result = Comparison()
    for cell in markdown_cells(english):
        entry = cells.get(cell.id)
        if entry is None or (not entry["text"].strip() and cell.source.strip()):
            result.missing.append(cell.id)
        elif entry["en_sha256"] != en_sha256(cell.source):
            result.stale.append(cell.id)
    markdown = {c.id for c in markdown_cells(english)}
    result.obsolete = [cell_id for cell_id in cells if cell_id not in markdown]
    return result


# -- building a notebook in another language -----------------------------------------------------------

def localise_link(target: str, has_notebook) -> str:
    """A link target written for notebooks/, rewritten for notebooks/<lang>/.

    ``has_notebook(name)`` says whether the language has that notebook: a link to it then stays in the
    language's folder (the same file name); otherwise it leads to the English one, one folder up.
    """
    if SCHEME.match(target) or target.startswith(("#", "/")):
        return target                                    # a web address, an anchor in this notebook, or absolute
    path = target.split("#", 1)[0].split("?", 1)[0]
    name = posixpath.normpath(path)
    if NOTEBOOK_NAME.fullmatch(name) and has_notebook(name):
        return target
    return "../" + target


#: code in markdown, where brackets and parentheses are code, not links: fenced blocks and `spans`
CODE = re.compile(r"(```.*?(?:```|$(?![\s\S]))|~~~.*?(?:~~~|$(?![\s\S]))|`[^`\n]*`)", flags=re.S)


def localise_links(text: str, has_notebook) -> str:
    """The markdown ``text`` with its relative link targets rewritten by localise_link (code left alone)."""
    parts = CODE.split(text)
    for i in range(0, len(parts), 2):                    # the even parts are outside code
        for pattern in LINK_PATTERNS:
            parts[i] = pattern.sub(lambda m: m.group(1) + localise_link(m.group(2), has_notebook), parts[i])
    return "".join(parts)


def build_notebook(english, translation: dict, has_notebook):
    """A copy of the English notebook with its markdown cells in the translation's language.

    Only the sources of markdown cells that have an up-to-date translation change; every other cell and
    all metadata are the English notebook's own.
    """
    nb = copy.deepcopy(english)
    cells = translation["cells"]
    for cell in markdown_cells(nb):
        entry = cells.get(cell.id)
        if entry is not None and entry["en_sha256"] == en_sha256(cell.source) and entry["text"].strip():
            cell.source = localise_links(entry["text"], has_notebook)
    return nb


def render(nb) -> str:
    """The notebook as nbformat writes it to a file (as scripts/execute_notebooks.py stores notebooks)."""
    out = io.StringIO()
    nbformat.write(nb, out)
    return out.getvalue()


def translations(lang: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / "i18n" / lang).glob("[0-9][0-9]_*.json"))


def planned(root: Path = ROOT, langs=None) -> dict[Path, str]:
    """Every generated notebook as `build` would write it: output path -> file text."""
    english = {p.stem: p for p in english_notebooks(root)}
    result = {}
    for lang in langs or LANGUAGES:
        sources = translations(lang, root)
        have = {p.stem + ".ipynb" for p in sources}
        for path in sources:
            if path.stem not in english:
                raise ValueError(f"{path}: there is no English notebook notebooks/{path.stem}.ipynb to translate:"
                                 " rename the file after the notebook, or delete it if the notebook was removed")
            nb = build_notebook(nbformat.read(english[path.stem], as_version=4), read_translation(path),
                                have.__contains__)
            result[output_path(lang, path.stem, root)] = render(nb)
        readme = readme_text(lang, root)
        if readme is not None:
            result[root / f"README.{lang}.md"] = readme
    return result


def course_repo(root: Path = ROOT) -> str:
    """owner/name of the repository the set-up cell fetches (Colab links open notebooks from it)."""
    setup = (root / "notebooks" / "_setup_cell.py").read_text(encoding="utf-8")
    return re.search(r'COURSE_REPO = "https://github.com/([^"]+)"', setup).group(1)


def notebook_list(lang: str, root: Path = ROOT) -> str:
    """The lines of README.<lang>.md's notebook list: each notebook's title in that language, with a link
    to it and its Colab link, or the English notebook, marked as such, while it is not translated."""
    repo, lines = course_repo(root), []
    for path in english_notebooks(root):
        english = nbformat.read(path, as_version=4)
        source = translation_path(lang, path.stem, root)
        if source.exists():
            nb = build_notebook(english, read_translation(source), lambda name: True)
            rel = f"notebooks/{lang}/{path.name}"
        else:
            nb, rel = english, f"notebooks/{path.name}"
        heading = next((c.source for c in markdown_cells(nb) if c.source.lstrip().startswith("#")), path.stem)
        title = heading.lstrip().splitlines()[0].lstrip("#").strip()
        colab = f"https://colab.research.google.com/github/{repo}/blob/main/{rel}"
        note = "" if source.exists() else f" ({ENGLISH_ONLY[lang]})"
        lines.append(f"- [{title}]({rel}){note} · [Colab]({colab})")
    return "\n".join(lines)


def readme_text(lang: str, root: Path = ROOT) -> str | None:
    """README.<lang>.md with its notebook list as `build` writes it (None: no such README, or no list)."""
    path = root / f"README.{lang}.md"
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    start, end = text.find(LIST_START), text.find(LIST_END)
    if start < 0 or end < start:
        raise ValueError(f"{path.name}: the notebook list must sit between the lines {LIST_START!r} and"
                         f" {LIST_END!r}: put them back around it")
    return text[:start] + LIST_START + "\n" + notebook_list(lang, root) + "\n" + text[end:]


def orphans(root: Path = ROOT, langs=None) -> list[Path]:
    """Generated notebooks in notebooks/<lang>/ that no translation file makes any more."""
    found = []
    for lang in langs or LANGUAGES:
        made = {p.stem for p in translations(lang, root)}
        found += [p for p in sorted((root / "notebooks" / lang).glob("*.ipynb")) if p.stem not in made]
    return found


def build(root: Path = ROOT, langs=None) -> list[str]:
    """Write every generated notebook that differs from what the translations make; remove orphans."""
    done = []
    for path, text in planned(root, langs).items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        done.append(f"{path.relative_to(root).as_posix()}: written")
    for path in orphans(root, langs):
        path.unlink()
        done.append(f"{path.relative_to(root).as_posix()}: removed (no i18n/{path.parent.name}/{path.stem}.json)")
    return done


# -- what is out of date, and where --------------------------------------------------------------------

def comparisons(root: Path = ROOT, langs=None) -> dict[tuple[str, str], Comparison]:
    """(language, notebook stem) -> Comparison, for every translation file and every required notebook."""
    result = {}
    for english_path in english_notebooks(root):
        english = nbformat.read(english_path, as_version=4)
        for lang in langs or LANGUAGES:
            path = translation_path(lang, english_path.stem, root)
            if path.exists() or english_path.stem in REQUIRED.get(lang, ()):
                result[lang, english_path.stem] = compare(english, read_translation(path) if path.exists() else None)
    return result


def missing_files(root: Path = ROOT, langs=None) -> list[str]:
    """The required notebooks (REQUIRED) that have no translation file."""
    lines, english = [], {p.stem for p in english_notebooks(root)}
    for lang in langs or LANGUAGES:
        for stem in REQUIRED.get(lang, ()):
            if stem not in english:
                lines.append(f"scripts/i18n.py: REQUIRED[{lang!r}] lists {stem!r}, which is no English notebook")
            elif not translation_path(lang, stem, root).exists():
                lines.append(f"notebooks/{stem}.ipynb has no {lang} translation: i18n/{lang}/{stem}.json is missing"
                             f" (scripts/i18n.py REQUIRED says {lang} must have it)")
    return lines


def cell_problems(root: Path = ROOT, langs=None) -> list[str]:
    """One line per markdown cell that a translation file lacks, has from older English, or no longer needs,
    naming every language concerned, so that one changed English sentence is one line."""
    by_cell: dict[tuple[str, str, str], list[str]] = {}
    for (lang, stem), result in comparisons(root, langs).items():
        if not translation_path(lang, stem, root).exists():
            continue                                         # missing_files() says so
        for kind in ("stale", "missing", "obsolete"):
            for cell_id in getattr(result, kind):
                by_cell.setdefault((stem, cell_id, kind), []).append(lang)
    why = {"stale": "its English text changed since the {} translation was made",
           "missing": "has no {} translation",
           "obsolete": "is no longer a markdown cell in English, but the {} translation has an entry for it"}
    lines = []
    for (stem, cell_id, kind), cell_langs in sorted(by_cell.items()):
        files = ", ".join(f"i18n/{lang}/{stem}.json" for lang in cell_langs)
        lines.append(f"notebooks/{stem}.ipynb, cell {cell_id}: {why[kind].format(', '.join(cell_langs))}:"
                     f" update {files} (`python scripts/i18n.py show {cell_langs[0]} {stem}` prints the English)")
    return lines


def build_problems(root: Path = ROOT, langs=None) -> list[str]:
    """The generated files (notebooks/<lang>/*.ipynb, README.<lang>.md's list) that `build` would change."""
    try:
        plan = planned(root, langs)
    except ValueError as exc:
        return [str(exc)]
    lines = []
    for path, text in plan.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            what = "its notebook list is" if path.suffix == ".md" else "it is"
            lines.append(f"{path.relative_to(root).as_posix()}: {what} not what the translations and the English"
                         " notebooks make: run `python scripts/i18n.py build`")
    lines += [f"{p.relative_to(root).as_posix()} has no translation file i18n/{p.parent.name}/{p.stem}.json:"
              " run `python scripts/i18n.py build` to remove it" for p in orphans(root, langs)]
    return lines


def out_of_step(root: Path = ROOT, langs=None) -> list[str]:
    """Everything `check` reports: required translation files missing, cells to update, files to rebuild."""
    return missing_files(root, langs) + cell_problems(root, langs) + build_problems(root, langs)


def status(root: Path = ROOT, langs=None) -> list[str]:
    """Per language, per notebook: translated and up to date, or the cells to translate or update."""
    found = comparisons(root, langs)
    lines = []
    for lang in langs or LANGUAGES:
        lines.append(f"{lang} ({LANGUAGES.get(lang, '?')}):")
        for path in english_notebooks(root):
            required = " (required)" if path.stem in REQUIRED.get(lang, ()) else ""
            result = found.get((lang, path.stem))
            if result is None or not translation_path(lang, path.stem, root).exists():
                lines.append(f"  {path.stem}: not translated{required}")
            elif result.up_to_date:
                lines.append(f"  {path.stem}: up to date{required}")
            else:
                parts = [f"{len(ids)} {kind} ({', '.join(ids)})" for kind, ids in
                         (("stale", result.stale), ("missing", result.missing), ("obsolete", result.obsolete)) if ids]
                lines.append(f"  {path.stem}: {'; '.join(parts)}{required}")
    return lines


def old_english(stem: str, wanted: dict[str, str], root: Path = ROOT, depth: int = 50) -> dict[str, str]:
    """The English texts the translation was made from, found in git history: {cell id: fingerprint} ->
    {cell id: English text}, for the cells found in the notebook's last ``depth`` commits."""
    rel, found = f"notebooks/{stem}.ipynb", {}
    log = subprocess.run(["git", "log", f"-n{depth}", "--format=%H", "--", rel], cwd=root,
                         capture_output=True, text=True)
    for commit in log.stdout.split() if log.returncode == 0 and wanted else []:
        shown = subprocess.run(["git", "show", f"{commit}:{rel}"], cwd=root, capture_output=True, text=True)
        cells = json.loads(shown.stdout).get("cells", []) if shown.returncode == 0 else []
        for cell in cells:
            source = "".join(cell.get("source", ""))
            if cell.get("id") in wanted and cell.get("id") not in found and en_sha256(source) == wanted[cell["id"]]:
                found[cell["id"]] = source
        if len(found) == len(wanted):
            break
    return found


def show(lang: str, stem: str, root: Path = ROOT, everything: bool = False) -> str:
    """The English text of the cells the translation lacks (or of every cell), with the fingerprint to record.

    For a stale cell, what changed in the English since the translation was made, when git still has the
    older text.
    """
    english_path = root / "notebooks" / f"{stem}.ipynb"
    if not english_path.exists():
        raise ValueError(f"there is no notebook notebooks/{stem}.ipynb: give a stem such as 07_training")
    english = nbformat.read(english_path, as_version=4)
    path = translation_path(lang, stem, root)
    translation = read_translation(path) if path.exists() else None
    result = compare(english, translation)
    olds = old_english(stem, {i: translation["cells"][i]["en_sha256"] for i in result.stale}, root)
    out = []
    for cell in markdown_cells(english):
        kind = "stale" if cell.id in result.stale else "missing" if cell.id in result.missing else None
        if kind is None and not everything:
            continue
        out.append(f"=== cell {cell.id} ({kind or 'up to date'}): en_sha256 {en_sha256(cell.source)}")
        old = olds.get(cell.id)
        if old is not None:
            out.append("--- what changed in the English since the translation (- old, + now):")
            out += [line.rstrip("\n") for line in difflib.unified_diff(
                old.splitlines(), cell.source.splitlines(), lineterm="", n=2)][2:]
            out.append("--- the English text now:")
        elif kind == "stale":
            out.append("--- (the English text the translation was made from is not in git history) the English now:")
        out.append(cell.source)
    if result.obsolete:
        out.append(f"=== entries for cells that are no longer markdown in English (delete them): {result.obsolete}")
    return "\n".join(out) if out else f"i18n/{lang}/{stem}.json is up to date with notebooks/{stem}.ipynb"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)   # a copy of the course (tests)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("build", "write notebooks/<lang>/ from the English notebooks and i18n/<lang>/"),
                       ("check", "change nothing; exit 1 naming what is missing, stale or not built"),
                       ("status", "per language and notebook: the cells to translate or update")):
        sub.add_parser(name, help=text).add_argument("langs", nargs="*", help=f"default: all ({' '.join(LANGUAGES)})")
    shower = sub.add_parser("show", help="the English text of the cells a translation lacks, with their fingerprints")
    shower.add_argument("lang", choices=list(LANGUAGES))
    shower.add_argument("notebook", help="the notebook's stem, e.g. 07_training")
    shower.add_argument("--all", action="store_true", help="every markdown cell, not only those to update")
    args = parser.parse_args(argv)
    unknown = [lang for lang in getattr(args, "langs", []) if lang not in LANGUAGES]
    if unknown:
        parser.error(f"unknown language {unknown}: choose from {' '.join(LANGUAGES)}")
    try:
        if args.command == "show":
            print(show(args.lang, Path(args.notebook).stem, args.root, everything=args.all))
        elif args.command == "status":
            print("\n".join(status(args.root, args.langs)))
        elif args.command == "build":
            print("\n".join(build(args.root, args.langs)) or "every translated notebook is up to date")
        else:
            problems = out_of_step(args.root, args.langs)
            print("\n".join(problems) or "every translation is in step with the English notebooks")
            return 1 if problems else 0
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
