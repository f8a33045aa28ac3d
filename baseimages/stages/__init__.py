"""The stages an image goes through, in order. A new capability is a new stage in this list (or an
observer of the scheduler's events): it then runs, shows in progress, the timeline and `--dry-run`."""

from __future__ import annotations

from .base import Gate, ImageContext, Pinned, Stage, Tools
from .build import Build, ResolveBase
from .checks import SmokeTest
from .contract import ContractTest
from .promote import Promote
from .sizes import CompareSizes
from .upload import UploadCandidate


def default_stages() -> list[Stage]:
    return [ResolveBase(), Build(), UploadCandidate(), SmokeTest(), ContractTest(), CompareSizes(), Promote()]


__all__ = [
    "Build",
    "CompareSizes",
    "ContractTest",
    "Gate",
    "ImageContext",
    "Pinned",
    "Promote",
    "ResolveBase",
    "SmokeTest",
    "Stage",
    "Tools",
    "UploadCandidate",
    "default_stages",
]
