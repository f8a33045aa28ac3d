"""Each family reference against the registry: its tag line, what the line promotes now, whether it is
behind, and what bump would write; the registry asked once per image and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_family import FAMILY, UV, FamilyTags

from baseimages.dependents.check import check_dependents, line_of, rewrite
from baseimages.dependents.model import PinKind

OLD_TAG, NEW_TAG = "1.2.3-20260101.1", "1.2.3-20260301.2"


@pytest.fixture
def family() -> tuple[FamilyTags, str, str]:
    tags = FamilyTags()
    old = tags.build("python311-uv", "1.2.3", "20260101")
    tags.build("python311-uv", "1.1.0", "20260201")  # another line: never what a 1.2.3 pin moves to
    new = tags.build("python311-uv", "1.2.3", "20260301", n=2)
    return tags, old, new


def _service(tmp_path: Path, old: str) -> Path:
    (tmp_path / "Dockerfile").write_text(
        f"# syntax=docker/dockerfile:1\nARG BASE={UV}:{OLD_TAG}\nFROM ${{BASE}} AS builder\n"
        f"FROM {UV}:1.2 AS rolling\nFROM {UV}@{old} AS digest\nFROM {UV}:{OLD_TAG}@{old} AS both\n"
        f"FROM {UV}:{NEW_TAG} AS current\nFROM python:3.11-slim\n"
    )
    return tmp_path


def test_pins_are_classified_and_behind_is_what_differs_from_the_promoted_digest_of_their_line(tmp_path, family):
    tags, old, new = family
    report = check_dependents([_service(tmp_path, old)], FAMILY, tags)
    got = [(p.use.line, p.kind, p.line, p.pinned_digest, p.behind, p.replacement) for p in report.pins]
    assert got == [
        (2, PinKind.IMMUTABLE, "1.2.3", old, True, f"{UV}:{NEW_TAG}"),
        (4, PinKind.ROLLING, "1.2", new, False, None),
        (5, PinKind.DIGEST, "1.2.3", old, True, f"{UV}@{new}"),
        (6, PinKind.DIGEST, "1.2.3", old, True, f"{UV}:{NEW_TAG}@{new}"),
        (7, PinKind.IMMUTABLE, "1.2.3", new, False, None),
    ]
    assert {(p.promoted_tag, p.promoted_digest) for p in report.pins} == {(NEW_TAG, new)}
    assert report.summary() == "5 references to the family in 1 files read, 3 behind"


def test_a_rolling_tag_is_never_behind_but_says_what_it_resolves_to_now(tmp_path, family):
    tags, _, new = family
    (tmp_path / "Dockerfile").write_text(f"FROM {UV}\n")
    [pin] = check_dependents([tmp_path], FAMILY, tags).pins
    assert (pin.kind, pin.line, pin.behind, pin.promoted_tag, pin.promoted_digest) == (
        PinKind.ROLLING, "latest", False, NEW_TAG, new)  # fmt: skip
    assert pin.lines()[1] == f"  follows latest: now {NEW_TAG} {new}"


def test_a_line_the_registry_does_not_hold_is_unknown_not_behind(tmp_path, family):
    tags, _, _ = family
    (tmp_path / "Dockerfile").write_text(f"FROM {UV}:9.9.9-20260101.1\nFROM {FAMILY.repository('gone')}:1\n")
    pins = check_dependents([tmp_path], FAMILY, tags).pins
    assert [(p.behind, p.promoted_digest) for p in pins] == [(False, None), (False, None)]
    assert pins[0].lines()[1] == "  unknown: the registry holds nothing of python311-uv:9.9.9"


def test_a_digest_no_immutable_tag_names_any_more_is_compared_with_latest(tmp_path, family):
    tags, _, new = family
    gone = "sha256:" + "0" * 64
    (tmp_path / "Dockerfile").write_text(f"FROM {UV}@{gone}\n")
    [pin] = check_dependents([tmp_path], FAMILY, tags).pins
    assert (pin.line, pin.behind, pin.replacement) == ("latest", True, f"{UV}@{new}")


def test_the_changelog_callable_gets_the_pinned_and_the_promoted_reference_of_each_behind_pin(tmp_path, family):
    tags, old, new = family
    asked: list[tuple[str, str]] = []

    def describe(a: str, b: str) -> str:
        asked.append((a, b))
        return "- openssl 3.0.1 -> 3.0.2"

    report = check_dependents([_service(tmp_path, old)], FAMILY, tags, describe_change=describe)
    assert asked[0] == (f"{UV}:{OLD_TAG}", f"{UV}:{NEW_TAG}@{new}")
    assert len(asked) == 3
    assert [p.changelog is not None for p in report.pins] == [True, False, True, True, False]
    assert "    - openssl 3.0.1 -> 3.0.2" in report.lines()


def test_the_registry_is_asked_once_per_image_and_line_not_once_per_pin(tmp_path, family):
    tags, old, _ = family
    (tmp_path / "Dockerfile").write_text(f"FROM {UV}:1.2 AS a\n" * 20 + f"FROM {UV}:{OLD_TAG} AS b\n" * 20)
    report = check_dependents([tmp_path], FAMILY, tags)
    assert len(report.pins) == 40
    assert tags.listed == [UV]
    assert len(tags.asked) <= 5


def test_json_shape_of_a_pin(tmp_path, family):
    tags, old, new = family
    data = check_dependents([_service(tmp_path, old)], FAMILY, tags).to_dict()
    assert (data["total"], data["behind"], data["files"]) == (5, 3, [str(tmp_path / "Dockerfile")])
    assert data["pins"][0] == {
        "file": str(tmp_path / "Dockerfile"),
        "line": 2,
        "text": f"{UV}:{OLD_TAG}",
        "reference": f"{UV}:{OLD_TAG}",
        "where": "ARG BASE, used by FROM (stage builder) at line 3 of Dockerfile",
        "image": "python311-uv",
        "pin": "immutable",
        "tag_line": "1.2.3",
        "pinned_digest": old,
        "promoted": {"tag": NEW_TAG, "digest": new},
        "behind": True,
        "bump_to": f"{UV}:{NEW_TAG}",
        "changelog": None,
    }


def test_rewrite_keeps_the_form_and_the_repository_as_written():
    digest = "sha256:" + "e" * 64
    assert (
        rewrite("localhost:5000/uv:1.0.0-20260101.1", "1.0.0-20260102.1", digest)
        == "localhost:5000/uv:1.0.0-20260102.1"
    )
    assert rewrite("localhost:5000/uv@sha256:aa", None, digest) == f"localhost:5000/uv@{digest}"
    assert rewrite("uv:1.2@sha256:aa", None, digest) == f"uv:1.2@{digest}"
    assert line_of("1.2.3-rc.1-20260101.3") == "1.2.3-rc.1" and line_of("2026.03") == "2026.03"


def test_without_its_rolling_tag_a_line_promotes_its_newest_immutable_tag(tmp_path):
    tags = FamilyTags()
    tags.build("python311-uv", "1.2.3", "20260101", rolling=False)
    newest = tags.build("python311-uv", "1.2.3", "20260301", rolling=False)
    (tmp_path / "Dockerfile").write_text(f"FROM {UV}:{OLD_TAG}\n")
    [pin] = check_dependents([tmp_path], FAMILY, tags).pins
    assert (pin.behind, pin.promoted_tag, pin.promoted_digest) == (True, "1.2.3-20260301.1", newest)
