"""The value types of settings and the Setting record: what each accepts from TOML and from text, and
how a refusal names the place the value came from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from baseimages.errors import ConfigError
from baseimages.schema import (
    AnyPath,
    ExistingPath,
    Invalid,
    PlatformList,
    Setting,
    Switch,
    Text,
    WholeNumber,
    toml_literal,
)

HOST = Text("host", "HOST", re.compile(r"^[a-z.]+$"), "is not a host", rstrip="/", required=True)
JOBS: Setting[int] = Setting("jobs", "BASEIMAGES_JOBS", "--jobs", WholeNumber(1), 2, "images at once")


def test_text_is_trimmed_before_it_is_matched_and_the_problem_quotes_it():
    assert HOST.from_text("reg.example/") == "reg.example"
    with pytest.raises(Invalid, match=r"^'Reg' is not a host$"):
        HOST.from_text("Reg/")
    with pytest.raises(Invalid, match="^'' is not a host$"):
        HOST.from_text("")
    assert Text(pattern=re.compile("^x$"), strip="/").from_text("//") == ""  # empty allowed unless required


def test_a_toml_value_of_another_type_is_refused_naming_its_type():
    with pytest.raises(Invalid, match="^must be a string, got int$"):
        HOST.from_toml(5)
    with pytest.raises(Invalid, match="^must be a string, got list$"):
        AnyPath().from_toml(["a"])


@pytest.mark.parametrize(
    ("raw", "problem"), [(True, "got True"), (2.5, "got 2.5"), ("3", "got '3'"), (0, "at least 1")]
)
def test_a_whole_number_in_toml_is_an_integer_of_at_least_the_minimum(raw, problem):
    with pytest.raises(Invalid, match=re.escape(problem)):
        WholeNumber(1).from_toml(raw)


def test_a_whole_number_from_text_is_parsed_then_checked():
    assert WholeNumber(0).from_text(" 0 ") == 0
    with pytest.raises(Invalid, match="^must be a whole number, got 'two'$"):
        WholeNumber(0).from_text("two")
    with pytest.raises(Invalid, match="^must be at least 0$"):
        WholeNumber(0).from_text("-1")


def test_platforms_are_a_toml_list_or_comma_separated_text():
    kind = PlatformList()
    assert kind.from_toml(["linux/arm64"]) == ("linux/arm64",)
    assert kind.from_text(" linux/amd64 ,linux/arm64/v8,") == ("linux/amd64", "linux/arm64/v8")
    with pytest.raises(Invalid, match="non-empty list of strings"):
        kind.from_toml([])
    with pytest.raises(Invalid, match="at least one platform"):
        kind.from_text(" , ")
    with pytest.raises(Invalid, match="'linux/amd65' is not a platform"):
        kind.from_text("linux/amd65")


def test_a_path_expands_the_home_directory_and_stays_relative_otherwise():
    assert AnyPath().from_text("~/locks") == Path.home() / "locks"
    assert AnyPath().from_text("images") == Path("images")


def test_an_existing_path_is_made_absolute_and_empty_means_not_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wheels").mkdir()
    (tmp_path / "ca.pem").write_text("x")
    assert ExistingPath(directory=True).from_text("wheels") == tmp_path.resolve() / "wheels"
    assert ExistingPath(directory=False).from_toml("ca.pem") == tmp_path.resolve() / "ca.pem"
    assert ExistingPath(directory=True).from_text("") is None
    with pytest.raises(Invalid, match=f"^no such directory: {re.escape(str(tmp_path / 'ca.pem'))}$"):
        ExistingPath(directory=True).from_text("ca.pem")
    with pytest.raises(Invalid, match="^no such file: "):
        ExistingPath(directory=False).from_text("wheels")


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
