"""The basemap (RISKMAP_TILES): parsing, the PMTiles header, the map's HTML, and the app in a real
browser with a tiny generated PMTiles archive, which must ask no host but the app's own."""

from __future__ import annotations

import math
import shutil
import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, map_frame, require_browser, serve_app
from pmtiles.tile import Compression, TileType, deserialize_header, zxy_to_tileid
from pmtiles.writer import write
from streamlit.testing.v1 import AppTest

from riskmap.errors import SettingsError
from riskmap.settings import Settings
from riskmap.views import maps, tiles

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
#: Around Matamoros and Nuevo Laredo (west, south, east, north).
AREA = (-100.0, 25.4, -97.0, 27.8)


def _png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """Return a solid-colour PNG (written by hand: no imaging library needed)."""
    row = b"\x00" + bytes(rgb) * size
    raw = zlib.compress(row * size, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _tile_range(z: int) -> tuple[range, range]:
    west, south, east, north = AREA

    def x(lon: float) -> int:
        return int((lon + 180) / 360 * 2**z)

    def y(lat: float) -> int:
        r = math.radians(lat)
        return int((1 - math.asinh(math.tan(r)) / math.pi) / 2 * 2**z)

    return range(x(west), x(east) + 1), range(y(north), y(south) + 1)


def make_pmtiles(path: Path, *, max_zoom: int = 10, tile_type=TileType.PNG) -> Path:
    """Write a tiny raster PMTiles archive over :data:`AREA` (one colour, zooms 0..max_zoom)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _png((205, 232, 205))
    ids = sorted(
        zxy_to_tileid(z, x, y)
        for z in range(max_zoom + 1)
        for xs, ys in [_tile_range(z)]
        for x in xs
        for y in ys
    )
    west, south, east, north = AREA
    with write(str(path)) as writer:
        for tile_id in ids:
            writer.write_tile(tile_id, data)
        writer.finalize(
            {
                "tile_type": tile_type,
                "tile_compression": Compression.NONE,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": 8,
                "center_lon_e7": int(-97.5 * 1e7),
                "center_lat_e7": int(25.87 * 1e7),
            },
            {"attribution": "Test basemap (generated)", "name": "riskmap test"},
        )
    return path


def test_default_none_and_a_url_template():
    assert tiles.parse_tiles("", static_dir="static") is tiles.OSM
    assert tiles.OSM.hosts == ("tile.openstreetmap.org",)
    assert tiles.parse_tiles(" none ", static_dir="static").kind == "none"
    own = tiles.parse_tiles(
        "https://tiles.example.org/{z}/{x}/{y}.png | © Example", static_dir="static"
    )
    assert (own.kind, own.url, own.attribution) == (
        "url",
        "https://tiles.example.org/{z}/{x}/{y}.png",
        "© Example",
    )
    assert own.hosts == ("tiles.example.org",)
    assert Settings.from_env({"RISKMAP_TILES": "none"}).tiles == "none"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("https://tiles.example.org/{z}/{x}/{y}.png", "attribution"),
        ("https://tiles.example.org/{z}/{x}.png|© Example", "{y}"),
        ("tiles.example.org/{z}/{x}/{y}.png|© Example", "URL template"),
        ("missing.pmtiles", "not found"),
    ],
)
def test_a_bad_value_says_how_to_fix_it(value, says, tmp_path):
    with pytest.raises(SettingsError, match=r"RISKMAP_TILES") as info:
        tiles.parse_tiles(value, static_dir=tmp_path)
    assert says in str(info.value)


def test_a_pmtiles_archive_in_the_static_folder(tmp_path, monkeypatch):
    static = tmp_path / "static"
    archive = make_pmtiles(static / "tiles" / "city.pmtiles", max_zoom=6)
    header = tiles.read_pmtiles_header(archive)
    theirs = deserialize_header(archive.read_bytes()[:127])
    assert header.tile_type == "png"
    assert (header.min_zoom, header.max_zoom) == (theirs["min_zoom"], theirs["max_zoom"]) == (0, 6)
    assert header.bounds == pytest.approx(AREA)
    assert header.metadata["attribution"] == "Test basemap (generated)"
    basemap = tiles.parse_tiles(str(archive), static_dir=static)
    assert basemap.kind == "pmtiles"
    assert basemap.url == "/app/static/tiles/city.pmtiles"
    assert basemap.attribution == "Test basemap (generated)"
    assert basemap.max_native_zoom == 6
    assert basemap.hosts == ()
    # A path relative to the current folder, with an attribution of one's own; another asset base.
    monkeypatch.chdir(tmp_path)
    mine = tiles.parse_tiles(
        "static/tiles/city.pmtiles|© Mine", static_dir=static, asset_base="/x/app/static/vendor/"
    )
    assert (mine.url, mine.attribution) == ("/x/app/static/tiles/city.pmtiles", "© Mine")


def test_an_archive_outside_static_or_of_vector_tiles_is_refused(tmp_path):
    outside = make_pmtiles(tmp_path / "elsewhere" / "city.pmtiles", max_zoom=2)
    with pytest.raises(SettingsError, match="static folder"):
        tiles.parse_tiles(str(outside), static_dir=tmp_path / "static")
    vector = make_pmtiles(tmp_path / "static" / "v.pmtiles", max_zoom=2, tile_type=TileType.MVT)
    with pytest.raises(SettingsError, match="vector"):
        tiles.parse_tiles(str(vector), static_dir=tmp_path / "static")
    bogus = tmp_path / "static" / "bogus.pmtiles"
    bogus.write_bytes(b"not an archive")
    with pytest.raises(SettingsError, match="not a PMTiles archive"):
        tiles.parse_tiles(str(bogus), static_dir=tmp_path / "static")


def test_the_map_draws_the_chosen_basemap(places, tmp_path):
    def page(basemap):
        return (
            maps.base_map(places, asset_base="app/static/vendor", basemap=basemap)
            .get_root()
            .render()
        )

    default = page(None)
    assert "tile.openstreetmap.org" in default
    assert r"OpenStreetMap\u003c/a\u003e contributors" in default
    blank = page(tiles.Basemap("none"))
    assert "tile.openstreetmap.org" not in blank
    assert "L.tileLayer" not in blank
    archive = make_pmtiles(tmp_path / "static" / "tiles" / "a.pmtiles", max_zoom=3)
    local = page(tiles.parse_tiles(str(archive), static_dir=tmp_path / "static"))
    assert "tile.openstreetmap.org" not in local
    assert "pmtiles.leafletRasterLayer" in local
    assert '"/app/static/tiles/a.pmtiles"' in local
    assert "/app/static/vendor/pmtiles.js" in local
    assert "unpkg.com" not in local
    assert (ROOT / "static" / "vendor" / "pmtiles.js").read_bytes().startswith(b'"use strict"')


def test_a_bad_setting_is_a_message_in_the_app(monkeypatch, sample_store):
    monkeypatch.setenv("RISKMAP_STORE", str(sample_store))
    monkeypatch.setenv("RISKMAP_TILES", "https://tiles.example.org/{z}/{x}/{y}.png")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("RISKMAP_TILES" in e.value and "attribution" in e.value for e in at.error)


@pytest.fixture(scope="module")
def pmtiles_server(tmp_path_factory, sample_store):
    """`streamlit run` of a copy of the app whose static folder holds a generated archive."""
    require_browser()
    folder = tmp_path_factory.mktemp("tiles_app")
    shutil.copy(ROOT / "app.py", folder / "app.py")
    shutil.copytree(ROOT / ".streamlit", folder / ".streamlit")
    shutil.copytree(ROOT / "static" / "vendor", folder / "static" / "vendor")
    make_pmtiles(folder / "static" / "tiles" / "test.pmtiles", max_zoom=10)
    env = {"RISKMAP_STORE": str(sample_store), "RISKMAP_TILES": "static/tiles/test.pmtiles"}
    with serve_app(env, log_path=folder / "streamlit.log", cwd=folder) as url:
        yield url


@pytest.mark.browser
def test_a_local_pmtiles_basemap_asks_no_other_host(pmtiles_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            # Every request of the page and of its frames (the map's iframe among them).
            context.on("request", lambda r: requested.append(r.url))
            page = context.new_page()
            page.goto(f"{pmtiles_server}/?lang=en&city=Matamoros", wait_until="domcontentloaded")
            page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
            page.wait_for_selector(
                "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000
            )
            frame = map_frame(page)
            frame.locator(".leaflet-container").wait_for(timeout=60_000)
            # Tiles of the archive are drawn, with its attribution.
            frame.locator(".leaflet-tile-loaded").first.wait_for(timeout=60_000)
            assert (
                "Test basemap (generated)"
                in frame.locator(".leaflet-control-attribution").inner_text()
            )
            frame.locator(".rm-legend").wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "basemap_pmtiles.png"))
            context.close()
        finally:
            browser.close()
    assert any(urlsplit(u).path == "/app/static/tiles/test.pmtiles" for u in requested)
    hosts = {urlsplit(u).hostname for u in requested if urlsplit(u).scheme in {"http", "https"}}
    assert hosts == {"127.0.0.1"}, sorted(u for u in requested if "127.0.0.1" not in u)
