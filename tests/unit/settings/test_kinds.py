"""The value types of settings (baseimages.settings.kinds): what each accepts from TOML and from text, and what it
refuses, in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from baseimages.settings.kinds import AnyPath, ExistingPath, Invalid, PlatformList, Text, WholeNumber

HOST = Text("host", "HOST", re.compile(r"^[a-z.]+$"), "is not a host", rstrip="/", required=True)


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


def test_a_whole_number_with_a_maximum_rejects_what_is_above_it_and_says_the_range() -> None:
    level = WholeNumber(0, 9)
    assert level.from_text("9") == 9
    assert level.name == "integer, 0 to 9"
    with pytest.raises(Invalid, match="must be at least 0 and at most 9"):
        level.from_text("10")
