"""Normalise place descriptions for the geocoder: one spelling per word, no filler.

Case, accents (``unidecode``) and punctuation are folded; abbreviations researchers write
("Nvo.", "Pte.", "Int'l", "Cd.") and English words with a Spanish twin ("bridge") become one
canonical word; articles and prepositions of both languages are dropped; bridge numbers are
written as digits. Matching (:mod:`riskmap.geo._match`) then compares runs of whole words.
"""

from __future__ import annotations

import re

import pandas as pd
from unidecode import unidecode


def word_set(text: str) -> frozenset[str]:
    """Return the set of the space-separated words of ``text``."""
    return frozenset(text.split())


#: Abbreviations and English synonyms, each mapped to one canonical word.
_ABBREVIATIONS: dict[str, str] = {
    "nvo": "nuevo",
    "nva": "nueva",
    "pte": "puente",
    "pto": "puerto",
    "intl": "internacional",
    "int": "internacional",
    "international": "internacional",
    "bridge": "puente",
    "cd": "ciudad",
    "col": "colonia",
    "fracc": "fraccionamiento",
    "av": "avenida",
    "ave": "avenida",
    "avda": "avenida",
    "blvd": "bulevar",
    "blvr": "bulevar",
    "boulevard": "bulevar",
    "bulevard": "bulevar",
    "gral": "general",
    "sta": "santa",
    "sto": "santo",
    "tamps": "tamaulipas",
    "tamp": "tamaulipas",
    "tam": "tamaulipas",
    "tx": "texas",
    "tex": "texas",
    "mex": "mexico",
    "mx": "mexico",
    "edo": "estado",
    "ctral": "central",
    "inst": "instituto",
    "nal": "nacional",
    "migr": "migracion",
    "hwy": "highway",
    "carr": "carretera",
}
#: Articles and prepositions that carry no place information.
_FILLER: frozenset[str] = word_set(
    "el la los las lo de del en a al e y u un una unos unas con por para se que su sus the "
    "of at in on an and to by into onto"
)
#: Words that may stand between "puente" and its number ("Puente No. 2").
_NUMBER_WORDS: frozenset[str] = frozenset({"no", "num", "numero", "number", "nro", "n"})
#: Spelled and Roman bridge numbers, converted only right after "puente"/"internacional".
_NUMERALS: dict[str, str] = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "uno": "1",
    "dos": "2",
    "tres": "3",
    "one": "1",
    "two": "2",
    "three": "3",
}
_NUMBERED: frozenset[str] = frozenset({"puente", "internacional"})
#: Verbs of coming from somewhere: their "de" means "from" ("viene de Reynosa").
_MOTION_VERBS: frozenset[str] = word_set(
    "viene venia venian vienen vino vinieron llego llegaron llegamos salio salieron "
    "salimos procedente procedentes proveniente provenientes originario originaria"
)
_APOSTROPHES = re.compile(r"['`\u2019]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(text: object) -> str:
    """Normalise a place description for matching.

    Lower-cases, strips accents and punctuation, expands abbreviations ("Nvo." -> "nuevo",
    "Pte." -> "puente", "Int'l" -> "internacional", "Cd." -> "ciudad"), maps English words
    that have a Spanish twin ("bridge" -> "puente"), drops articles and prepositions in both
    languages and writes bridge numbers as digits ("Puente II", "Bridge Two" -> "puente 2").
    ``normalize(normalize(t)) == normalize(t)`` for every text.

    Parameters
    ----------
    text
        Any value; missing values give ``""``.

    Returns
    -------
    str
        Words separated by single spaces.
    """
    if text is None or (not isinstance(text, str) and is_missing(text)):
        return ""
    ascii_text = unidecode(str(text)).lower()
    ascii_text = _APOSTROPHES.sub("", ascii_text)
    words = _NON_ALNUM.sub(" ", ascii_text).split()
    words = [_ABBREVIATIONS.get(w, w) for w in words]
    # "viene de Reynosa": this "de" means "from", which matching needs after fillers are gone.
    words = [
        "desde" if w in {"de", "del"} and i > 0 and words[i - 1] in _MOTION_VERBS else w
        for i, w in enumerate(words)
    ]
    words = [w for w in words if w not in _FILLER]
    # Right to left, so that a run of "no no 2" loses every "no" in one pass.
    kept: list[str] = []
    for w in reversed(words):
        if w in _NUMBER_WORDS and kept and (kept[-1].isdigit() or kept[-1] in _NUMERALS):
            continue
        kept.append(w)
    kept.reverse()
    out: list[str] = []
    for w in kept:
        if w in _NUMERALS and out and out[-1] in _NUMBERED:
            w = _NUMERALS[w]
        out.append(w)
    return " ".join(out)


def is_missing(value: object) -> bool:
    """Tell whether a cell is missing (None, NaN, NA, NaT); a list or an array is not."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
