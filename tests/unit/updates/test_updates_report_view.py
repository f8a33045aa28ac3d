"""What a run's report keeps of a look for updates and shows of it: the JSON document read back as typed data
(`UpdatesReport.from_dict`), the waiting state of what a look found (`found`), and the rows and one-line
notes the Markdown and HTML reports are made of (render.update_rows, image_note)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from fake_look import AMD, ARM, CHECKED, DAY, POINT, PYTHON, SECURITY, look

from baseimages.updates import PinnedDistribution, UpdatesReport, found, metric_samples, remember
from baseimages.updates.render import UpdateRow, image_note, update_rows


def test_the_json_document_reads_back_as_the_same_look():
    original = look(uv={AMD: (POINT, SECURITY, PYTHON), ARM: ()}, ml="deb.debian.org: unreachable", new=None)
    pinned = PinnedDistribution("/usr/local", "uv", "0.13.9", "0.14.0")
    uv = original.images[0]
    amd = replace(uv.platforms[0], pinned=(pinned,), sources=("http://d bookworm main",), skipped=("file:/x",))
    original = replace(original, images=(replace(uv, platforms=(amd, uv.platforms[1])), *original.images[1:]))
    again = UpdatesReport.from_dict(original.to_dict())
    assert again.to_dict() == original.to_dict()
    assert again.images[0].platforms[0].debian[1].first_seen == SECURITY.first_seen
    assert again.images[1].error == "deb.debian.org: unreachable" and not again.images[1].looked


@pytest.mark.parametrize(
    "doc",
    [
        {"schema": "baseimages.changelog/v1"},
        {"schema": "baseimages.updates/v1", "checked": "2026-12-06T08:00:00Z"},  # no images
        {"schema": "baseimages.updates/v1", "checked": "yesterday", "images": []},
        {"schema": "baseimages.updates/v1", "checked": "2026-12-06T08:00:00Z", "images": [{"image": "uv"}]},
    ],
    ids=["another-schema", "no-images", "bad-time", "image-without-reference"],
)
def test_what_is_not_an_updates_document_is_a_value_error(doc):
    with pytest.raises(ValueError, match="baseimages.updates/v1"):
        UpdatesReport.from_dict(doc)


def test_the_state_of_what_a_look_found_gives_the_same_gauges_as_the_store_after_that_look(tmp_path):
    first = look(uv={AMD: (SECURITY,)})
    remember(tmp_path / "state.json", first)
    later = dt.timedelta(days=1)
    second = look(uv={AMD: (SECURITY, POINT), ARM: ()}, ml="unreachable")
    second = replace(second, checked=second.checked + later)
    annotated, state = remember(tmp_path / "state.json", second)
    now = annotated.checked
    assert metric_samples(found(annotated), now) == metric_samples(state, now)  # ml: neither read nor known


def test_an_update_whose_first_seen_time_is_not_known_waits_from_the_look():
    unknown = look(uv={AMD: (replace(PYTHON, first_seen=None),)})
    (seen,) = found(unknown).images["uv"][AMD].values()
    assert seen.first_seen == CHECKED
    waited = {(labels["kind"], name): value for name, labels, value in metric_samples(found(unknown), CHECKED)}
    assert waited[("any", "baseimages_update_waiting_seconds")] == 0.0
    assert waited[("any", "baseimages_updates_installable")] == 1.0


def test_the_rows_of_an_image_go_platform_by_platform_security_first_python_with_its_environment():
    rows = update_rows(look(uv={AMD: (POINT, PYTHON, SECURITY), ARM: (POINT,)}).images[0])
    assert [(r.platform, r.package, r.source, r.security) for r in rows] == [
        (AMD, "libssl3", "bookworm-security", True),
        (AMD, "tzdata", "bookworm-updates", False),
        (AMD, "rich (/opt/venv)", "index", False),
        (ARM, "tzdata", "bookworm-updates", False),
    ]
    assert (rows[0].installed, rows[0].candidate) == (SECURITY.installed, SECURITY.candidate)


def test_a_row_says_since_when_and_how_long_it_had_waited_at_the_look():
    row = UpdateRow(AMD, "tzdata", "1", "2", "bookworm", False, CHECKED - dt.timedelta(seconds=10 * DAY + 3600))
    assert row.since(CHECKED) == "2026-11-26 07:00 UTC (10d 1h)"
    assert UpdateRow(AMD, "tzdata", "1", "2", "bookworm", False, None).since(CHECKED) == "-"


def test_an_image_with_nothing_to_list_gets_one_line_saying_why():
    found_look = look(uv={AMD: (SECURITY,)}, ml={AMD: (), ARM: ()}, broken="deb.example: unreachable", new=None)
    notes = {image.image: image_note(image) for image in found_look.images}
    assert notes == {
        "uv": None,
        "ml": "no installable update",
        "broken": "look failed: deb.example: unreachable",
        "new": "not promoted yet (registry.test:5000/t/new:latest does not exist)",
    }
