"""The run as Markdown (`--report-md`, GitHub's job summary): one table of images and platforms with
status, digest, sizes and their change against the previous build, phase durations and the reason each
image was built or skipped; the changelogs; the updates waiting when the run looked for them (refresh
`updates`); then the failures with their check output and build log excerpt."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ..changelog import Changelog, markdown
from ..core.results import RunReport
from ..updates.render import image_note, update_rows
from . import view


def render_markdown(report: RunReport, log_files: Mapping[str, Path] | None = None) -> str:
    lines = [f"## {headline(report)}", "", _context(report), ""]
    lines += table(report)
    lines += changelogs(report)
    lines += waiting_updates(report)
    lines += notifications(report)
    found = view.failures(report, log_files)
    if found:
        lines += ["", "### Failures"]
        for failure in found:
            lines += ["", f"#### {_inline(failure.title)}"]
            for platform, check, output in failure.checks:
                lines += ["", f"{platform}, **{_inline(check)}**:", "", *_fenced(output or "(no output)")]
            if failure.log:
                where = f"; the whole log: `{failure.log_file}`" if failure.log_file else ""
                lines += ["", f"buildx log, the lines around the error{where}:", "", *_fenced(failure.log)]
    return "\n".join(lines) + "\n"


def headline(report: RunReport) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in view.totals(report).items()) or "no image"
    verdict = "ok" if report.exit_code == 0 else f"exit {report.exit_code}"
    return f"baseimages {report.command}: {counts} ({verdict})"


def table(report: RunReport) -> list[str]:
    phases = view.phases(report)
    header = ["image", "platform", "builder", "status", "digest", "size", "change", *phases, "total", "reason"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in view.rows(report):
        cells = [
            row.image,
            row.platform,
            row.builder,
            f"**{row.status}**" if row.status in ("failed", "blocked") else row.status,
            f"`{view.short_digest(row.digest)}`" if row.digest else "-",
            row.size_text,
            row.change_text,
            *(view.seconds_text(row.durations.get(phase)) for phase in phases),
            view.seconds_text(row.total),
            _inline(row.reason) or "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def notifications(report: RunReport) -> list[str]:
    """The notifications of the run's promotions, each delivered or failed (and why), failures first."""
    if not report.notifications:
        return []
    lines = ["", "### Notifications", ""]
    for note in sorted(report.notifications, key=lambda n: n.delivered):
        verdict = "delivered" if note.delivered else f"**failed**: {_inline(note.error or '')}"
        lines.append(f"- {note.image} to `{note.url}` ({note.format}): {verdict}")
    return lines


def changelogs(report: RunReport) -> list[str]:
    """A section per image whose changelog was read: per platform, the packages, Python distributions and
    config that changed, and the size (see baseimages.changelog)."""
    lines = []
    for image in report.images:
        if image.changelog is None:
            continue
        try:
            log = Changelog.from_dict(image.changelog)
        except ValueError:
            continue
        lines += ["", markdown(log, level=4).rstrip("\n")]
    return ["", "### Changelogs", *lines] if lines else []


def waiting_updates(report: RunReport) -> list[str]:
    """When the run looked for updates: per image a table of its waiting updates (platform, package,
    installed -> candidate, suite, security, waiting since), or one line (none, not promoted, its error)."""
    look = view.look(report)
    if look is None:
        return []
    lines = ["", "### Waiting updates", "", f"as the run's look found them, {look.checked:%Y-%m-%d %H:%M} UTC:"]
    notes = []
    for image in look.images:
        note = image_note(image)
        if note is not None:
            notes.append(f"- {image.image}: {_inline(note)}")
            continue
        header = ["platform", "package", "installed -> candidate", "suite", "security", "waiting since"]
        lines += ["", f"#### {image.image}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in update_rows(image):
            versions = f"`{row.installed}` -> `{row.candidate}`"  # code: a `~` in a version strikes nothing out
            cells = [row.platform, row.package, versions, row.source, "**yes**" if row.security else "no",
                     row.since(look.checked)]  # fmt: skip
            lines.append("| " + " | ".join(_inline(cell) for cell in cells) + " |")
    return [*lines, *([""] + notes if notes else [])]


def _context(report: RunReport) -> str:
    seconds = view.run_seconds(report)
    took = f" · {view.seconds_text(seconds)}" if seconds is not None else ""
    return f"registry `{report.registry}` · started {report.started:%Y-%m-%d %H:%M:%S} UTC{took}"


def _inline(text: str) -> str:
    """TEXT in one table cell or heading: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _fenced(text: str) -> list[str]:
    """TEXT as a code block whose fence no run of backticks in it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text.rstrip("\n"), fence]
