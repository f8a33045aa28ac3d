"""Which files of an image say what is installed, and what they say: dpkg's status database (Debian
packages) and the METADATA of Python distributions (`*.dist-info`).

Paths are as a layer's tar names them, relative to the root, without a leading `./` or `/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_BACKUP = "var/lib/dpkg/status-old"  # dpkg hard-links it to status: a layer may store status as the link
DPKG_STATUS_DIR = "var/lib/dpkg/status.d/"  # distroless: one file per package
APT_SOURCES = "etc/apt/sources.list"
APT_SOURCES_DIR = "etc/apt/sources.list.d/"
_DIST_INFO = re.compile(r"^(?P<site>(?:.*/)?(?:site|dist)-packages)/(?P<dir>[^/]+)\.dist-info/METADATA$")
_PYTHON_LIB = re.compile(r"/lib(?:64)?/python\d[\d.]*/(?:site|dist)-packages$")
_FIELDS = ["Package", "Version", "Status", "Architecture", "Multi-Arch"]


@dataclass(frozen=True)
class Package:
    name: str  # name:arch when Multi-Arch: same
    version: str


@dataclass(frozen=True)
class Distribution:
    environment: str  # the prefix up to lib/pythonX.Y, e.g. /opt/venv, /usr/local, /usr
    name: str  # normalised (PEP 503): lower case, runs of -_. as one -
    version: str


def normalise(path: str) -> str:
    """A tar member name as a root-relative path: `./usr/lib/` -> `usr/lib`."""
    while path.startswith("./"):
        path = path[2:]
    return path.strip("/")


def is_dpkg_path(path: str) -> bool:
    """The status file, or a package's file in status.d (not its .md5sums)."""
    if path == DPKG_STATUS:
        return True
    name = path.removeprefix(DPKG_STATUS_DIR)
    return name != path and "/" not in name and bool(name) and not name.endswith(".md5sums")


def is_apt_source(path: str) -> bool:
    """/etc/apt/sources.list, or a `*.list` (one-line format) or `*.sources` (deb822) file of sources.list.d."""
    if path == APT_SOURCES:
        return True
    name = path.removeprefix(APT_SOURCES_DIR)
    return name != path and "/" not in name and name.endswith((".list", ".sources"))


def is_metadata(path: str) -> bool:
    """A distribution's METADATA, wherever it is: a hard link's target may be outside site-packages (uv's
    cache in the same layer)."""
    return path.endswith(".dist-info/METADATA")


def environment_of(path: str) -> str | None:
    """The environment of a METADATA path directly in a site-packages or dist-packages folder, e.g.
    `opt/venv/lib/python3.11/site-packages/rich-13.7.1.dist-info/METADATA` -> `/opt/venv`; None for any other
    path (vendored distributions inside a package included)."""
    match = _DIST_INFO.match(path)
    if match is None:
        return None
    site = "/" + match["site"]
    lib = _PYTHON_LIB.search(site)
    return (site[: lib.start()] or "/") if lib else site


def parse_status(text: str, in_status_dir: bool) -> tuple[Package, ...]:
    """The installed packages of a dpkg status file (Status: `<want> ok installed`). A file of status.d
    (distroless) may have no Status field: its package is installed."""
    from debian.deb822 import Deb822  # imported when used: python-debian costs a run that reads no Debian file

    found = []
    for paragraph in Deb822.iter_paragraphs(text.splitlines(keepends=True), fields=_FIELDS):
        name, version = paragraph.get("Package"), paragraph.get("Version")
        if not name or not version:
            continue
        status = paragraph.get("Status")
        if status is None and not in_status_dir:
            continue
        if status is not None and status.split()[-1:] != ["installed"]:
            continue
        arch = paragraph.get("Architecture")
        if paragraph.get("Multi-Arch") == "same" and arch:
            name = f"{name}:{arch}"
        found.append(Package(name, version))
    return tuple(found)


def parse_metadata(text: str) -> tuple[str, str] | None:
    """(Name, Version) from the headers of a METADATA file (they end at the first empty line)."""
    name = version = None
    for line in text.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        if key.lower() == "name" and name is None:
            name = value.strip()
        elif key.lower() == "version" and version is None:
            version = value.strip()
    return (canonical_name(name), version) if name and version else None


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
