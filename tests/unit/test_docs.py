"""The user documentation (README.md, CHANGELOG.md, docs/*.md): every relative link reaches a file, no
page carries issue numbers, the README stays short, and the library page names the whole public API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import baseimages

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
USER_DOCS = [page for page in PAGES if page.name != "CHANGELOG.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def _links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())  # a code block's brackets are not links
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_the_documentation_pages_exist():
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    for name in ("catalog", "settings", "cli", "operations", "trust", "performance", "library", "development"):
        assert f"docs/{name}.md" in names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_an_existing_file(page):
    for target in _links(page):
        path = target.partition("#")[0]
        if path:  # `#anchor` alone is a link within the page
            assert (page.parent / path).exists(), f"{page.relative_to(ROOT)}: {target} points at nothing"


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](page.md#top) [web](https://example.com) [broken](missing.md)\n```\n[x](no.md)\n```\n")
    assert _links(page) == ["page.md#top", "missing.md"]


@pytest.mark.parametrize("page", USER_DOCS, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_user_documentation_carries_no_issue_numbers(page):
    text = page.read_text()
    assert not re.findall(r"(?<![\w&/])#\d+\b", text), page.name
    assert not re.findall(r"\bissues?\b", text, re.IGNORECASE), page.name


def test_the_readme_is_short_and_links_every_docs_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for page in (ROOT / "docs").glob("*.md"):
        assert f"(docs/{page.name})" in readme, page.name


def test_the_library_page_names_every_public_name():
    page = (ROOT / "docs" / "library.md").read_text()
    missing = [name for name in baseimages.__all__ if f"`{name}" not in page]
    assert missing == []
