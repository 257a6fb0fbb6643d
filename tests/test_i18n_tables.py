"""sfnecs.i18n.tables: a table is shown in the chosen language (labels and the catalog's words) while the
frame keeps its English, and a kernel's display follows set_language."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from sfnecs.i18n import install_display, localize, set_language, use_language
from sfnecs.i18n.catalog import translations
from sfnecs.i18n.language import _CHOSEN

# two words the library's catalog translates (diagnosis evidence labels)
BINARY, PLATFORM = "binary", "platform"


@pytest.fixture(autouse=True)
def english_after():
    token = _CHOSEN.set(None)
    yield
    _CHOSEN.reset(token)


def frame() -> pd.DataFrame:
    """A table with two catalog words and a column and values the catalog does not know."""
    index = pd.Index(["arm64 image", BINARY], name=PLATFORM)
    return pd.DataFrame(
        {BINARY: [PLATFORM, "exec /app/job: exec format error"], "exit_status_xyz": [1, 0]}, index=index
    )


def test_catalog_has_the_words_this_test_uses():
    ja = translations("ja")
    assert ja[BINARY] != BINARY and ja[PLATFORM] != PLATFORM


def test_localize_translates_labels_and_known_text_only():
    ja = translations("ja")
    shown = localize(frame(), "ja")
    assert list(shown.columns) == [ja[BINARY], "exit_status_xyz"]
    assert list(shown.index) == ["arm64 image", ja[BINARY]]
    assert shown.index.name == ja[PLATFORM]
    assert shown.iloc[0, 0] == ja[PLATFORM]
    assert shown.iloc[1, 0] == "exec /app/job: exec format error"  # a log line stays as it was
    assert list(shown["exit_status_xyz"]) == [1, 0]


def test_localize_leaves_the_frame_and_english_alone():
    original = frame()
    localize(original, "ja")
    assert list(original.columns) == [BINARY, "exit_status_xyz"] and original.iloc[0, 0] == PLATFORM
    assert localize(original, "en") is original
    with use_language("en"):
        assert localize(original) is original


def test_localize_series_and_multiindex_columns():
    ja = translations("ja")
    series = pd.Series([PLATFORM], index=[BINARY], name=PLATFORM)
    shown = localize(series, "ja")
    assert shown.name == ja[PLATFORM] and list(shown.index) == [ja[BINARY]] and shown.iloc[0] == ja[PLATFORM]
    wide = pd.concat({"A": frame(), "B": frame()}, axis=1)
    assert BINARY not in {label for pair in localize(wide, "ja").columns for label in pair}


def test_kernel_display_follows_set_language():
    shell = InteractiveShell.instance()
    try:
        ja = translations("ja")
        set_language("ja")  # installs the display hook in the running shell
        data, _ = shell.display_formatter.format(frame())
        assert ja[BINARY] in data["text/html"] and ja[BINARY] in data["text/plain"]
        assert "exec format error" in data["text/plain"]
        set_language("en")
        data, _ = shell.display_formatter.format(frame())
        assert ja[BINARY] not in data["text/html"] and BINARY in data["text/plain"]
    finally:
        InteractiveShell.clear_instance()


def test_install_display_outside_a_kernel_does_nothing():
    InteractiveShell.clear_instance()
    assert install_display("ja") is False
    assert install_display("en") is False


def test_a_kernel_started_with_sfnecs_lang_shows_tables_in_it(monkeypatch):
    from sfnecs.i18n.tables import follow_environment

    shell = InteractiveShell.instance()
    try:
        monkeypatch.setenv("SFNECS_LANG", "ja")
        assert follow_environment() is True
        data, _ = shell.display_formatter.format(frame())
        assert translations("ja")[BINARY] in data["text/html"]
        monkeypatch.setenv("SFNECS_LANG", "klingon")
        assert follow_environment() is False
    finally:
        InteractiveShell.clear_instance()
