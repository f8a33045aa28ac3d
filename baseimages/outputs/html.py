"""The run as one self-contained HTML page (`--report-html`): the timeline as inline SVG, the table of
images and platforms, the changelogs, the updates waiting when the run looked for them, and the failures.
No script, no external asset: it works offline, as an attachment or a CI artifact."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

from ..changelog import Changelog, text_lines
from ..core.results import RunReport
from ..updates.render import image_note, update_rows
from . import view
from .markdown import headline
from .timeline import COLORS, render_timeline

_STYLE = """
body { font: 14px/1.4 "DejaVu Sans", Verdana, sans-serif; margin: 24px; color: #1b1b1b; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.context { color: #555; margin-bottom: 16px; }
svg.timeline text { font: 12px "DejaVu Sans", Verdana, sans-serif; fill: #1b1b1b; }
svg.timeline .platform, svg.timeline .axis, svg.timeline .note { fill: #666; }
svg.timeline .verdict { fill: #c62828; font-weight: bold; }
svg.timeline .tick { stroke: #e4e4e4; }
svg.timeline .gate { stroke: #c62828; stroke-width: 2; stroke-dasharray: 3 2; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.status-failed, td.status-blocked { color: #c62828; font-weight: bold; }
td.status-degraded { color: #a15c00; }
td.status-passed { color: #1b5e20; }
td.reason { min-width: 240px; }
td.security-yes { color: #c62828; font-weight: bold; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
pre.changelog { border-left-color: #1f77b4; }
pre { background: #f6f6f6; border-left: 3px solid #c62828; padding: 8px; overflow-x: auto; white-space: pre-wrap; }
"""


def render_html(report: RunReport, log_files: Mapping[str, Path] | None = None) -> str:
    title = headline(report)
    seconds = view.run_seconds(report)
    took = f" · {view.seconds_text(seconds)}" if seconds is not None else ""
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<div class="context">registry <code>{escape(report.registry)}</code> · started '
        f"{report.started:%Y-%m-%d %H:%M:%S} UTC{escape(took)}</div>",
        '<h2 id="timeline">Timeline</h2>',
        render_timeline(report),
        '<h2 id="images">Images and platforms</h2>',
        _table(report),
        *_changelogs(report),
        *_waiting_updates(report),
        *_failures(report, log_files),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _table(report: RunReport) -> str:
    phases = view.phases(report)
    header = ["image", "platform", "builder", "status", "digest", "size", "change", *phases, "total", "reason"]
    lines = ['<table class="images">', "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>"]
    for row in view.rows(report):
        digest = (
            f'<code title="{escape(row.digest)}">{escape(view.short_digest(row.digest))}</code>' if row.digest else "-"
        )
        cells = [
            f"<td>{escape(row.image)}</td>",
            f"<td>{escape(row.platform)}</td>",
            f"<td>{escape(row.builder)}</td>",
            f'<td class="status-{escape(row.status)}">{escape(row.status)}</td>',
            f"<td>{digest}</td>",
            f'<td class="num">{escape(row.size_text)}</td>',
            f'<td class="num">{escape(row.change_text)}</td>',
            *(f'<td class="num">{escape(view.seconds_text(row.durations.get(p)))}</td>' for p in phases),
            f'<td class="num">{escape(view.seconds_text(row.total))}</td>',
            f'<td class="reason">{escape(row.reason) or "-"}</td>',
        ]
        lines.append(
            f'<tr data-image="{escape(row.image)}" data-platform="{escape(row.platform)}">{"".join(cells)}</tr>'
        )
    lines.append("</table>")
    return "\n".join(lines)


def _changelogs(report: RunReport) -> list[str]:
    """Per image whose changelog was read, its text form (what `diff` prints)."""
    out = []
    for image in report.images:
        if image.changelog is None:
            continue
        try:
            lines = text_lines(Changelog.from_dict(image.changelog))
        except ValueError:
            continue
        out.append(
            f'<section class="changelog" data-image="{escape(image.name)}"><h3>{escape(image.name)}</h3>'
            f'<pre class="changelog">{escape(chr(10).join(lines))}</pre></section>'
        )
    return ['<h2 id="changelogs">Changelogs</h2>', *out] if out else []


def _waiting_updates(report: RunReport) -> list[str]:
    """When the run looked for updates: per image a table of its waiting updates, or one line (none, not
    promoted, the look's error)."""
    look = view.look(report)
    if look is None:
        return []
    header = ["platform", "package", "installed → candidate", "suite", "security", "waiting since"]
    out = [
        '<h2 id="updates">Waiting updates</h2>',
        f"<p>as the run's look found them, {look.checked:%Y-%m-%d %H:%M} UTC:</p>",
    ]
    notes = []
    for image in look.images:
        note = image_note(image)
        if note is not None:
            notes.append(f'<li data-image="{escape(image.image)}">{escape(image.image)}: {escape(note)}</li>')
            continue
        rows = [
            f'<tr data-platform="{escape(row.platform)}"><td>{escape(row.platform)}</td><td>{escape(row.package)}</td>'
            f"<td>{escape(row.installed)} → {escape(row.candidate)}</td><td>{escape(row.source)}</td>"
            f'<td class="security-{"yes" if row.security else "no"}">{"yes" if row.security else "no"}</td>'
            f"<td>{escape(row.since(look.checked))}</td></tr>"
            for row in update_rows(image)
        ]
        out.append(
            f'<section class="updates" data-image="{escape(image.image)}"><h3>{escape(image.image)}</h3>'
            '<table class="updates"><tr>' + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>"
            + "".join(rows) + "</table></section>"
        )  # fmt: skip
    return [*out, *([f'<ul class="updates">{"".join(notes)}</ul>'] if notes else [])]


def _failures(report: RunReport, log_files: Mapping[str, Path] | None) -> list[str]:
    found = view.failures(report, log_files)
    if not found:
        return []
    out = ['<h2 id="failures">Failures</h2>']
    for failure in found:
        out.append(f'<section class="failure" data-image="{escape(failure.image)}">')
        out.append(f"<h3>{escape(failure.title)}</h3>")
        for platform, check, output in failure.checks:
            out.append(
                f"<p>{escape(platform)}, <b>{escape(check)}</b>:</p><pre>{escape(output or '(no output)')}</pre>"
            )
        if failure.log:
            where = f"; the whole log: <code>{escape(str(failure.log_file))}</code>" if failure.log_file else ""
            out.append(f"<p>buildx log, the lines around the error{where}:</p><pre>{escape(failure.log)}</pre>")
        out.append("</section>")
    return out


__all__ = ["COLORS", "render_html"]
