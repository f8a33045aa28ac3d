"""The plan: waves, platforms and tags of the selected images."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from baseimages.catalog.plan import make_plan
from baseimages.catalog.tags import compute_tags
from baseimages.core.errors import ConfigError
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def settings(tmp_path):
    return Settings(root=tmp_path, registry="registry.test:5000", namespace="team")


def test_make_plan_rejects_unknown_only_name(small_family, settings):
    with pytest.raises(ConfigError) as info:
        make_plan(small_family.load(), settings, only=["nope"], now=NOW)
    assert info.value.exit_code == 2


def test_plan_orders_images_by_wave_with_repository_and_tags(small_family, settings):
    plan = make_plan(small_family.load(), settings, now=NOW)
    assert [(i.name, i.wave) for i in plan.images] == [("uv", 0), ("ml", 1), ("security", 1)]
    assert [[i.name for i in wave] for wave in plan.waves] == [["uv"], ["ml", "security"]]
    ml = next(i for i in plan.images if i.name == "ml")
    assert ml is not None
    assert ml.repository == "registry.test:5000/team/ml"
    assert ml.tags == compute_tags("2.1.0", NOW.date())
    assert ml.platforms == ("linux/amd64", "linux/arm64")


def test_plan_with_only_keeps_parents_and_renumbers_waves(small_family, settings):
    small_family.add("ml-gpu", parent="ml")
    plan = make_plan(small_family.load(), settings, only=["ml-gpu"], now=NOW)
    assert [(i.name, i.wave) for i in plan.images] == [("uv", 0), ("ml", 1), ("ml-gpu", 2)]
    plan = make_plan(small_family.load(), settings, only=["security"], now=NOW)
    assert [(i.name, i.wave) for i in plan.images] == [("uv", 0), ("security", 1)]


def test_plan_platform_flag_narrows_every_image(small_family, settings):
    plan = make_plan(small_family.load(), settings, platforms=["linux/amd64"], now=NOW)
    assert {i.name: i.platforms for i in plan.images} == {
        "uv": ("linux/amd64",),
        "ml": ("linux/amd64",),
        "security": ("linux/amd64",),
    }


def test_plan_fails_when_an_image_has_none_of_the_requested_platforms(small_family, settings):
    with pytest.raises(ConfigError) as info:
        make_plan(small_family.load(), settings, platforms=["linux/arm64"], now=NOW)
    assert info.value.exit_code == 2
    assert info.value.source == "--platform"
    assert "'security'" in info.value.problem
    assert "linux/amd64" in info.value.problem


def test_plan_to_dict_lists_images_in_build_order_in_documented_shape(small_family, settings):
    plan = make_plan(small_family.load(), settings, now=NOW)
    data = json.loads(json.dumps(plan.to_dict()))
    assert list(data) == ["images"]
    assert [i["name"] for i in data["images"]] == ["uv", "ml", "security"]
    for item in data["images"]:
        assert {"name", "version", "parent", "platforms", "tags", "wave"} <= set(item)
    security = data["images"][2]
    assert security["version"] == "0.3.4"
    assert security["parent"] == "uv"
    assert security["platforms"] == ["linux/amd64"]
    assert security["wave"] == 1
    assert security["tags"] == ["0.3.4-20261128.N", "0.3.4", "0.3", "0", "2026.11", "latest"]
    assert data["images"][0]["parent"] == "python:3.11-slim"


def test_source_date_epoch_is_the_build_day_at_midnight_utc_and_created_says_that_day(small_family, settings):
    plan = make_plan(small_family.load(), settings, now=dt.datetime(2026, 11, 28, 23, 59, 59, tzinfo=dt.UTC))
    assert plan.source_date_epoch == int(dt.datetime(2026, 11, 28, tzinfo=dt.UTC).timestamp())
    assert plan.created == "2026-11-28T00:00:00Z"
    later = make_plan(small_family.load(), settings, now=dt.datetime(2026, 11, 28, 0, 0, 1, tzinfo=dt.UTC))
    assert later.source_date_epoch == plan.source_date_epoch
