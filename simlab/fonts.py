"""Japanese text in matplotlib figures without system fonts.

matplotlib falls back glyph by glyph only through a ``font.family`` *list* (listing the CJK font in
``font.sans-serif`` still draws tofu boxes). So Latin text keeps DejaVu Sans and kana/kanji come
from IPAexGothic, which the ``matplotlib-fontja`` package bundles (Linux, macOS and Windows alike).

matplotlib draws a missing glyph as a box and only *warns* ("Glyph 12354 ... missing from
font(s) ..."), when the figure is drawn. pytest turns that warning into an error through
``filterwarnings`` in pyproject.toml; notebook kernels do it through :func:`strict_glyphs_from_env`.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["GLYPH_WARNING", "setup_japanese_fonts", "strict_glyphs_from_env"]

#: Regex for matplotlib's missing-glyph warning (a UserWarning).
GLYPH_WARNING = r"Glyph .* missing from"

_LATIN_FAMILY = "DejaVu Sans"


def setup_japanese_fonts() -> str:
    """Make matplotlib draw Japanese text; return the CJK family name used.

    Sets ``font.family`` to ``['DejaVu Sans', <bundled CJK font>]``. Safe to call many times.

    >>> setup_japanese_fonts()
    'IPAexGothic'
    """
    # Importing matplotlib_fontja registers its bundled IPAexGothic with the font manager
    # (and sets font.family to it alone, which the end of this function replaces).
    import matplotlib
    import matplotlib_fontja
    from matplotlib import font_manager

    path = matplotlib_fontja.get_font_ttf_path()
    cjk = font_manager.FontProperties(fname=path).get_name()
    if not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    matplotlib.rcParams["font.family"] = [_LATIN_FAMILY, cjk]
    return cjk


def strict_glyphs_from_env() -> bool:
    """Turn missing-glyph warnings into errors when ``SIMLAB_STRICT_GLYPHS=1``.

    For notebooks: nbmake only prints warnings to stderr, so a notebook with tofu would pass.
    ``make test`` sets the variable, and the kernel inherits it from pytest's environment.
    Returns whether strict mode is on.
    """
    if os.environ.get("SIMLAB_STRICT_GLYPHS", "") != "1":
        return False
    warnings.filterwarnings("error", message=GLYPH_WARNING, category=UserWarning)
    return True
