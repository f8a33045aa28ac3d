"""What a run reports while it goes: one event per image (and platform) as it enters a phase.

The scheduler alone emits them; progress lines, the report's timeline and any other observer read the
same stream (as BuildKit's front ends all observe its vertex events).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    WAITING = "waiting"
    RESOLVING = "resolving base"
    BUILDING = "building"
    IDENTIFYING = "identifying"
    PUSHING = "pushing"
    SMOKE_TESTING = "smoke testing"
    CONTRACT_TESTING = "contract testing"
    SIGNING = "signing"
    ATTESTING = "attesting"
    COMPARING_SIZES = "comparing sizes"
    PROMOTING = "promoting"
    RETRYING = "retrying"
    PROMOTED = "promoted"
    UNCHANGED = "unchanged"
    TESTED = "tested"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Event:
    image: str
    phase: Phase
    elapsed: float  # seconds since the run started
    platform: str | None = None
    detail: str = ""


EventSink = Callable[[Event], None]
