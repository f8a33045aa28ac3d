"""What changed between two images, per platform, as typed data: Debian packages, Python distributions,
the image config, the files and the compressed size. `Changelog.to_dict()` is the JSON document (schema
`baseimages.changelog/v1`, described in docs/changelog.md); render.py writes it as text and Markdown.

A platform's state says what kind of answer it is:

- `unchanged`: the same manifest digest in both images (nothing was read);
- `changed`: at least one package, distribution, file or config key other than a build label differs;
- `rebuilt`: another manifest with the same contents: the same packages, distributions and files (path,
  type, mode, owner, size, content; not their dates) and the same config but for the build labels
  (`BUILD_LABELS`: the build date, the revision, the base's name and digest, the input fingerprint);
- `added` / `removed`: only the new / only the old image has the platform;
- `first`: there is no old image (a first promotion): every item is listed as added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA = "baseimages.changelog/v1"
FILES_LISTED = 50  # paths listed per platform; the counts are complete
BUILD_LABELS = frozenset(
    {
        "org.opencontainers.image.created",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.base.name",
        "org.opencontainers.image.base.digest",
        "io.baseimages.fingerprint",
    }
)


class State(StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    REBUILT = "rebuilt"
    ADDED = "added"
    REMOVED = "removed"
    FIRST = "first"


def _change(old: str | None, new: str | None) -> str:
    return "added" if old is None else "removed" if new is None else "changed"


@dataclass(frozen=True)
class PackageChange:
    """A Debian package (`name`, or `name:arch` when Multi-Arch: same) added, removed or of another version."""

    name: str
    old: str | None  # version; None: not installed in the old image
    new: str | None

    @property
    def change(self) -> str:
        return _change(self.old, self.new)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "change": self.change, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class PythonChange:
    """A Python distribution of one environment (`/usr/local`, `/opt/venv`, ...), by its normalised name."""

    environment: str
    name: str
    old: str | None
    new: str | None

    @property
    def change(self) -> str:
        return _change(self.old, self.new)

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "name": self.name,
            "change": self.change,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True)
class ConfigChange:
    """One key of the image config: `field` is env, label, port (each by `name`), or entrypoint, cmd, user,
    workdir (`name` empty). Values are text: lists (entrypoint, cmd) as JSON, a port as `exposed`."""

    field: str
    name: str
    old: str | None
    new: str | None

    @property
    def change(self) -> str:
        return _change(self.old, self.new)

    @property
    def build_label(self) -> bool:
        """A label every build sets anew (BUILD_LABELS): a change of it alone is no change inside."""
        return self.field == "label" and self.name in BUILD_LABELS

    @property
    def key(self) -> str:
        return f"{self.field} {self.name}" if self.name else self.field

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "name": self.name, "change": self.change, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class FileChanges:
    """The files (any entry: file, link, folder, device) of a platform added, removed or changed, counted;
    `paths` lists the first FILES_LISTED of them in path order as (change, path)."""

    added: int = 0
    removed: int = 0
    changed: int = 0
    paths: tuple[tuple[str, str], ...] = ()

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed

    @classmethod
    def between(cls, old: dict[str, str], new: dict[str, str]) -> FileChanges:
        """Compare two trees (path -> signature, see changelog.layers)."""
        added = sorted(new.keys() - old.keys())
        removed = sorted(old.keys() - new.keys())
        changed = sorted(path for path in old.keys() & new.keys() if old[path] != new[path])
        marked = sorted(
            [("added", p) for p in added] + [("removed", p) for p in removed] + [("changed", p) for p in changed],
            key=lambda item: item[1],
        )
        return cls(len(added), len(removed), len(changed), tuple(marked[:FILES_LISTED]))

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> FileChanges:
        paths = tuple((str(p["change"]), str(p["path"])) for p in doc.get("paths") or [])
        return cls(int(doc.get("added", 0)), int(doc.get("removed", 0)), int(doc.get("changed", 0)), paths)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "paths": [{"change": change, "path": path} for change, path in self.paths],
        }


@dataclass(frozen=True)
class PlatformChangelog:
    platform: str
    state: State
    old_digest: str | None  # the platform's image manifest in each image; None where it has none
    new_digest: str | None
    old_size: int | None  # compressed bytes: config + layers as stored
    new_size: int | None
    packages: tuple[PackageChange, ...] = ()
    python: tuple[PythonChange, ...] = ()
    config: tuple[ConfigChange, ...] = ()
    files: FileChanges = field(default_factory=FileChanges)

    @property
    def differs(self) -> bool:
        return self.state is not State.UNCHANGED

    @classmethod
    def from_dict(cls, platform: str, doc: dict[str, Any]) -> PlatformChangelog:
        """One platform of a JSON document (`to_dict`'s form) as typed data again."""
        size = doc.get("size") or {}
        return cls(
            platform,
            State(doc["state"]),
            doc.get("old_digest"),
            doc.get("new_digest"),
            size.get("old"),
            size.get("new"),
            tuple(PackageChange(c["name"], c.get("old"), c.get("new")) for c in doc.get("packages") or []),
            tuple(
                PythonChange(c["environment"], c["name"], c.get("old"), c.get("new")) for c in doc.get("python") or []
            ),
            tuple(ConfigChange(c["field"], c["name"], c.get("old"), c.get("new")) for c in doc.get("config") or []),
            FileChanges.from_dict(doc.get("files") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "old_digest": self.old_digest,
            "new_digest": self.new_digest,
            "size": {"old": self.old_size, "new": self.new_size},
            "packages": [change.to_dict() for change in self.packages],
            "python": [change.to_dict() for change in self.python],
            "config": [change.to_dict() for change in self.config],
            "files": self.files.to_dict(),
        }


@dataclass(frozen=True)
class ImageVersion:
    reference: str  # as asked, e.g. localhost:5000/team/uv:1.0.0
    digest: str  # of what the reference named (an index, or a single image manifest)

    def to_dict(self) -> dict[str, str]:
        return {"reference": self.reference, "digest": self.digest}


@dataclass(frozen=True)
class Changelog:
    """Per platform, what changed from OLD to NEW; OLD is None for a first promotion."""

    old: ImageVersion | None
    new: ImageVersion
    platforms: dict[str, PlatformChangelog] = field(default_factory=dict)

    @property
    def first(self) -> bool:
        return self.old is None

    @property
    def differs(self) -> bool:
        """Whether anything differs: what `diff`'s exit code says (a first promotion differs)."""
        return self.first or any(p.differs for p in self.platforms.values())

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Changelog:
        """The JSON document of schema `baseimages.changelog/v1` (`to_dict`'s form) as typed data again;
        ValueError when it is not one."""
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document (schema {doc.get('schema')!r})")
        try:
            old = doc.get("old")
            previous = None if old is None else ImageVersion(old["reference"], old["digest"])
            platforms = {name: PlatformChangelog.from_dict(name, p) for name, p in (doc.get("platforms") or {}).items()}
            return cls(previous, ImageVersion(doc["new"]["reference"], doc["new"]["digest"]), platforms)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a {SCHEMA} document: {exc!r}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "old": None if self.old is None else self.old.to_dict(),
            "new": self.new.to_dict(),
            "first": self.first,
            "differs": self.differs,
            "platforms": {name: self.platforms[name].to_dict() for name in sorted(self.platforms)},
        }
