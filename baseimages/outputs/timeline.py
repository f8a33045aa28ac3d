"""The run's timeline as inline SVG: one row per image and platform, each phase that ran a bar over the
run's seconds (from the report's `timeline`; per platform where the stage worked per platform, as the
smoke tests do), and each parent's promotion gate: where a child waited for its parent to promote, a
hatched bar, and a marker at the moment the parent's tags moved."""

from __future__ import annotations

from html import escape

from ..core.results import ImageResult, RunReport
from . import view

COLORS = {
    "resolve": "#8d8d8d",
    "warm": "#9edae5",
    "reuse": "#c5b0d5",
    "build": "#1f77b4",
    "identify": "#aec7e8",
    "push": "#17becf",
    "smoke": "#2ca02c",
    "contract": "#9467bd",
    "sizes": "#bcbd22",
    "changelog": "#dbdb8d",
    "sign": "#e377c2",
    "record": "#8c564b",
    "promote": "#ff7f0e",
}
OTHER_COLOR = "#7f7f7f"
LABEL_WIDTH = 300
CHART_WIDTH = 860
ROW_HEIGHT = 24
BAR_HEIGHT = 16
TOP = 44  # the legend and the axis above the rows
MIN_BAR = 2.0  # px: a phase of a few milliseconds still shows


def render_timeline(report: RunReport) -> str:
    rows = view.rows(report)
    end = max([t for image in report.images for _, t in image.timeline.values()] + [1.0])
    scale = CHART_WIDTH / end
    height = TOP + ROW_HEIGHT * max(1, len(rows)) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{LABEL_WIDTH + CHART_WIDTH + 20}" '
        f'height="{height}" role="img" aria-label="timeline of the run">',
        _pattern(),
        *_legend(view.phases(report)),
        *_axis(end, scale, height),
    ]
    images = {image.name: image for image in report.images}
    for number, row in enumerate(rows):
        y = TOP + number * ROW_HEIGHT
        image = images[row.image]
        parts.append(
            f'<text class="label" x="4" y="{y + BAR_HEIGHT - 3}">{escape(row.image)} '
            f'<tspan class="platform">{escape(row.platform)}</tspan></text>'
        )
        parts += _bars(image, row.platform, y, scale)
        parts += _gate(image, images, row.platform, y, scale)
        if not image.timeline:
            parts.append(
                f'<text class="note" x="{LABEL_WIDTH + 4}" y="{y + BAR_HEIGHT - 3}">{escape(row.status)}</text>'
            )
        elif row.status in ("failed", "blocked"):
            last = max(t for _, t in image.timeline.values())
            x = LABEL_WIDTH + last * scale + 6
            parts.append(f'<text class="verdict" x="{x:.1f}" y="{y + BAR_HEIGHT - 3}">{escape(row.status)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def intervals(image: ImageResult, platform: str) -> dict[str, tuple[float, float]]:
    """The phases of IMAGE on PLATFORM with their (start, end): the platform's own interval where the
    stage recorded one, the image's otherwise."""
    own = image.platform_timeline.get(platform, {})
    return {key: own.get(key, span) for key, span in image.timeline.items()}


def bar_seconds(image: ImageResult, platform: str, phase: str, start: float, end: float) -> float:
    """What a bar says it lasted: the platform's own smoke time, the platform's own interval where the
    stage worked per platform, else the image's phase time (the JSON report's figures)."""
    if phase == "smoke":
        result = next((p for p in image.platforms if p.platform == platform), None)
        if result is not None:
            return result.seconds
    if phase in image.platform_timeline.get(platform, {}):
        return end - start
    return image.seconds.get(phase, end - start)


def _bars(image: ImageResult, platform: str, y: float, scale: float) -> list[str]:
    out = []
    for phase, (start, end) in intervals(image, platform).items():
        x = LABEL_WIDTH + start * scale
        width = max(MIN_BAR, (end - start) * scale)
        seconds = bar_seconds(image, platform, phase, start, end)
        builder = f" on {image.builders[platform]}" if phase == "build" and platform in image.builders else ""
        title = f"{image.name} {platform} {phase}{builder}: {seconds:.2f} s (at {start:.2f} s to {end:.2f} s)"
        out.append(
            f'<rect class="bar" data-image="{escape(image.name)}" data-platform="{escape(platform)}" '
            f'data-phase="{escape(phase)}" x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{COLORS.get(phase, OTHER_COLOR)}"><title>{escape(title)}</title></rect>'
        )
    return out


def _gate(image: ImageResult, images: dict[str, ImageResult], platform: str, y: float, scale: float) -> list[str]:
    """Where IMAGE waited for its parent's promotion: a hatched bar up to its own promotion, and a marker
    where the parent's promotion ended."""
    parent = images.get(_parent_name(image))
    if parent is None or "promote" not in image.timeline or "promote" not in parent.timeline:
        return []
    promote_start = image.timeline["promote"][0]
    ready = max(end for key, (_, end) in image.timeline.items() if key != "promote")
    gate = parent.timeline["promote"][1]
    out = []
    if promote_start > ready:
        x, width = LABEL_WIDTH + ready * scale, (promote_start - ready) * scale
        title = f"{image.name} {platform} waited {promote_start - ready:.2f} s for {parent.name} to promote"
        out.append(
            f'<rect class="wait" data-image="{escape(image.name)}" data-platform="{escape(platform)}" '
            f'x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="url(#waiting)">'
            f"<title>{escape(title)}</title></rect>"
        )
    x = LABEL_WIDTH + gate * scale
    title = f"promotion gate: {parent.name} promoted at {gate:.2f} s"
    out.append(
        f'<line class="gate" data-image="{escape(image.name)}" data-parent="{escape(parent.name)}" '
        f'x1="{x:.1f}" x2="{x:.1f}" y1="{y - 3}" y2="{y + BAR_HEIGHT + 3}"><title>{escape(title)}</title></line>'
    )
    return out


def _parent_name(image: ImageResult) -> str:
    """The catalog name of the image IMAGE was built FROM (the last path part of its repository)."""
    if not image.parent_ref:
        return ""
    repository = image.parent_ref.split("@")[0]
    last = repository.rsplit("/", 1)[-1]
    return last.split(":")[0]


def _pattern() -> str:
    return (
        '<defs><pattern id="waiting" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff4e5"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#ff7f0e" stroke-width="2"/></pattern></defs>'
    )


def _legend(phases: list[str]) -> list[str]:
    out, x = [], LABEL_WIDTH
    for phase in [*phases, "waiting for parent"]:
        fill = "url(#waiting)" if phase == "waiting for parent" else COLORS.get(phase, OTHER_COLOR)
        out.append(f'<rect class="key" x="{x}" y="4" width="12" height="12" fill="{fill}"/>')
        out.append(f'<text class="legend" x="{x + 16}" y="14">{escape(phase)}</text>')
        x += 24 + 7 * len(phase)
    return out


def _axis(end: float, scale: float, height: float) -> list[str]:
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800) if end / s <= 10), 3600)
    out = []
    tick = 0
    while tick <= end:
        x = LABEL_WIDTH + tick * scale
        out.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 6}" y2="{height - 4}"/>')
        out.append(f'<text class="axis" x="{x + 2:.1f}" y="{TOP - 8}">{tick} s</text>')
        tick += step
    return out
