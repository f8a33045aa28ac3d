"""The newest version of a Python distribution on the package index the builds use, read from its simple API
(PEP 691 JSON, `application/vnd.pypi.simple.v1+json`; an index that answers only the HTML of PEP 503 is read
too), and the distributions an image's requirements files pin.

A version counts when at least one of its files is not yanked and it is a final release (no pre-release,
no development release). Versions are ordered by PEP 440 (`packaging`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from ..changelog.contents import canonical_name
from ..core.errors import RegistryError
from ..registry.http import HttpClient
from .web import get, redacted

DEFAULT_INDEX = "https://pypi.org/simple"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
_ARCHIVES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*[^,;\s]+\s*(?:;.*)?$")


@dataclass
class PackageIndex:
    """The simple API at URL (credentials allowed, never shown), read through CLIENT; answers kept by name."""

    client: HttpClient
    url: str = DEFAULT_INDEX
    _latest: dict[str, str | None] = field(default_factory=dict)

    def latest(self, name: str) -> str | None:
        """The newest final, not yanked version of NAME; None when the index has no such project."""
        key = canonical_name(name)
        if key not in self._latest:
            page = f"{self.url.rstrip('/')}/{key}/"
            answer = get(self.client, page, headers={"Accept": ACCEPT})
            if answer is None:
                self._latest[key] = None
            else:
                files = _files(answer.body, answer.content_type, redacted(page))
                self._latest[key] = newest(files)
        return self._latest[key]


def newest(files: Iterable[tuple[str, bool]]) -> str | None:
    """The newest final version among FILES (filename, yanked), by PEP 440; None when there is none."""
    versions: list[Version] = []
    for filename, yanked in files:
        text = version_of(filename)
        if yanked or text is None:
            continue
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if not version.is_prerelease and not version.is_devrelease:
            versions.append(version)
    return str(max(versions)) if versions else None


def version_of(filename: str) -> str | None:
    """The version a wheel's or an sdist's file name carries (`rich-13.9.4-py3-none-any.whl` -> 13.9.4)."""
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else None
    for ext in _ARCHIVES:
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            return stem.rpartition("-")[2] if "-" in stem else None
    return None


def _files(body: bytes, content_type: str, where: str) -> list[tuple[str, bool]]:
    if content_type == JSON_TYPE or content_type.endswith("json"):
        try:
            data: Any = json.loads(body)
            return [(str(f["filename"]), bool(f.get("yanked"))) for f in data["files"]]
        except (ValueError, KeyError, TypeError):
            raise RegistryError(f"{where}: not a PEP 691 project page (JSON with `files`)") from None
    if "html" not in content_type:
        raise RegistryError(f"{where}: answered {content_type or 'no Content-Type'}, not a simple index page")
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    return parser.files


class _Links(HTMLParser):
    """The anchors of a PEP 503 page: (text, whether it has `data-yanked`)."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[tuple[str, bool]] = []
        self._yanked: bool | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._yanked = any(name == "data-yanked" for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        if self._yanked is not None and data.strip():
            self.files.append((data.strip(), self._yanked))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._yanked = None


def pinned_names(folders: Iterable[Path]) -> frozenset[str]:
    """The normalised names that the `requirements*.txt` files of FOLDERS pin with `==` (or `===`)."""
    names: set[str] = set()
    for folder in folders:
        for path in sorted(folder.glob("requirements*.txt")):
            names |= _pins(path.read_text(errors="replace"))
    return frozenset(names)


def _pins(text: str) -> set[str]:
    found = set()
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line.startswith("#") or line.startswith("-"):
            continue
        match = _PIN.match(line.split(" --hash", 1)[0].strip())
        if match:
            found.add(canonical_name(match["name"]))
    return found
