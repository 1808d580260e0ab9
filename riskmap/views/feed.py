"""An Atom feed of published incidents: for a legal-aid group that wants to hear of new reports.

``riskmap feed --city Matamoros --place mat_bus_terminal -o feed.xml`` writes an Atom 1.0 feed
(RFC 4287, https://www.rfc-editor.org/rfc/rfc4287) of the public release's incidents that a
filter state selects — by city, by place (a site the release shows) or by type — newest first,
for a static web host that a feed reader polls (rewrite it whenever the store changes, e.g. from
cron). Peer tools offer the same as saved-search alerts (Ushahidi) or e-mail alerts
(CrimeMapping).

Each entry says no more than the release row it comes from (:data:`~riskmap.release.public.
ROW_COLUMNS`): the shown period, types, place (or area, or city), perpetrator, whether children
were affected, and the synthetic flag; its id is the release's public incident id, so a reader
shows an incident once. The release holds no publication date: an entry's ``updated`` is the
last day of its shown period, the feed's is the release's build time.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from urllib.parse import urlencode

import pandas as pd

from riskmap import __version__
from riskmap.filters import Filters
from riskmap.geo.gazetteer import names as gazetteer_names
from riskmap.release.audience import Audience
from riskmap.schema import MULTI_SEP
from riskmap.views.i18n import label, t
from riskmap.views.viewstate import ViewState, date_text, link

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Entries in a feed by default (the newest); a reader keeps what it has already seen.
DEFAULT_LIMIT = 50


def _ns(tag: str) -> str:
    return f"{{{ATOM_NS}}}{tag}"


def _stamp(value: object, *, end_of_day: bool = False) -> str:
    """Return an RFC 3339 time (UTC) for a date or a timestamp."""
    known = isinstance(value, str | pd.Timestamp | dt.datetime | dt.date) and not pd.isna(value)
    stamp = pd.Timestamp(value) if known else pd.Timestamp("1970-01-01")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    if end_of_day and stamp == stamp.normalize():
        stamp = stamp + pd.Timedelta(hours=23, minutes=59, seconds=59)
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def select_feed(
    audience: Audience,
    *,
    filters: Filters = Filters(),  # noqa: B008 - a frozen dataclass, never mutated
    place_ids: Iterable[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> pd.DataFrame:
    """Return the release rows of a feed, newest shown period first.

    Parameters
    ----------
    audience
        Must be public: a feed is published.
    filters
        City, types, perpetrators, kinds of place (dates are ignored: a feed runs on).
    place_ids
        Only incidents the release shows at these sites (shown ``place_id``).
    limit
        Most entries (the newest).

    Raises
    ------
    ValueError
        If ``audience`` is not public (a programming error: no front end offers it).
    """
    if not audience.public:
        msg = "a feed is a public output: build it from the public audience"
        raise ValueError(msg)
    rows = audience.rows(audience.select(filters.with_(start=None, end=None)))
    wanted = [str(p) for p in place_ids]
    if wanted:
        rows = rows[rows["place_id"].isin(wanted).to_numpy(dtype=bool, na_value=False)]
    # Newest shown period first; the pseudonym breaks ties (no store order reaches the feed).
    rows = rows.sort_values(
        ["date_end", "date", "incident_id"], ascending=[False, False, True], na_position="last"
    )
    return rows.head(max(int(limit), 0)).reset_index(drop=True)


def _place_text(row: pd.Series, lang: str, names: dict[str, str]) -> str:
    city = str(row["city"]) if pd.notna(row["city"]) else ""
    if pd.notna(row["place_name"]) and row["public_location"] == "site":
        name = names.get(str(row["place_id"]), str(row["place_name"]))
        return f"{name}, {city}" if city else name
    where = {"hex": "feed_area", "city": "feed_city"}.get(str(row["public_location"]))
    if where is None or not city:  # the release withholds the place
        return t("feed_no_place", lang)
    return t(where, lang, city=city)


def _codes(value: object) -> list[str]:
    """Return the type codes a row shows (none when the release withholds them)."""
    return [] if pd.isna(value) else [v for v in str(value).split(MULTI_SEP) if v]


def _types_text(row: pd.Series, lang: str) -> str:
    names = [label(v, lang) for v in _codes(row["incident_types"])]
    return ", ".join(names) or label("unknown", lang)


def entry_texts(row: pd.Series, *, lang: str, names: dict[str, str]) -> dict[str, str]:
    """Return the title and the lines of one entry (from the release row's shown values).

    ``names`` gives a site's name in ``lang`` by ``place_id`` (the gazetteer's).
    """
    dated = pd.notna(row["date"])
    when = date_text(row["date"], row["date_precision"], lang) if dated else ""
    when = when or t("feed_undated", lang)
    types = _types_text(row, lang)
    place = _place_text(row, lang, names)
    lines = [
        f"{t('popup_date', lang)}: {when}",
        f"{t('popup_types', lang)}: {types}",
        f"{t('feed_place', lang)}: {place}",
    ]
    if pd.notna(row["perpetrator"]):
        lines.append(f"{t('perpetrator', lang)}: {label(row['perpetrator'], lang)}")
    if pd.notna(row["children_affected"]) and bool(row["children_affected"]):
        lines.append(t("children_only", lang))
    if bool(row["synthetic"]):
        lines.append(t("synthetic_short", lang))
    return {"title": f"{types} — {place} ({when})", "lines": "\n".join(lines)}


def atom_feed(
    audience: Audience,
    *,
    filters: Filters = Filters(),  # noqa: B008 - a frozen dataclass, never mutated
    place_ids: Iterable[str] = (),
    lang: str = "es",
    limit: int = DEFAULT_LIMIT,
    page_url: str | None = None,
    feed_url: str | None = None,
) -> bytes:
    """Write the Atom feed of a filter state of the public release.

    Parameters
    ----------
    audience
        The public audience.
    filters, place_ids, limit
        See :func:`select_feed`.
    lang
        Language of the titles and texts (codes and ids are the same in both).
    page_url
        The dashboard's address: each entry links to the feed's view there.
    feed_url
        Where the feed is published (its ``self`` link and id); without it the id is a URN
        of the filter state.

    Returns
    -------
    bytes
        UTF-8 XML.
    """
    places = tuple(str(p) for p in place_ids)
    rows = select_feed(audience, filters=filters, place_ids=places, limit=limit)
    view = ViewState(filters=filters.with_(start=None, end=None), lang=lang)
    query = urlencode(
        {**view.to_query_params(), **({"place": list(places)} if places else {})}, doseq=True
    )
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(_ns("feed"), {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    site_names = dict(
        zip(
            audience.places["place_id"].astype(str),
            gazetteer_names(audience.places, lang),
            strict=True,
        )
    )
    named = [", ".join(filters.cities)] if filters.cities else []
    named += [label(v, lang) for v in (*filters.types, *filters.place_types)]
    named += [site_names.get(p, p) for p in places]
    ET.SubElement(feed, _ns("title")).text = t("feed_title", lang) + (
        f": {' · '.join(n for n in named if n)}" if named else ""
    )
    ET.SubElement(feed, _ns("subtitle")).text = t("feed_subtitle", lang, k=audience.k) + (
        " " + t("synthetic_short", lang) if audience.synthetic else ""
    )
    ET.SubElement(feed, _ns("id")).text = feed_url or f"urn:riskmap:feed:{query}"
    generated = audience.report.get("generated_at")
    ET.SubElement(feed, _ns("updated")).text = _stamp(generated or dt.datetime.now(dt.UTC))
    author = ET.SubElement(feed, _ns("author"))
    ET.SubElement(author, _ns("name")).text = "riskmap"
    ET.SubElement(feed, _ns("generator"), {"version": __version__}).text = "riskmap"
    if feed_url:
        ET.SubElement(
            feed, _ns("link"), {"rel": "self", "href": feed_url, "type": "application/atom+xml"}
        )
    page = link(page_url, view) if page_url else None
    if page:
        ET.SubElement(feed, _ns("link"), {"rel": "alternate", "href": page, "type": "text/html"})
    for _, row in rows.iterrows():
        texts = entry_texts(row, lang=lang, names=site_names)
        entry = ET.SubElement(feed, _ns("entry"))
        ET.SubElement(entry, _ns("id")).text = f"urn:riskmap:incident:{row['incident_id']}"
        ET.SubElement(entry, _ns("title")).text = texts["title"]
        shown_end = row["date_end"] if pd.notna(row["date_end"]) else generated
        ET.SubElement(entry, _ns("updated")).text = _stamp(shown_end, end_of_day=True)
        if page:
            ET.SubElement(
                entry, _ns("link"), {"rel": "alternate", "href": page, "type": "text/html"}
            )
        for code in _codes(row["incident_types"]):
            ET.SubElement(entry, _ns("category"), {"term": code, "label": label(code, lang)})
        ET.SubElement(entry, _ns("content"), {"type": "text"}).text = texts["lines"]
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
