"""Extract the library's text for people into its catalogs: `python -m sfnecs.i18n.extract`.

Why from the code: the English lives where it is used (`tr("...")`, `N_("...")`), so the catalog is
rebuilt from the code, never edited by hand for its msgids; translators fill in `msgstr` only.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from babel.messages.extract import extract, extract_from_dir

from sfnecs.i18n.catalog import KEYWORDS, catalog_path
from sfnecs.i18n.language import LANGUAGES
from sfnecs.i18n.pofiles import Source, merge, read_catalog, write_catalog

PACKAGE = Path(__file__).resolve().parents[1]
#: the English lessons, whose code cells may mark text with `tr` too (a row label, a printed line):
#: their text joins the library's catalog, since `tr` reads that one (absent in an installed package)
LESSONS = PACKAGE.parents[1] / "notebooks"


def library_sources(package: Path = PACKAGE) -> list[Source]:
    """Every marked text in the package's Python files, once each, with where it is used."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(package), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()
    ):
        if isinstance(message, str) and message:
            found.setdefault(message, []).append((f"sfnecs/{filename}", line))
    return [Source(msgid, locations=tuple(where)) for msgid, where in found.items()]


def lesson_sources(lessons: Path = LESSONS) -> list[Source]:
    """Every text marked with `tr`/`N_` in the English lessons' code cells, located by lesson and cell id."""
    found: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(lessons.glob("*.ipynb")) if lessons.is_dir() else []:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]).encode()
            for line, message, _comments, _context in extract("python", io.BytesIO(source), keywords=KEYWORDS):
                if isinstance(message, str) and message:
                    found.setdefault(message, []).append((f"notebooks/{path.name}#{cell.get('id', '')}", line))
    return [Source(msgid, locations=tuple(where)) for msgid, where in found.items()]


def extract_catalogs(package: Path = PACKAGE, lessons: Path = LESSONS) -> dict[str, Path]:
    """Rewrite each non-English catalog with the package's and the lessons' current texts; returns language -> file."""
    library = library_sources(package)
    known = {s.msgid for s in library}
    sources = library + [s for s in lesson_sources(lessons) if s.msgid not in known]
    written = {}
    for lang in LANGUAGES[1:]:
        path = catalog_path(lang)
        write_catalog(merge(sources, read_catalog(path, lang), lambda msgid, _ctx: msgid, lang), path)
        written[lang] = path
    return written


if __name__ == "__main__":
    for lang, path in extract_catalogs().items():
        print(f"{lang}: {path}", file=sys.stdout)
