"""What the reports people read show of a RunReport, whatever their format (Markdown, HTML, the
terminal): one row per image and platform, and the failures with their output.

Durations are the JSON report's own numbers (its `seconds`, rounded to hundredths as there): a phase of
the whole image (build, push, promote, ...) is the same on each of its platforms, except the smoke
tests, which run per platform (the platform's `seconds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.results import ImageResult, ImageStatus, PlatformResult, RunReport, Status
from ..updates import UpdatesReport

# The phases of the pipeline in their order; a phase the report has that is not here goes after them.
PHASE_ORDER = ("resolve", "build", "push", "smoke", "contract", "sizes", "promote")
MB = 1_000_000


@dataclass(frozen=True)
class Row:
    image: str
    platform: str
    builder: str  # the builder that built the platform in this run; "-" when it was not built here
    status: str  # passed | degraded | failed | skipped-unchanged | blocked | tested | planned
    digest: str | None
    size: int | None  # compressed bytes
    previous: int | None  # the previous build's compressed bytes
    durations: dict[str, float]  # phase -> seconds, rounded as in the JSON report
    reason: str

    @property
    def size_text(self) -> str:
        return "-" if self.size is None else f"{self.size / MB:.1f} MB"

    @property
    def change_text(self) -> str:
        if self.size is None or self.previous is None:
            return "-"
        delta = self.size - self.previous
        if delta == 0:
            return "±0"
        percent = f" ({delta / self.previous:+.1%})" if self.previous else ""
        return f"{delta / MB:+.1f} MB{percent}"

    @property
    def total(self) -> float:
        return round(sum(self.durations.values()), 2)


@dataclass(frozen=True)
class Failure:
    image: str
    title: str  # one line: the image's error
    checks: list[tuple[str, str, str]]  # (platform, check, its output) of each failed check
    log: str  # the excerpt of the failed build's output ("" when no build failed)
    log_file: Path | None  # the whole build log, when written (--log-dir)


def short_digest(digest: str | None) -> str:
    return "-" if not digest else digest[: len("sha256:") + 12]


def seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def phases(report: RunReport) -> list[str]:
    """The phases that ran in REPORT, in pipeline order."""
    seen = {key for image in report.images for key in image.seconds}
    return [p for p in PHASE_ORDER if p in seen] + sorted(seen - set(PHASE_ORDER))


def rows(report: RunReport) -> list[Row]:
    """One row per image and platform; an image with no platform result (unchanged, blocked or failed
    before its tests) gets one row, for the platforms it would have."""
    out: list[Row] = []
    for image in report.images:
        reason = "; ".join(image.reasons) if image.reasons else ""
        if image.status is ImageStatus.BLOCKED and image.error:
            reason = f"{reason}; {image.error}" if reason else image.error
        elif image.status is ImageStatus.FAILED:
            reason = f"{reason}; failed: see the failures" if reason else "failed: see the failures"
        image_seconds = {key: round(value, 2) for key, value in image.seconds.items()}
        if not image.platforms:
            builders = ", ".join(sorted(set(image.builders.values()))) or "-"
            row = Row(
                image.name, "all", builders, _image_status(image), image.digest, None, None, image_seconds, reason
            )
            out.append(row)
            continue
        for platform in image.platforms:
            durations = dict(image_seconds)
            if "smoke" in durations:
                durations["smoke"] = round(platform.seconds, 2)
            status = _row_status(image, platform)
            size, previous = platform.compressed_bytes, platform.previous_bytes
            builder = platform.builder or image.builders.get(platform.platform) or "-"
            out.append(
                Row(image.name, platform.platform, builder, status, image.digest, size, previous, durations, reason)
            )
    return out


def failures(report: RunReport, log_files: Mapping[str, Path] | None = None) -> list[Failure]:
    """Each image that failed or was blocked: its error, the output of each failed check, the excerpt of
    its failed build and where the whole log is."""
    found: list[Failure] = []
    for image in report.images:
        if image.status not in (ImageStatus.FAILED, ImageStatus.BLOCKED):
            continue
        checks = [
            (platform.platform, check.name, check.detail)
            for platform in image.platforms
            for check in platform.checks
            if check.status is Status.FAILED
        ]
        checks += [(p.platform, "(no check ran)", p.problem) for p in image.platforms if p.executed == 0]
        title = f"{image.name} {image.status.value}: {image.error or 'no error recorded'}"
        log_file = (log_files or {}).get(image.name)
        found.append(Failure(image.name, title, checks, image.log, log_file))
    return found


def totals(report: RunReport) -> dict[str, int]:
    """How many images ended in each status."""
    counts: dict[str, int] = {}
    for image in report.images:
        counts[image.status.value] = counts.get(image.status.value, 0) + 1
    return counts


def look(report: RunReport) -> UpdatesReport | None:
    """The run's look for updates (the report's `updates`, refresh `updates`), when it has a readable one."""
    if report.updates is None:
        return None
    try:
        return UpdatesReport.from_dict(report.updates)
    except ValueError:
        return None


def run_seconds(report: RunReport) -> float | None:
    if report.finished is None:
        return None
    return round((report.finished - report.started).total_seconds(), 2)


def _image_status(image: ImageResult) -> str:
    if image.status is ImageStatus.UNCHANGED:
        return "skipped-unchanged"
    return image.status.value


def _row_status(image: ImageResult, platform: PlatformResult) -> str:
    """The platform's verdict (passed, degraded, failed) while its image went through; the image's
    failure or block otherwise (a platform that passed is not promoted when its image is not)."""
    if platform.status is Status.FAILED:
        return Status.FAILED.value
    if image.status in (ImageStatus.FAILED, ImageStatus.BLOCKED):
        return image.status.value
    return platform.status.value
