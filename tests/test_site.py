"""The static public site (`riskmap site`, :mod:`riskmap.views.site`): the files it writes.

Pages for every city and language, links that resolve inside the folder, downloads that are the
release's exports byte for byte, rebuilds that give the same bytes, and the hook that later
outputs (a brief, a feed, an embed) join through. The site's privacy is tested with the other
public outputs in ``test_public_outputs.py``; in a browser in ``test_browser_site.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import pytest

from riskmap.cli import main
from riskmap.errors import SchemaError, StoreError
from riskmap.filters import Filters
from riskmap.geo.gazetteer import load_places
from riskmap.release.audience import Audience, public_audience, restricted_audience
from riskmap.release.cache import load_release
from riskmap.release.privacy import pseudonym_key
from riskmap.settings import Settings
from riskmap.views import dashboard, site
from riskmap.views.export import export
from riskmap.views.i18n import LANGUAGES, t
from riskmap.views.maps import TILES_URL

ROOT = Path(__file__).resolve().parent.parent
#: The only addresses outside the site a page may name: the tiles (fetched by Leaflet) and the
#: tile provider's copyright page (a link in the attribution, never fetched).
OUTSIDE = {TILES_URL, "https://www.openstreetmap.org/copyright"}


def site_audience(store: Path) -> Audience:
    """Return the public audience `riskmap site` builds from ``store`` (its cached release)."""
    settings = Settings.from_env({})
    places = load_places()
    key = pseudonym_key(settings, store=store)
    release = load_release(store, places=places, settings=settings, key=key)
    return Audience.from_release(release, places=places, settings=settings)


def read_tree(folder: Path) -> dict[str, bytes]:
    """Return every file under ``folder`` by POSIX path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory, sample_store) -> Path:
    """A copy of the sample store: its release cache is written beside it, not beside the
    shared one."""
    folder = tmp_path_factory.mktemp("site-store")
    return Path(shutil.copyfile(sample_store, folder / "incidents.gpkg"))


@pytest.fixture(scope="module")
def built(tmp_path_factory, store) -> Path:
    """The site `riskmap site` writes for the sample store."""
    out = tmp_path_factory.mktemp("site") / "public_site"
    assert main(["site", "--store", str(store), "-o", str(out)]) == 0
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src"} and value is not None:
                self.links.append((tag, value))


def links_of(text: str) -> list[tuple[str, str]]:
    """Return the ``(tag, address)`` of every ``href`` and ``src`` in an HTML page."""
    parser = _Links()
    parser.feed(text)
    return parser.links


def test_a_page_for_every_city_and_language(built, store):
    audience = site_audience(store)
    listing = json.loads((built / site.SITE_MANIFEST).read_text(encoding="utf-8"))
    cities = sorted(audience.table["city"].dropna().unique())
    assert cities == ["Matamoros", "Nuevo Laredo"]
    expected = [
        f"{lang}/{name}.html"
        for lang in LANGUAGES
        for name in ("index", *(site.slug(c) for c in cities))
    ]
    assert listing["pages"] == expected
    assert listing["release"]["generated_at"] == audience.report["generated_at"]
    assert listing["release"]["synthetic"] is True
    for path in expected:
        lang, name = path.split("/")
        city = (
            None
            if name == "index.html"
            else cities[[site.slug(c) for c in cities].index(name.removesuffix(".html"))]
        )
        text = (built / path).read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in text
        assert t("synthetic_banner", lang) in text  # the sample is synthetic: said on every page
        assert "rm-legend" in text
        assert "_rmTitle" in text
        selection = dashboard.select(audience, Filters(cities=() if city is None else (city,)))
        figures = re.findall(r'data-key="(\w+)"><b>([^<]*)</b>', text)
        assert figures == [
            (key, shown) for key, shown, _ in dashboard.headline_items(selection, audience=audience)
        ]
    index = (built / "index.html").read_text(encoding="utf-8")
    assert {href for _, href in links_of(index)} == set(expected)


def test_every_link_resolves_inside_the_folder(built):
    files = set(read_tree(built))
    pages = [name for name in files if name.endswith(".html")]
    assert len(pages) == 1 + 2 * 3
    for name in pages:
        text = (built / name).read_text(encoding="utf-8")
        for tag, address in links_of(text):
            assert not re.match(r"^(https?:)?//", address), (name, tag, address)
            target = PurePosixPath(name).parent / address.split("#")[0].split("?")[0]
            resolved = os.path.normpath(target.as_posix())
            assert not resolved.startswith(".."), (name, address)
            assert resolved in files, (name, address)
        # In scripts and styles too: no address outside the site but the tiles' and their credit.
        outside = set(re.findall(r"https?://[^\s\"'\\)<>]+", text))
        assert outside <= OUTSIDE, (name, outside - OUTSIDE)
        assert "cdn" not in text.lower(), name


def test_downloads_are_the_release_exports_byte_for_byte(built, store, tmp_path):
    audience = site_audience(store)
    when = site.release_time(audience)
    for lang in LANGUAGES:
        for fmt in site.FORMATS:
            name = site.data_name(audience, fmt)
            result = export(
                audience, filters=Filters(), fmt=fmt, lang=lang, headers=lang, generated_at=when
            )
            for file, data in result.package_files(path=name).items():
                assert (built / "data" / lang / fmt / file).read_bytes() == data, (lang, file)
            # `riskmap export` writes the same data (its manifest has the time of the export).
            out = tmp_path / lang / name
            out.parent.mkdir(exist_ok=True)
            args = ["export", "--store", str(store), "--lang", lang, "--package", "-o", str(out)]
            assert main(args) == 0
            stem = out.stem
            for file in [name, *([f"{stem}.properties.json"] if fmt == "geojson" else [])]:
                assert (out.parent / file).read_bytes() == (
                    built / "data" / lang / fmt / file
                ).read_bytes(), (lang, file)
            dictionary = built / "data" / lang / fmt / "DATA_DICTIONARY.md"
            manifest = json.loads(
                (built / "data" / lang / fmt / f"{stem}.manifest.json").read_text()
            )
            assert manifest["data_dictionary"] == dictionary.name
            assert dictionary.exists()
            assert manifest["generated_at"] == audience.report["generated_at"]


def _cli(store: Path, out: Path, seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    env.pop("RISKMAP_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "riskmap.cli", "site", "--store", str(store), "-o", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_rebuilding_gives_the_same_bytes(sample_store, tmp_path):
    store = Path(shutil.copyfile(sample_store, tmp_path / "incidents.gpkg"))
    # The first build makes the release (and keeps it beside the store), the second reads it
    # back; two processes, two hash seeds: the same files.
    first = _cli(store, tmp_path / "a", "1")
    second = _cli(store, tmp_path / "b", "2")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    tree = read_tree(tmp_path / "a")
    assert tree == read_tree(tmp_path / "b")
    # Rebuilding in place writes nothing and leaves every file as it was.
    stamps = {n: (tmp_path / "a" / n).stat().st_mtime_ns for n in tree}
    again = _cli(store, tmp_path / "a", "3")
    assert again.returncode == 0
    assert "wrote 0 changed files" in again.stdout
    assert {n: (tmp_path / "a" / n).stat().st_mtime_ns for n in tree} == stamps
    # The only time stamp is the release's.
    generated = json.loads(tree[site.SITE_MANIFEST])["release"]["generated_at"]
    stamps_in_pages = set(re.findall(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", tree["en/index.html"]))
    assert stamps_in_pages == {generated[:19].encode()}


def test_a_rebuild_removes_its_stale_files_and_nothing_else(built, store, tmp_path):
    out = tmp_path / "site"
    shutil.copytree(built, out)
    listing = json.loads((out / site.SITE_MANIFEST).read_text(encoding="utf-8"))
    listing["files"]["en/old-city.html"] = {"bytes": 0, "sha256": ""}
    (out / site.SITE_MANIFEST).write_text(json.dumps(listing), encoding="utf-8")
    (out / "en" / "old-city.html").write_text("old", encoding="utf-8")
    (out / "CNAME").write_text("riskmap.example.org\n", encoding="utf-8")  # the host's own
    written = site.build_site(site_audience(store), out)
    assert written == [out / site.SITE_MANIFEST]
    assert not (out / "en" / "old-city.html").exists()
    assert (out / "CNAME").read_text(encoding="utf-8") == "riskmap.example.org\n"
    assert read_tree(out) == {**read_tree(built), "CNAME": b"riskmap.example.org\n"}


def test_a_folder_that_is_not_a_site_is_refused(store, tmp_path, capsys):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "letter.txt").write_text("mine", encoding="utf-8")
    assert main(["site", "--store", str(store), "-o", str(folder)]) == 2
    assert "holds files but no riskmap site" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["letter.txt"]
    with pytest.raises(StoreError, match="is a file"):
        site.build_site(site_audience(store), folder / "letter.txt")
    assert main(["site", "--store", str(tmp_path / "missing.gpkg"), "-o", str(tmp_path / "x")])
    assert "Traceback" not in capsys.readouterr().err


def test_the_site_is_public_only(sample, places):
    staff = restricted_audience(sample, places=places, settings=Settings(pseudonym_key="t"))
    with pytest.raises(SchemaError, match="public"):
        site.site_files(staff)


def test_no_banner_and_no_synthetic_name_for_real_data(places, random_store):
    frame = random_store(places, n=120, seed=7).assign(synthetic=False)
    audience = public_audience(frame, places=places, settings=Settings(pseudonym_key="t"))
    files = site.site_files(audience)
    for lang in LANGUAGES:
        for name in ("index.html", f"{lang}/index.html"):
            assert t("synthetic_banner", lang).encode() not in files[name]
            assert t("synthetic_short", lang).encode() not in files[name]
    assert "data/en/csv/riskmap-incidents.csv" in files
    assert not [name for name in files if "synthetic" in name]


def test_take_away_outputs_join_every_page_of_their_language(store):
    def feed(audience: Audience, lang: str) -> list[site.TakeAway]:
        title = f"riskmap ({lang}): {len(audience.table)}"
        return [
            site.TakeAway(
                "feed.xml", f"<feed>{title}</feed>".encode(), "Atom feed", "application/atom+xml"
            )
        ]

    files = site.site_files(site_audience(store), extras=[feed], app_url="https://app.example")
    listing = json.loads(files[site.SITE_MANIFEST])
    for lang in LANGUAGES:
        assert files[f"{lang}/feed.xml"] == f"<feed>riskmap ({lang}): 46</feed>".encode()
        assert f"{lang}/feed.xml" in listing["files"]
        for page in (p for p in listing["pages"] if p.startswith(f"{lang}/")):
            text = files[page].decode("utf-8")
            assert '<link rel="alternate" type="application/atom+xml"' in text
            assert ("a", "feed.xml") in links_of(text)
            assert ("a", "https://app.example") in links_of(text)


def test_city_slugs():
    assert site.slug("Nuevo Laredo") == "nuevo-laredo"
    assert site.slug("Ciudad Juárez") == "ciudad-juarez"
    assert site.slug("***") == "city"


def test_a_take_away_file_stays_in_its_folder_and_replaces_nothing(store):
    audience = site_audience(store)
    for path in ("../index.html", "/etc/x", "index.html", "matamoros.html"):

        def extra(audience: Audience, lang: str, path: str = path) -> list[site.TakeAway]:
            return [site.TakeAway(path, b"x", "x")]

        with pytest.raises(SchemaError, match="take-away file"):
            site.site_files(audience, extras=[extra])
