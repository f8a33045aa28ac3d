"""The updates report as text for people: per image its promoted build, per platform each installable update
(`!` from a security suite, `~` any other) with how long it has waited, and the pinned distributions. And
what the run reports (Markdown, HTML) show of it: a row per waiting update (`update_rows`), one line for an
image with none (`image_note`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .model import DebianUpdate, ImageUpdates, PlatformUpdates, Update, UpdatesReport


def text_lines(report: UpdatesReport) -> list[str]:
    lines: list[str] = []
    for image in report.images:
        lines += _image(image, report.checked)
    updates = sum(len(p.updates) for image in report.images for p in image.platforms)
    failed = sum(1 for image in report.images if image.error is not None)
    summary = f"{updates} installable update(s) in {len(report.images)} image(s)"
    return [*lines, summary + (f"; {failed} image(s) could not be read" if failed else "")]


def _image(image: ImageUpdates, now: dt.datetime) -> list[str]:
    if image.error is not None:
        return [f"{image.image}: error: {image.error}"]
    if image.digest is None:
        return [f"{image.image}: not promoted yet ({image.reference} does not exist)"]
    lines = [f"{image.image}: {image.reference} ({image.digest.removeprefix('sha256:')[:12]})"]
    for platform in image.platforms:
        lines += _platform(platform, now)
    return lines


def _platform(platform: PlatformUpdates, now: dt.datetime) -> list[str]:
    security = sum(1 for u in platform.debian if u.security)
    if not platform.updates:
        head = "no update installable"
    else:
        head = f"{len(platform.debian)} Debian update(s) ({security} security), {len(platform.python)} Python update(s)"
    lines = [f"  {platform.platform}: {head}"]
    lines += [f"    {_update(update, now)}" for update in platform.updates]
    lines += [
        f"    = {pin.name} {pin.installed} pinned ({pin.environment}; newest {pin.newest or 'not on the index'})"
        for pin in platform.pinned
    ]
    lines += [f"    (skipped {why})" for why in platform.skipped]
    return lines


def _update(update: Update, now: dt.datetime) -> str:
    mark = "!" if update.security else "~"
    if isinstance(update, DebianUpdate):
        name, where = update.package, update.suite
    else:
        name, where = update.name, f"python {update.environment}"
    since = f", waiting {age(now - update.first_seen)}" if update.first_seen is not None else ""
    return f"{mark} {name} {update.installed} -> {update.candidate} ({where}{since})"


def age(delta: dt.timedelta) -> str:
    """`3d 2h`, `5h 12m`, `7m`."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds >= 86400:
        return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 60}m"


@dataclass(frozen=True)
class UpdateRow:
    """One waiting update of one platform, as a report's table row shows it."""

    platform: str
    package: str  # `openssl`; a Python distribution with its environment: `rich (/opt/venv)`
    installed: str
    candidate: str
    source: str  # the suite the candidate comes from; `index` for a Python distribution
    security: bool
    first_seen: dt.datetime | None

    def since(self, now: dt.datetime) -> str:
        """`2026-12-05 04:00 UTC (1d 4h)`: when it was first seen and how long it had waited at NOW."""
        if self.first_seen is None:
            return "-"
        return f"{self.first_seen.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC ({age(now - self.first_seen)})"


def update_rows(image: ImageUpdates) -> list[UpdateRow]:
    """IMAGE's waiting updates, platform by platform, the security suites' first."""
    rows = []
    for platform in image.platforms:
        for update in sorted(platform.updates, key=lambda u: not u.security):
            if isinstance(update, DebianUpdate):
                name, source = update.package, update.suite
            else:
                name, source = f"{update.name} ({update.environment})", "index"
            rows.append(
                UpdateRow(
                    platform.platform,
                    name,
                    update.installed,
                    update.candidate,
                    source,
                    update.security,
                    update.first_seen,
                )
            )
    return rows


def image_note(image: ImageUpdates) -> str | None:
    """The one line an image with no update to list gets (its look's error, not promoted, none waiting);
    None when updates wait for it."""
    if image.error is not None:
        return f"look failed: {image.error}"
    if image.digest is None:
        return f"not promoted yet ({image.reference} does not exist)"
    return None if any(p.updates for p in image.platforms) else "no installable update"
