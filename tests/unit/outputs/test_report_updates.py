"""The waiting updates in the reports people read: when a run looked for updates (refresh `updates`, the
report's `updates`), the Markdown report (GitHub's step summary) and the HTML page list per image and
platform each waiting update, and one line for an image with none or whose look failed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fake_look import AMD, ARM, POINT, PYTHON, SECURITY, look

from baseimages.core.results import ImageResult, ImageStatus, RunReport
from baseimages.outputs.html import render_html
from baseimages.outputs.markdown import render_markdown, waiting_updates

REGISTRY = "registry.test:5000"


def _report(looked: bool = True) -> RunReport:
    found = look(REGISTRY, uv={AMD: (POINT, SECURITY), ARM: (SECURITY, PYTHON)}, ml={AMD: (), ARM: ()},
                 solo="deb.example: GET http://deb.example/dists/bookworm/InRelease: connection refused")  # fmt: skip
    images = [ImageResult(name, f"{REGISTRY}/t/{name}", status=ImageStatus.UNCHANGED) for name in ("uv", "ml", "solo")]
    started = found.checked
    return RunReport("push", REGISTRY, started, started, images=images, updates=found.to_dict() if looked else None)


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """The waiting updates' tables of MARKDOWN: image -> rows of cells (header and rule left out)."""
    section = markdown.split("### Waiting updates", 1)[1]
    tables: dict[str, list[list[str]]] = {}
    image = ""
    for line in section.splitlines():
        if line.startswith("#### "):
            image = line.removeprefix("#### ")
            tables[image] = []
        elif line.startswith("| ") and not line.startswith("| platform"):
            tables[image].append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return tables


def test_the_markdown_lists_each_waiting_update_per_image_and_platform_with_its_waiting_time():
    markdown = render_markdown(_report())
    assert _tables(markdown) == {
        "uv": [
            [AMD, "libssl3", "`3.0.15-1~deb12u1` -> `3.0.16-1~deb12u1`", "bookworm-security", "**yes**",
             "2026-12-04 08:00 UTC (2d 0h)"],
            [AMD, "tzdata", "`2024a-0` -> `2025b-0`", "bookworm-updates", "no", "2026-11-26 08:00 UTC (10d 0h)"],
            [ARM, "libssl3", "`3.0.15-1~deb12u1` -> `3.0.16-1~deb12u1`", "bookworm-security", "**yes**",
             "2026-12-04 08:00 UTC (2d 0h)"],
            [ARM, "rich (/opt/venv)", "`13.7.1` -> `13.9.4`", "index", "no", "2026-12-03 08:00 UTC (3d 0h)"],
        ]
    }  # fmt: skip


def test_an_image_with_no_update_says_so_in_one_line_and_a_failed_look_shows_its_error():
    lines = waiting_updates(_report())
    assert "- ml: no installable update" in lines
    assert "- solo: look failed: deb.example: GET http://deb.example/dists/bookworm/InRelease: connection refused" in (
        lines
    )
    assert not any(line.startswith("#### ml") or line.startswith("#### solo") for line in lines)


def test_a_run_that_did_not_look_for_updates_has_no_such_section():
    assert "Waiting updates" not in render_markdown(_report(looked=False))
    assert "Waiting updates" not in render_html(_report(looked=False))


def test_a_report_whose_updates_are_not_a_look_shows_no_section_and_does_not_break():
    report = _report()
    report.updates = {"schema": "something/else"}
    assert "Waiting updates" not in render_markdown(report) and "<h1>" in render_html(report)


class _Updates(HTMLParser):
    """The HTML page's waiting updates: image -> rows of cell texts, and the one-line notes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.notes: list[str] = []
        self._image: str | None = None
        self._cell: list[str] | None = None
        self._note: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("class") == "updates":
            self._image = found["data-image"]
            self.tables[self._image or ""] = []
        elif tag == "tr" and self._image is not None and "data-platform" in found:
            self.tables[self._image].append([])
        elif tag == "td" and self._image is not None and self.tables[self._image]:
            self._cell = []
        elif tag == "li" and "data-image" in found:
            self._note = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._image is not None:
            self.tables[self._image][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "section":
            self._image = None
        elif tag == "li" and self._note is not None:
            self.notes.append("".join(self._note))
            self._note = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._note):
            if part is not None:
                part.append(data)


def test_the_html_page_has_a_table_per_image_with_waiting_updates_and_a_line_for_the_others():
    parser = _Updates()
    parser.feed(render_html(_report()))
    assert list(parser.tables) == ["uv"]
    assert parser.tables["uv"][0] == [
        AMD, "libssl3", "3.0.15-1~deb12u1 → 3.0.16-1~deb12u1", "bookworm-security", "yes",
        "2026-12-04 08:00 UTC (2d 0h)",
    ]  # fmt: skip
    assert [row[1] for row in parser.tables["uv"]] == ["libssl3", "tzdata", "libssl3", "rich (/opt/venv)"]
    assert parser.notes == [
        "ml: no installable update",
        "solo: look failed: deb.example: GET http://deb.example/dists/bookworm/InRelease: connection refused",
    ]
