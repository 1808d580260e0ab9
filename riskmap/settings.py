"""Settings: one frozen dataclass, built from the environment and passed explicitly.

A Streamlit server runs every visitor's session in one process, so nothing here is a mutable
module global: the app builds one :class:`Settings` and hands it to the functions that need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path

from riskmap.errors import SettingsError


def _package_data() -> Path:
    """Return the folder of the data shipped inside the package (``riskmap/data``).

    Raises
    ------
    SettingsError
        If the package was imported from an archive, so its data are not plain files.
    """
    folder = resources.files("riskmap").joinpath("data")
    # setuptools installs package data as plain files; the readers need real paths.
    if not isinstance(folder, Path):
        msg = f"riskmap's data folder {folder} is not a folder on disk: install riskmap with pip"
        raise SettingsError(msg)
    return folder


#: The data shipped with the package: gazetteer, data dictionary, published figures, sample.
DATA_DIR = _package_data()


@dataclass(frozen=True)
class Settings:
    """Everything riskmap can be configured with.

    Each field can be set by an environment variable named ``RISKMAP_`` + the field name in
    upper case (for example ``RISKMAP_STORE=/srv/incidents.gpkg``).
    """

    #: The incident store (env ``RISKMAP_STORE``): a GeoPackage file, relative to the current
    #: directory unless absolute (``make run`` runs from the checkout, so there it is the
    #: checkout's ``data/incidents.gpkg``), or a PostGIS database as a ``postgresql://`` URL
    #: (kept as text). Files kept beside a GeoPackage (the release cache, the pseudonym key,
    #: sign-outs, place history) go to :attr:`local_store` for a URL.
    store: Path | str = Path("data", "incidents.gpkg")
    #: Extra gazetteer CSV merged over the shipped one by ``place_id`` (env ``RISKMAP_PLACES``).
    places: Path | None = None
    #: Small-cell threshold: public counts below it are shown as "<k" (env ``RISKMAP_MIN_CELL``).
    min_cell: int = 3
    #: H3 resolution of the public hex grid and hotspot statistics (env ``RISKMAP_H3_RESOLUTION``).
    h3_resolution: int = 8
    #: Coarser H3 resolution for sexual-assault incidents in public views
    #: (env ``RISKMAP_H3_RESOLUTION_SENSITIVE``).
    h3_resolution_sensitive: int = 7
    #: Radius in metres of the ranking's second figure, the incidents located near a site whose
    #: point is of high confidence; sites are ranked by attribution (env ``RISKMAP_RADIUS_M``).
    radius_m: float = 500.0
    #: Most incidents drawn as individual markers; above it the map shows aggregates only
    #: (env ``RISKMAP_MARKER_LIMIT``).
    marker_limit: int = 2000
    #: Selections up to this many rows get their downloads written on every rerun; larger ones
    #: are written when the button is clicked (env ``RISKMAP_EAGER_DOWNLOAD_ROWS``).
    eager_download_rows: int = 20000
    #: Most rows shown in the app's table; downloads always hold every selected row
    #: (env ``RISKMAP_TABLE_ROWS``).
    table_rows: int = 10000
    #: E-mail addresses allowed into the restricted view after login, comma-separated
    #: (env ``RISKMAP_ALLOWED_EMAILS``). Empty: nobody.
    allowed_emails: frozenset[str] = field(default_factory=frozenset)
    #: Secret key of the public incident ids (HMAC). Empty: a random key kept in a file beside
    #: the store (env ``RISKMAP_PSEUDONYM_KEY``).
    pseudonym_key: str = field(default="", repr=False)
    #: URL path under which the app serves Leaflet's files (env ``RISKMAP_ASSET_BASE``).
    asset_base: str = "app/static/vendor"
    #: Hours a login opens the restricted view for, counted from the provider's issue time
    #: (``iat``), whatever the login cookie says (env ``RISKMAP_SESSION_HOURS``).
    session_hours: float = 8.0
    #: Seconds between the checks an open restricted tab makes for a sign-out elsewhere; the
    #: tab turns public at the first check after one (env ``RISKMAP_SESSION_CHECK_SECONDS``).
    session_check_seconds: int = 30
    #: Login providers whose e-mail claim is trusted although their token has no
    #: ``email_verified`` claim, comma-separated: the names of ``[auth.NAME]`` sections, or
    #: ``default`` for a single ``[auth]`` provider (env ``RISKMAP_TRUST_MISSING_EMAIL_VERIFIED``).
    #: Empty: nobody without ``email_verified: true`` gets in. An explicit ``false`` never does.
    trust_missing_email_verified: frozenset[str] = field(default_factory=frozenset)
    #: The basemap (env ``RISKMAP_TILES``): empty for OpenStreetMap's tiles; a tile URL template
    #: and its attribution, ``https://…/{z}/{x}/{y}.png|© Provider``; a raster ``.pmtiles`` file
    #: in the app's ``static/`` folder, served by the app itself (``static/tiles/city.pmtiles``,
    #: optionally ``|attribution``); or ``none``. See :mod:`riskmap.views.tiles`.
    tiles: str = ""
    #: E-mail addresses allowed to publish (approve records, ``riskmap import --publish``,
    #: retract), comma-separated (env ``RISKMAP_PUBLISHERS``). Empty: every allowed staff
    #: member (``allowed_emails``).
    publishers: frozenset[str] = field(default_factory=frozenset)
    #: Two-person rule of the review: nobody approves a record they created, imported or
    #: edited (env ``RISKMAP_TWO_PERSON_RULE``, ``true`` or ``false``).
    two_person_rule: bool = True

    @property
    def local_store(self) -> Path:
        """Return the path beside which the store's local files are kept.

        The GeoPackage itself; for a PostGIS URL, ``data/<database>.postgis`` (a name, never
        created as a file): its release cache and pseudonym key live in ``data/``.
        """
        return local_path(self.store)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from ``RISKMAP_*`` environment variables.

        Raises
        ------
        SettingsError
            If a variable does not parse as its field's type.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"RISKMAP_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _parse(f.name, raw)
            except ValueError as e:
                msg = f"environment variable RISKMAP_{f.name.upper()}={raw!r}: {e}"
                raise SettingsError(msg) from e
        return cls(**values)  # type: ignore[arg-type]


def local_path(location: object) -> Path:
    """Return the path beside which a store's local files are kept.

    A GeoPackage path is itself; a PostGIS URL gives ``data/<database>.postgis`` (the release
    cache, the pseudonym key and the sign-outs of that store go to ``data/``).
    """
    text = str(location).strip()
    if text.lower().startswith(("postgresql://", "postgres://")):
        import urllib.parse

        name = urllib.parse.urlsplit(text).path.strip("/") or "postgis"
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
        return Path("data", f"{safe}.postgis")
    return Path(str(location))


def _parse(name: str, raw: str) -> object:
    if name == "store":
        # A PostgreSQL URL stays text (a Path would fold its "//").
        text = raw.strip()
        return text if text.lower().startswith(("postgresql://", "postgres://")) else Path(raw)
    if name == "places":
        return Path(raw)
    if name == "two_person_rule":
        word = raw.strip().lower()
        if word not in {"true", "false", "1", "0", "yes", "no"}:
            msg = "must be true or false"
            raise ValueError(msg)
        return word in {"true", "1", "yes"}
    if name in {
        "min_cell",
        "h3_resolution",
        "h3_resolution_sensitive",
        "marker_limit",
        "eager_download_rows",
        "table_rows",
    }:
        value = int(raw)
        if value < 0:
            msg = "must not be negative"
            raise ValueError(msg)
        return value
    if name == "session_check_seconds":
        seconds = int(raw)
        if seconds < 1:
            msg = "must be at least 1"
            raise ValueError(msg)
        return seconds
    if name in {"radius_m", "session_hours"}:
        number = float(raw)
        if not number > 0:
            msg = "must be positive"
            raise ValueError(msg)
        return number
    if name in {"allowed_emails", "publishers"}:
        return frozenset(e.strip().lower() for e in raw.split(",") if e.strip())
    if name == "trust_missing_email_verified":
        return frozenset(p.strip() for p in raw.split(",") if p.strip())
    return raw
