"""One incident typed into a form: a one-row import, with the same checks, and place suggestions.

The record form of the staff workspace hands its fields to :func:`prepare`, which runs them
through the importer's row checks (:func:`riskmap.ingest.rows.clean_row`: dates with their
precision, types and perpetrators in Spanish or English, counts, coordinates in the study area)
and the model's validation (:func:`riskmap.schema.validate`), then places the description with
the geocoder (:func:`riskmap.geo.geocoder.geocode`). Either every problem is listed and nothing
is saved, or one complete row comes back for :func:`riskmap.workflow.review.record_incident`
(called by the front end: ingest stays above the workflow wing).

:func:`suggest` offers gazetteer places for a description as it is typed ("did you mean Central
Camionera de Nuevo Laredo?"): the geocoder's answer first, then the closest names and aliases
(rapidfuzz's WRatio), in the city when one is given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz import fuzz, process

from riskmap.errors import SchemaError
from riskmap.geo.gazetteer import aliases
from riskmap.geo.geocoder import geocode
from riskmap.ingest.rows import RowRules, clean_row
from riskmap.schema import COLUMNS, join_types, validate

#: Fields of the record form, in order (canonical columns; types as a list).
FORM_FIELDS: tuple[str, ...] = (
    "date",
    "date_precision",
    "incident_types",
    "perpetrator",
    "victims",
    "children",
    "city",
    "location_text",
    "place_id",
    "lat",
    "lon",
    "source",
    "notes",
)
#: Most suggestions offered for one description.
MAX_SUGGESTIONS = 5
#: Lowest WRatio (0-100) of a name suggestion.
SUGGEST_THRESHOLD = 60.0
#: Prefix of the ids of incidents recorded in the app.
ID_PREFIX = "rec-"


@dataclass(frozen=True)
class Suggestion:
    """A gazetteer place offered for a description."""

    place_id: str
    name: str
    city: str
    place_type: str
    #: 0-1; the geocoder's score, or the name match's ratio / 100.
    score: float
    #: ``"geocoder"`` (what an import would choose) or ``"name"`` (a close name).
    how: str


@dataclass(frozen=True)
class Prepared:
    """The outcome of checking a form: a row to save, or the problems (never both)."""

    row: pd.DataFrame | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the form can be saved."""
        return self.row is not None and not self.problems


def suggest(
    text: str, *, city: str | None = None, places: pd.DataFrame, lang: str = "en"
) -> list[Suggestion]:
    """Return gazetteer places that a description may mean, best first.

    Parameters
    ----------
    text
        The place description as typed so far.
    city
        The incident's city, if chosen: names elsewhere are not offered.
    places
        The gazetteer.
    lang
        ``"es"`` shows Spanish names.
    """
    text = str(text or "").strip()
    if len(text) < 3:
        return []
    out: list[Suggestion] = []
    name_col = "name_es" if lang == "es" and "name_es" in places.columns else "name"
    rows = places.drop_duplicates("place_id").set_index("place_id")
    found = geocode(text, city=city, places=places)
    if found.place_id is not None and found.place_id in rows.index:
        place = rows.loc[found.place_id]
        out.append(
            Suggestion(
                str(found.place_id),
                str(place[name_col] or place["name"]),
                str(place["city"]),
                str(place["place_type"]),
                float(found.geocode_score),
                "geocoder",
            )
        )
    pool = rows if not city else rows[rows["city"] == city]
    choices: dict[tuple[str, int], str] = {}
    for pid, place in pool.iterrows():
        for i, alias in enumerate(aliases(place)):
            choices[(str(pid), i)] = alias
    seen = {s.place_id for s in out}
    for _alias, score, (pid, _i) in process.extract(
        text, choices, scorer=fuzz.WRatio, limit=MAX_SUGGESTIONS * 4
    ):
        if score < SUGGEST_THRESHOLD or pid in seen:
            continue
        seen.add(pid)
        place = rows.loc[pid]
        out.append(
            Suggestion(
                pid,
                str(place[name_col] or place["name"]),
                str(place["city"]),
                str(place["place_type"]),
                round(float(score) / 100, 3),
                "name",
            )
        )
        if len(out) >= MAX_SUGGESTIONS:
            break
    return out


def prepare(
    form: Mapping[str, object],
    *,
    places: pd.DataFrame,
    today: dt.date | None = None,
    incident_id: str | None = None,
) -> Prepared:
    """Check the fields of the record form as an import checks a row.

    Parameters
    ----------
    form
        Field -> value (:data:`FORM_FIELDS`); ``incident_types`` may be a list; ``place_id``
        a chosen suggestion (it wins over everything else); ``lat`` and ``lon`` a point chosen
        on the map (it wins over the geocoder; checked to lie in the study area like an
        imported point, and kept at neighbourhood precision: never shown as a site).
    places
        The gazetteer.
    today
        Latest date accepted (default: today).
    incident_id
        The id to give the incident (default: a new ``rec-…`` id).

    Returns
    -------
    Prepared
        A one-row canonical table, or every problem found (the form is then not saved).
    """
    cells: dict[str, object] = {k: form.get(k) for k in FORM_FIELDS}
    types = cells["incident_types"]
    if isinstance(types, list | tuple | set):
        cells["incident_types"] = join_types(str(t) for t in types) or None
    for col in ("victims", "children"):
        if cells[col] is not None and not isinstance(cells[col], str):
            cells[col] = str(int(cells[col]))  # type: ignore[call-overload]
    day = cells["date"]
    if isinstance(day, dt.date):
        iso = day.isoformat()
        cells["date"] = iso[:7] if cells.get("date_precision") == "month" else iso
    chosen = cells.pop("place_id")
    lat, lon = cells.pop("lat"), cells.pop("lon")
    clicked = lat is not None and lon is not None and not chosen
    if clicked:
        # A point on the map is checked as an imported point is; its precision is a
        # neighbourhood: staff chose it, it is not a gazetteer site.
        cells.update(lat=str(lat), lon=str(lon), geo_precision="neighborhood")
    values, problems = clean_row(cells, RowRules(dayfirst=True, today=today or dt.date.today()))
    if problems:
        return Prepared(None, problems)
    values["incident_id"] = incident_id or ID_PREFIX + uuid.uuid4().hex[:12]
    if clicked:
        values.update(place_id=None, place_type="neighborhood", geo_precision="neighborhood")
    else:
        _place(values, chosen=str(chosen) if chosen else None, places=places)
    row = {c: values.get(c) for c in COLUMNS}
    row["synthetic"] = False
    try:
        table = validate(pd.DataFrame([row]))
    except SchemaError as e:
        return Prepared(
            None, [str(e).replace("invalid incident data: ", "").replace("row 0, ", "")]
        )
    return Prepared(table)


def _place(values: dict[str, object], *, chosen: str | None, places: pd.DataFrame) -> None:
    """Place the incident: a chosen gazetteer place, else the geocoder's answer."""
    rows = places.drop_duplicates("place_id").set_index("place_id")
    if chosen is not None and chosen in rows.index:
        place = rows.loc[chosen]
        lat, lon = place["lat"], place["lon"]
        values.update(
            place_id=chosen,
            place_type=str(place["place_type"]),
            lat=None if pd.isna(lat) else float(lat),
            lon=None if pd.isna(lon) else float(lon),
            geo_precision="city" if place["place_type"] == "city" else "site",
        )
        if not values.get("city"):
            values["city"] = str(place["city"])
        return
    found = geocode(values.get("location_text"), city=values.get("city"), places=places)  # type: ignore[arg-type]
    values.update(
        lat=found.lat,
        lon=found.lon,
        place_id=found.place_id,
        place_type=found.place_type,
        geo_precision=found.geo_precision,
    )
    if found.place_id is not None and not values.get("city") and found.place_id in rows.index:
        values["city"] = str(rows.loc[found.place_id, "city"])


__all__ = ["FORM_FIELDS", "Prepared", "Suggestion", "prepare", "suggest"]
