"""The stages an image goes through, in order. A new capability is a new stage in this list (or an
observer of the scheduler's events): it then runs, shows in progress, the timeline and `--dry-run`."""

from __future__ import annotations

from .base import Gate, ImageContext, Pinned, Stage, Tools, Warming
from .build import Build, ResolveBase
from .changelog import Changelog
from .checks import SmokeTest
from .contract import ContractTest
from .identify import Identify
from .promote import Converge, MoveSettled, Promote
from .reuse import ReuseCached
from .sbom import AttachSbom
from .sign import RecordTests, Sign
from .sizes import CompareSizes
from .upload import UploadCandidate
from .warm import WarmCache


def default_stages() -> list[Stage]:
    return [
        WarmCache(),  # early: while the parent still builds
        ResolveBase(),
        ReuseCached(),
        Build(),
        Identify(),
        UploadCandidate(),
        Changelog(),  # beside the checks
        SmokeTest(),  # beside the contract
        ContractTest(),
        CompareSizes(),
        Sign(),
        AttachSbom(),
        RecordTests(),
        Promote(),
    ]


__all__ = [
    "AttachSbom",
    "Build",
    "Changelog",
    "CompareSizes",
    "ContractTest",
    "Converge",
    "Gate",
    "Identify",
    "MoveSettled",
    "ImageContext",
    "Pinned",
    "Promote",
    "RecordTests",
    "ResolveBase",
    "ReuseCached",
    "Sign",
    "SmokeTest",
    "Stage",
    "Tools",
    "UploadCandidate",
    "WarmCache",
    "Warming",
    "default_stages",
]
