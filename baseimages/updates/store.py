"""How long installable updates have been waiting: a small JSON file (the `updates-state` setting) that records
when each update of each image and platform was first seen, kept from one look to the next.

An update is the pair (package, candidate version): the time it was first seen stays while later looks find
the same candidate; a new candidate (a newer fix published) starts again from the look that found it, and an
update that a look no longer finds (the image rebuilt with it, or the archive withdrew it) is forgotten. An
image that was not looked at (left out of the selection, or that could not be read) keeps what was known.

`waiting(state, now)` gives, per image, platform and kind (`any`, `security`), how many updates wait and for how
many seconds the oldest of them has: the figures of the metrics `baseimages_update_waiting_seconds` and
`baseimages_updates_installable`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from .model import KINDS, ImageUpdates, PlatformUpdates, Update, UpdatesReport, utc_text

STATE_SCHEMA = "baseimages.updates-state/v1"
WAITING_METRIC = "baseimages_update_waiting_seconds"
INSTALLABLE_METRIC = "baseimages_updates_installable"


@dataclass(frozen=True)
class Seen:
    candidate: str
    first_seen: dt.datetime
    security: bool


Platforms = dict[str, dict[str, Seen]]  # platform -> update key (deb:NAME, py:ENV:NAME) -> when first seen


@dataclass(frozen=True)
class WaitingState:
    images: dict[str, Platforms]

    def first_seen(self, image: str, platform: str, update: Update) -> dt.datetime | None:
        seen = self.images.get(image, {}).get(platform, {}).get(update.key)
        return seen.first_seen if seen is not None and seen.candidate == update.candidate else None


@dataclass(frozen=True)
class Waiting:
    """One series of the waiting metrics: how many updates of KIND wait, the oldest for SECONDS (0: none)."""

    image: str
    platform: str
    kind: str
    seconds: float
    count: int


def observe(state: WaitingState, report: UpdatesReport) -> WaitingState:
    """STATE after REPORT's look: the images it looked at replaced by what it found, first-seen times kept (only
    the platforms it looked at, when it looked at some only)."""
    images = dict(state.images)
    for image in report.images:
        if image.error is not None:
            continue
        if image.digest is None:  # not promoted (any more): nothing waits for it
            images.pop(image.image, None)
            continue
        looked = {p.platform: _platform(state, image, p, report.checked) for p in image.platforms}
        kept = images.get(image.image, {}) if report.only_platforms else {}  # the platforms not looked at
        images[image.image] = {**{k: v for k, v in kept.items() if k not in report.only_platforms}, **looked}
    return WaitingState(images)


def _platform(state: WaitingState, image: ImageUpdates, platform: PlatformUpdates, now: dt.datetime) -> dict[str, Seen]:
    return {
        update.key: Seen(
            update.candidate, state.first_seen(image.image, platform.platform, update) or now, update.security
        )  # fmt: skip
        for update in platform.updates
    }


def annotated(report: UpdatesReport, state: WaitingState) -> UpdatesReport:
    """REPORT with each update's first-seen time from STATE (None where STATE does not know it)."""

    def platform(image: str, p: PlatformUpdates) -> PlatformUpdates:
        return replace(
            p,
            debian=tuple(replace(u, first_seen=state.first_seen(image, p.platform, u)) for u in p.debian),
            python=tuple(replace(u, first_seen=state.first_seen(image, p.platform, u)) for u in p.python),
        )

    images = tuple(replace(i, platforms=tuple(platform(i.image, p) for p in i.platforms)) for i in report.images)
    return replace(report, images=images)


def found(report: UpdatesReport) -> WaitingState:
    """The waiting state of what REPORT's look found, from its updates' first-seen times (as `remember`
    annotates them; the look's own time where one is not known): the images it read, none other."""
    return WaitingState(
        {
            image.image: {
                p.platform: {u.key: Seen(u.candidate, u.first_seen or report.checked, u.security) for u in p.updates}
                for p in image.platforms
            }
            for image in report.images
            if image.looked
        }
    )


def waiting(state: WaitingState, now: dt.datetime) -> tuple[Waiting, ...]:
    """Per image, platform and kind (`any`, `security`): the count of waiting updates and the age of the oldest
    in seconds (0 when none waits), for every platform STATE knows."""
    found = []
    for image, platforms in sorted(state.images.items()):
        for platform, updates in sorted(platforms.items()):
            for kind in KINDS:
                times = [seen.first_seen for seen in updates.values() if kind == "any" or seen.security]
                oldest = max(((now - first).total_seconds() for first in times), default=0.0)
                found.append(Waiting(image, platform, kind, max(oldest, 0.0), len(times)))
    return tuple(found)


def metric_samples(state: WaitingState, now: dt.datetime) -> list[tuple[str, dict[str, str], float]]:
    """The samples of the gauges WAITING_METRIC and INSTALLABLE_METRIC, labelled image, platform and kind, for
    every platform STATE knows (0 where nothing waits): (name, labels, value)."""
    samples: list[tuple[str, dict[str, str], float]] = []
    for figure in waiting(state, now):
        labels = {"image": figure.image, "platform": figure.platform, "kind": figure.kind}
        samples += [(WAITING_METRIC, labels, figure.seconds), (INSTALLABLE_METRIC, labels, float(figure.count))]
    return samples


def load_state(path: Path) -> WaitingState:
    """The state in PATH; empty when there is no such file. A ConfigError names a file that is not one."""
    try:
        data: Any = json.loads(path.read_text())
    except FileNotFoundError:
        return WaitingState({})
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "", f"not a readable updates state ({exc}); remove it to start afresh") from None
    try:
        if data.get("schema") != STATE_SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, not {STATE_SCHEMA}")
        images = {
            image: {
                platform: {key: _seen(entry) for key, entry in updates.items()}
                for platform, updates in platforms.items()
            }
            for image, platforms in data["images"].items()
        }
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(str(path), "images", f"not an updates state ({exc}); remove it to start afresh") from None
    return WaitingState(images)


def _seen(entry: dict[str, Any]) -> Seen:
    first = dt.datetime.fromisoformat(str(entry["first_seen"]).replace("Z", "+00:00"))
    return Seen(str(entry["candidate"]), first, bool(entry["security"]))


def save_state(path: Path, state: WaitingState) -> None:
    """Write STATE to PATH atomically (a reader sees the old file or the new one, never half of one)."""
    data = {
        "schema": STATE_SCHEMA,
        "images": {
            image: {
                platform: {key: _entry(seen) for key, seen in sorted(updates.items())}
                for platform, updates in sorted(platforms.items())
            }
            for image, platforms in sorted(state.images.items())
        },
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot write the updates state there ({exc})") from None
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(data, file, indent=2)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _entry(seen: Seen) -> dict[str, Any]:
    return {"candidate": seen.candidate, "first_seen": utc_text(seen.first_seen), "security": seen.security}


def remember(path: Path, report: UpdatesReport) -> tuple[UpdatesReport, WaitingState]:
    """Record REPORT's look in the state at PATH; REPORT with each update's first-seen time, and the new state."""
    state = observe(load_state(path), report)
    save_state(path, state)
    return annotated(report, state), state
