"""The indexes of a Debian archive, as apt reads them: a suite's `InRelease` (or `Release`) lists its index
files with their SHA256 and size; each component's `Packages` index (xz, gzip or plain, whichever the Release
lists, in that order of preference) lists its packages and versions.

What is checked: each `Packages` file's size and SHA256 against what the Release says, so that a proxy or a
mirror cut short cannot change the answer unnoticed. The Release itself is not authenticated (its OpenPGP
signature is not verified): the answer is a report, never what gets installed.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import RegistryError

Fetch = Callable[[str, "int | None"], "bytes | None"]  # (url, the most bytes it may be) -> body; None: 404
COMPRESSIONS = (".xz", ".gz", "")  # the Packages files tried, in order of preference
MAX_RELEASE = 16 * 1024 * 1024


@dataclass(frozen=True)
class Release:
    """What a suite's Release file says that `updates` uses."""

    suite: str
    codename: str
    components: tuple[str, ...]
    files: dict[str, tuple[str, int]]  # path relative to the suite's folder -> (SHA256, size)
    not_automatic: bool = False  # `NotAutomatic: yes` (experimental, backports): apt never upgrades from it
    but_automatic_upgrades: bool = False  # ... except what was installed from it (backports)

    def packages_file(self, component: str, arch: str) -> str | None:
        """The path of the Packages index of COMPONENT (empty: a flat repository) for ARCH that the Release
        lists, the most compressed first; None when it lists none."""
        folder = f"{component}/binary-{arch}/" if component else ""
        return next((f"{folder}Packages{ext}" for ext in COMPRESSIONS if f"{folder}Packages{ext}" in self.files), None)


def strip_signature(text: str) -> str:
    """The signed text of an InRelease (OpenPGP clear-signed: the armour, the `Hash:` headers and the
    signature removed, dash-escaped lines restored); a plain Release as it is."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "-----BEGIN PGP SIGNED MESSAGE-----":
        return text
    body = lines[lines.index("", 1) + 1 :] if "" in lines[1:] else []
    end = next((i for i, line in enumerate(body) if line.strip() == "-----BEGIN PGP SIGNATURE-----"), len(body))
    return "\n".join(line[2:] if line.startswith("- ") else line for line in body[:end]) + "\n"


def parse_release(text: str, where: str) -> Release:
    """The Release file TEXT (from WHERE, for messages); a RegistryError when it is not one."""
    from debian.deb822 import Deb822  # imported when used: python-debian costs a run that reads no Debian file

    paragraph = next(Deb822.iter_paragraphs(strip_signature(text).splitlines(keepends=True)), None)
    if paragraph is None or "SHA256" not in paragraph:
        raise RegistryError(f"{where}: not a Release file with SHA256 sums (a proxy or a login page in the way?)")
    files: dict[str, tuple[str, int]] = {}
    for line in paragraph["SHA256"].splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            files[parts[2]] = (parts[0].lower(), int(parts[1]))
    yes = ("yes", "true")
    return Release(
        suite=paragraph.get("Suite", ""),
        codename=paragraph.get("Codename", ""),
        components=tuple(paragraph.get("Components", "").split()),
        files=files,
        not_automatic=paragraph.get("NotAutomatic", "").strip().lower() in yes,
        but_automatic_upgrades=paragraph.get("ButAutomaticUpgrades", "").strip().lower() in yes,
    )


def checked(data: bytes, expected: tuple[str, int], where: str) -> bytes:
    """DATA, when its size and SHA256 are what the Release says; else a RegistryError naming WHERE."""
    digest, size = expected
    if len(data) != size:
        raise RegistryError(f"{where}: {len(data)} bytes, the Release says {size}; the mirror may be mid-update")
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise RegistryError(f"{where}: SHA256 {actual}, the Release says {digest}; a proxy may have altered it")
    return data


def decompress(data: bytes, name: str) -> str:
    """The text of the index file NAME (`Packages.xz`, `Packages.gz` or `Packages`)."""
    try:
        if name.endswith(".xz"):
            data = lzma.decompress(data)
        elif name.endswith(".gz"):
            data = gzip.decompress(data)
    except (lzma.LZMAError, OSError, EOFError, zlib.error) as exc:
        raise RegistryError(f"{name}: not readable as {name.rsplit('.', 1)[-1]} ({exc})") from None
    return data.decode("utf-8", "replace")


def parse_packages(text: str) -> dict[str, str]:
    """Package -> its highest version in the Packages index TEXT. Read line by line: a Debian archive's
    index has tens of thousands of paragraphs, and only two fields of each are wanted."""
    from debian.debian_support import Version  # imported when used: python-debian costs a run that reads no Debian file

    found: dict[str, str] = {}
    name = version = None
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if name and version and (name not in found or Version(version) > Version(found[name])):
                found[name] = version
            name = version = None
        elif line.startswith("Package:"):
            name = line[8:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
    return found


@dataclass
class Archive:
    """Reads Release files and Packages indexes through FETCH, each once (several images share a suite)."""

    fetch: Fetch
    releases: dict[str, Release]
    indexes: dict[str, dict[str, str]]

    @classmethod
    def over(cls, fetch: Fetch) -> Archive:
        return cls(fetch, {}, {})

    def release(self, base: str) -> Release:
        """The Release of the suite folder BASE: its InRelease, else its Release."""
        if base not in self.releases:
            for name in ("InRelease", "Release"):
                body = self.fetch(f"{base}/{name}", MAX_RELEASE)
                if body is not None:
                    self.releases[base] = parse_release(body.decode("utf-8", "replace"), f"{base}/{name}")
                    break
            else:
                raise RegistryError(f"{base}: no InRelease nor Release file (HTTP 404); is the suite right?")
        return self.releases[base]

    def packages(self, base: str, component: str, arch: str) -> dict[str, str]:
        """Package -> version of COMPONENT's index for ARCH in the suite folder BASE; {} when its Release lists
        no index for that architecture (apt skips it too)."""
        release = self.release(base)
        name = release.packages_file(component, arch)
        if name is None:
            return {}
        url = f"{base}/{name}"
        if url not in self.indexes:
            expected = release.files[name]
            body = self.fetch(url, expected[1])
            if body is None:
                raise RegistryError(f"{url}: HTTP 404, though the Release lists it; the mirror may be mid-update")
            self.indexes[url] = parse_packages(decompress(checked(body, expected, url), name))
        return self.indexes[url]
