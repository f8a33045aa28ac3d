"""report_markdown: the run as Markdown, from real-shaped reports (a Factory run with the fake engine
and the in-memory registry)."""

from __future__ import annotations

import json
import re

import pytest
from report_family import FAILING_OUTPUT, GrowingRegistry, TimedEngine, run_family, write_family

from baseimages.core.results import ImageResult, ImageStatus, RunReport
from baseimages.outputs.markdown import render_markdown


@pytest.fixture
def family(catalog_writer):
    return write_family(catalog_writer)


def _table(markdown: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table, as dicts by header."""
    lines = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            lines.append(line)
        elif lines:  # the first table ended (the changelogs' tables follow)
            break
    split = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    header, rows = split[0], split[2:]
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_each_row_names_the_builder_that_built_its_platform(family):
    report = run_family(family, builders={"linux/arm64": "node2"})
    rows = _table(render_markdown(report))
    assert {(r["platform"], r["builder"]) for r in rows} == {("linux/amd64", "default"), ("linux/arm64", "node2")}


def test_one_row_per_image_and_platform_with_status_digest_sizes_and_their_change(family):
    registry = GrowingRegistry()
    run_family(family, registry=registry)
    report = run_family(family, registry=registry, force=True)
    rows = _table(render_markdown(report))
    assert [(r["image"], r["platform"]) for r in rows] == [
        (image, platform) for image in ("uv", "ml", "security") for platform in ("linux/amd64", "linux/arm64")
    ]
    uv_amd64 = rows[0]
    assert uv_amd64["status"] == "passed"
    assert uv_amd64["digest"] == f"`{report.image('uv').digest[:19]}`"
    assert (uv_amd64["size"], uv_amd64["change"]) == ("54.0 MB", "+2.0 MB (+3.8%)")
    assert (rows[1]["size"], rows[1]["change"]) == ("52.0 MB", "+1.0 MB (+2.0%)")
    assert uv_amd64["reason"] == "forced (--force)"


def test_the_durations_are_the_json_reports_own(family):
    report = run_family(family)
    data = report.to_dict()
    rows = _table(render_markdown(report))
    for row in rows:
        image = next(i for i in data["images"] if i["name"] == row["image"])
        platform = next(p for p in image["platforms"] if p["platform"] == row["platform"])
        for phase, seconds in image["seconds"].items():
            expected = round(platform["seconds"], 2) if phase == "smoke" else seconds
            assert row[phase] == f"{expected:.2f} s", (row["image"], row["platform"], phase)
    assert json.loads(json.dumps(data))  # the same report, as --report writes it


def test_a_failed_platform_shows_its_check_output_and_the_image_is_not_promoted(family):
    engine = TimedEngine(fail_on={"/ml:": "linux/arm64"})
    report = run_family(family, engine=engine)
    markdown = render_markdown(report)
    rows = {(r["image"], r["platform"]): r for r in _table(markdown)}
    assert rows[("ml", "linux/arm64")]["status"] == "**failed**"
    assert rows[("ml", "linux/amd64")]["status"] == "**failed**"  # its index is not promoted either
    assert rows[("security", "linux/arm64")]["status"] == "passed"
    failures = markdown.split("### Failures", 1)[1]
    assert "#### ml failed: smoke tests failed: linux/arm64" in failures
    assert "linux/arm64, **python runs**:" in failures and FAILING_OUTPUT in failures
    assert "### Failures" in markdown and "security" not in failures


def test_a_failed_build_shows_the_excerpt_of_its_log_and_its_children_are_blocked(family):
    engine = TimedEngine(fail_build={"uv"})
    report = run_family(family, engine=engine)
    markdown = render_markdown(report, log_files={"uv": family.root / "logs" / "uv.log"})
    rows = {r["image"]: r for r in _table(markdown)}
    assert rows["uv"]["status"] == "**failed**" and rows["uv"]["platform"] == "all"
    assert rows["ml"]["status"] == "**blocked**" and "parent uv failed" in rows["ml"]["reason"]
    failures = markdown.split("### Failures", 1)[1]
    assert f"the whole log: `{family.root / 'logs' / 'uv.log'}`" in failures
    assert "#5 3.402 ERROR: No matching distribution found for torch==9.9.9" in failures
    assert "Downloading part" not in failures


def test_an_unchanged_family_is_skipped_unchanged_with_its_digest_and_reason(family):
    registry = GrowingRegistry()
    first = run_family(family, registry=registry)
    report = run_family(family, registry=registry)
    rows = _table(render_markdown(report))
    assert {r["status"] for r in rows} == {"skipped-unchanged"}
    assert rows[0]["digest"] == f"`{first.image('uv').digest[:19]}`" and rows[0]["reason"] == "unchanged"
    assert render_markdown(report).startswith("## baseimages push: 3 unchanged (ok)\n")


def test_text_that_would_break_the_table_or_a_code_block_is_escaped():
    import datetime as dt

    image = ImageResult("x", "r/x", status=ImageStatus.FAILED, reasons=["a | b\nc"], error="bad", log="```\nboom")
    report = RunReport("push", "r", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), images=[image])
    markdown = render_markdown(report)
    assert "| a \\| b c; failed: see the failures |" in markdown
    assert "````\n```\nboom\n````" in markdown
