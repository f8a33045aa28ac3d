"""Immutable tags read back (`parse_immutable`) and the rolling tag lines they belong to (`in_line`): what
`dependents` compares a pin with."""

from __future__ import annotations

import datetime as dt

from baseimages.catalog.tags import compute_tags, in_line, parse_immutable


def test_an_immutable_tag_reads_back_as_what_compute_tags_made_and_orders_by_day_then_build():
    tag = compute_tags("1.2.3", dt.date(2026, 3, 1)).immutable(2)
    parsed = parse_immutable(tag)
    assert parsed is not None and (str(parsed.version), parsed.day, parsed.build, parsed.tag) == (
        "1.2.3", dt.date(2026, 3, 1), 2, tag)  # fmt: skip
    older = parse_immutable("1.2.3-20260228.9")
    assert older is not None and older < parsed
    for other in ("1.2.3", "latest", "2026.03", "candidate-1.2.3", "1.2.3-20261340.1"):
        assert parse_immutable(other) is None


def test_the_lines_a_build_moved_with_are_its_rolling_tags():
    release = parse_immutable("1.2.3-20260301.1")
    pre = parse_immutable("1.2.3-rc.1-20260301.1")
    assert release is not None and pre is not None
    assert [line for line in ("1.2.3", "1.2", "1", "latest", "2026.03", "1.2.30", "1.20", "2026.04")
            if in_line(release, line)] == ["1.2.3", "1.2", "1", "latest", "2026.03"]  # fmt: skip
    assert [line for line in ("1.2.3-rc.1", "1.2.3", "1.2", "latest", "2026.03") if in_line(pre, line)] == [
        "1.2.3-rc.1"
    ]
