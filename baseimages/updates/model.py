"""Which updates are installable for each promoted image, per platform, as typed data. `UpdatesReport.to_dict()`
is the JSON document (schema `baseimages.updates/v1`, described in docs/updates.md); render.py writes it as
text.

- a Debian update: an installed package of which the image's own apt sources offer a higher version (its
  candidate), from a suite that is or is not a security suite;
- a Python update: a distribution of a Python environment of the image of which the package index has a newer
  final release, when no requirements file of the image pins it; a pinned one is listed apart, never as an
  update.

Each update carries the time it was first seen (the store of waiting updates, store.py), when it is known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

SCHEMA = "baseimages.updates/v1"
KINDS = ("any", "security")  # the kinds of waiting updates: every update, and the security suites' only


def utc_text(value: dt.datetime) -> str:
    """VALUE as JSON carries a time: `2026-12-06T08:00:00Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else utc_text(value)


@dataclass(frozen=True)
class DebianUpdate:
    package: str  # name, or name:arch when Multi-Arch: same
    installed: str
    candidate: str
    suite: str  # the suite the candidate comes from, e.g. bookworm-security
    security: bool
    archive: str  # the archive's URI
    first_seen: dt.datetime | None = None

    @property
    def key(self) -> str:
        return f"deb:{self.package}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "installed": self.installed,
            "candidate": self.candidate,
            "suite": self.suite,
            "security": self.security,
            "archive": self.archive,
            "first_seen": _time(self.first_seen),
        }


@dataclass(frozen=True)
class PythonUpdate:
    environment: str  # /opt/venv, /usr/local, ...
    name: str  # normalised
    installed: str
    candidate: str  # the newest final release on the index
    first_seen: dt.datetime | None = None

    @property
    def key(self) -> str:
        return f"py:{self.environment}:{self.name}"

    security = False  # the package index says nothing of security

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "name": self.name,
            "installed": self.installed,
            "candidate": self.candidate,
            "first_seen": _time(self.first_seen),
        }


@dataclass(frozen=True)
class PinnedDistribution:
    """A distribution a requirements file of the image pins: a newer release is no update of the image."""

    environment: str
    name: str
    installed: str
    newest: str | None  # on the index; None when the index does not have it

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "name": self.name, "installed": self.installed, "newest": self.newest}


Update = DebianUpdate | PythonUpdate


@dataclass(frozen=True)
class PlatformUpdates:
    platform: str
    digest: str  # the platform's image manifest
    debian: tuple[DebianUpdate, ...] = ()
    python: tuple[PythonUpdate, ...] = ()
    pinned: tuple[PinnedDistribution, ...] = ()
    sources: tuple[str, ...] = ()  # the apt sources read (`URI SUITE COMPONENT...`)
    skipped: tuple[str, ...] = ()  # sources not read, and why (a file: archive, another architecture)

    @property
    def updates(self) -> tuple[Update, ...]:
        return (*self.debian, *self.python)

    def of_kind(self, kind: str) -> tuple[Update, ...]:
        return self.updates if kind == "any" else tuple(u for u in self.updates if u.security)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "digest": self.digest,
            "debian": [u.to_dict() for u in self.debian],
            "python": [u.to_dict() for u in self.python],
            "pinned": [p.to_dict() for p in self.pinned],
            "sources": list(self.sources),
            "skipped": list(self.skipped),
        }


@dataclass(frozen=True)
class ImageUpdates:
    """One catalog image: its promoted build (`latest`) and the updates of each platform; or the error that
    stopped the look (an archive or the registry unreachable), or None for both when it is not promoted."""

    image: str
    reference: str
    digest: str | None = None  # None: no promoted build
    platforms: tuple[PlatformUpdates, ...] = ()
    error: str | None = None
    exit_code: int = 0  # the error's (3: a registry or an archive; 2: an apt sources file apt would refuse)

    @property
    def looked(self) -> bool:
        return self.digest is not None and self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "reference": self.reference,
            "digest": self.digest,
            "error": self.error,
            "platforms": [p.to_dict() for p in self.platforms],
        }


@dataclass(frozen=True)
class UpdatesReport:
    checked: dt.datetime
    images: tuple[ImageUpdates, ...]
    index: str = ""  # the Python package index read (credentials never shown)
    only_platforms: tuple[str, ...] = ()  # the platforms looked at, when not every platform of each image

    @property
    def installable(self) -> bool:
        return any(p.updates for image in self.images for p in image.platforms)

    @property
    def exit_code(self) -> int:
        """0, or the failed images' exit code: 3 (registry or archive) wins over any other."""
        codes = {image.exit_code for image in self.images if image.error is not None}
        return 3 if 3 in codes else max(codes, default=0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "checked": _time(self.checked),
            "index": self.index,
            "installable": self.installable,
            "images": [image.to_dict() for image in self.images],
        }
