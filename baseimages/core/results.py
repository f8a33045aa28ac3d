"""Result objects of a run, and their JSON form (`--report FILE`)."""

from __future__ import annotations

import datetime as dt
import json
import signal
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import NotificationError


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # a check: skipped where the catalog's `skips_allowed` accepts it
    DEGRADED = "degraded"  # a platform: every executed check passed, some were skipped (allowed, with reasons)


class ImageStatus(StrEnum):
    PLANNED = "planned"  # --dry-run
    TESTED = "tested"  # built and smoke-tested, not pushed (build, test)
    PROMOTED = "promoted"  # pushed, tested on every platform, tags moved
    UNCHANGED = "unchanged"  # skipped: its fingerprint is in the registry and fresh; nothing touched
    FAILED = "failed"  # its build, smoke tests or promotion failed
    BLOCKED = "blocked"  # not built: a parent failed


@dataclass
class CheckResult:
    name: str
    kind: str  # command | file | metadata | size
    status: Status
    detail: str = ""
    seconds: float = 0.0


@dataclass
class PlatformResult:
    platform: str
    checks: list[CheckResult] = field(default_factory=list)
    compressed_bytes: int | None = None
    seconds: float = 0.0
    parent_compressed_bytes: int | None = None  # the parent's, where the size budget holds growth over it
    previous_bytes: int | None = None  # this platform's compressed size in the previous build (see stages.sizes)
    builder: str = ""  # the buildx builder that built this platform (`default`: no --builder); "" when not built here

    @property
    def executed(self) -> int:
        return sum(c.status is not Status.SKIPPED for c in self.checks)

    @property
    def status(self) -> Status:
        """Failed on any failed check, and when no check ran at all (a platform is never passed empty);
        degraded when checks were skipped; passed otherwise."""
        if self.executed == 0 or any(c.status is Status.FAILED for c in self.checks):
            return Status.FAILED
        if any(c.status is Status.SKIPPED for c in self.checks):
            return Status.DEGRADED
        return Status.PASSED

    @property
    def problem(self) -> str:
        """Why the platform is not plainly passed: "" when it is."""
        if self.executed == 0:
            return "no check ran"
        skipped = [c for c in self.checks if c.status is Status.SKIPPED]
        if self.status is Status.DEGRADED:
            return f"{len(skipped)} check(s) skipped: {skipped[0].detail}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["problem"] = self.problem
        return data


@dataclass
class ImageResult:
    name: str
    repository: str
    status: ImageStatus = ImageStatus.PLANNED
    version: str = ""
    digest: str | None = None
    parent_ref: str | None = None  # what BASE_IMAGE was set to (pinned by digest)
    platforms: list[PlatformResult] = field(default_factory=list)
    builders: dict[str, str] = field(default_factory=dict)  # platform -> the builder that built it in this run
    tags: list[str] = field(default_factory=list)  # tags moved to DIGEST in this run
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall time
    timeline: dict[str, tuple[float, float]] = field(default_factory=dict)  # phase -> (start, end) in the run
    # platform -> phase -> (start, end): a stage's per-platform work (smoke tests run every platform at once)
    platform_timeline: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    previous_digest: str | None = None  # what `latest` named before this run (the sizes' comparison)
    reasons: list[str] = field(default_factory=list)  # why it was built or skipped
    fingerprint: str | None = None
    error: str | None = None
    exit_code: int = 0  # of the error that failed this image (1 build/smoke, 3 registry, ...)
    log: str = ""  # tail of the buildx output of a failed build
    signed: bool | None = None  # pushed: whether its digest was signed (None: not pushed in this run)
    attestations: list[str] = field(default_factory=list)  # predicate types attached in this run
    registry_build_time: dt.datetime | None = None  # when the build its version tag named before the run was made
    # What changed since the build its promotion replaces, per platform: the JSON document of
    # baseimages.changelog (schema `baseimages.changelog/v1`); None when not computed (not pushed, unreadable).
    changelog: dict[str, Any] | None = None

    @property
    def smoke_passed(self) -> bool:
        return bool(self.platforms) and all(p.status is not Status.FAILED for p in self.platforms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repository": self.repository,
            "version": self.version,
            "status": self.status.value,
            "digest": self.digest,
            "parent_ref": self.parent_ref,
            "platforms": [p.to_dict() for p in self.platforms],
            "builders": self.builders,
            "tags": self.tags,
            "reasons": self.reasons,
            "fingerprint": self.fingerprint,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "timeline": {k: list(v) for k, v in self.timeline.items()},
            "platform_timeline": {p: {k: list(v) for k, v in t.items()} for p, t in self.platform_timeline.items()},
            "previous_digest": self.previous_digest,
            "error": self.error,
            "exit_code": self.exit_code,
            "log": self.log,
            "signed": self.signed,
            "attestations": self.attestations,
            "registry_build_time": self.registry_build_time.isoformat() if self.registry_build_time else None,
            "changelog": self.changelog,
        }


@dataclass
class Notification:
    """One notification of an image's promotion (`notify-url`): where it went (URL, credentials redacted),
    in which FORMAT, and whether it was DELIVERED (else ERROR says why, after retries)."""

    image: str
    url: str
    format: str
    delivered: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunReport:
    command: str
    registry: str
    started: dt.datetime
    finished: dt.datetime | None = None
    images: list[ImageResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what went wrong without failing the run (a Pushgateway down)
    logs: dict[str, Path] = field(default_factory=dict)  # image -> its whole build log written in this run (log-dir)
    notifications: list[Notification] = field(default_factory=list)  # sent after the run (notify-url)
    interrupted: str | None = None  # the signal that stopped the run (SIGINT, SIGTERM); None: it ran to its end
    updates: dict[str, Any] | None = None  # refresh `updates`: the look's document (schema baseimages.updates/v1)

    @property
    def notify_failed(self) -> list[Notification]:
        """The notifications that could not be delivered."""
        return [n for n in self.notifications if not n.delivered]

    @property
    def ok(self) -> bool:
        return all(i.status not in (ImageStatus.FAILED, ImageStatus.BLOCKED) for i in self.images)

    @property
    def exit_code(self) -> int:
        """0 when every image passed; 3 when a registry failure stopped one; 1 for other failures; 6 when
        everything else succeeded but a notification could not be delivered (a failure's code wins); 128 +
        the signal when a signal stopped the run (130 SIGINT, 143 SIGTERM)."""
        if self.interrupted is not None:
            return 128 + signal.Signals[self.interrupted].value
        codes = {i.exit_code or 1 for i in self.images if i.status is ImageStatus.FAILED}
        if not codes and self.ok:
            return NotificationError.exit_code if self.notify_failed else 0
        return 3 if 3 in codes else (max(codes) if codes else 1)

    def image(self, name: str) -> ImageResult | None:
        return next((i for i in self.images if i.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "registry": self.registry,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "images": [i.to_dict() for i in self.images],
            "warnings": self.warnings,
            "interrupted": self.interrupted,
            "logs": {name: str(path) for name, path in self.logs.items()},
            "notifications": [n.to_dict() for n in self.notifications],
            "updates": self.updates,
        }

    def write(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
