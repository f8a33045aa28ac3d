"""report_html and report_timeline: the page is self-contained, and a real headless browser (Debian's
chromium, installed by scripts/report-tools) renders a bar per image, platform and phase that ran,
the parent's promotion gate, the table and the failures.

chromium runs offline here (no network namespace needed: it gets a file:// URL and every background
service is off), with a throwaway profile in tmp_path."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from report_family import FAILING_OUTPUT, GrowingRegistry, TimedEngine, run_family, write_family

from baseimages.core.results import RunReport
from baseimages.outputs.html import render_html
from baseimages.outputs.timeline import COLORS

WINDOW = (1400, 1400)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium is not installed: scripts/report-tools installs Debian's chromium")


def _browse(page: Path, profile: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    argv = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *mode,
        page.as_uri(),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


class _Elements(HTMLParser):
    """The attributes of every element of a rendered DOM, by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A family run (ml's arm64 smoke test fails; the children wait for uv's promotion), its page, the
    DOM chromium rendered from it and a screenshot."""
    from conftest import CatalogWriter

    root = tmp_path_factory.mktemp("family")
    family = write_family(CatalogWriter(root))
    registry = GrowingRegistry()
    run_family(family, registry=registry)
    # uv's contract outlasts its children's builds and tests: they wait for its promotion.
    engine = TimedEngine(build_seconds=0.2, run_seconds=0.1, fail_on={"/ml:": "linux/arm64"}, slow_contract={"uv"})
    report = run_family(family, engine=engine, registry=registry, force=True, jobs=3)
    page = root / "report.html"
    page.write_text(render_html(report))
    dom = _browse(page, root / "profile-dom", "--dump-dom").stdout
    shot = root / "screenshot.png"
    _browse(page, root / "profile-shot", f"--screenshot={shot}")
    elements = _Elements()
    elements.feed(dom)
    return report, page, dom, elements.found, shot


def _expected_bars(report: RunReport) -> set[tuple[str, str, str]]:
    return {
        (image.name, platform.platform, phase)
        for image in report.images
        for platform in image.platforms
        for phase in image.timeline
    }


def test_the_page_is_self_contained(rendered):
    _, page, _, _, _ = rendered
    text = page.read_text()
    assert not re.search(r"<script|<link|<img|@import|url\(['\"]?(https?:|//)", text)
    assert re.findall(r"https?://[^\s\"'<>]+", text) == ["http://www.w3.org/2000/svg"]  # the SVG namespace only


def test_the_browser_renders_a_bar_per_image_platform_and_phase_that_ran(rendered):
    report, _, _, elements, _ = rendered
    bars = [a for tag, a in elements if tag == "rect" and a.get("class") == "bar"]
    drawn = {(a["data-image"], a["data-platform"], a["data-phase"]) for a in bars}
    assert drawn == _expected_bars(report)
    assert all(float(a["width"]) > 0 for a in bars)
    ml = report.image("ml")
    assert {phase for image, _, phase in drawn if image == "ml"} == set(ml.timeline) >= {"build", "push", "smoke"}
    for image, platform, phase in drawn:  # a platform's smoke bar is its own interval
        if phase == "smoke":
            start, end = report.image(image).platform_timeline[platform]["smoke"]
            bar = next(
                a for a in bars if (a["data-image"], a["data-platform"], a["data-phase"]) == (image, platform, phase)
            )
            assert f"(at {start:.2f} s to {end:.2f} s)" in _title_of(rendered[2], bar)


def _title_of(dom: str, bar: dict[str, str]) -> str:
    pattern = (
        rf'data-image="{bar["data-image"]}" data-platform="{bar["data-platform"]}" data-phase="{bar["data-phase"]}"'
        r"[^>]*><title>([^<]*)</title>"
    )
    found = re.search(pattern, dom)
    assert found, bar
    return found.group(1)


def test_the_parents_promotion_gate_is_marked_where_the_children_waited(rendered):
    report, _, _, elements, _ = rendered
    gates = {(a["data-image"], a["data-parent"]) for tag, a in elements if tag == "line" and a.get("class") == "gate"}
    assert gates == {("security", "uv")}  # ml failed: it never reached its promotion
    waits = {a["data-image"] for tag, a in elements if tag == "rect" and a.get("class") == "wait"}
    assert waits == {"security"}
    security, uv = report.image("security"), report.image("uv")
    assert security.timeline["promote"][0] >= uv.timeline["promote"][1]


def _visible_area(bars: list[dict[str, str]], phase: str) -> float:
    """The area of PHASE's bars that no bar drawn after it (on the same row) covers, each visible piece
    without its edge pixels (anti-aliased into the colour beside them: a bar 2 px wide may show no pixel
    of its own colour)."""
    area = 0.0
    for number, bar in enumerate(bars):
        if bar["data-phase"] != phase:
            continue
        start, end = float(bar["x"]), float(bar["x"]) + float(bar["width"])
        covers = sorted(
            (float(b["x"]), float(b["x"]) + float(b["width"])) for b in bars[number + 1 :] if b["y"] == bar["y"]
        )
        pieces, at = [], start
        for left, right in covers:
            pieces.append(max(0.0, min(left, end) - at))
            at = max(at, min(right, end))
        pieces.append(max(0.0, end - at))
        area += sum(max(0.0, piece - 2.0) for piece in pieces) * max(0.0, float(bar["height"]) - 2.0)
    return area


def test_the_screenshot_shows_every_phase_in_its_colour(rendered):
    _, _, _, elements, shot = rendered
    image = Image.open(shot).convert("RGB")
    assert image.size == WINDOW
    counts = image.getcolors(maxcolors=WINDOW[0] * WINDOW[1])
    bars = [a for tag, a in elements if tag == "rect" and a.get("class") == "bar"]
    for phase in {a["data-phase"] for a in bars}:
        colour = tuple(int(COLORS[phase][i : i + 2], 16) for i in (1, 3, 5))
        painted = sum(n for n, rgb in counts if max(abs(rgb[i] - colour[i]) for i in range(3)) <= 6)
        expected = _visible_area(bars, phase) + 12 * 12  # its bars as drawn, and its key in the legend
        assert painted >= 0.6 * expected, (phase, painted, expected)
    big = max({a["data-phase"] for a in bars}, key=lambda phase: _visible_area(bars, phase))
    assert _visible_area(bars, big) > 2000  # the check above is about bars, not only the legend


def test_the_rendered_page_has_the_table_and_the_failures_output(rendered):
    report, _, dom, elements, _ = rendered
    rows = {(a["data-image"], a["data-platform"]) for tag, a in elements if tag == "tr" and "data-image" in a}
    assert rows == {(i.name, p.platform) for i in report.images for p in i.platforms}
    failures = [a["data-image"] for tag, a in elements if tag == "section" and a.get("class") == "failure"]
    assert failures == ["ml"]
    assert FAILING_OUTPUT in dom
    assert re.search(r'class="status-failed">failed</td>', dom)


def test_an_unchanged_image_has_a_row_and_no_bar(catalog_writer):
    family = write_family(catalog_writer)
    registry = GrowingRegistry()
    run_family(family, registry=registry)
    page = render_html(run_family(family, registry=registry))
    assert 'class="bar"' not in page
    assert page.count('class="note"') == 3 and ">skipped-unchanged</text>" in page


def test_the_table_and_each_build_bar_name_the_builder_of_its_platform(catalog_writer):
    report = run_family(write_family(catalog_writer), builders={"linux/arm64": "node2"})
    page = render_html(report)
    assert "<td>linux/arm64</td><td>node2</td>" in page and "<td>linux/amd64</td><td>default</td>" in page
    assert re.search(r"<title>uv linux/arm64 build on node2: [0-9.]+ s", page)
