"""Where the time goes: the two tools' timelines of one run each, drawn on one time scale as an SVG.

baseimages' bars come from its JSON report (`timeline`: each stage's interval per image, and
`platform_timeline`: the builds per platform); bake's from BuildKit's own progress (`--progress plain`,
buildx 0.13 has no rawjson for bake): each step's end is when its `#N DONE 1.2s` line arrived, its start
that end less the duration BuildKit gives (or its first line, if earlier). Each panel's zero is its own
start: baseimages' run start (after the CLI has started), bake's the writing of its bake file.

    svg = render([("baseimages", report_bars(report)), ("bake", bake_bars(lines, targets))], title)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

Bar = tuple[str, str, float, float]  # row, kind (its colour), start s, end s

LABEL_WIDTH = 230
CHART_WIDTH = 760
ROW = 18
HEAD = 22
COLOURS = {
    "build": "#4e79a7",
    "push": "#f28e2b",
    "export": "#f28e2b",
    "smoke": "#59a14f",
    "contract": "#8cd17d",
    "promote": "#e15759",
    "sign": "#b07aa1",
    "record": "#b07aa1",
    "sbom": "#d4a6c8",
    "identify": "#9c755f",
    "resolve": "#bab0ac",
    "reuse": "#c5b0d5",
    "warm": "#a0cbe8",
    "setup": "#bab0ac",
    "changelog": "#76b7b2",
    "sizes": "#edc948",
}
OTHER = "#79706e"

_HEADER = re.compile(r"^#(?P<id>\d+) (?P<name>(?!DONE\b|CACHED\b|ERROR\b|CANCELED\b)\D.*)$")
_DONE = re.compile(r"^#(?P<id>\d+) (?:DONE (?P<seconds>[0-9.]+)s|CACHED|ERROR\b.*|CANCELED\b.*)\s*$")


def report_bars(report: Mapping[str, Any]) -> list[Bar]:
    """One row per image with each stage's interval (the report's `timeline`), and one row per image and
    platform with that platform's cache warm-up and build (`platform_timeline`)."""
    bars: list[Bar] = []
    for image in report.get("images", []):
        name = image["name"]
        for phase, (start, end) in image.get("timeline", {}).items():
            bars.append((name, phase, float(start), float(end)))
        for platform, phases in image.get("platform_timeline", {}).items():
            for phase in ("warm", "build"):  # a platform's cache warm-up, then its build
                if phase in phases:
                    start, end = phases[phase]
                    bars.append((f"{name} [{platform}]", phase, float(start), float(end)))
    return bars


def bake_bars(lines: Iterable[tuple[float, str]], targets: Iterable[str] = ()) -> list[Bar]:
    """BuildKit's steps from plain progress LINES (each with the second it arrived): a target's steps on
    its row (per platform when the step names one), exports and pushes on one row, the rest on another."""
    known = set(targets)
    names: dict[str, str] = {}
    first: dict[str, float] = {}
    bars: list[Bar] = []
    for at, line in lines:
        if (done := _DONE.match(line)) is not None:
            key = done["id"]
            if key not in names:
                continue
            seconds = float(done["seconds"]) if done["seconds"] else 0.0
            start = min(first[key], at - seconds)
            row, kind = _row(names.pop(key), known)
            bars.append((row, kind, max(0.0, start), at))
        elif (header := _HEADER.match(line)) is not None and header["id"] not in names:
            names[header["id"]] = header["name"]
            first.setdefault(header["id"], at)
    return bars


def _row(name: str, targets: set[str]) -> tuple[str, str]:
    """The row and kind of a step named NAME: `[TARGET PLATFORM stage 2/5] RUN ...` (bake names the
    target only when it builds more than one; with one, TARGETS' only name is it)."""
    bracket = name.startswith("[") and "]" in name
    words = name[1 : name.find("]")].split() if bracket else []
    rest = name[name.find("]") + 1 :].strip() if bracket else name
    exporting = rest.startswith(("exporting", "pushing", "writing", "naming", "resolving provenance"))
    if words and words[0] in targets and exporting:  # bake of several targets: `[TARGET] exporting to image`
        return f"{words[0]} (export and push)", "export"
    if words and "internal" not in words:
        target = words[0] if words[0] in targets else (next(iter(targets)) if len(targets) == 1 else "build")
        platform = next((f" [{w}]" for w in words if re.fullmatch(r"[a-z0-9]+/[a-z0-9/]+", w)), "")
        return f"{target}{platform}", "build"
    if exporting:
        return "export and push", "export"
    return "other (definitions, contexts, cache import)", "setup"


def render(panels: Sequence[tuple[str, Sequence[Bar]]], title: str) -> str:
    """PANELS (a heading and its bars), one under the other on one time scale: the same second is the
    same width in both."""
    end = max([bar[3] for _, bars in panels for bar in bars] + [1.0])
    scale = CHART_WIDTH / end
    rows: list[str] = []
    y = HEAD + 8
    for heading, bars in panels:
        total = max([bar[3] for bar in bars] + [0.0])
        rows.append(f'<text x="4" y="{y + 13}" font-weight="bold">{escape(heading)}: {total:.1f} s</text>')
        y += ROW
        order = list(dict.fromkeys(bar[0] for bar in bars))
        for row in order:
            rows.append(f'<text x="12" y="{y + 13}">{escape(row)}</text>')
            for _, kind, start, stop in (bar for bar in bars if bar[0] == row):
                rows.append(_rect(kind, start, stop, scale, y))
            y += ROW
        y += 6
    axis = _axis(end, scale, y)
    legend = _legend(sorted({bar[1] for _, bars in panels for bar in bars}), y + 30)
    height = y + 60
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH + CHART_WIDTH + 20}" height="{height}" '
            f'font-family="sans-serif" font-size="11" role="img" aria-label={quoteattr(title)}>',
            f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
            *rows,
            *axis,
            *legend,
            "</svg>",
            "",
        ]
    )


def _rect(kind: str, start: float, stop: float, scale: float, y: float) -> str:
    x, width = LABEL_WIDTH + start * scale, max(0.5, (stop - start) * scale)
    return (
        f'<rect class="bar" x="{x:.2f}" y="{y + 3}" width="{width:.2f}" height="{ROW - 5}" '
        f'fill="{COLOURS.get(kind, OTHER)}" data-kind={quoteattr(kind)}>'
        f"<title>{escape(kind)}: {start:.1f} to {stop:.1f} s ({stop - start:.1f} s)</title></rect>"
    )


def _axis(end: float, scale: float, y: float) -> list[str]:
    step = next(s for s in (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600) if end / s <= 10)
    out = [f'<line x1="{LABEL_WIDTH}" y1="{y}" x2="{LABEL_WIDTH + CHART_WIDTH}" y2="{y}" stroke="#333"/>']
    tick = 0
    while tick <= end:
        x = LABEL_WIDTH + tick * scale
        out.append(f'<line x1="{x:.2f}" y1="{y}" x2="{x:.2f}" y2="{y + 4}" stroke="#333"/>')
        out.append(f'<text x="{x:.2f}" y="{y + 15}" text-anchor="middle">{tick} s</text>')
        tick += step
    return out


def _legend(kinds: list[str], y: float) -> list[str]:
    out, x = [], LABEL_WIDTH
    for kind in kinds:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{COLOURS.get(kind, OTHER)}"/>')
        out.append(f'<text x="{x + 14}" y="{y}">{escape(kind)}</text>')
        x += 20 + 7 * len(kind)
    return out
