"""The Setting record: how a refusal names the place the value came from, and how a setting documents
itself (settings page row, flag help, TOML literals)."""

from __future__ import annotations

from pathlib import Path

import pytest

from baseimages.core.errors import ConfigError
from baseimages.settings.kinds import Invalid, Switch, Text, WholeNumber
from baseimages.settings.schema import Setting, toml_literal

JOBS: Setting[int] = Setting("jobs", "BASEIMAGES_JOBS", "--jobs", WholeNumber(1), 2, "images at once")


def test_a_setting_names_the_place_a_bad_value_came_from():
    places = {
        "pyproject": lambda: JOBS.from_toml(0, "pyproject.toml [tool.baseimages]"),
        "environment": lambda: JOBS.from_env("0"),
        "flag": lambda: JOBS.from_flag("0"),
        "library": lambda: JOBS.check(0),
    }
    named = {}
    for place, read in places.items():
        with pytest.raises(ConfigError) as info:
            read()
        assert info.value.exit_code == 2
        assert info.value.problem == "must be at least 1"
        named[place] = (info.value.source, info.value.field)
    assert named == {
        "pyproject": ("pyproject.toml [tool.baseimages]", "jobs"),
        "environment": ("environment", "BASEIMAGES_JOBS"),
        "flag": ("--jobs", "0"),
        "library": ("settings", "jobs"),
    }


def test_a_setting_documents_itself_as_a_readme_row_and_a_flag_help():
    assert JOBS.doc_row() == ("`jobs`", "`BASEIMAGES_JOBS`", "`--jobs`", "integer, at least 1", "`2`", "images at once")
    assert JOBS.flag_help() == "images at once (overrides BASEIMAGES_JOBS and [tool.baseimages] jobs; default: 2)"
    no_flag = Setting("source", "BASEIMAGES_SOURCE", None, Text(), "", "label")
    assert no_flag.doc_row()[2:5] == ("none", "string", '`""`')


def test_a_switch_takes_a_toml_boolean_or_a_word_and_its_flag_takes_no_value():
    kind = Switch(flag_sets=False)
    assert (kind.from_toml(True), kind.from_toml(False)) == (True, False)
    words = ("true", "YES", "1", "on", "false", "no", "0", "Off")
    assert [kind.from_text(t) for t in words] == [True] * 4 + [False] * 4
    with pytest.raises(Invalid, match="must be true or false"):
        kind.from_toml("true")
    with pytest.raises(Invalid, match="is not true or false"):
        kind.from_text("maybe")
    switch = Setting("build-cache", "BASEIMAGES_BUILD_CACHE", "--no-build-cache", kind, True, "the cache")
    assert switch.flag_usage == "--no-build-cache"
    assert switch.flag_arguments() == {
        "dest": "build_cache",
        "action": "store_const",
        "const": "false",
        "help": "off: the cache (overrides BASEIMAGES_BUILD_CACHE and [tool.baseimages] build-cache; default: true)",
    }
    assert switch.doc_row()[3:5] == ("boolean", "`true`")
    assert JOBS.flag_usage == "--jobs N" and JOBS.flag_arguments()["metavar"] == "N"


def test_toml_literals_of_defaults():
    assert toml_literal(("linux/amd64", "linux/arm64")) == '["linux/amd64", "linux/arm64"]'
    assert toml_literal(Path("~/x")) == '"~/x"'
    assert toml_literal(8) == "8"
