"""bump: the exact bytes it writes (only the reference's text changes; CRLF, comments, spacing and mode
kept), idempotence, the --dry-run diff, and the pull request's text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fake_family import FAMILY, UV, FamilyTags

from baseimages.dependents.bump import TITLE, plan_bump
from baseimages.dependents.check import check_dependents

OLD_TAG, NEW_TAG = "1.2.3-20260101.1", "1.2.3-20260301.2"


@pytest.fixture
def family() -> tuple[FamilyTags, str, str]:
    tags = FamilyTags()
    old = tags.build("python311-uv", "1.2.3", "20260101")
    new = tags.build("python311-uv", "1.2.3", "20260301", n=2)
    return tags, old, new


def _lines(old: str) -> list[str]:
    return [
        "# syntax=docker/dockerfile:1",
        f'ARG BASE="{UV}:{OLD_TAG}"   # pinned on purpose',
        "FROM ${BASE} AS builder",
        f"FROM  {UV}:1.2  AS rolling",
        f"FROM {UV}@{old} AS digest",
        f"FROM {UV}:{OLD_TAG}@{old}",
        "RUN echo done ",
    ]


def _bump(paths: list[Path], tags: FamilyTags, describe=None):
    return plan_bump(check_dependents(paths, FAMILY, tags, describe_change=describe))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bump_rewrites_only_the_references_and_keeps_every_other_byte(tmp_path, family, newline):
    tags, old, new = family
    path = tmp_path / "Dockerfile"
    path.write_bytes(newline.join(_lines(old)).encode())  # no newline at the end, on purpose
    os.chmod(path, 0o640)
    plan = _bump([tmp_path], tags)
    assert plan.apply() == [path]
    expected = _lines(old)
    expected[1] = f'ARG BASE="{UV}:{NEW_TAG}"   # pinned on purpose'
    expected[4] = f"FROM {UV}@{new} AS digest"
    expected[5] = f"FROM {UV}:{NEW_TAG}@{new}"
    assert path.read_bytes() == newline.join(expected).encode()
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]  # no temporary file left


def test_bump_twice_changes_nothing_the_second_time(tmp_path, family):
    tags, old, _ = family
    path = tmp_path / "Dockerfile"
    path.write_text("\n".join(_lines(old)) + "\n")
    _bump([tmp_path], tags).apply()
    after = path.read_bytes()
    again = _bump([tmp_path], tags)
    assert again.edits == () and again.apply() == []
    assert path.read_bytes() == after


def test_dry_run_diff_shows_the_edits_and_writes_nothing(tmp_path, family):
    tags, old, new = family
    path = tmp_path / "Dockerfile"
    path.write_text(f"FROM {UV}:1.2\nFROM {UV}:{OLD_TAG}\n")
    before = path.read_bytes()
    diff = _bump([path], tags).diff()
    assert diff == (
        f"--- a/{path}\n+++ b/{path}\n@@ -1,2 +1,2 @@\n FROM {UV}:1.2\n-FROM {UV}:{OLD_TAG}\n+FROM {UV}:{NEW_TAG}\n"
    )
    assert path.read_bytes() == before


def test_bump_rewrites_bake_and_compose_files_in_place(tmp_path, family):
    tags, old, new = family
    bake = tmp_path / "docker-bake.hcl"
    bake.write_text(f'target "app" {{\n  args = {{ BASE = "{UV}:{OLD_TAG}" }}\n}}\n')
    (tmp_path / "Dockerfile").write_text("ARG BASE\nFROM $BASE\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text(f"services:\n  api:\n    image: '{UV}@{old}'  # keep\n")
    _bump([tmp_path], tags).apply()
    assert bake.read_text() == f'target "app" {{\n  args = {{ BASE = "{UV}:{NEW_TAG}" }}\n}}\n'
    assert compose.read_text() == f"services:\n  api:\n    image: '{UV}@{new}'  # keep\n"


def test_pull_request_text_lists_each_edit_and_the_changelogs(tmp_path, family):
    tags, old, _ = family
    path = tmp_path / "Dockerfile"
    path.write_text(f"ARG X=1\nFROM {UV}:1.2\nFROM {UV}:{OLD_TAG}\nFROM {UV}:${{X}}.2.3-20260101.1\n")
    title, body = _bump([path], tags, describe=lambda a, b: f"changes from {a}\nto {b}").pull_request()
    assert title == TITLE
    assert body.splitlines()[:5] == [
        "Pins to the base-image family that are behind what their tag line promotes now:",
        "",
        f"- `{path}:3` (python311-uv, tag line `1.2.3`):",
        f"  `{UV}:{OLD_TAG}` -> `{UV}:{NEW_TAG}`",
        f"- `{path}:4` is behind but not rewritten: its reference is assembled from variables",
    ]
    assert f"### `{path}:3`" in body and f"changes from {UV}:{OLD_TAG}" in body
    assert body.endswith("1 rolling tag(s) left alone: they follow their tag line.\n")
