"""Exposure: incidents per 1,000 people returned through a city's ports of entry, per month.

A count of incidents says where danger was recorded; divided by the number of people returned
to a city (from a table of returns per port of entry and month, :func:`read_returns`), it says
how dangerous the city was for each of them. :func:`exposure_rates` gives the rate with the exact
Poisson interval of the incident count (Garwood, Biometrika 28, 1936), scaled by the number
returned. Both are also available from :mod:`riskmap.analysis.hotspots`, the analyses' common entry
point.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from riskmap.analysis._poisson import poisson_limits
from riskmap.errors import InputFileError

#: Columns of :func:`exposure_rates`, in order.
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "city",
    "ports",
    "month",
    "returned",
    "incidents",
    "people",
    "per_1000",
    "ci_low_per_1000",
    "ci_high_per_1000",
)


def read_returns(source: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read a table of people returned per port of entry and month.

    Parameters
    ----------
    source
        A CSV file or a DataFrame with columns ``port`` (a gazetteer ``place_id``, name or
        alias of a port of entry), ``month`` (``YYYY-MM`` or any date in the month) and
        ``returned`` (people, a non-negative whole number).

    Returns
    -------
    pandas.DataFrame
        Columns ``port`` (string), ``month`` (monthly period), ``returned`` (int64).

    Raises
    ------
    InputFileError
        If the file cannot be read or a column or value is missing or invalid; the message
        names the row (as its line in the file).
    """
    name = "returns table"
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        name = str(source)
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            msg = f"{name}: cannot read the returns CSV ({e})"
            raise InputFileError(msg) from e
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("port", "month", "returned") if c not in frame.columns]
    if missing:
        msg = f"{name}: missing column(s) {', '.join(missing)}; need port, month, returned"
        raise InputFileError(msg)
    rows = []
    for i, row in enumerate(frame[["port", "month", "returned"]].itertuples(index=False)):
        line = i + 2
        port = str(row.port).strip()
        if not port or port.lower() == "nan":
            msg = f"{name}, line {line}: empty port"
            raise InputFileError(msg)
        try:
            month = pd.Period(str(row.month).strip()[:7], freq="M")
        except (ValueError, TypeError) as e:
            msg = f"{name}, line {line}: month {row.month!r} is not YYYY-MM"
            raise InputFileError(msg) from e
        try:
            value = float(str(row.returned).replace(",", "").strip())
        except ValueError as e:
            msg = f"{name}, line {line}: returned {row.returned!r} is not a number"
            raise InputFileError(msg) from e
        if value < 0 or value != int(value):
            msg = f"{name}, line {line}: returned must be a non-negative whole number"
            raise InputFileError(msg)
        rows.append((port, month, int(value)))
    return pd.DataFrame(
        {
            "port": pd.array([r[0] for r in rows], dtype="string"),
            "month": pd.PeriodIndex([r[1] for r in rows], freq="M"),
            "returned": np.array([r[2] for r in rows], dtype="int64"),
        }
    )


def _port_cities(ports: Iterable[str], places: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Map each port as written to its (place_id, city); raise for unknown ports."""
    bridges = places[places["place_type"] == "port_of_entry"]
    lookup: dict[str, tuple[str, str]] = {}
    for row in bridges.itertuples(index=False):
        aliases = str(getattr(row, "aliases", "") or "").split("|")
        for label in [row.place_id, row.name, *aliases]:
            key = str(label).strip().casefold()
            if key and key not in lookup:
                lookup[key] = (str(row.place_id), str(row.city))
    found, unknown = {}, []
    for port in ports:
        hit = lookup.get(port.strip().casefold())
        if hit is None:
            unknown.append(port)
        else:
            found[port] = hit
    if unknown:
        msg = (
            f"returns table: unknown port(s) of entry {', '.join(map(repr, unknown))}; use a "
            "gazetteer place_id such as 'mat_gateway_bridge' (riskmap places lists them)"
        )
        raise InputFileError(msg)
    return found


def exposure_rates(
    incidents: pd.DataFrame,
    returns: str | os.PathLike[str] | pd.DataFrame,
    *,
    places: pd.DataFrame | None = None,
    by_month: bool = True,
    level: float = 0.95,
) -> pd.DataFrame:
    """Compute incidents per 1,000 people returned through each city's ports of entry.

    An incident is attributed to the ports of its ``city`` (any location precision: the city is
    what matters here); incidents without a city, or in a city or month the returns table does
    not cover, have no denominator and are counted in ``attrs["unmatched"]``. Where the table
    lists several ports of one city, their returns are added up: incidents cannot be told apart
    by the bridge a person crossed.

    Parameters
    ----------
    incidents
        Incidents in the canonical columns.
    returns
        People returned per port and month (see :func:`read_returns`).
    places
        The gazetteer; defaults to :func:`riskmap.geo.gazetteer.load_places`.
    by_month
        One row per city and month; if false, one row per city over the months of the table.
    level
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EXPOSURE_COLUMNS`: ``per_1000`` = 1000 incidents / returned and the exact
        Poisson interval of the incident count scaled alike (``NaN`` when nobody was returned).

    Raises
    ------
    InputFileError
        If the returns table is unusable or names an unknown port.
    """
    if places is None:
        from riskmap.geo.gazetteer import load_places

        places = load_places()
    table = read_returns(returns)
    resolved = _port_cities(table["port"].unique().tolist(), places)
    table["city"] = [resolved[p][1] for p in table["port"]]
    table["place_id"] = [resolved[p][0] for p in table["port"]]

    city = incidents["city"].astype("string")
    month = pd.to_datetime(incidents["date"]).dt.to_period("M")
    frame = pd.DataFrame(
        {
            "city": city.to_numpy(),
            "month": month.to_numpy(),
            "people": pd.to_numeric(incidents["victims"]).fillna(0).to_numpy(dtype="int64")
            if "victims" in incidents.columns
            else np.zeros(len(incidents), dtype="int64"),
        }
    )
    covered = set(zip(table["city"], table["month"], strict=True))
    has_cover = np.array(
        [(c, m) in covered for c, m in zip(frame["city"], frame["month"], strict=True)],
        dtype=bool,
    )
    no_city = frame["city"].isna().to_numpy(dtype=bool)
    unmatched = {
        "no_city": int(no_city.sum()),
        "not_covered": int((~no_city & ~has_cover).sum()),
    }
    frame = frame[has_cover]
    keys = ["city", "month"] if by_month else ["city"]
    ret = table.groupby(keys, sort=True).agg(
        returned=("returned", "sum"),
        ports=("place_id", lambda s: " + ".join(sorted(set(s)))),
    )
    inc = frame.groupby(keys, sort=True).agg(incidents=("people", "size"), people=("people", "sum"))
    out = ret.join(inc, how="left").fillna({"incidents": 0, "people": 0}).reset_index()
    if not by_month:
        months = table.groupby("city")["month"].agg(lambda s: f"{s.min()}/{s.max()}")
        out["month"] = out["city"].map(months)
    out["month"] = out["month"].astype(str).astype("string")
    out["incidents"] = out["incidents"].astype("int64")
    out["people"] = out["people"].astype("Int64")
    if "victims" not in incidents.columns:  # the public release holds no number of people
        out["people"] = pd.array([pd.NA] * len(out), dtype="Int64")
    low, high = poisson_limits(out["incidents"].to_numpy(), level)
    returned = out["returned"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(returned > 0, 1000 / returned, np.nan)
    out["per_1000"] = out["incidents"].to_numpy() * scale
    out["ci_low_per_1000"] = low * scale
    out["ci_high_per_1000"] = high * scale
    out["city"] = out["city"].astype("string")
    out["ports"] = out["ports"].astype("string")
    out = out[list(EXPOSURE_COLUMNS)]
    out.attrs["unmatched"] = unmatched
    return out


__all__ = ["EXPOSURE_COLUMNS", "exposure_rates", "read_returns"]
