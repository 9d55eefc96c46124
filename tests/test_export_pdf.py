"""`segment --format pdf`: parsed back with pypdf, rendered with pdftoppm, fonts and fallbacks."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from segcli.engine.compute import ReportRequest
from segcli.engine.params import validate_params
from segcli.engine.report import Report
from segcli.engine.service import get_report
from segcli.engine.settings import load_settings
from segcli.render.pdf import FONT_FILES, PdfRenderer, SafeText, find_fonts
from tests.conftest import ROOT, SMALL_SALES, small_args

GENERATED = datetime(2026, 11, 21, 6, 30, tzinfo=UTC)
EPOCH = str(int(GENERATED.timestamp()))
NON_LATIN = "Kunden München — 東京"
SEGMENT_NAMES = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "Promising",
    "At Risk",
    "Need Attention",
    "New Customers",
    "Hibernating",
)
needs_dejavu = pytest.mark.skipif(find_fonts() is None, reason="DejaVu Sans is not installed")


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def font_names(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def small_report(config: Path | None = None, **params: str) -> tuple[Report, object]:
    settings = load_settings(str(config) if config else "", source=str(SMALL_SALES))
    checked = validate_params(days=30, tables=settings.tables, **params)
    request = ReportRequest.from_params(checked, business_id=1, as_of=date(2026, 11, 20), timezone="UTC")
    return get_report(settings, request), checked


def render(report: Report, params: object, **renderer: object) -> bytes:
    out = io.BytesIO()
    PdfRenderer(generated_at=GENERATED, **renderer).write(report, params, out)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.fixture
def fixture_pdf(cli, tmp_path: Path) -> bytes:
    out = tmp_path / "report.pdf"
    run = cli(*small_args("--days", "30", "--output", str(out)), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert run.exit_code == 0, run.stderr
    assert run.stdout == ""
    return out.read_bytes()


def test_pdf_holds_the_report(fixture_pdf: bytes):
    assert fixture_pdf.startswith(b"%PDF-")
    text = "\n".join(pages_text(fixture_pdf))
    for name in SEGMENT_NAMES:
        assert name in text
    # the four insights of the fixture (hand-computed in fixtures/small/README.md)
    for label, value in (
        ("HIGHEST REVENUE", "Champions"),
        ("LARGEST SEGMENT", "Champions"),
        ("NURTURE NEXT", "Potential Loyalists"),
        ("WIN BACK FIRST", "At Risk"),
    ):
        assert f"{label}\n{value}" in text
    # window 2026-11-20 minus 29 days = 2026-10-22, and the generated-at from SOURCE_DATE_EPOCH
    assert "2026-10-22 \N{EN DASH} 2026-11-20 (30 days)" in text
    assert "2026-11-20 (UTC)" in text
    assert "2026-11-21 06:30 UTC" in text
    # totals: 12 customers, 31 sales, 2124.98 revenue; Need Attention 44.98 at AOV 11.25
    assert "2,124.98" in text
    assert "44.98" in text
    assert "11.25" in text
    assert "Offer VIP loyalty perks" in text
    assert "Sunset messaging if unresponsive" in text
    # data quality: 37 rows dated in the window, 31 in scope, 2 anonymous
    assert "Sales dated in the window 37" in text
    assert "cancelled 1, pending 1" in text
    assert "Anonymous sales (no customer, excluded) 2" in text


def test_pages_are_numbered(fixture_pdf: bytes):
    texts = pages_text(fixture_pdf)
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
        assert "{nb}" not in text


def many_segments_config(tmp_path: Path) -> Path:
    """A custom table of 60 segments (each reached by its code): charts and tables span pages."""
    codes = [f"R{r}F{f}M{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)][:60]
    entries = "".join(
        f'[[segments.rfm]]\nname = "Segment {i:02d} {NON_LATIN}"\ncode = "{code}"\n'
        f'description = "Group {i}"\nactions = ["Act {i}a", "Act {i}b"]\n\n'
        for i, code in enumerate(codes)
    )
    path = tmp_path / "many.toml"
    path.write_text(entries, encoding="utf-8")
    return path


def test_long_report_is_numbered_page_by_page(tmp_path: Path):
    report, params = small_report(many_segments_config(tmp_path))
    texts = pages_text(render(report, params))
    total = len(texts)
    assert total >= 3
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
    # the last segment made it into the chart, the table and the actions
    assert "\n".join(texts).count("Segment 59") >= 3


def non_latin_config(tmp_path: Path) -> Path:
    path = tmp_path / "segcli.toml"
    path.write_text(
        f"""
[[segments.rfm]]
name = "{NON_LATIN}"
code = "R5F5M5"
description = "Top-Kunden → VIP, ≥ 3 Käufe"
actions = ["Geschenk „Danke“ senden", "日本語のメール"]
r = [4, 5]
f = [4, 5]
m = [4, 5]

[[segments.rfm]]
name = "Ελληνικά πελάτες"
code = "R1F1M1"
description = "Всё остальное"
actions = ["Réactiver"]
""",
        encoding="utf-8",
    )
    return path


@needs_dejavu
def test_non_latin_names_with_dejavu(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    report, params = small_report(non_latin_config(tmp_path))
    with caplog.at_level(logging.WARNING):
        data = render(report, params)
    # no "missing glyphs" warning from fpdf2: characters DejaVu lacks were replaced before drawing
    assert [r.getMessage() for r in caplog.records] == []
    text = "\n".join(pages_text(data))
    assert "Kunden München — ??" in text  # DejaVu Sans has no CJK glyphs
    assert "Ελληνικά πελάτες" in text
    assert "Всё остальное" in text
    assert "Top-Kunden → VIP, ≥ 3 Käufe" in text
    assert any("DejaVuSans" in name for name in font_names(data))


def test_non_latin_names_with_the_core_font(tmp_path: Path):
    report, params = small_report(non_latin_config(tmp_path))
    data = render(report, params, font_dirs=[tmp_path / "no-fonts-here"])
    assert font_names(data) <= {"/Helvetica", "/Helvetica-Bold"}
    text = "\n".join(pages_text(data))
    # Windows-1252 keeps ü, „ “ and the dashes; arrows and ≥ get stand-ins; the rest is '?'
    assert "Kunden München — ??" in text
    assert "Top-Kunden -> VIP, >= 3 Käufe" in text
    assert "Geschenk „Danke“ senden" in text
    assert "???????? ???????" in text  # Ελληνικά πελάτες


def test_safe_text_replacements():
    core = SafeText(None)
    assert core("München € — 東京") == "München € — ??"
    assert core("ș ā Ł → ≤") == "s a ? -> <="  # accents dropped when the base letter is printable
    assert core("a\nb") == "a\nb"
    tiny = SafeText(frozenset(map(ord, "abc -")))
    assert tiny("ab → c") == "ab ? c"  # the stand-in "->" needs a ">" this font lacks


def test_find_fonts_needs_both_faces(tmp_path: Path):
    regular, bold = (tmp_path / name for name in FONT_FILES)
    assert find_fonts([tmp_path]) is None
    regular.write_bytes(b"")
    assert find_fonts([tmp_path]) is None
    bold.write_bytes(b"")
    assert find_fonts([tmp_path / "missing", tmp_path]) == (regular, bold)


def test_same_inputs_same_bytes(cli, tmp_path: Path):
    outputs = []
    for name in ("a.pdf", "b.pdf"):
        run = cli(
            *small_args("--days", "30", "--output", str(tmp_path / name)), env={"SOURCE_DATE_EPOCH": EPOCH}
        )
        assert run.exit_code == 0, run.stderr
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_segment_filter_limits_the_pdf(tmp_path: Path):
    report, params = small_report(segment_name="At Risk")
    text = "\n".join(pages_text(render(report, params)))
    assert "Send win-back offers" in text
    assert "Offer VIP loyalty perks" not in text  # Champions' actions are not shown
    assert "WIN BACK FIRST\nAt Risk" in text  # insights still cover every segment
    assert "HIGHEST REVENUE\nChampions" in text


def test_pdf_to_stdout_with_dash(cli):
    run = cli(*small_args("--days", "30", "--format", "pdf", "--output", "-"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout_bytes.startswith(b"%PDF-")


def test_pdf_refused_on_a_terminal():
    """A real pseudo-terminal as stdout: no binary on the screen, exit 2, nothing computed."""
    import pty

    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "segcli", *small_args("--days", "30", "--format", "pdf")],
            stdout=follower,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "SEGCLI_CONFIG": ""},
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "Refusing to write a binary PDF to the terminal; use --output FILE (or '-')\n"
    )


@pytest.mark.skipif(
    # CI installs poppler-utils: there the test never skips
    shutil.which("pdftoppm") is None and os.environ.get("CI") != "true",
    reason="pdftoppm (poppler-utils) is not installed",
)
def test_first_page_renders(fixture_pdf: bytes, tmp_path: Path):
    from PIL import Image

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(fixture_pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", pdf, tmp_path / "page"],
        check=True,
        timeout=60,
    )
    with Image.open(tmp_path / "page.png") as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        assert abs(height / width - 297 / 210) < 0.01  # A4 portrait
        # the navy title band across the top, white paper below it
        assert rgb.getpixel((width // 2, 5)) == (31, 42, 68)
        assert rgb.getpixel((width - 3, height // 2)) == (255, 255, 255)
        colours = rgb.getcolors(maxcolors=1 << 16) or []
        ink = sum(count for count, colour in colours if colour != (255, 255, 255))
        assert ink > 0.15 * width * height  # band, tiles, bars and text: not a blank page
        assert len(colours) > 50  # anti-aliased text and several fills


def compare_pdf(cli: Any, tmp_path: Path, *args: str | Path) -> list[str]:
    out = tmp_path / "compare.pdf"
    run = cli("segment", "--as-of", "2026-11-20", *args, "--compare", "--output", out)
    assert run.exit_code == 0, run.stderr
    return pages_text(out.read_bytes())


def test_compare_adds_how_customers_moved(cli, tmp_path: Path):
    # the value fixture's comparison, worked out in test_compare.test_value_comparison_by_hand
    value = ROOT / "fixtures" / "methods" / "value.csv"
    texts = compare_pdf(cli, tmp_path, "--source", value, "--method", "value", "--days", "30")
    page = texts[-1]  # a page of its own, the last
    assert "How customers moved" in page
    assert "How customers moved" not in "\n".join(texts[:-1])
    assert "2026-09-22 \N{EN DASH} 2026-10-21 (30 days)" in page
    # customers 5 -> 10 is +100%; revenue 475.00 -> 360.00 is -24.21% -> -24.2%
    assert "Customers 5 → 10 (+100.0%) · revenue 475.00 → 360.00 (-24.2%)" in page
    lines = page.splitlines()
    # per segment: before, now, change (customers then revenue)
    assert "High Value 1 1 0.0% 140.00 70.00 -50.0%" in lines
    assert "Medium Value 3 6 +100.0% 330.00 260.00 -21.2%" in lines
    assert "Low Value 1 3 +200.0% 5.00 30.00 +500.0%" in lines
    # the matrix: rows before (and new), columns now (and lapsed), then the row total; a row of totals now
    assert "stayed 2 · moved 2 · new 6 · lapsed 1" in lines
    assert "Previous segment High Value Medium Value Low Value lapsed Before" in lines
    assert "High Value 0 0 1 0 1" in lines
    assert "Medium Value 0 2 0 1 3" in lines
    assert "Low Value 1 0 0 0 1" in lines
    assert "new 0 4 2 0" in lines
    assert "Now 1 6 3" in lines


def test_behavior_pdf_groups_by_facet_and_moves_per_facet(cli, tmp_path: Path):
    methods = ROOT / "fixtures" / "methods"
    texts = compare_pdf(
        cli, tmp_path, "--source", methods / "behavior_sales.csv", "--items", methods / "behavior_items.csv",
        "--method", "behavior", "--days", "365",
    )  # fmt: skip
    text = "\n".join(texts)
    lines = text.splitlines()
    for name in ("Apparel Enthusiasts", "Beauty Enthusiasts", "Home Enthusiasts", "Explorers",
                 "mobile Shoppers", "store Shoppers", "web Shoppers", "Omnichannel",
                 "Q1 Seasonal Buyers", "Q2 Seasonal Buyers", "Q3 Seasonal Buyers", "Q4 Seasonal Buyers",
                 "Year-round"):  # fmt: skip
        assert name in text
    # facet headings in the charts (both), the segment table, the actions and the change table
    assert lines.count("Category affinity Category affinity") == 1
    assert lines.count("Seasonality") == 3
    # no total row: the three facets' customers must not be added up (6 customers, not 18)
    assert "Total" not in text
    assert "Apparel Enthusiasts CATEGORY:Apparel 2 33.3% 150.00 45.5% 12.50 99.5 6.0 75.00" in lines
    # one matrix per facet (see test_compare.test_behavior_migration_per_facet)
    assert "Migration — Category affinity" in lines
    assert "Apparel Enthusiasts 1 0 0 0 0 1" in lines  # A stays
    assert "Beauty Enthusiasts 0 0 0 0 1 1" in lines  # P lapses
    assert "new 1 0 0 4 0" in lines
    assert "Migration — Channel preference" in lines
    assert "Migration — Seasonality" in lines
    assert "Q3 Seasonal Buyers 1 0 0 0 0 0 1" in lines  # A: Q3 -> Q1
    assert "new 0 1 0 1 3 0" in lines
    assert "Explorers 0 4 new 0.00 180.00 new" in lines


def test_no_comparison_page_without_compare(fixture_pdf: bytes):
    assert "How customers moved" not in "\n".join(pages_text(fixture_pdf))


def test_compare_pdf_with_the_core_font(tmp_path: Path):
    settings = load_settings("", source=str(ROOT / "fixtures" / "methods" / "value.csv"))
    checked = validate_params(segmentation_method="value", days=30, tables=settings.tables)
    request = ReportRequest.from_params(
        checked, business_id=1, as_of=date(2026, 11, 20), timezone="UTC", compare=True
    )
    data = render(get_report(settings, request), checked, font_dirs=[tmp_path / "no-fonts-here"])
    assert "Customers 5 -> 10 (+100.0%)" in pages_text(data)[-1]
