"""Search text: what people type is compared without accents, case or punctuation.

Stored in ``Establishment.search_text`` when a row is written (import, curation), so that the
same ``icontains`` works on SQLite and PostgreSQL without the unaccent extension.
"""

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def normalise(text: str) -> str:
    """``"Hôpital Saint-Jean d'Angély"`` -> ``"HOPITAL SAINT JEAN D ANGELY"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", ascii_only.upper()).strip()


def establishment_search_text(
    *, name: str, long_name: str = "", city: str = "", finess: str = ""
) -> str:
    return " ".join(part for part in map(normalise, (name, long_name, city, finess)) if part)[:600]
