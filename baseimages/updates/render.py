"""The updates report as text for people: per image its promoted build, per platform each installable update
(`!` from a security suite, `~` any other) with how long it has waited, and the pinned distributions."""

from __future__ import annotations

import datetime as dt

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
    since = f", waiting {_age(now - update.first_seen)}" if update.first_seen is not None else ""
    return f"{mark} {name} {update.installed} -> {update.candidate} ({where}{since})"


def _age(delta: dt.timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds >= 86400:
        return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 60}m"
