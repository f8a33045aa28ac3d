"""A hand-built look for installable updates (baseimages.updates.UpdatesReport), with known first-seen times,
for the tests of what the reports and the metrics show of it."""

from __future__ import annotations

import datetime as dt

from baseimages.updates import DebianUpdate, ImageUpdates, PlatformUpdates, PythonUpdate, UpdatesReport

CHECKED = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
DAY = 86400.0
AMD, ARM = "linux/amd64", "linux/arm64"
SECURITY = DebianUpdate(
    "libssl3", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1", "bookworm-security", True,
    "http://deb.debian.org/debian-security", CHECKED - dt.timedelta(days=2),
)  # fmt: skip
POINT = DebianUpdate(
    "tzdata", "2024a-0", "2025b-0", "bookworm-updates", False, "http://deb.debian.org/debian",
    CHECKED - dt.timedelta(days=10),
)  # fmt: skip
PYTHON = PythonUpdate("/opt/venv", "rich", "13.7.1", "13.9.4", CHECKED - dt.timedelta(days=3))

Platforms = dict[str, tuple[DebianUpdate | PythonUpdate, ...]]


def look(registry: str = "registry.test:5000", **images: Platforms | str | None) -> UpdatesReport:
    """A look at IMAGES: name -> {platform: its updates}, or the look's error (a str), or None (not promoted)."""
    found = []
    for name, platforms in images.items():
        reference = f"{registry}/t/{name}:latest"
        if platforms is None:
            found.append(ImageUpdates(name, reference))
        elif isinstance(platforms, str):
            found.append(ImageUpdates(name, reference, error=platforms, exit_code=3))
        else:
            found.append(ImageUpdates(name, reference, "sha256:" + "a" * 64, tuple(
                PlatformUpdates(platform, "sha256:" + "b" * 64,
                                tuple(u for u in updates if isinstance(u, DebianUpdate)),
                                tuple(u for u in updates if isinstance(u, PythonUpdate)))
                for platform, updates in platforms.items()
            )))  # fmt: skip
    return UpdatesReport(CHECKED, tuple(found), "https://pypi.org/simple")
