"""An image's apt sources, as apt reads them: `/etc/apt/sources.list` and `sources.list.d/*.list` in the
one-line format (`deb [opt=value ...] URI SUITE [COMPONENT...]`), `sources.list.d/*.sources` in the deb822
format (paragraphs of `Types`, `URIs`, `Suites`, `Components`, `Enabled`, `Architectures`, ...).

Only `deb` entries count (a `deb-src` entry installs nothing). A suite ending in `/` is a flat repository:
its indexes are in the folder SUITE itself, and it has no components.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..core.errors import ConfigError

SECURITY_HOSTS = ("security.debian.org", "security.ubuntu.com")
_OPTIONS = re.compile(r"^\[(?P<options>[^\]]*)\]\s*")


@dataclass(frozen=True)
class AptSource:
    """One archive and suite an image installs from, with the components it takes."""

    uri: str  # without a trailing slash
    suite: str
    components: tuple[str, ...]  # empty for a flat repository
    architectures: tuple[str, ...] = ()  # `arch=` / `Architectures:`; empty: the platform's own
    trusted: bool = False  # `trusted=yes` / `Trusted: yes`: apt skips the signature check
    file: str = ""  # the sources file that names it (root-relative)

    @property
    def flat(self) -> bool:
        return self.suite.endswith("/")

    @property
    def host(self) -> str:
        return urlsplit(self.uri).hostname or ""

    @property
    def security(self) -> bool:
        """A security suite: `<codename>-security` (or the older `<codename>/updates`), or a security host."""
        suite = self.suite.rstrip("/")
        return (
            suite.endswith("-security")
            or suite.endswith("/updates")
            or self.host in SECURITY_HOSTS
            or "/debian-security" in urlsplit(self.uri).path
        )

    @property
    def base(self) -> str:
        """The folder whose Release and indexes apt reads: `URI/dists/SUITE`, or `URI/SUITE` when flat."""
        if not self.flat:
            return f"{self.uri}/dists/{self.suite}"
        folder = self.suite.strip("/").removeprefix("./")
        return self.uri if folder in ("", ".") else f"{self.uri}/{folder}"

    @property
    def readable(self) -> bool:
        """Over HTTP: `updates` reads no file:, cdrom: or mirror+ archive."""
        return self.uri.startswith(("http://", "https://"))

    def label(self) -> str:
        return f"{self.uri} {self.suite}" + "".join(f" {c}" for c in self.components)

    def takes(self, arch: str) -> bool:
        return not self.architectures or arch in self.architectures


def parse_sources(files: Mapping[str, str]) -> tuple[AptSource, ...]:
    """The `deb` sources of FILES (path -> text, from the image's final filesystem), in apt's order: the
    sources.list first, then sources.list.d by name. A line or paragraph apt would refuse is a ConfigError
    naming the file and what is wrong."""
    found: list[AptSource] = []
    for path in sorted(files, key=lambda p: (p != "etc/apt/sources.list", p)):
        parse = _deb822 if path.endswith(".sources") else _one_line
        found.extend(parse(files[path], path))
    return tuple(dict.fromkeys(found))


def _one_line(text: str, path: str) -> Iterable[AptSource]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        rest = rest.strip()
        options: dict[str, str] = {}
        match = _OPTIONS.match(rest)
        if match:
            options = _options(match["options"])
            rest = rest[match.end() :]
        words = rest.split()
        if kind not in ("deb", "deb-src") or len(words) < 2:
            raise ConfigError(f"/{path}", f"line {number}", f"not an apt source line: {raw.strip()!r}")
        if kind == "deb":
            yield _source(words[0], words[1], words[2:], options.get("arch", ""), options.get("trusted", ""), path)


def _options(text: str) -> dict[str, str]:
    """`arch=amd64,arm64 trusted=yes` -> {"arch": "amd64,arm64", "trusted": "yes"} (`arch+=` as `arch=`)."""
    pairs = (word.partition("=") for word in text.split())
    return {key.rstrip("+-"): value for key, _, value in pairs}


def _deb822(text: str, path: str) -> Iterable[AptSource]:
    from debian.deb822 import Deb822  # imported when used: python-debian costs a run that reads no Debian file

    lines = [line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#")]
    for paragraph in Deb822.iter_paragraphs(lines):
        if paragraph.get("Enabled", "yes").strip().lower() == "no":
            continue
        types, uris, suites = (paragraph.get(key, "").split() for key in ("Types", "URIs", "Suites"))
        if not types or not uris or not suites:
            missing = next(key for key, v in (("Types", types), ("URIs", uris), ("Suites", suites)) if not v)
            raise ConfigError(f"/{path}", missing, "missing: a deb822 source needs Types, URIs and Suites")
        if "deb" not in types:
            continue
        components = paragraph.get("Components", "").split()
        arch, trusted = paragraph.get("Architectures", ""), paragraph.get("Trusted", "")
        for uri in uris:
            for suite in suites:
                yield _source(uri, suite, components, arch.replace(" ", ","), trusted, path)


def _source(uri: str, suite: str, components: list[str], arch: str, trusted: str, path: str) -> AptSource:
    if not suite.endswith("/") and not components:
        raise ConfigError(f"/{path}", suite, "a suite that is not a flat repository (ending in /) needs components")
    architectures = tuple(a for a in arch.split(",") if a)
    yes = trusted.strip().lower() in ("yes", "true", "1")
    return AptSource(uri.rstrip("/"), suite, tuple(components), architectures, yes, path)
