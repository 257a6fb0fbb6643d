"""Extract the library's text for people into its catalogs: `python -m sfnecs.i18n.extract`.

Why from the code: the English lives where it is used (`tr("...")`, `N_("...")`), so the catalog is
rebuilt from the code, never edited by hand for its msgids; translators fill in `msgstr` only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

from sfnecs.i18n.catalog import KEYWORDS, catalog_path
from sfnecs.i18n.language import LANGUAGES
from sfnecs.i18n.pofiles import Source, merge, read_catalog, write_catalog

PACKAGE = Path(__file__).resolve().parents[1]


def library_sources(package: Path = PACKAGE) -> list[Source]:
    """Every marked text in the package's Python files, once each, with where it is used."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(package), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()
    ):
        if isinstance(message, str) and message:
            found.setdefault(message, []).append((f"sfnecs/{filename}", line))
    return [Source(msgid, locations=tuple(where)) for msgid, where in found.items()]


def extract(package: Path = PACKAGE) -> dict[str, Path]:
    """Rewrite each non-English catalog with the package's current texts; returns language -> file."""
    sources = library_sources(package)
    written = {}
    for lang in LANGUAGES[1:]:
        path = catalog_path(lang)
        write_catalog(merge(sources, read_catalog(path, lang), lambda msgid, _ctx: msgid, lang), path)
        written[lang] = path
    return written


if __name__ == "__main__":
    for lang, path in extract().items():
        print(f"{lang}: {path}", file=sys.stdout)
