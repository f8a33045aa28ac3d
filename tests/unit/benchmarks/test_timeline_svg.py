"""The two tools' timelines as one SVG (benchmarks/timeline_svg.py)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from timeline_svg import CHART_WIDTH, bake_bars, render, report_bars  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def bars_of(svg: str) -> list[ET.Element]:
    return [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_the_svg_is_valid_xml_with_one_bar_per_interval_and_both_headings() -> None:
    svg = render([("baseimages", [("uv", "build", 0.0, 10.0), ("uv", "smoke", 10.0, 12.0)]),
                  ("bake", [("uv", "build", 0.0, 6.0)])], "4. parent <change> & more")  # fmt: skip
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "baseimages: 12.0 s" in texts and "bake: 6.0 s" in texts
    assert "4. parent <change> & more" in texts
    assert len(bars_of(svg)) == 3


def test_bars_are_proportional_to_their_seconds_on_one_scale_for_both_tools() -> None:
    svg = render([("baseimages", [("a", "build", 0.0, 20.0)]), ("bake", [("a", "build", 5.0, 10.0)])], "t")
    long, short = bars_of(svg)
    assert float(long.get("width", "0")) == CHART_WIDTH  # the longest run fills the chart
    assert float(short.get("width", "0")) == CHART_WIDTH / 4
    assert float(short.get("x", "0")) - float(long.get("x", "0")) == CHART_WIDTH / 4  # starts 5 s later


def test_report_bars_are_each_stage_per_image_and_each_platform_build() -> None:
    report = {
        "images": [
            {
                "name": "uv",
                "timeline": {"build": [0.5, 30.0], "push": [30.0, 31.5]},
                "platform_timeline": {"linux/arm64": {"build": [0.6, 28.0]}},
            }
        ]
    }
    assert report_bars(report) == [
        ("uv", "build", 0.5, 30.0),
        ("uv", "push", 30.0, 31.5),
        ("uv [linux/arm64]", "build", 0.6, 28.0),
    ]


def test_bake_bars_end_when_done_arrived_and_start_its_duration_earlier() -> None:
    lines = [
        (0.2, "#1 [internal] load build definition from bake.json"),
        (0.5, "#1 DONE 0.25s"),
        (1.0, "#7 [python311-uv linux/arm64 builder 2/4] RUN apt-get update"),
        (1.5, "#7 0.345 Get:1 http://deb.debian.org bookworm InRelease"),
        (1.6, "#7 [python311-uv linux/arm64 builder 2/4] RUN apt-get update"),  # printed again: not a new step
        (9.0, "#7 DONE 8.5s"),
        (9.1, "#8 [python311-uv linux/amd64 builder 3/4] COPY x /x"),
        (9.2, "#8 CACHED"),
        (9.5, "#9 exporting to image"),
        (9.6, "#9 exporting layers 0.1s done"),
        (12.0, "#9 DONE 2.5s"),
    ]
    bars = bake_bars(lines, ["python311-uv"])
    assert ("other (definitions, contexts, cache import)", "setup", 0.2, 0.5) in bars
    assert ("python311-uv [linux/arm64]", "build", 0.5, 9.0) in bars  # 9.0 - 8.5 s, before its first line
    assert ("python311-uv [linux/amd64]", "build", 9.1, 9.2) in bars
    assert ("export and push", "export", 9.5, 12.0) in bars
    assert len(bars) == 4


def test_a_bake_of_one_target_whose_steps_name_no_target_puts_them_on_that_targets_rows() -> None:
    lines = [
        (0.6, "#3 [linux/arm64 internal] load metadata for docker.io/library/python:3.11-slim"),
        (0.7, "#3 DONE 0.0s"),
        (0.8, "#10 [linux/arm64 stage-1 2/5] COPY --from=builder /opt/uv /usr/local/bin/"),
        (4.5, "#10 DONE 3.5s"),
    ]
    bars = bake_bars(lines, ["python311-uv"])
    assert bars == [
        ("other (definitions, contexts, cache import)", "setup", 0.6, 0.7),
        ("python311-uv [linux/arm64]", "build", 0.8, 4.5),
    ]


def test_a_bake_of_several_targets_puts_each_targets_steps_and_export_on_rows_of_its_own() -> None:
    lines = [
        (1.0, "#20 [python311-ml linux/amd64 2/4] RUN pip install torch"),
        (9.0, "#20 DONE 8.0s"),
        (9.0, "#31 [python311-ml] exporting to image"),
        (12.0, "#31 DONE 3.0s"),
        (12.0, "#32 [python311-uv internal] load build context"),
        (12.5, "#32 DONE 0.5s"),
    ]
    assert bake_bars(lines, ["python311-uv", "python311-ml"]) == [
        ("python311-ml [linux/amd64]", "build", 1.0, 9.0),
        ("python311-ml (export and push)", "export", 9.0, 12.0),
        ("other (definitions, contexts, cache import)", "setup", 12.0, 12.5),
    ]
