"""The columns of an export: HXL hashtags, Spanish headers, and the data dictionary's tables.

The hashtags are HXL 1.1 (hxlstandard.org) core hashtags and attributes, chosen so that each is
true of every row; ``riskmap/data/DATA_DICTIONARY.md`` lists them with the reason for each, and
the tests check that it lists exactly these.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from riskmap.settings import DATA_DIR

#: The documented data dictionary; the manifest embeds its column descriptions.
DATA_DICTIONARY = DATA_DIR / "DATA_DICTIONARY.md"
#: HXL hashtag of each column (HXL 1.1 core hashtags and attributes; DATA_DICTIONARY.md says
#: why each). Only dates go under ``#date`` and only numbers of people under ``#affected``.
HXL_TAGS: dict[str, str] = {
    "incident_id": "#event+id",
    "date": "#date+start",
    "date_end": "#date+end",
    "date_precision": "#meta+precision+date",
    "type_precision": "#meta+precision+type",
    "perpetrator_precision": "#meta+precision+perpetrator",
    "children_affected": "#indicator+children",
    "incident_types": "#event+type",
    "city": "#adm2+name",
    "location_text": "#loc+description",
    "lat": "#geo+lat",
    "lon": "#geo+lon",
    "geo_precision": "#geo+precision",
    "place_id": "#loc+code",
    "place_name": "#loc+name",
    "place_type": "#loc+type",
    "public_location": "#geo+method",
    "perpetrator": "#group+perpetrator",
    "victims": "#affected+total",
    "people_kidnapped": "#affected+kidnapped",
    "people_in_attempts": "#affected+kidnap_attempt",
    "people_other": "#affected+other_incidents",
    "children": "#affected+children",
    "source": "#meta+source",
    "notes": "#description+notes",
    "synthetic": "#meta+synthetic",
}
#: Spanish header of each column (``headers="es"``); the values and codes are not translated.
HEADERS_ES: dict[str, str] = {
    "incident_id": "id_incidente",
    "date": "fecha",
    "date_end": "fecha_fin",
    "date_precision": "precision_fecha",
    "incident_types": "tipos_incidente",
    "type_precision": "precision_tipos",
    "city": "ciudad",
    "location_text": "lugar_descrito",
    "lat": "lat",
    "lon": "lon",
    "geo_precision": "precision_lugar",
    "place_id": "id_lugar",
    "place_name": "nombre_lugar",
    "place_type": "tipo_lugar",
    "public_location": "ubicacion_publica",
    "perpetrator": "perpetrador",
    "perpetrator_precision": "precision_perpetrador",
    "victims": "personas",
    "people_kidnapped": "personas_secuestradas",
    "people_in_attempts": "personas_en_intentos",
    "people_other": "personas_otros_incidentes",
    "children": "menores",
    "children_affected": "menores_afectados",
    "source": "fuente",
    "notes": "notas",
    "synthetic": "sintetico",
}
#: Languages of column headers: canonical (English) names, or Spanish ones.
HEADER_LANGUAGES: tuple[str, ...] = ("en", "es")


def data_dictionary(
    path: str | os.PathLike[str] = DATA_DICTIONARY, *, lang: str = "en"
) -> dict[str, dict[str, str]]:
    """Read the column table of the data dictionary: column -> type and meaning.

    Parameters
    ----------
    path
        The dictionary (Markdown).
    lang
        ``"en"`` (the English section) or ``"es"`` (the Spanish one, whose table also names
        each column's Spanish header).

    Returns
    -------
    dict
        Empty if the file is missing.
    """
    path = Path(path)
    if not path.exists():
        return {}
    heading = "Español" if lang == "es" else "English"
    text = path.read_text(encoding="utf-8").split("\n## ")
    section = next((s for s in text if s.startswith(heading)), text[0])
    # The column table only: the HXL table of the section follows its own heading.
    section = section.split("\n### ", 1)[0]
    out: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([a-z_]+)`", cells[0]):
            out[name] = {"type": cells[-2].replace("\\|", "|"), "description": cells[-1]}
    return out


def hxl_dictionary(path: str | os.PathLike[str] = DATA_DICTIONARY) -> dict[str, str]:
    """Read the HXL table of the data dictionary's English section: column -> hashtag."""
    path = Path(path)
    if not path.exists():
        return {}
    english = path.read_text(encoding="utf-8").split("\n## English", 1)[-1].split("\n## ", 1)[0]
    table = english.split("\n### HXL", 1)[-1] if "\n### HXL" in english else ""
    out: dict[str, str] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().split("|")[1:-1]]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[1].startswith("`#"):
            out[cells[0].strip("`")] = cells[1].strip("`")
    return out


def header_names(columns: object, headers: str) -> list[str]:
    """Return the header of each column in the language ``headers`` (``"en"`` or ``"es"``)."""
    names = [str(c) for c in columns]  # type: ignore[attr-defined]
    return [HEADERS_ES.get(c, c) for c in names] if headers == "es" else names


__all__ = [
    "DATA_DICTIONARY",
    "HEADERS_ES",
    "HEADER_LANGUAGES",
    "HXL_TAGS",
    "data_dictionary",
    "header_names",
    "hxl_dictionary",
]
