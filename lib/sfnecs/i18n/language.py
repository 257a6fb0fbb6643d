"""Which language people read: English by default, Japanese on request (`lang`, SFNECS_LANG; the CLI: the locale).

Why a module of its own at the bottom of the stack: every layer's text (validation errors, diagnoses,
runbook summaries, plot labels) is chosen by the same setting, so it must be importable from all of
them; a runbook sets it once from its `lang` parameter, the CLI from SFNECS_LANG or the locale.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

#: the languages the kit speaks; English is the source language (every msgid is English)
LANGUAGES = ("en", "ja")

_CHOSEN: ContextVar[str | None] = ContextVar("sfnecs_lang", default=None)
#: what else follows the language when a runbook or lesson chooses it (sfnecs.i18n.tables: the display)
_FOLLOWERS: list[Callable[[str], object]] = []


def check_language(parameter: str, value: object) -> str:
    """Return `value` if it is one of LANGUAGES, else raise ValueError naming the parameter and what is allowed."""
    if value not in LANGUAGES:
        # ValueError, not sfnecs.exceptions.ValidationError: this module sits below exceptions (which
        # translates its own message); the wording is ValidationError's, so callers read one format.
        raise ValueError(f"{parameter}={value!r} is not valid: use {' or '.join(LANGUAGES)}")
    return str(value)


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """SFNECS_LANG if set, else the POSIX locale (LC_ALL, LC_MESSAGES, LANG: ja_JP.UTF-8 -> ja), else English."""
    env = os.environ if environ is None else environ
    if env.get("SFNECS_LANG"):
        return check_language("SFNECS_LANG", env["SFNECS_LANG"])
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:  # the first one set decides, as in POSIX
            code = value.split(".")[0].split("_")[0].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def current_language() -> str:
    """The language chosen by set_language/use_language, else SFNECS_LANG, else English.

    The locale is not read here: a notebook or a program gets English unless it asks (so stored
    outputs do not depend on the machine's locale); the CLI reads it (language_from_environment). A
    bad SFNECS_LANG reads as English here, since a message must still be shown; the CLI refuses it.
    """
    chosen = _CHOSEN.get()
    if chosen:
        return chosen
    env = os.environ.get("SFNECS_LANG", "")
    return env if env in LANGUAGES else "en"


def set_language(lang: str) -> str:
    """Choose the language for the rest of this process (a runbook calls it with its `lang` parameter)."""
    _CHOSEN.set(check_language("lang", lang))
    for follow in _FOLLOWERS:
        follow(lang)
    return lang


def on_language_chosen(follow: Callable[[str], object]) -> None:
    """Call `follow(lang)` whenever set_language chooses a language (how the notebook display follows it)."""
    if follow not in _FOLLOWERS:
        _FOLLOWERS.append(follow)


@contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Choose the language inside a `with` block only (tests, one-off renders)."""
    token = _CHOSEN.set(check_language("lang", lang))
    try:
        yield lang
    finally:
        _CHOSEN.reset(token)
