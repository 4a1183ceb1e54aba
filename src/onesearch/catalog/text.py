"""Text repair and normalisation shared by every reader.

Contract: ``clean_text`` fixes what a data set's export broke (HTML entities, a closed table of
lossy mojibake sequences that no codec can undo, stray whitespace) and never touches text that is
already fine: Chinese, accents and symbols round-trip unchanged. ``normalize_query`` is the key
used to group and split queries (case and spacing folded), not a display form.
"""

from __future__ import annotations

import html
import re

__all__ = ["MOJIBAKE", "clean_markup", "clean_text", "item_text", "normalize_query"]

# Lossy mojibake seen in the Home Depot export: the original UTF-8 bytes were decoded as Mac Roman
# and some bytes were lost, so no codec recovers them. Longest sequences first.
MOJIBAKE: dict[str, str] = {
    "\x89\u00db\u00aa": "\u2019",  # ’  (Men‰Ûªs -> Men’s)
    "\x89\u00db\u00d2": "\u2013",  # –
    "\x89\u00db\u00dc": "\u201c",  # “
    "\x89\u00db\u009d": "\u201d",  # ”
    "\x89\u00db\u0090": "-",  # ‐ (hyphen)
    "\x89\u00db\u00f7": "\u2019",  # ’  (Tub ‰Û÷N Tile -> Tub ’N Tile)
    "\x89\u00e3\u00a2": "\u2122",  # ™
    "\u00e5\u00a1": "\u00b0",  # °  (30å¡ -> 30°)
    "\u00e8_": "\u00b0",  # °  (90è_ -> 90°)
    "\u00e5\u00ca": " ",  # no-break space
    "\u00e5_": "\u00b2",  # ²  (5 mmå_ wire gauge -> 5 mm²)
}
_MOJIBAKE_RE = re.compile("|".join(re.escape(k) for k in MOJIBAKE))
_SPACES = re.compile(r"\s+")
_MARKUP = re.compile(r"<!--.*?-->|<style.*?</style>|<[^>]{1,200}>", re.DOTALL | re.IGNORECASE)


def clean_text(text: str | None) -> str | None:
    """Unescape HTML entities, repair known mojibake, collapse whitespace; None stays None."""
    if text is None:
        return None
    text = html.unescape(text)
    text = _MOJIBAKE_RE.sub(lambda match: MOJIBAKE[match.group(0)], text)
    return _SPACES.sub(" ", text).strip()


def normalize_query(text: str) -> str:
    """Grouping key for a query: cleaned, case-folded, single-spaced."""
    return (clean_text(text) or "").casefold()


def clean_markup(text: str | None) -> str | None:
    """``clean_text`` after removing HTML comments, style blocks and tags (for descriptions)."""
    if text is None:
        return None
    return clean_text(_MARKUP.sub(" ", text)) or None


def item_text(title: str, brand: str | None, category: list[str] | None) -> str:
    """The text an item is indexed and coded by: title, brand and category path."""
    return " ".join(part for part in (title, brand or "", " ".join(category or [])) if part)
