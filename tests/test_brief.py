"""The printable city brief: written by the CLI for each city in both languages, rendered to PNG
(pdftoppm) and read back (pdftotext); the ranked sites, the period and the QR code's view."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from streamlit.testing.v1 import AppTest

from riskmap.analysis.hotspots import rank_selection
from riskmap.cli import main
from riskmap.errors import SchemaError
from riskmap.filters import Filters
from riskmap.geo.gazetteer import load_places, names
from riskmap.release.audience import public_audience
from riskmap.settings import Settings
from riskmap.store import read_incidents, write_incidents
from riskmap.views import brief, dashboard
from riskmap.views.viewstate import ViewState, period_label

ROOT = Path(__file__).resolve().parent.parent
CITIES = ("Matamoros", "Nuevo Laredo")
URL = "https://riskmap.example.org/"


def _require_poppler() -> None:
    missing = [tool for tool in ("pdftotext", "pdftoppm", "pdfinfo") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: apt-get install poppler-utils")


def pdf_text(path: Path) -> str:
    _require_poppler()
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def pdf_pages(path: Path) -> int:
    _require_poppler()
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True).stdout.decode()
    return int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])


def pdf_png(path: Path, out: Path, *, dpi: int = 50) -> tuple[int, int, float]:
    """Render page 1 to PNG and to greyscale; return its size and the share of dark pixels."""
    _require_poppler()
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path), str(out)], check=True
    )
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", str(path), str(out)], check=True
    )
    data = out.with_suffix(".pgm").read_bytes()
    magic, width, height, _maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    w, h = int(width), int(height)
    dark = sum(1 for v in pixels[: w * h] if v < 128)
    return w, h, dark / (w * h)


@pytest.fixture(scope="module")
def sample_public(sample_store):
    return public_audience(
        read_incidents(sample_store), places=load_places(), settings=Settings(), store=sample_store
    )


@pytest.fixture(scope="module")
def busy_store(tmp_path_factory, places, random_store):
    """300 random incidents (fixed seed): enough that sites in both cities are ranked."""
    frame = random_store(places, n=300, seed=16)
    return write_incidents(frame, tmp_path_factory.mktemp("brief") / "incidents.gpkg")


@pytest.mark.parametrize(
    ("text", "period"),
    [("30d", "last30"), ("90", "last90"), ("12w", "84d"), ("all", "all"), ("2019-12", "2019-12")],
)
def test_periods(text, period):
    assert brief.parse_period(text) == period


@pytest.mark.parametrize("text", ["", "0d", "xx", "custom", "2019-13"])
def test_a_bad_period_is_refused(text):
    with pytest.raises(SchemaError, match="invalid period"):
        brief.parse_period(text)


def _expected_sites(audience, city: str, period: str, lang: str) -> list[tuple[int, str]]:
    """The names of the sites ranked for ``city`` in ``period``, as the hotspot tab ranks them."""
    view, dates = brief.view_for(
        brief.parse_period(period),
        filters=Filters(),
        bounds=dashboard.date_bounds(audience.table),
        lang=lang,
    )
    bounds = dashboard.date_bounds(audience.table)
    start, end = (dates.start, dates.end) if dates.start else bounds
    ranking = rank_selection(
        audience, Filters(cities=(city,), start=start, end=end), radius_m=500.0
    )
    active = ranking[ranking["incidents"] > 0].head(brief.MAX_SITES)
    return list(zip(active["rank"].astype(int), names(active, lang).astype(str), strict=True))


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("city", CITIES)
def test_the_cli_brief_of_each_city_in_each_language(
    busy_store, tmp_path, places, city, lang, capsys
):
    out = tmp_path / f"brief-{city}-{lang}.pdf"
    assert (
        main(
            [
                "brief",
                "--store",
                str(busy_store),
                "--city",
                city,
                "--period",
                "all",
                "--lang",
                lang,
                "--url",
                URL,
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "1 page(s)" in capsys.readouterr().out
    assert pdf_pages(out) == 1
    text = pdf_text(out)
    flat = " ".join(text.split())
    audience = public_audience(
        read_incidents(busy_store), places=places, settings=Settings(), store=busy_store
    )
    through = dashboard.date_bounds(audience.table)[1]
    assert period_label("all", lang) in flat
    assert ("datos hasta el " if lang == "es" else "data through ") + through.isoformat() in flat
    assert ("DATOS SINTÉTICOS" if lang == "es" else "SYNTHETIC DATA") in flat
    assert ("Qué evitar" if lang == "es" else "What to avoid") in flat
    # The ranked sites, in the ranking's order, each with its count and its uncertainty.
    expected = _expected_sites(audience, city, "all", lang)
    assert expected, "the busy store ranks sites in every city"
    found = [flat.find(f"{rank}. {name}") for rank, name in expected]
    assert -1 not in found, (expected, flat)
    assert found == sorted(found)
    assert (
        "la cifra real podría estar entre" if lang == "es" else "could be anywhere from"
    ) in flat
    # The QR code's link is printed beneath it: the same view, in the dashboard.
    link = next(word for word in flat.split() if word.startswith(URL))
    view = ViewState.from_query_params(parse_qs(urlsplit(link).query))
    assert view.filters.cities == (city,)
    assert view.period == "all"
    assert view.lang == lang
    width, height, dark = pdf_png(out, tmp_path / f"page-{city}-{lang}")
    assert height / width == pytest.approx(297 / 210, rel=0.01)  # A4, portrait
    assert 0.01 < dark < 0.5  # ink on the page, and not a black page


def test_the_sample_brief_says_when_no_site_stands_out(sample_store, sample_public, tmp_path):
    out = tmp_path / "sample.pdf"
    assert (
        main(
            [
                "brief",
                "--store",
                str(sample_store),
                "--period",
                "30d",
                "--page",
                "letter",
                "--lang",
                "en",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert pdf_pages(out) == len(CITIES)  # every city of the data, a page each
    text = " ".join(pdf_text(out).split())
    for city in CITIES:
        assert f"{city}: where incidents against migrants were reported" in text
        if not _expected_sites(sample_public, city, "30d", "en"):
            assert "No single place stands out in this period" in text
    through = dashboard.date_bounds(sample_public.table)[1]
    first = through - dt.timedelta(days=29)
    assert f"Last 30 days of the data ({first.isoformat()} – {through.isoformat()})" in text
    width, height, _ = pdf_png(out, tmp_path / "letter")
    assert height / width == pytest.approx(11 / 8.5, rel=0.01)


def test_spanish_prints_with_its_accents(sample_public, tmp_path):
    briefs = brief.city_briefs(sample_public, cities=["Matamoros"], period="all", lang="es")
    out = tmp_path / "es.pdf"
    out.write_bytes(brief.render_pdf(briefs))
    text = pdf_text(out)
    for word in ("dónde", "Qué evitar", "Muévase", "día", "vienen", "publicación"):
        assert word in text, word
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, check=True).stdout.decode()
    assert "Vera" in fonts
    # The text's fonts are embedded (ReportLab lists Helvetica as its initial font, unused).
    vera = [line for line in fonts.splitlines() if "Vera" in line]
    assert len(vera) == 2
    assert all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in vera), vera


def test_the_qr_code_is_the_views_link(sample_public):
    (one,) = brief.city_briefs(
        sample_public, cities=["Nuevo Laredo"], period="2019-12", lang="en", page_url=URL
    )
    assert one.url == f"{URL}?city=Nuevo+Laredo&period=2019-12&lang=en"
    drawing = brief.qr_drawing(one.url, size=100)
    dark = sum(row.count(True) for row in segno.make(one.url, error="m").matrix)
    assert len(drawing.contents) == dark + 1  # the white ground, then one square per module
    (no_url,) = brief.city_briefs(sample_public, cities=["Nuevo Laredo"], lang="en")
    assert no_url.url == ""


def test_errors_are_one_line(sample_store, tmp_path, capsys):
    assert (
        main(
            [
                "brief",
                "--store",
                str(sample_store),
                "--city",
                "Reynosa",
                "-o",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 2
    )
    assert "cities in the data: Matamoros, Nuevo Laredo" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_the_app_offers_the_brief(monkeypatch, sample_store):
    monkeypatch.setenv("RISKMAP_STORE", str(sample_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "es"
    at.run()
    assert not at.exception
    buttons = [
        b for b in at.get("download_button") if b.proto.id and "download_brief" in b.proto.id
    ]
    assert len(buttons) == 1
    assert buttons[0].proto.label == "Hoja imprimible (PDF)"


@pytest.mark.browser
def test_the_apps_button_downloads_the_brief_of_the_view(server, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{server}/?lang=en&city=Matamoros&period=2019-12", wait_until="domcontentloaded")
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000
    )
    button = page.get_by_role("button", name="Printable brief (PDF)")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    out = tmp_path / "from_app.pdf"
    out.write_bytes(Path(info.value.path()).read_bytes())
    assert pdf_pages(out) == 1  # the view's one city
    text = " ".join(pdf_text(out).split())
    assert "Matamoros: where incidents against migrants were reported" in text
    assert "December 2019 (2019-12-01 – 2019-12-31)" in text
    # The QR code's link reopens the same view on this server.
    link = next(word for word in text.split() if word.startswith(server))
    view = ViewState.from_query_params(parse_qs(urlsplit(link).query))
    assert (view.filters.cities, view.period, view.lang) == (("Matamoros",), "2019-12", "en")
