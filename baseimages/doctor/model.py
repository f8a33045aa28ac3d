"""What doctor's checks share: a finding, its verdict, the report, and the context every check reads."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.runs import StartedOf, process_started

if TYPE_CHECKING:
    from ..catalog.plan import Plan
    from ..engine.probe import EngineFacts, EngineProbe
    from ..registry.client import RegistryClient
    from ..settings.config import Settings

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")


class Verdict(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """One thing doctor looked at. CHECK names the check (`buildx`, `context`, ...), SUBJECT what it looked
    at (an image, a builder, a registry; "" for the machine), FIX what to do when it is not ok, DETAILS
    supporting lines (the largest files, the other builders)."""

    check: str
    verdict: Verdict
    summary: str
    fix: str = ""
    subject: str = ""
    details: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The finding as a person reads it: a verdict column, the check, the summary, then its lines."""
        label = "FAIL" if self.verdict is Verdict.FAIL else self.verdict.value
        where = f"{self.check} {self.subject}".strip()
        out = [f"{label:<5} {where:<32} {self.summary}"]
        out += [f"{'':<6}{detail}" for detail in self.details]
        if self.fix:
            out.append(f"{'':<6}fix: {self.fix}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "fix": self.fix,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class DoctorReport:
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        """0 when nothing failed (warnings included), 1 on any fail."""
        return 1 if any(f.verdict is Verdict.FAIL for f in self.findings) else 0

    def count(self, verdict: Verdict) -> int:
        return sum(f.verdict is verdict for f in self.findings)

    def summary(self) -> str:
        return ", ".join(f"{self.count(v)} {v.value}" for v in Verdict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "counts": {v.value: self.count(v) for v in Verdict},
            "exit_code": self.exit_code,
        }


@dataclass
class DoctorContext:
    """What every check may use. ENGINE and REGISTRY are injectable (tests, other tooling); FACTS is filled
    by the engine check (None: dockerd did not answer, and the checks that need it say so)."""

    settings: Settings
    plan: Plan
    engine: EngineProbe
    registry: Callable[[tuple[str, ...]], RegistryClient]  # a client trying these mirrors for Docker Hub
    binfmt_dir: Path = BINFMT_DIR
    host_arch: str = ""  # this machine's, as platform.machine() says it (x86_64, aarch64)
    free_bytes: Callable[[Path], int | None] = field(default=lambda path: free_bytes(path))
    temp_dir: Path | None = None  # where runs keep their temporary folders (None: the temp dir)
    started_of: StartedOf = field(default=process_started)  # a pid's start time: which runs are dead
    facts: EngineFacts | None = None  # filled by the engine check
    engine_error: str = ""
    memo: dict[str, Any] = field(default_factory=dict)  # answers several checks use, asked once

    @property
    def platforms(self) -> tuple[str, ...]:
        """Every platform a selected image builds for, in catalog order."""
        seen: dict[str, None] = {}
        for image in self.plan.images:
            seen.update(dict.fromkeys(image.platforms))
        return tuple(seen)


def free_bytes(path: Path) -> int | None:
    """Bytes free for an unprivileged writer on the filesystem holding PATH; None when PATH is not here."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


Check = Callable[[DoctorContext], Sequence[Finding]]
FindingSink = Callable[[Finding], None]
