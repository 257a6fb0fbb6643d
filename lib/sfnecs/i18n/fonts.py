"""A CJK font for matplotlib, so Japanese titles and labels render as text, not missing-glyph boxes.

Why Noto Sans CJK from Debian's fonts-noto-cjk: it is maintained (Google and Adobe), covers
Japanese kana and kanji, and the project's set-up installs it (`.ci/run`, `make fonts`).
matplotlib (3.6 and later) falls back glyph by glyph along `font.family`, so the CJK family is
added *after* the current font: English text keeps its font and stored outputs do not change.
matplotlib caches its font list: a font installed after that cache was built is added here by file,
its Bold face too (Debian ships it as a separate collection, NotoSansCJK-Bold.ttc): without it, bold
text (a panel's name) makes matplotlib warn "Failed to find font weight bold" and draw it regular.
matplotlib reads the first face of a .ttc collection, which in Debian's files is the JP one.
"""

from __future__ import annotations

import re
from typing import Any

#: families tried in order (Debian: fonts-noto-cjk, then fonts-ipaexfont-gothic, fonts-ipafont-gothic)
CJK_FAMILIES = ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic")
_FILES = re.compile(r"(NotoSansCJK-(Regular|Bold)\.ttc|ipaexg\.ttf|ipag\.ttf)$")
#: matplotlib's weight of a bold face (font_manager.weight_dict["bold"])
_BOLD = 700
#: what to run when no CJK font is found
INSTALL_HINT = "install Debian's fonts-noto-cjk (sudo apt-get install fonts-noto-cjk, or make fonts)"


class MissingFontError(RuntimeError):
    """No CJK font is installed, so Japanese text would render as boxes."""


def cjk_font() -> str | None:
    """The first CJK family of CJK_FAMILIES matplotlib can use, registering its files (regular and bold) when the
    cache predates them."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FAMILIES if name in known), None)
    if found and (found != CJK_FAMILIES[0] or _has_bold(found)):
        return found  # the IPA fonts have no bold face: matplotlib draws their bold text regular
    registered = {f.fname for f in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if _FILES.search(path) and path not in registered:
            font_manager.fontManager.addfont(path)
    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in known), None)


def _has_bold(family: str) -> bool:
    from matplotlib import font_manager

    return any(f.name == family and f.weight == _BOLD for f in font_manager.fontManager.ttflist)


def use_cjk_font() -> str:
    """Add the CJK family to matplotlib's fallback chain, after the current font; raise MissingFontError if none."""
    import matplotlib
    from matplotlib import font_manager

    family = cjk_font()
    if family is None:
        raise MissingFontError(f"no CJK font for Japanese plot text ({', '.join(CJK_FAMILIES)}): {INSTALL_HINT}")
    # matplotlib falls back along font.family's *named* fonts (a generic family such as sans-serif resolves to
    # one font only), so name the font text uses now, then the CJK one
    now = font_manager.get_font(font_manager.findfont(font_manager.FontProperties())).family_name
    matplotlib.rcParams["font.family"] = list(dict.fromkeys([now, family]))
    return family


def prepare_plot_text() -> None:
    """Before drawing: in a language other than English, add the CJK font (MissingFontError names the package)."""
    from sfnecs.i18n.language import current_language  # lazy: keeps this module's import free of the rest

    if current_language() != "en":
        use_cjk_font()


def missing_glyphs(text: str, prop: Any = None) -> str:
    """The characters of `text` that no font in matplotlib's fallback chain for `prop` can draw ('' when all can)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    prop = prop or font_manager.FontProperties()
    paths = font_manager.fontManager._find_fonts_by_props(prop)  # the chain matplotlib renders with (3.6+)
    fonts = [FT2Font(str(p)) for p in paths]
    return "".join(
        dict.fromkeys(c for c in text if not c.isspace() and not any(f.get_char_index(ord(c)) for f in fonts))
    )
