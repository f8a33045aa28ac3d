"""What a run reports while it goes: one event per image (and platform) as it enters a phase.

The scheduler alone emits them; progress lines, the report's timeline and any other observer read the
same stream (as BuildKit's front ends all observe its vertex events).

An event's meaning is in its fields; `detail` is text for people only, never parsed. A retry carries a
typed `RetryNotice` (`retry`); an event that concerns no catalog image (a registry request for an
external base) has `image` None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .retry import RetryNotice


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
    READING_CHANGELOG = "reading changelog"
    PROMOTING = "promoting"
    RETRYING = "retrying"
    PROMOTED = "promoted"
    UNCHANGED = "unchanged"
    TESTED = "tested"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Event:
    image: str | None  # the catalog image; None: no image is concerned (a run-wide registry retry)
    phase: Phase
    elapsed: float  # seconds since the run started
    platform: str | None = None
    detail: str = ""  # for people: shown, never parsed
    retry: RetryNotice | None = None  # set when the event reports a retry


EventSink = Callable[[Event], None]
