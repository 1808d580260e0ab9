"""Header and value synonyms for importing researchers' spreadsheets (Spanish and English).

Matching is on a normalised key (:func:`key`: accents stripped with ``unidecode``, lower case,
punctuation folded to single spaces), so "Víctimas", "VICTIMAS" and "víctimas:" are one header.
A mapping file given with ``--mapping`` is applied before these tables and wins over them.
"""

from __future__ import annotations

import re

from unidecode import unidecode

from riskmap.schema import CITIES, INCIDENT_TYPES, PERPETRATORS

#: A pseudo-column: one cell holding "lat, lon".
COORDINATES = "coordinates"


def key(text: object) -> str:
    """Return the normalised matching key of a header or a value."""
    folded = unidecode(str(text)).lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


# fmt: off
_HEADERS: dict[str, tuple[str, ...]] = {
    "incident_id": (
        "incident id", "id", "id incidente", "id del incidente", "folio", "caso", "no caso",
        "no de caso", "numero de caso", "num caso", "case", "case id", "case number", "case no",
        "clave", "record id", "registro", "no registro", "codigo",
    ),
    "date": (
        "date", "fecha", "fecha del incidente", "fecha de incidente", "fecha incidente",
        "fecha del evento", "fecha del hecho", "fecha de los hechos", "fecha hechos",
        "incident date", "date of incident", "event date", "date occurred", "fecha ocurrencia",
        "cuando", "when",
    ),
    "date_precision": ("date precision", "precision de fecha", "precision fecha"),
    "incident_types": (
        "incident types", "incident type", "type", "types", "tipo", "tipos", "tipo de incidente",
        "tipos de incidente", "tipo incidente", "tipo de evento", "tipo de violencia",
        "incidente", "delito", "delitos", "event type", "category", "categoria", "violation",
        "abuse", "tipo de agresion", "agresion",
    ),
    "city": (
        "city", "ciudad", "municipio", "municipality", "town", "localidad", "ciudad municipio",
    ),
    "location_text": (
        "location text", "location", "lugar", "ubicacion", "lugar del incidente",
        "lugar de los hechos", "lugar del hecho", "sitio", "place", "site", "where", "donde",
        "direccion", "address", "location description", "descripcion del lugar", "colonia",
        "neighborhood", "neighbourhood",
    ),
    "lat": ("lat", "latitude", "latitud", "y", "lat dd"),
    "lon": ("lon", "lng", "long", "longitude", "longitud", "x", "lon dd"),
    COORDINATES: (
        "coordinates", "coordenadas", "coords", "lat lon", "lat long", "lat lng", "latlon",
        "latitud longitud", "gps", "punto",
    ),
    "perpetrator": (
        "perpetrator", "perpetrators", "perpetrador", "perpetradores", "responsable",
        "responsables", "presunto responsable", "presuntos responsables", "agresor", "agresores",
        "autor", "perpetrator type", "tipo de perpetrador", "tipo de agresor",
        "alleged perpetrator",
    ),
    "victims": (
        "victims", "victimas", "no victimas", "no de victimas", "numero de victimas",
        "num victimas", "total victimas", "number of victims", "victim count", "n victims",
        "personas", "personas afectadas", "afectados", "people", "people affected", "persons",
    ),
    "children": (
        "children", "menores", "menores de edad", "ninos", "ninas", "ninos y ninas",
        "ninas y ninos", "no menores", "numero de menores", "num menores", "minors",
        "number of children", "kids", "nna",
    ),
    "source": (
        "source", "sources", "fuente", "fuentes", "fuente de informacion", "origen",
        "reported by", "reportado por", "referencia", "reference",
    ),
    "notes": (
        "notes", "note", "notas", "nota", "observaciones", "comentarios", "comments",
        "descripcion", "description", "detalles", "details", "narrative", "narrativa", "resumen",
        "summary", "relato",
    ),
    "synthetic": ("synthetic", "sintetico", "simulado", "ficticio", "is synthetic"),
    "geo_precision": ("geo precision", "precision geografica"),
    "place_id": ("place id",),
    "place_type": ("place type", "tipo de lugar"),
}
#: Normalised header -> canonical column (or :data:`COORDINATES`).
HEADER_SYNONYMS: dict[str, str] = {k: col for col, keys in _HEADERS.items() for k in keys}
HEADER_SYNONYMS.update({key(col): col for col in _HEADERS})
#: Headers that name a Spanish-language source (dates are then day-first by default).
SPANISH_HEADERS: frozenset[str] = frozenset(
    k
    for keys in _HEADERS.values()
    for k in keys
    if re.search(
        r"fecha|tipo|ciudad|lugar|ubicacion|victimas|menores|ninos|responsable|fuente"
        r"|notas|observaciones|municipio|latitud|longitud|delito|perpetrador|agresor",
        k,
    )
)

_TYPES: dict[str, tuple[str, ...]] = {
    "kidnapping": (
        "secuestro", "secuestros", "secuestrado", "secuestrada", "secuestrados", "kidnapping",
        "kidnap", "kidnapped", "abduction", "abducted", "rapto", "privacion de la libertad",
        "privacion ilegal de la libertad", "levanton", "levantado", "levantada",
    ),
    "attempted_kidnapping": (
        "intento de secuestro", "intento secuestro", "tentativa de secuestro",
        "secuestro en grado de tentativa", "attempted kidnapping", "kidnapping attempt",
        "attempted abduction", "intento de privacion de la libertad",
    ),
    "express_kidnapping": (
        "secuestro express", "secuestro expres", "express kidnapping", "secuestro exprés",
        "kidnapping express",
    ),
    "extortion": (
        "extorsion", "extorsiones", "extortion", "cobro de piso", "cuota", "extorsion telefonica",
        "secuestro virtual", "virtual kidnapping", "extortion attempt", "intento de extorsion",
    ),
    "sexual_assault": (
        "agresion sexual", "violacion", "violacion sexual", "abuso sexual", "violencia sexual",
        "sexual assault", "rape", "sexual violence", "sexual abuse", "ataque sexual",
    ),
    "robbery": (
        "robo", "robos", "asalto", "asaltos", "robbery", "theft", "robo con violencia", "hurto",
        "atraco", "mugging", "robbed", "despojo",
    ),
    "assault": (
        "agresion", "agresion fisica", "golpes", "golpeado", "golpiza", "lesiones", "assault",
        "physical assault", "beating", "beaten", "ataque", "violencia fisica",
    ),
    "threat": ("amenaza", "amenazas", "threat", "threats", "intimidacion", "intimidation"),
    "other": ("otro", "otros", "otra", "other"),
}
TYPE_SYNONYMS: dict[str, str] = {key(k): t for t, keys in _TYPES.items() for k in keys}
TYPE_SYNONYMS.update({key(t): t for t in INCIDENT_TYPES})

_PERPETRATORS: dict[str, tuple[str, ...]] = {
    "criminal_group": (
        "crimen organizado", "delincuencia organizada", "grupo criminal", "grupo delictivo",
        "grupos criminales", "cartel", "carteles", "cartel del golfo", "cdg", "zetas",
        "los zetas", "cartel del noreste", "cdn", "mana", "la mana", "organized crime",
        "criminal group", "criminal groups", "cartel members", "gang", "pandilla", "narcos",
        "delincuentes", "criminals", "criminal organization", "halcones",
    ),
    "police": (
        "policia", "policias", "police", "policia municipal", "policia estatal",
        "policia federal", "transito", "police officers", "municipal police", "state police",
        "federal police", "guardia estatal", "fuerza tamaulipas",
    ),
    "immigration_agent": (
        "inm", "migracion", "agente de migracion", "agentes de migracion",
        "instituto nacional de migracion", "immigration", "immigration agent",
        "immigration agents", "immigration officer", "agente del inm", "agentes del inm",
    ),
    "military": (
        "ejercito", "militares", "militar", "sedena", "marina", "semar", "military", "army",
        "soldiers", "soldados", "guardia nacional", "national guard", "navy", "marines",
    ),
    "unknown": (
        "desconocido", "desconocidos", "se desconoce", "no se sabe", "unknown", "sin dato",
        "sin datos", "no identificado", "no identificados", "unidentified",
    ),
    "other": ("otro", "otros", "other"),
}
PERPETRATOR_SYNONYMS: dict[str, str] = {
    key(k): p for p, keys in _PERPETRATORS.items() for k in keys
}
PERPETRATOR_SYNONYMS.update({key(p): p for p in PERPETRATORS})

_CITIES: dict[str, tuple[str, ...]] = {
    "Matamoros": ("h matamoros", "heroica matamoros", "cd matamoros", "ciudad matamoros"),
    "Nuevo Laredo": ("nvo laredo", "nuevo laredo tamps", "nld", "cd nuevo laredo"),
    "Reynosa": ("cd reynosa", "ciudad reynosa"),
    "Colombia": ("colombia nl", "colombia nuevo leon", "puente colombia"),
    "Brownsville": ("brownsville tx", "brownsville texas"),
    "Laredo": ("laredo tx", "laredo texas"),
}
CITY_SYNONYMS: dict[str, str] = {key(k): c for c, keys in _CITIES.items() for k in keys}
CITY_SYNONYMS.update({key(c): c for c in CITIES})
for _c in CITIES:  # "Matamoros, Tamaulipas", "Matamoros Tamps."
    for _suffix in ("tamaulipas", "tamps", "tam", "mexico", "mx"):
        CITY_SYNONYMS.setdefault(f"{key(_c)} {_suffix}", _c)

#: Words that join several incident types in one cell ("secuestro y extorsión").
TYPE_SEPARATORS = re.compile(r"\s*(?:[|;,/+&]|\s(?:y|e|and|con|with)\s)\s*", re.IGNORECASE)

#: Spanish and English number words a count cell may hold.
NUMBER_WORDS: dict[str, int] = {
    "cero": 0, "ninguno": 0, "ninguna": 0, "none": 0, "zero": 0, "uno": 1, "una": 1, "un": 1,
    "one": 1, "dos": 2, "two": 2, "tres": 3, "three": 3, "cuatro": 4, "four": 4, "cinco": 5,
    "five": 5, "seis": 6, "six": 6, "siete": 7, "seven": 7, "ocho": 8, "eight": 8, "nueve": 9,
    "nine": 9, "diez": 10, "ten": 10,
}
# fmt: on
#: Cell texts that mean "no value".
EMPTY_VALUES: frozenset[str] = frozenset(
    {"", "na", "n a", "nan", "null", "none given", "sin informacion", "s d", "sd", "nd", "-"}
)
