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


def _parsed_time(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


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

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> UpdatesReport:
        """The JSON document (`to_dict`'s form, e.g. a run report's `updates`) as typed data again; ValueError
        when it is not one. The images' exit codes and `only_platforms` are not in the document."""
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document")
        try:
            images = tuple(_image(image) for image in doc["images"])
            checked = _parsed_time(doc["checked"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a {SCHEMA} document: {exc!r}") from None
        if checked is None:
            raise ValueError(f"not a {SCHEMA} document: no checked time")
        return cls(checked, images, str(doc.get("index") or ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "checked": _time(self.checked),
            "index": self.index,
            "installable": self.installable,
            "images": [image.to_dict() for image in self.images],
        }


def _image(doc: dict[str, Any]) -> ImageUpdates:
    error = doc.get("error")
    return ImageUpdates(
        str(doc["image"]),
        str(doc["reference"]),
        doc.get("digest"),
        tuple(_platform(p) for p in doc.get("platforms") or []),
        None if error is None else str(error),
    )


def _platform(doc: dict[str, Any]) -> PlatformUpdates:
    debian = tuple(
        DebianUpdate(
            str(u["package"]),
            str(u["installed"]),
            str(u["candidate"]),
            str(u["suite"]),
            bool(u["security"]),
            str(u["archive"]),
            _parsed_time(u.get("first_seen")),
        )
        for u in doc.get("debian") or []
    )
    python = tuple(
        PythonUpdate(
            str(u["environment"]),
            str(u["name"]),
            str(u["installed"]),
            str(u["candidate"]),
            _parsed_time(u.get("first_seen")),
        )
        for u in doc.get("python") or []
    )
    pinned = tuple(
        PinnedDistribution(str(p["environment"]), str(p["name"]), str(p["installed"]), p.get("newest"))
        for p in doc.get("pinned") or []
    )
    sources = tuple(str(s) for s in doc.get("sources") or [])
    skipped = tuple(str(s) for s in doc.get("skipped") or [])
    return PlatformUpdates(str(doc["platform"]), str(doc["digest"]), debian, python, pinned, sources, skipped)
