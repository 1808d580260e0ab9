"""riskmap dashboard: widgets and layout only; everything shown is computed by ``riskmap``.

Run with ``make run`` (or ``streamlit run app.py``). One filter state drives the map, the
counts, the charts, the table, the downloads and the URL, so a copied link reopens the view.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import altair as alt
import pandas as pd
import streamlit as st
import streamlit_folium
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit_folium import st_folium

from riskmap.analysis import hotspots
from riskmap.analysis.hexgrid import GiStarResult
from riskmap.analysis.metrics import load_published
from riskmap.errors import RiskmapError
from riskmap.filters import Filters
from riskmap.geo.gazetteer import GAZETTEER_FILE, load_places
from riskmap.ingest import form, import_file
from riskmap.release import access, privacy, sessions
from riskmap.release.audience import Audience
from riskmap.release.cache import load_release, release_unused_memory
from riskmap.release.public import Release
from riskmap.schema import CITIES, DATE_PRECISIONS, INCIDENT_TYPES, PERPETRATORS, PLACE_TYPES
from riskmap.settings import Settings, local_path
from riskmap.store import open_store
from riskmap.store.cache import read_store
from riskmap.views import (
    about,
    brief,
    charts,
    dashboard,
    embed,
    export,
    i18n,
    maps,
    package,
    playback,
    tiles,
    viewstate,
)
from riskmap.views.i18n import label, t
from riskmap.workflow import places as verified
from riskmap.workflow import review

#: The folder of this file: Streamlit serves its static/ subfolder at /app/static/.
APP_DIR = Path(__file__).resolve().parent

st.set_page_config(page_title="riskmap", page_icon="🗺️", layout="wide")
# Streamlit's own table toolbar would offer a second download path, without the formula guard
# or the manifest: the app's download buttons are the only one.
st.set_option("client.disableDataExport", True)


# cache_resource, not cache_data: the frames are shared read-only, never copied per rerun (a
# million rows would be pickled on every filter change). The key includes the store's version.
@st.cache_resource(show_spinner=False, max_entries=2)
def _load(
    store: str, versions: tuple[object, ...], places_file: str | None, _settings: Settings
) -> tuple[pd.DataFrame, Release]:
    """Load the public release once per store version (kept beside the store, built once)."""
    # Staff-verified locations (confirmed by a second staff member) lie over the gazetteer.
    places = verified.apply_verified(load_places(places_file), local_path(store))
    key = privacy.pseudonym_key(_settings, store=store)
    # A release kept beside the store needs no read of the store at all.
    return places, load_release(store, places=places, settings=_settings, key=key)


@st.cache_resource(show_spinner=False, max_entries=1)
def _staff_rows(
    store: str, versions: tuple[object, ...], places_file: str | None, _places: pd.DataFrame
) -> pd.DataFrame:
    """Read the staff view once per store version, on the first restricted visit only."""
    return privacy.restricted_view(read_store(store), places=_places)


# Everything below is keyed by (store version, audience kind, filter state): pure results of
# the release (or the staff view) that the same view asks for again on a rerun, e.g. a map pan,
# a tab switch or a language switch. Shared read-only between sessions like the release.
Version = tuple[str, tuple[object, ...], str]


@st.cache_resource(show_spinner=False, max_entries=4)
def _facets(
    version: Version, _audience: Audience
) -> tuple[tuple[dt.date, dt.date] | None, list[str], set[str], bool, str]:
    """Return a table's date bounds, cities, kinds of place, synthetic flag and playback unit."""
    data = _audience.table
    return (
        dashboard.date_bounds(data),
        sorted({str(c) for c in data["city"].dropna().unique()}),
        set(data["place_type"].dropna().unique().astype(str)) | _audience.protected_place_types,
        _audience.synthetic,
        playback.frame_unit(data),
    )


@st.cache_resource(show_spinner=False, max_entries=2)
def _select(
    version: Version, filters_key: str, _audience: Audience, _filters: Filters
) -> dashboard.Selection:
    """Return the selection of one filter state (two kept: the last and the one before)."""
    selection = dashboard.select(_audience, _filters, published=_published())
    release_unused_memory()  # what the filter's copies freed, not kept for the server's life
    return selection


@st.cache_resource(show_spinner=False, max_entries=16)
def _ranking(
    version: Version, filters_key: str, radius: int, _audience: Audience, _filters: Filters
) -> pd.DataFrame:
    """Return the hotspot ranking of one filter state and radius."""
    return hotspots.rank_selection(_audience, _filters, radius_m=float(radius))


@st.cache_resource(show_spinner=False, max_entries=8)
def _gi(
    version: Version, filters_key: str, resolution: int, _selection: dashboard.Selection
) -> GiStarResult:
    """Return Gi* on one selection (seconds on a large one)."""
    return hotspots.gi_star(_selection.incidents, resolution=resolution)


@st.cache_resource(show_spinner=False, max_entries=24)
def _trend(
    version: Version,
    filters_key: str,
    by: str,
    period: str,
    lang: str,
    k: int,
    _selection: dashboard.Selection,
) -> alt.Chart:
    """Return one trend chart of one selection."""
    return charts.trend_chart(_selection.incidents, by=by, period=period, lang=lang, min_cell=k)


@st.cache_resource(show_spinner=False, max_entries=16)
def _listed(
    version: Version,
    filters_key: str,
    lang: str,
    _selection: dashboard.Selection,
    _places: pd.DataFrame,
) -> pd.DataFrame:
    """Return the named places of one selection that have no map point."""
    return dashboard.listed_places(_selection.drawn, places=_places, lang=lang)


@st.cache_resource(show_spinner=False)
def _folium_lock() -> threading.Lock:
    """Guard ``streamlit_folium``'s component function while a map's call is captured."""
    return threading.Lock()


@st.cache_resource(show_spinner=False)
def _folium_component() -> Any:
    """Return ``streamlit_folium``'s own component function (never a capture's stand-in)."""
    with _folium_lock():
        return streamlit_folium._component_func


@st.cache_resource(show_spinner=False, max_entries=16)
def _map_call(
    version: Version,
    filters_key: str,
    lang: str,
    hidden: tuple[str, ...],
    title: str,
    _selection: dashboard.Selection,
    _audience: Audience,
    _asset_base: str | None,
    _basemap: tiles.Basemap,
) -> dict[str, Any]:
    """Return what ``st_folium`` sends for one view: the map built and rendered once.

    A rerun of the same view (a map move, a tab or a layer switch, the next visitor with the
    same filters) sends these arguments again instead of rebuilding and re-rendering the map.
    """
    shown = maps.dashboard_map(
        _selection.drawn,
        audience=_audience,
        lang=lang,
        asset_base=_asset_base,
        hidden=hidden,
        basemap=_basemap,
        title_html=title,
    )
    captured: dict[str, Any] = {}
    with _folium_lock():
        real = streamlit_folium._component_func
        streamlit_folium._component_func = lambda **kw: captured.update(kw)
        try:
            with maps.quick_render():
                st_folium(
                    shown.base,
                    key=f"map_{lang}",
                    feature_group_to_add=shown.layers,
                    returned_objects=["center", "zoom"],
                    use_container_width=True,
                    height=540,
                )
        finally:
            streamlit_folium._component_func = real
    release_unused_memory()
    return captured


def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return {}


@st.cache_data(show_spinner=False)
def _published() -> pd.DataFrame:
    return load_published()


def _store_stamp(store: os.PathLike[str] | str) -> str:
    """Return what changes with every change of the store (imports, edits, review steps)."""
    try:
        return json.dumps(open_store(store).store_version(), sort_keys=True)
    except RiskmapError:
        return ""  # the load below reports the store's problem


def _mtime(path: os.PathLike[str] | str) -> float:
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0.0


try:
    settings = Settings.from_env()
    # The tiles under the map (RISKMAP_TILES): OpenStreetMap's, your own, a local archive, none.
    basemap = tiles.parse_tiles(
        settings.tiles, static_dir=APP_DIR / "static", asset_base=settings.asset_base
    )
except RiskmapError as e:
    st.error(str(e))
    st.stop()
state = st.session_state

# --- the view a link names, once per session; then the widgets hold it -----------------------
if "initialised" not in state:
    opened = viewstate.ViewState.from_query_params(
        {k: st.query_params.get_all(k) for k in st.query_params}
    )
    for _name, _value in viewstate.widget_values(opened).items():
        state[_name] = _value
    state.lang = opened.lang
    state.trend_period = "month"
    # ?embed=1: the map alone, for an iframe in another page (always the public view).
    # st.query_params hides `embed` (a name Streamlit reserves): read the page's query string.
    _run = get_script_run_ctx()
    state.embed = embed.requested(parse_qs(_run.query_string if _run else ""))
    state.initialised = True

# Widgets whose option labels are translated get one key per language: Streamlit keeps a widget's
# displayed labels while its key stays the same. Their values live under the plain name.
# The period is two fields: a choice among a few spans (`span`) and, for "month", the month.
_TRANSLATED = ("span", "month", "types", "perpetrators", "place_types", "trend_period", "layers")
if "preset" not in state:
    state.preset = state.period
    state.span = viewstate.period_span(state.preset)
    state.month = state.preset if state.span == "month" else None

with st.sidebar:
    lang = st.radio(
        "Idioma / Language",
        i18n.LANGUAGES,
        key="lang",
        format_func=lambda v: {"es": "Español", "en": "English"}[v],
        horizontal=True,
    )
if state.get("_widgets_lang") != lang:
    for _name in _TRANSLATED:
        state[f"{_name}__{lang}"] = state[_name]
    state["_widgets_lang"] = lang


def _keyed(name: str) -> str:
    """Return the widget key of ``name`` in the current language."""
    return f"{name}__{lang}"


# A widget changed in the browser holds its new value before this run starts: copy it to the
# plain name now, so the map, the URL and everything above the widget see the new value.
for _name in _TRANSLATED:
    if _keyed(_name) in state:
        state[_name] = state[_keyed(_name)]
tab_labels = [t(f"tab_{x}", lang) for x in viewstate.TABS]
if state.get(_keyed("tab")) in tab_labels:
    state.tab = viewstate.TABS[tab_labels.index(state[_keyed("tab")])]


def _reset() -> None:
    """Clear every filter and the period; the tab, the layers and the map view stay."""
    cleared = viewstate.widget_values(viewstate.ViewState(lang=lang))
    for name in ("types", "cities", "perpetrators", "place_types", "children_only"):
        state[name] = cleared[name]
    state.preset = state.span = state[_keyed("span")] = "all"
    for name in ("types", "perpetrators", "place_types"):
        state[_keyed(name)] = []
    state.pop("dates", None)


# Small screens: the page's own CSS (no script). The sidebar's open button gets a word, the
# numbers shrink, so the map is in the first screen of a 390 x 844 phone.
st.html(
    "<style>"
    ".block-container{padding-top:3.6rem;padding-bottom:1rem}"
    "h1{font-size:1.6rem!important;padding:0 0 .2rem 0!important}"
    '[data-testid="stMetricValue"]{font-size:1.5rem}'
    '[data-testid="stMetricLabel"] p{white-space:normal!important;line-height:1.15}'
    '[data-testid="stMetric"]{max-width:11rem}'
    "@media (max-width:640px){"
    "h1{font-size:1.05rem!important}"
    '[data-testid="stCaptionContainer"]{font-size:.8rem}'
    '[data-testid="stMetricValue"]{font-size:1.1rem}'
    '[data-testid="stMetricLabel"] p{font-size:.7rem}'
    '[data-testid="stMetric"]{max-width:6.6rem}'
    '[data-testid="stAlert"] p{font-size:.78rem;line-height:1.25}'
    '[data-testid="stAlertContainer"]{padding:.45rem .7rem}'
    '[data-testid="stExpandSidebarButton"]::after,'
    '[data-testid="stSidebarCollapsedControl"] button::after'
    f'{{content:"{t("filters", lang)}";margin-left:.3rem;font-weight:600}}'
    "}"
    "</style>"
)
# A typed date applies on Enter as it does on Tab: Enter moves the focus out of the field (the
# field commits when the focus goes to another element). A constant script, no data in it.
st.html(
    "<script>if (!window.rmEnterCommits) { window.rmEnterCommits = true;"
    " document.addEventListener('keydown', function (e) {"
    " var field = e.target.closest && e.target.closest('[data-testid=\"stDateInput\"]');"
    " if (e.key !== 'Enter' || !field) { return; }"
    " var out = document.createElement('button'); out.setAttribute('aria-hidden', 'true');"
    " out.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0';"
    " document.body.appendChild(out); out.focus();"
    " setTimeout(function () { out.remove(); }, 100); }, true); }</script>",
    unsafe_allow_javascript=True,
)
if state.embed:
    st.html(embed.page_css())

secrets = _secrets()
restricted = False
email = ""


@st.cache_resource(show_spinner=False)
def _return_paths() -> sessions.ReturnPaths:
    """Query strings of browsers gone to log in (one object for the server's sessions)."""
    return sessions.ReturnPaths()


def _browser() -> str | None:
    return sessions.browser_key(st.context.cookies.get("_streamlit_xsrf"))


def _keep_view() -> None:
    # The provider sends the browser back to "/": keep its view and language until then.
    _return_paths().put(_browser(), {k: st.query_params.get_all(k) for k in st.query_params})


def _log_in(provider: str | None) -> None:
    _keep_view()
    st.login(provider)


def _log_out(user: dict, everywhere: bool) -> None:
    try:
        sessions.record_signout(settings.local_store, user, everywhere=everywhere)
    except RiskmapError as e:
        st.error(str(e))
        return
    _keep_view()
    st.logout()


if access.auth_configured(secrets) and not state.embed:
    with st.sidebar:
        user = st.user.to_dict()
        standing = access.standing(user, secrets=secrets, settings=settings)
        # (Only on a bare "/": a run that asks to log in runs on with the view in its URL.)
        back = None if st.query_params else _return_paths().pop(_browser())
        if back:
            # First run after the provider sent the browser back: reopen the view it left.
            for _key in list(state.keys()):
                del state[_key]
            st.query_params.from_dict(back)
            st.rerun()
        if standing in {"logged_out", "signed_out", "expired"}:
            st.button(
                t("login", lang),
                key="login",
                on_click=_log_in,
                args=(access.provider_name(secrets),),
            )
        if user.get("is_logged_in"):
            email = str(user.get("email") or "")
            st.text(email)  # a claim from the provider: shown as text, never as Markdown
            st.button(t("logout", lang), key="logout", on_click=_log_out, args=(user, False))
        if standing == "allowed":
            restricted = st.toggle(t("restricted", lang), key="restricted")
            st.button(
                t("logout_everywhere", lang),
                key="logout_everywhere",
                on_click=_log_out,
                args=(user, True),
            )
        elif standing == "expired":
            st.warning(t("expired", lang, email=email, hours=f"{settings.session_hours:g}"))
        elif standing in {"signed_out", "not_verified", "not_allowed"}:
            st.warning(t(standing, lang, email=email))


@st.fragment(run_every=settings.session_check_seconds)
def _session_check(user: dict) -> None:
    """Close an idle restricted tab soon after a sign-out elsewhere, or at expiry."""
    if access.standing(user, secrets=secrets, settings=settings) != "allowed":
        st.rerun()


if restricted:
    _session_check(user)

# A corrected gazetteer (shipped or the user's) changes the public points too.
versions = (
    _store_stamp(settings.store),
    _mtime(GAZETTEER_FILE),
    _mtime(settings.places or ""),
    _mtime(verified.history_path(settings.local_store)),
)
places_file = str(settings.places) if settings.places else None
try:
    places, release = _load(str(settings.store), versions, places_file, settings)
    staff_rows = (
        _staff_rows(str(settings.store), versions, places_file, places) if restricted else None
    )
except RiskmapError as e:
    st.error(t("error_store", lang, error=e))
    st.stop()

if not state.embed:
    st.title(t("title", lang))
    st.caption(t("subtitle", lang))
# The app only chooses the audience; what it may see is the release's business.
audience = (
    Audience("restricted", staff_rows, places, settings, release)
    if staff_rows is not None
    else Audience.from_release(release, places=places, settings=settings)
)
version: Version = (str(settings.store), versions, audience.kind)
bounds, cities, shown_types, synthetic, frame_unit = _facets(version, audience)
if synthetic and not state.embed:
    st.warning(t("synthetic_banner", lang), icon="⚠️")

# Elements shown only sometimes go into containers that always exist: the map's position in the
# page must not move, or Streamlit remounts it and the map flashes blank on a filter change.
with st.container():
    if restricted:
        st.error(t("restricted_note", lang), icon="🔒")
# Kinds of place the audience's rows show, and those it protects (counted by city only): a
# filter on a protected kind says so instead of showing a false zero (in `shown_types`).
place_types = [p for p in PLACE_TYPES if p in shown_types]
months = viewstate.month_periods(bounds)
periods = ["all", *viewstate.RELATIVE_PERIODS, *months, "custom"]
spans = [s for s in viewstate.SPANS if s != "month" or months]
# A shared link may name a value the data do not hold: drop it rather than filter on it.
state.cities = [c for c in state.cities if c in cities]
state.place_types = [p for p in state.place_types if p in place_types]
for _name in ("place_types",):
    state[_keyed(_name)] = [p for p in state[_keyed(_name)] if p in place_types]
if state.preset not in periods:
    state.preset = "custom" if state.dates else "all"
    state.span = viewstate.period_span(state.preset)

# --- filters ----------------------------------------------------------------------------------
# The filters' values are in the session state already (from the link on a first visit, from the
# widget before every rerun): the page is computed from them here, and the sidebar's widgets are
# drawn into this place after the main area (see _draw_filters), so the browser starts loading
# the map before it draws a dozen widgets.
_filters_box = st.sidebar.container()
preset = viewstate.chosen_period(
    state.span, month=state.month, previous=state.preset, months=months
)
if preset not in periods:
    preset = "custom" if state.get("dates") else "all"
# The two fields show the period chosen (a choice clicked again stays chosen); the month field
# keeps its month while another span is shown.
state.span = state[_keyed("span")] = viewstate.period_span(preset)
if preset in months:
    state.month = preset
elif state.month not in months:
    state.month = months[0] if months else None
state[_keyed("month")] = state.month
if preset == "custom" and bounds and not state.get("dates"):
    # Switching to a custom range starts from what was shown.
    was = viewstate.resolve_period(state.period, bounds=bounds, lang=lang)
    state.dates = (was.start or bounds[0], was.end or bounds[1])
_FILTER_WIDGETS = (
    ("types", "incident_types", INCIDENT_TYPES),
    ("cities", "city", cities),
    ("perpetrators", "perpetrator", PERPETRATORS),
    ("place_types", "place_type", place_types),
)
picks: dict[str, list[str]] = {
    name: list(state.get(_keyed(name) if name in _TRANSLATED else name) or [])
    for name, _, _ in _FILTER_WIDGETS
}
state.setdefault("children_only", False)


def _draw_filters() -> None:
    """Draw the filter widgets (their values were read above, from the same keys)."""
    with _filters_box:
        st.header(t("filters", lang))
        # A segmented control, not a select box: the browser draws it in a fraction of the time,
        # and the period is the filter people change most.
        st.segmented_control(
            t("period", lang),
            spans,
            key=_keyed("span"),
            format_func=lambda v: viewstate.span_label(v, lang),
            help=t("span_help", lang),
        )
        if preset in months:
            st.selectbox(
                t("month_pick", lang),
                months,
                key=_keyed("month"),
                format_func=lambda v: viewstate.period_label(v, lang),
            )
        if preset == "custom" and bounds:
            # Any date may be typed: dates beyond the data are trimmed with a message below,
            # never refused by the field (a refused date left the previous numbers on screen).
            st.date_input(
                t("date_range", lang),
                key="dates",
                min_value=viewstate.DATE_FLOOR,
                max_value=viewstate.DATE_CEILING,
                format="YYYY-MM-DD",
            )
        for name, label_key, options in _FILTER_WIDGETS:
            translated = name in _TRANSLATED  # city names are not translated
            st.multiselect(
                t(label_key, lang),
                options,
                key=_keyed(name) if translated else name,
                format_func=(lambda v: label(v, lang)) if translated else str,
                placeholder=t("choose", lang),
            )
        st.checkbox(t("children_only", lang), key="children_only")
        st.button(t("reset", lang), key="reset", on_click=_reset)


state.preset = state.period = preset
for _name in ("types", "perpetrators", "place_types"):
    state[_name] = picks[_name]
view = viewstate.from_widgets(
    {name: state.get(name) for name in viewstate.WIDGETS if name != "period"} | {"period": preset},
    lang=lang,
)
dates = viewstate.resolve_period(preset, picked=state.get("dates") or (), bounds=bounds, lang=lang)
filters = view.filters.with_(start=dates.start, end=dates.end)
wanted = view.to_query_params()  # Streamlit keeps `embed` in the address itself
current = {k: st.query_params.get_all(k) for k in st.query_params}
if {k: v if isinstance(v, list) else [v] for k, v in wanted.items()} != current:
    st.query_params.from_dict(wanted)

# --- time playback: a frame's dates replace the period (the address keeps the view chosen) ----
play_frames = playback.frames(bounds, unit=frame_unit)
for _name, _default in (("play_mode", "window"), ("play_window", 1), ("play_speed", 1.0)):
    state.setdefault(_name, _default)
state.setdefault("play_frame", 0)
# Their option labels are translated: one widget key per language, as for the filters above.
_PLAY_TRANSLATED = ("play_mode", "play_speed", "play_frame")
for _name in _PLAY_TRANSLATED:
    if state.get("_play_lang") == lang and _keyed(_name) in state:
        state[_name] = state[_keyed(_name)]
    else:
        state[_keyed(_name)] = state[_name]
state["_play_lang"] = lang


def _set_frame(index: int) -> None:
    """Move to frame ``index`` (the plain value and the frame slider of this language)."""
    state.play_frame = state[_keyed("play_frame")] = index


_set_frame(min(max(int(state.play_frame), 0), max(len(play_frames) - 1, 0)))


def _advance() -> None:
    """Show the next frame once a frame's time is up (the last frame stops the playback)."""
    if not state.get("play_running") or not state.get("play"):
        return
    if time.monotonic() - state.get("play_at", 0.0) < 0.9 * float(state.play_speed):
        return  # a run of the whole page, not the timer
    state.play_at = time.monotonic()
    if state.play_frame >= len(play_frames) - 1:
        state.play_running = False
    else:
        _set_frame(state.play_frame + 1)
    st.rerun(scope="app")


def _play_or_pause() -> None:
    if not state.get("play_running") and state.play_frame >= len(play_frames) - 1:
        _set_frame(0)  # played to the end: start again
    state.play_running = not state.get("play_running")
    state.play_at = time.monotonic()


_play_box = st.sidebar.container() if not state.embed and play_frames else None
if _play_box is not None:
    if state.get("play") and state.get("play_running"):
        # Before the frame slider is drawn: the timer may move it.
        st.fragment(run_every=float(state.play_speed))(_advance)()
    if state.get("play"):
        view, dates = playback.frame_view(
            view,
            play_frames,
            state.play_frame,
            mode=state.play_mode,
            window=int(state.play_window),
        )
        filters = view.filters.with_(start=dates.start, end=dates.end)
    else:
        state.play_running = False


def _draw_playback() -> None:
    """Draw the playback widgets (their values were read above, from the same keys)."""
    if _play_box is None:
        return
    with _play_box:
        st.subheader(t("play", lang))
        if st.toggle(t("play_on", lang), key="play", help=t("play_help", lang)):
            st.radio(
                t("play_mode", lang),
                playback.MODES,
                key=_keyed("play_mode"),
                format_func=lambda v: t(f"play_mode_{v}", lang),
                horizontal=True,
            )
            if state.play_mode == "window":
                st.select_slider(t("play_window", lang), playback.WINDOWS, key="play_window")
            st.select_slider(
                t("play_speed", lang),
                playback.SPEEDS,
                key=_keyed("play_speed"),
                format_func=lambda v: t("play_seconds", lang, s=f"{v:g}"),
            )
            st.select_slider(
                t("play_frame", lang),
                list(range(len(play_frames))),
                key=_keyed("play_frame"),
                format_func=lambda i: playback.frame_label(play_frames[i], lang=lang),
            )
            st.button(
                t("play_pause" if state.get("play_running") else "play_start", lang),
                key="play_run",
                on_click=_play_or_pause,
                icon=":material/pause:" if state.get("play_running") else ":material/play_arrow:",
            )
            st.caption(t("play_note", lang))


filters_key = repr(filters)
selection = _select(version, filters_key, audience, filters)
k = audience.k

if state.embed:
    # Embedded: the map (its legend, its title box with the filters and the synthetic flag) and
    # a link to the full view; nothing else is drawn.
    embedded = maps.dashboard_map(
        selection.drawn,
        audience=audience,
        lang=lang,
        asset_base=settings.asset_base,
        hidden=view.hidden,
        basemap=basemap,
        title_html=maps.title_html(
            viewstate.summary(view, dates, data_through=bounds[1] if bounds else None, lang=lang),
            synthetic=synthetic,
            lang=lang,
        ),
    )
    with _folium_lock():  # never while a map's call is being captured (see _map_call)
        st_folium(
            embedded.base,
            key=f"map_{lang}",
            feature_group_to_add=embedded.layers,
            returned_objects=[],
            use_container_width=True,
            height=embed.EMBED_MAP_HEIGHT,
        )
    st.markdown(embed.link_markdown(st.context.url, view, lang=lang))
    _draw_filters()  # hidden in an embed; drawn so that the view's widget values are kept
    st.stop()

# What is shown, in one line (with the data's last day), and what the dates did.
st.caption(
    f"**{t('showing', lang)}:** "
    + viewstate.summary(view, dates, data_through=bounds[1] if bounds else None, lang=lang).replace(
        "*", "\\*"
    )
)
with st.container():
    for _note in dates.notes:
        st.info(_note)
    protected = dashboard.protected_note(filters, audience=audience, lang=lang)
    if protected:
        st.info(protected, icon="🔒")

# --- headline counts --------------------------------------------------------------------------
# As the published report counts them (the public release holds no number of people): compact,
# in a row that wraps, so that on a phone the map is still in the first screen.
with st.container(horizontal=True, gap="small"):
    for key, text, published_value in dashboard.headline_items(selection, audience=audience):
        st.metric(
            t(f"m_{key}", lang),
            text,
            help=t("published", lang, value=published_value)
            if published_value is not None
            else t("help_with_children", lang)
            if key == "incidents_with_children"
            else None,
            width="content",
        )


def _below_map(selection: dashboard.Selection, *, protected: str | None) -> None:
    """Say what the map does not draw and where the figures come from.

    The notes are paragraphs of one caption: each element costs the browser's first paint of
    the page more than its text does.
    """
    notes = []
    if selection.published:
        source = _published()["source"].iloc[0]
        pairs = ", ".join(
            f"{t(f'm_{key}', lang)}: {value}" for key, value in selection.published.items()
        )
        notes.append(t("published_note", lang, source=source) + " — " + pairs)
    if selection.empty and not protected:
        st.info(t("no_incidents", lang))
    if selection.unresolved:
        n = audience.format_count(selection.unresolved)
        notes.append(t("unresolved_note", lang, n=n))
    listed = _listed(version, filters_key, lang, selection, places)
    if len(listed):
        # Approximate places are not pinned where they are not: listed by name instead.
        notes.append(
            t("listed_places", lang)
            + " "
            + "; ".join(
                f"{r.name} ({r.city}): {audience.format_count(r.incidents)}"
                for r in listed.itertuples()
            )
        )
    if audience.public:
        notes.append(
            t("release_note", lang, k=release.k)
            + (
                " " + t("release_suppressed", lang, n=release.suppressed)
                if release.suppressed
                else ""
            )
        )
    if notes:
        st.caption("\n\n".join(notes))


@st.fragment
def _map_panel(map_args: dict[str, Any], view: viewstate.ViewState) -> None:
    """Draw the map; a move of the map (its view reported back) reruns this panel only."""
    returned = _folium_component()(**map_args)
    # A new map first reports where it starts, before its layers place it: not a view.
    moved = viewstate.map_view(returned)
    if moved and moved != state.map_view and moved != maps.INITIAL_VIEW:
        state.map_view = moved
        # The whole view this map was drawn for, not the map key alone: a map report that
        # crosses a filter change must not write back an address from before that change.
        st.query_params.from_dict(view.with_(view=moved).to_query_params())


# The open tab travels in links; its label is translated, its id is not.
if state.get(_keyed("tab")) not in tab_labels:
    state[_keyed("tab")] = tab_labels[viewstate.TABS.index(state.tab)]
tab_map, tab_trends, tab_hot, tab_data, tab_about = st.tabs(
    tab_labels, key=_keyed("tab"), on_change="rerun"
)
state.tab = viewstate.TABS[tab_labels.index(state[_keyed("tab")])]

with tab_map:
    # Only the open tab draws the map: a map drawn hidden has no size, and the view it reports
    # would overwrite the one the person chose.
    if tab_map.open is not False:
        # The map fits a new selection at its real size in the browser; a new map takes the view
        # in the address (a link's, or where the person was before a language switch).
        summary_line = viewstate.summary(
            view, dates, data_through=bounds[1] if bounds else None, lang=lang
        )
        map_args = _map_call(
            version,
            filters_key,
            lang,
            tuple(sorted(view.hidden)),
            maps.title_html(summary_line, synthetic=synthetic, lang=lang),
            selection,
            audience,
            settings.asset_base,
            basemap,
        )
        _map_panel(map_args, view)
    # Layer switches live on the page, not in the map: they survive a filter change, a
    # language switch and a link.
    with st.container(horizontal=True, vertical_alignment="bottom"):
        state[_keyed("layers")] = [x for x in state[_keyed("layers")] if x in viewstate.LAYERS]
        state.layers = st.pills(
            t("layers", lang),
            viewstate.LAYERS,
            selection_mode="multi",
            key=_keyed("layers"),
            format_func=lambda v: t(f"layer_{v}", lang),
        )
        with st.popover(t("copy_link", lang), icon="🔗"):
            st.code(viewstate.link(st.context.url, view), language=None, wrap_lines=True)
            st.caption(t("share_link", lang))
            st.code(
                embed.iframe_snippet(st.context.url, view, lang=lang),
                language="html",
                wrap_lines=True,
            )
            st.caption(t("embed_snippet", lang))
        # The printable brief: one page per city of the view (all cities when none is chosen),
        # always from the public release, written when the button is clicked.
        _public_audience = Audience.from_release(release, places=places, settings=settings)
        _brief_url, _brief_view, _brief_dates = st.context.url, view, dates
        _brief_cities = (
            cities
            if audience.public
            else sorted({str(c) for c in _public_audience.table["city"].dropna().unique()})
        )

        def _brief_pdf() -> bytes:
            chosen = [c for c in _brief_view.filters.cities if c in _brief_cities] or _brief_cities
            briefs = [
                brief.city_brief(
                    _public_audience,
                    city=c,
                    view=_brief_view,
                    dates=_brief_dates,
                    page_url=_brief_url,
                    published_source=str(_published()["source"].iloc[0]),
                )
                for c in chosen
            ]
            return brief.render_pdf(briefs)

        if _brief_cities:
            st.download_button(
                t("download_brief", lang),
                _brief_pdf,
                file_name=f"riskmap-brief-{lang}.pdf",
                mime="application/pdf",
                key="download_brief",
                help=t("download_brief_help", lang),
                icon="🖨️",
                on_click="ignore",
            )
    # Below the map, what it does not draw and where the figures come from.
    with st.container():
        # A closed tab computes nothing.
        if tab_map.open is not False:
            _below_map(selection, protected=protected)

if restricted:
    with tab_map, st.expander(t("loc_title", lang)):
        _place_ids = [p for p in places["place_id"] if not str(p).endswith("_city")]
        _names = dict(zip(places["place_id"], maps.place_names(places, lang), strict=True))
        chosen_place = str(
            st.selectbox(
                t("loc_place", lang),
                _place_ids,
                key="loc_place",
                format_func=lambda p: _names.get(p, p),
            )
        )
        here = places.set_index("place_id").loc[chosen_place]
        st.caption(
            t("loc_current", lang, confidence=here["confidence"], lat=here["lat"], lon=here["lon"])
        )
        c1, c2 = st.columns(2)
        new_lat = c1.number_input(t("loc_lat", lang), format="%.6f", value=None, key="loc_lat")
        new_lon = c2.number_input(t("loc_lon", lang), format="%.6f", value=None, key="loc_lon")
        why = st.text_input(t("loc_reason", lang), key="loc_reason")
        if st.button(t("loc_set", lang), key="loc_set"):
            try:
                verified.set_location(
                    settings.local_store,
                    chosen_place,
                    lat=new_lat,
                    lon=new_lon,
                    reason=why,
                    by=email,
                    places=places,
                )
                st.success(t("loc_saved", lang))
            except RiskmapError as e:
                st.error(str(e))
        for row in verified.pending(settings.local_store).itertuples(index=False):
            mine = row.by == email.strip().lower()
            st.caption(
                t("loc_pending", lang, place=_names.get(row.place_id, row.place_id), by=row.by)
                + f" {row.lat:.6f}, {row.lon:.6f} — {row.reason}"
            )
            if st.button(t("loc_confirm", lang), key=f"loc_confirm_{row.place_id}", disabled=mine):
                try:
                    verified.confirm_location(settings.local_store, row.place_id, by=email)
                    st.success(t("loc_confirmed", lang))
                except RiskmapError as e:
                    st.error(str(e))
        trail = verified.history(settings.local_store, chosen_place)
        if len(trail):
            st.dataframe(trail, hide_index=True, key="loc_history")


def _kept(name: str, default: object) -> None:
    """Give a widget of a closed tab back its value: Streamlit forgets widgets not drawn."""
    if name not in state:
        state[name] = state.get(f"_kept_{name}", default)


@st.fragment
def _trends_panel(selection: dashboard.Selection, *, protected: str | None) -> None:
    """Draw the trend charts; the period reruns this panel only."""
    _kept(_keyed("trend_period"), state.trend_period)
    period = st.radio(
        t("chart_period", lang),
        ("month", "week"),
        key=_keyed("trend_period"),
        format_func=lambda v: t(f"period_{v}", lang),
        horizontal=True,
    )
    state.trend_period = period
    if selection.empty:
        st.info(protected or t("no_incidents", lang))
        return
    for by in ("type", "place", "perpetrator"):
        st.altair_chart(
            _trend(version, filters_key, by, period, lang, k, selection),
            width="stretch",
        )


@st.fragment
def _hotspot_panel(selection: dashboard.Selection) -> None:
    """Draw the ranking and Gi*; the radius and the Gi* switch rerun this panel only."""
    st.subheader(t("hotspots_title", lang))
    # The audience's rows on all dates (the previous period matters): in public the release,
    # public sites only. It equals `riskmap hotspots --public` (restricted: `riskmap hotspots`).
    _kept("radius", int(settings.radius_m))
    radius = int(state["radius"])
    state["_kept_radius"] = radius
    ranking = _ranking(version, filters_key, radius, audience, filters)
    meta = ranking.attrs
    st.caption(
        t(
            "hotspots_help",
            lang,
            days=meta["period_days"],
            end=meta["end"],
            through=meta["data_through"] or "–",
        )
    )
    if not meta["previous_covered"] and bounds:
        # The data begin inside the previous period: a change there would be missing records.
        st.caption(t("hotspots_no_previous", lang, first=bounds[0]))
    cards = dashboard.ranking_cards(ranking, lang=lang, audience=audience)
    if not cards:
        st.info(t("ranking_empty", lang))
    # Cards, not a ten-column table: the explanation of a rank must read on a phone.
    for card in cards:
        with st.container(border=True):
            st.markdown(card)
    st.number_input(
        t("hotspots_radius", lang),
        min_value=100,
        max_value=5000,
        step=100,
        key="radius",
    )
    st.markdown(f"**{t('gi_title', lang)}**")
    # Gi* takes seconds with many incidents (9,999 permutations): computed on request only.
    if st.toggle(t("gi_run", lang), key="gi_run"):
        gi = _gi(version, filters_key, settings.h3_resolution, selection)
        if not gi.ran and lang == "en":
            st.info(t("gi_refused", lang, reason=gi.reason))
        elif not gi.ran:  # the library explains in English: say it in Spanish, detail below
            st.info(t("gi_refused", lang, reason=t("gi_refused_generic", lang)))
            st.caption(t("gi_detail_en", lang) + " " + str(gi.reason))
        elif gi.significant_hot:
            st.write(t("gi_result", lang, n=gi.significant_hot, alpha=gi.alpha))
        else:
            st.write(t("gi_none", lang, alpha=gi.alpha))
    else:
        st.caption(t("gi_help", lang))


# Only the open tab computes its content (the tabs rerun the page when switched).
with tab_trends:
    if tab_trends.open is not False:
        _trends_panel(selection, protected=protected)

with tab_hot:
    if tab_hot.open is not False:
        _hotspot_panel(selection)

with tab_data:
    if tab_data.open is not False:
        st.subheader(t("data_table_restricted" if restricted else "data_table", lang))
        # The audience's columns only, on a fresh index: no store row number reaches the browser.
        rows = maps.named_in(audience.rows(selection.incidents), places, lang)
        with st.container():
            st.caption(t("rows", lang, n=audience.format_count(len(rows))))
            if len(rows) > settings.table_rows:
                st.caption(t("table_limited", lang, n=settings.table_rows))
        # Dates at their precision ("2019-12" for a month); the downloads keep ISO dates.
        st.dataframe(
            dashboard.with_shown_dates(rows.head(settings.table_rows)),
            hide_index=True,
            width="stretch",
            key="table",
        )
        # The link to this view goes into the manifest and the citation.
        page_link = viewstate.link(st.context.url, view)
        headers = "es" if st.checkbox(t("headers_es", lang), key="headers_es") else "en"
        files = {
            fmt: export.export_view(
                rows,
                audience=audience,
                filters=filters,
                fmt=fmt,
                lang=lang,
                headers=headers,
                url=page_link,
            )
            for fmt in ("csv", "geojson")
        }
        # Small public selections: bytes now. Large ones: written only when the button is clicked.
        # Restricted files always on click, under a name new on every run: Streamlit serves a file
        # to whoever holds its URL, so no other session (and no later run) may produce that URL.
        eager = len(rows) <= settings.eager_download_rows and not restricted
        token = sessions.download_token() if restricted else ""

        def _filename(filename: str) -> str:
            return sessions.private_filename(filename, token) if restricted else filename

        c1, c2, c3, c4 = st.columns(4)
        for column, fmt, mime in ((c1, "csv", "text/csv"), (c2, "geojson", "application/geo+json")):
            column.download_button(
                t(f"download_{fmt}", lang),
                files[fmt].data if eager else files[fmt].render,
                file_name=_filename(files[fmt].filename),
                mime=mime,
                key=f"download_{fmt}",
                # No rerun on a restricted click: a rerun would drop the file's generator while
                # the browser is still asking for it.
                on_click="ignore" if restricted else "rerun",
            )
        c3.download_button(
            t("download_manifest", lang),
            files["csv"].manifest_json() if not restricted else files["csv"].manifest_json,
            file_name=_filename(files["csv"].manifest_filename),
            mime="application/json",
            key="download_manifest",
            on_click="ignore" if restricted else "rerun",
        )
        # The data with its Frictionless data package, manifest and dictionary: what a portal reads.
        c4.download_button(
            t("download_package", lang),
            files["csv"].to_zip() if eager else files["csv"].to_zip,
            file_name=_filename(files["csv"].zip_filename),
            mime="application/zip",
            key="download_package",
            help=t("download_package_help", lang),
            on_click="ignore" if restricted else "rerun",
        )
        st.caption(
            t("cite_this", lang, citation=package.citation(files["csv"].manifest, lang=lang))
        )
        with st.expander(t("data_dictionary", lang)):
            st.markdown(about.data_dictionary(lang))

with tab_about:
    if tab_about.open is not False:
        st.markdown(about.about(lang))
        st.markdown(about.release_report(release.report, lang))
        staff_verified = verified.verified_names(places)
        st.markdown(
            t(
                "verified_places",
                lang,
                names=", ".join(
                    _n
                    for _p, _n in zip(
                        places["place_id"], maps.place_names(places, lang), strict=True
                    )
                    if _p in staff_verified
                )
                or t("none", lang),
            )
        )


# --- the staff workspace (restricted view only): record, review, edit, upload, audit ---------
# Logic lives in riskmap.ingest.form (the record's checks, place suggestions) and
# riskmap.workflow.review (statuses, two-person rule, audit log); here are the widgets only.
WORKSPACE_SECTIONS = ("record", "review", "edit", "upload", "audit")


def _flash(kind: str, text: str) -> None:
    """Keep a message for the next run (a step reruns the page to show the new store)."""
    state["ws_flash"] = (kind, text)
    st.rerun()


def _status(value: object) -> str:
    return t(f"status_{value}", lang)


def _ws_record() -> None:
    """The record form: the same checks as an import; nothing saved half-way."""
    c1, c2 = st.columns(2)
    day = c1.date_input(
        t("ws_date", lang),
        value=None,
        key="ws_date",
        min_value=viewstate.DATE_FLOOR,
        max_value=dt.date.today(),
        format="YYYY-MM-DD",
    )
    precision = c2.selectbox(
        t("ws_precision", lang),
        DATE_PRECISIONS,
        key=_keyed("ws_precision"),
        format_func=lambda v: t(f"ws_precision_{v}", lang),
    )
    types = st.multiselect(
        t("incident_types", lang),
        INCIDENT_TYPES,
        key=_keyed("ws_types"),
        format_func=lambda v: label(v, lang),
        placeholder=t("choose", lang),
    )
    perpetrator = st.selectbox(
        t("perpetrator", lang),
        ["", *PERPETRATORS],
        key=_keyed("ws_perpetrator"),
        format_func=lambda v: label(v, lang) if v else t("ws_not_known", lang),
    )
    c1, c2 = st.columns(2)
    victims = c1.number_input(
        t("ws_victims", lang), min_value=0, step=1, value=None, key="ws_victims"
    )
    children = c2.number_input(
        t("ws_children", lang), min_value=0, step=1, value=None, key="ws_children"
    )
    city = st.selectbox(
        t("city", lang),
        ["", *CITIES],
        key="ws_city",
        format_func=lambda v: v or t("ws_city_none", lang),
    )
    text = st.text_input(t("ws_location", lang), key="ws_location")
    suggestions = form.suggest(text, city=city or None, places=places, lang=lang)
    if suggestions:
        st.caption(t("ws_did_you_mean", lang, name=suggestions[0].name))
    options = ["", *[s.place_id for s in suggestions]]
    shown = {s.place_id: f"{s.name} ({s.city}, {label(s.place_type, lang)})" for s in suggestions}
    if state.get("ws_place") not in options:
        state["ws_place"] = ""
    chosen = st.radio(
        t("ws_place", lang),
        options,
        key="ws_place",
        format_func=lambda p: shown.get(p, t("ws_place_auto", lang)),
    )
    # Or a point on the map: the component's last click, kept in its state between runs.
    with st.expander(t("ws_map", lang), expanded=True):
        st.caption(t("ws_map_help", lang))
        clicked = viewstate.clicked_point(state.get("ws_map"))
        if clicked is not None and clicked == state.get("ws_point_cleared"):
            clicked = None
        picker = maps.point_map(
            places,
            point=clicked,
            city=city or None,
            lang=lang,
            asset_base=settings.asset_base,
            basemap=basemap,
        )
        with _folium_lock():  # never while a map's call is being captured (see _map_call)
            st_folium(
                picker,
                key="ws_map",
                returned_objects=["last_clicked"],
                height=360,
                use_container_width=True,
            )
        if clicked is not None:
            st.caption(t("ws_point", lang, lat=clicked[0], lon=clicked[1]))
            if st.button(t("ws_point_clear", lang), key="ws_point_clear"):
                state["ws_point_cleared"] = clicked
                st.rerun()
    source = st.text_input(t("ws_source", lang), key="ws_source")
    notes = st.text_area(t("ws_notes", lang), key="ws_notes")
    send = st.checkbox(t("ws_send", lang), value=True, key="ws_send")
    if st.button(t("ws_save", lang), key="ws_save", type="primary"):
        prepared = form.prepare(
            {
                "date": day,
                "date_precision": precision,
                "incident_types": types,
                "perpetrator": perpetrator or None,
                "victims": victims,
                "children": children,
                "city": city or None,
                "location_text": text,
                "place_id": chosen or None,
                "lat": clicked[0] if clicked else None,
                "lon": clicked[1] if clicked else None,
                "source": source,
                "notes": notes,
            },
            places=places,
        )
        if not prepared.ok or prepared.row is None:
            st.error(
                t("ws_not_saved", lang) + "\n\n" + "\n".join(f"- {p}" for p in prepared.problems)
            )
            return
        done = review.record_incident(settings.store, prepared.row, by=email, submit=send)
        _flash("success", t("ws_saved", lang, id=done.incident_id, status=_status(done.status)))


def _ws_review() -> None:
    """The review queue: what waits, its geocoding and possible duplicates; the decisions."""
    incidents = open_store(settings.store).read(versions=True)
    counts = review.status_counts(settings.store)
    st.caption(
        t(
            "ws_counts",
            lang,
            counts=", ".join(f"{_status(k)}: {n}" for k, n in sorted(counts.items())),
        )
    )
    waiting = review.queue(settings.store, incidents=incidents)
    publisher = review.may_publish(email, settings)
    if waiting.empty:
        st.info(t("ws_queue_empty", lang))
    names = dict(zip(places["place_id"], maps.place_names(places, lang), strict=True))
    for line in waiting.itertuples(index=False):
        iid, kind = str(line.incident_id), str(line.kind)
        with st.container(border=True):
            st.markdown(f"**{iid}** — {t(f'ws_kind_{kind}', lang)}")
            st.caption(t("ws_submitted", lang, by=line.submitted_by, at=line.submitted_at))
            types = ", ".join(label(x, lang) for x in str(line.incident_types).split("|"))
            day = pd.Timestamp(line.date).strftime(
                "%Y-%m" if line.date_precision == "month" else "%Y-%m-%d"
            )
            # Free text is shown as text, never as Markdown.
            st.text(f"{day} · {types} · {label(line.perpetrator, lang)} · {line.city}")
            st.text(str(line.location_text or ""))
            point = (
                f"{float(line.lat):.5f}, {float(line.lon):.5f}"
                if pd.notna(line.lat) and pd.notna(line.lon)
                else t("ws_no_point", lang)
            )
            st.caption(
                t(
                    "ws_geocoding",
                    lang,
                    place=names.get(line.place_id, line.place_id or "–"),
                    precision=label(line.geo_precision, lang),
                    point=point,
                )
            )
            if kind == "edit":
                st.text(t("ws_changes", lang) + " " + json.dumps(line.changes, ensure_ascii=False))
            if line.duplicates:
                st.warning(t("ws_duplicates", lang, ids=", ".join(line.duplicates)))
            comment = st.text_input(t("ws_comment", lang), key=f"ws_comment_{kind}_{iid}")
            who = email.strip().lower()
            own = (
                who == line.submitted_by
                if kind == "edit"
                else who in review.authors_of(settings.store, iid)
            )
            barred = own and settings.two_person_rule
            c1, c2, c3 = st.columns(3)
            approve = c1.button(
                t("ws_approve", lang),
                key=f"ws_approve_{kind}_{iid}",
                disabled=barred or not publisher,
                type="primary",
            )
            back = c2.button(t("ws_send_back", lang), key=f"ws_back_{kind}_{iid}")
            reject = c3.button(t("ws_reject", lang), key=f"ws_reject_{kind}_{iid}")
            if barred:
                st.caption(t("ws_own", lang))
            elif not publisher:
                st.caption(t("ws_not_publisher", lang))
            version = int(line.version)
            done = None
            if approve:
                done = review.approve(
                    settings.store, iid, by=email, settings=settings, expected_version=version
                )
            elif back:
                done = review.send_back(
                    settings.store, iid, by=email, comment=comment, expected_version=version
                )
            elif reject:
                done = review.reject(
                    settings.store, iid, by=email, comment=comment, expected_version=version
                )
            if done is not None:
                _flash(
                    "success",
                    t("ws_done", lang, id=iid, action=done.action, status=_status(done.status)),
                )
    drafts = incidents[incidents["status"] == "draft"]
    if len(drafts):
        st.subheader(t("ws_drafts", lang))
    for row in drafts.itertuples(index=False):
        iid = str(row.incident_id)
        c1, c2 = st.columns([3, 1])
        c1.text(f"{iid} · {pd.Timestamp(row.date).date()} · {row.incident_types} · {row.city}")
        if c2.button(t("ws_submit", lang), key=f"ws_submit_{iid}"):
            done = review.submit(settings.store, iid, by=email, expected_version=int(row.version))
            _flash(
                "success",
                t("ws_done", lang, id=iid, action=done.action, status=_status(done.status)),
            )


def _ws_edit() -> None:
    """Edit a record: drafts and records in review in place, published ones held for review."""
    incidents = open_store(settings.store).read(versions=True)
    editable = incidents[~incidents["status"].isin(["rejected", "retracted"])]
    iid = st.selectbox(
        t("ws_edit_pick", lang),
        editable["incident_id"].astype(str).tolist(),
        index=None,
        key="ws_edit_id",
        placeholder=t("choose", lang),
    )
    if iid is None:
        return
    row = editable.set_index("incident_id").loc[iid]
    status, version = str(row["status"]), int(row["version"])
    st.caption(t("ws_edit_status", lang, status=_status(status), version=version))
    if status == "published":
        st.info(t("ws_edit_held", lang))
        if len(review.pending_edits(settings.store, iid)):
            st.warning(t("ws_edit_pending", lang))
    current: dict[str, Any] = {
        "incident_types": str(row["incident_types"]).split("|"),
        "perpetrator": row["perpetrator"] if pd.notna(row["perpetrator"]) else "",
        "victims": int(row["victims"]) if pd.notna(row["victims"]) else None,
        "children": int(row["children"]) if pd.notna(row["children"]) else None,
        "source": str(row["source"]) if pd.notna(row["source"]) else "",
        "notes": str(row["notes"]) if pd.notna(row["notes"]) else "",
    }
    # One set of keys per incident and version: a widget starts from the stored value.
    k = f"{iid}_{version}"
    new = {
        "incident_types": st.multiselect(
            t("incident_types", lang),
            INCIDENT_TYPES,
            default=[x for x in current["incident_types"] if x in INCIDENT_TYPES],
            key=f"ws_edit_types_{lang}_{k}",
            format_func=lambda v: label(v, lang),
        ),
        "perpetrator": st.selectbox(
            t("perpetrator", lang),
            ["", *PERPETRATORS],
            index=["", *PERPETRATORS].index(current["perpetrator"]),
            key=f"ws_edit_perpetrator_{lang}_{k}",
            format_func=lambda v: label(v, lang) if v else t("ws_not_known", lang),
        ),
        "victims": st.number_input(
            t("ws_victims", lang),
            min_value=0,
            step=1,
            value=current["victims"],
            key=f"ws_edit_victims_{k}",
        ),
        "children": st.number_input(
            t("ws_children", lang),
            min_value=0,
            step=1,
            value=current["children"],
            key=f"ws_edit_children_{k}",
        ),
        "source": st.text_input(t("ws_source", lang), current["source"], key=f"ws_edit_source_{k}"),
        "notes": st.text_area(t("ws_notes", lang), current["notes"], key=f"ws_edit_notes_{k}"),
    }
    changes = {c: v for c, v in new.items() if v != current[c]}
    if "incident_types" in changes:
        changes["incident_types"] = "|".join(changes["incident_types"])
    for col in ("perpetrator", "source", "notes"):
        if col in changes and changes[col] == "":
            changes[col] = None
    if st.button(t("ws_edit_save", lang), key="ws_edit_save", type="primary"):
        if not changes:
            st.info(t("ws_edit_none", lang))
            return
        done = review.edit_incident(
            settings.store, iid, changes, by=email, expected_version=version
        )
        _flash(
            "success", t("ws_done", lang, id=iid, action=done.action, status=_status(done.status))
        )
    if status == "published" and review.may_publish(email, settings):
        reason = st.text_input(t("ws_retract_reason", lang), key=f"ws_retract_reason_{k}")
        if st.button(t("ws_retract", lang), key="ws_retract"):
            done = review.retract(
                settings.store,
                iid,
                by=email,
                settings=settings,
                comment=reason,
                expected_version=version,
            )
            _flash(
                "success",
                t("ws_done", lang, id=iid, action=done.action, status=_status(done.status)),
            )


def _ws_upload() -> None:
    """Upload a spreadsheet: the importer's counts and quarantine; the rows wait for review."""
    uploaded = st.file_uploader(
        t("ws_upload_file", lang), type=["csv", "xlsx", "geojson", "json"], key="ws_upload"
    )
    if uploaded is not None and st.button(t("ws_import", lang), key="ws_import", type="primary"):
        with tempfile.TemporaryDirectory() as folder:
            # The file keeps its name: the quarantine file beside the store is named after it.
            path = Path(folder) / Path(uploaded.name).name
            path.write_bytes(uploaded.getvalue())
            report = import_file(
                path, store=settings.store, places=places, status="in_review", by=email
            )
        quarantined = report.quarantine_file
        state["ws_last_import"] = {
            "counts": report.summary() | {"name": Path(uploaded.name).name},
            "warnings": list(report.warnings),
            "rejected": [{"line": n, "reason": r} for n, r in report.rejected],
            "quarantine": quarantined.read_bytes() if quarantined else None,
            "quarantine_name": quarantined.name if quarantined else "",
        }
    last = state.get("ws_last_import")
    if not last:
        return
    st.success(t("ws_import_counts", lang, **last["counts"]))
    for warning in last["warnings"]:
        st.caption(warning)
    if last["rejected"]:
        st.dataframe(pd.DataFrame(last["rejected"]), hide_index=True, key="ws_rejected")
    if last["quarantine"]:
        token = sessions.download_token()
        st.download_button(
            t("ws_quarantine_download", lang),
            last["quarantine"],
            file_name=sessions.private_filename(last["quarantine_name"], token),
            mime="text/csv",
            key="ws_quarantine_download",
            on_click="ignore",
        )


def _ws_audit() -> None:
    """The audit log, per incident or whole, and its CSV; nothing here can change it."""
    log = review.audit_log(settings.store)
    ids = sorted(log["incident_id"].astype(str).unique())
    pick = st.selectbox(
        t("ws_audit_pick", lang),
        ["", *ids],
        key="ws_audit_id",
        format_func=lambda v: v or t("ws_audit_all", lang),
    )
    shown = log[log["incident_id"] == pick] if pick else log
    st.caption(t("ws_audit_note", lang))
    st.dataframe(shown, hide_index=True, width="stretch", key="ws_audit_table")
    token = sessions.download_token()
    name = f"riskmap-audit-{pick}.csv" if pick else "riskmap-audit.csv"
    st.download_button(
        t("ws_audit_download", lang),
        lambda: review.audit_csv(settings.store, pick or None),
        file_name=sessions.private_filename(name, token),
        mime="text/csv",
        key="ws_audit_download",
        on_click="ignore",
    )


def _workspace() -> None:
    """Draw the staff workspace below the tabs (the map keeps its place in the page)."""
    st.divider()
    st.header(t("ws_title", lang))
    st.caption(t("ws_intro", lang))
    flash = state.pop("ws_flash", None)
    if flash:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    section = st.radio(
        t("ws_section", lang),
        WORKSPACE_SECTIONS,
        key=_keyed("ws_section"),
        format_func=lambda v: t(f"ws_{v}", lang),
        horizontal=True,
    )
    draw = {
        "record": _ws_record,
        "review": _ws_review,
        "edit": _ws_edit,
        "upload": _ws_upload,
        "audit": _ws_audit,
    }[str(section)]
    try:
        draw()
    except RiskmapError as e:
        st.error(str(e))


# The sidebar's widgets, into the places kept for them: after the main area, so that the map
# starts loading first.
_draw_filters()
_draw_playback()

if restricted:
    _workspace()
