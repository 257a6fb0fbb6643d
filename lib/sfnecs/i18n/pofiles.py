"""Reading, merging and writing gettext `.po` catalogs (Babel), for the library's and the lessons' text.

Why one merge for both: a catalog is re-extracted whenever the English changes, and the rule is
the same for a library message and a lesson cell: an entry whose English is unchanged keeps its
translation; one whose English changed keeps the old translation marked fuzzy (shown to the
translator with the previous English, never shown to readers); one that is new is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

#: the comment line before the English a fuzzy entry was translated from (Babel reads no `#|` lines back,
#: so the previous English is kept as `#.` comments, which it does)
PREVIOUS = "previous English:"
#: a fixed date for the header: extraction then rewrites a catalog only when its messages change
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _empty(lang: str) -> Catalog:
    return Catalog(
        locale=lang,
        project="sfnecs",
        header_comment=f"# sfnecs: the {lang} translations (written by extraction: fill in msgstr only)",
        fuzzy=False,
        last_translator="sfnecs contributors",
        language_team=lang,
        creation_date=_EPOCH,
        revision_date=_EPOCH,
    )


@dataclass(frozen=True)
class Source:
    """One English text to translate: its msgid, optional msgctxt, and where it comes from."""

    msgid: str
    context: str | None = None
    locations: tuple[tuple[str, int], ...] = ()
    comments: tuple[str, ...] = ()


def read_catalog(path: Path, lang: str = "ja") -> Catalog:
    """The catalog at `path`, or an empty one for `lang` when the file does not exist yet."""
    if not path.exists():
        return _empty(lang)
    with path.open("rb") as f:
        return read_po(f)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write `catalog` as a `.po` file (no line wrapping, a fixed header date)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.creation_date = catalog.revision_date = _EPOCH
    with path.open("wb") as f:
        write_po(f, catalog, width=0, omit_header=False)


def text(value: object) -> str:
    """A message's id or string as one text (Babel types them as str, or a tuple/list for plural forms)."""
    if isinstance(value, str):
        return value
    return str(value[0]) if isinstance(value, (tuple, list)) and value else ""


def merge(sources: Iterable[Source], old: Catalog, key: Callable[[str, str | None], str], lang: str) -> Catalog:
    """A new catalog of `sources`, carrying translations over from `old` (see the module's rule).

    `key(msgid, context)` names what stays the same when the English changes (the lessons' cell id).
    """
    by_key = {key(text(m.id), m.context): m for m in old if m.id}
    new = _empty(lang)
    for s in sources:
        was = old.get(s.msgid, context=s.context)
        flags: set[str] = set()
        previous: list[str] = []
        if was is not None:
            string, flags = text(was.string), set(was.flags) & {"fuzzy"}
            if "fuzzy" in flags and PREVIOUS in was.auto_comments:  # still stale: keep the note
                previous = list(was.auto_comments[was.auto_comments.index(PREVIOUS) :])
        elif (same := by_key.get(key(s.msgid, s.context))) is not None and same.string:
            string, flags = text(same.string), {"fuzzy"}
            previous = [PREVIOUS, *(f"| {line}" for line in text(same.id).splitlines())]
        else:
            string = ""
        new.add(
            s.msgid,
            string,
            locations=s.locations,
            flags=flags,
            auto_comments=[*s.comments, *previous],
            context=s.context,
        )
    return new


def translated(catalog: Catalog) -> list[tuple[str, str, str | None]]:
    """(msgid, translation, context) of every entry with a translation that is not fuzzy."""
    return [(text(m.id), text(m.string), m.context) for m in catalog if m.id and m.string and not m.fuzzy]
