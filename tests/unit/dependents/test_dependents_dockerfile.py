"""The scanner's reading of Dockerfiles: every FROM as BuildKit reads it (flags, stages, ARG defaults,
continuations, comments, directives, heredocs, any case), each reference at the line its text is on."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_family import FAMILY, UV

from baseimages.core.errors import ConfigError
from baseimages.dependents.dockerfile import ArgValue, scan_dockerfile
from baseimages.dependents.model import PinKind
from baseimages.dependents.scan import family_uses, files_below, kind_of

DIGEST = "sha256:" + "a" * 64


def _write(folder: Path, text: str, name: str = "Dockerfile") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _found(path: Path, overrides: dict[str, ArgValue] | None = None) -> list[tuple[int, str | None, str]]:
    return [(u.line, u.text, u.reference) for u in scan_dockerfile(path, overrides)]


def test_every_from_of_a_multi_stage_file_with_platform_flags_and_lowercase_from(tmp_path):
    path = _write(
        tmp_path,
        f"FROM --platform=$BUILDPLATFORM {UV}:1.2.3 AS builder\nRUN make\n"
        f"from {UV}@{DIGEST} as runtime\nFROM python:3.11-slim\n",
    )
    assert _found(path) == [
        (1, f"{UV}:1.2.3", f"{UV}:1.2.3"),
        (3, f"{UV}@{DIGEST}", f"{UV}@{DIGEST}"),
        (4, "python:3.11-slim", "python:3.11-slim"),
    ]


def test_an_earlier_stage_and_scratch_are_not_images_even_when_named_like_one(tmp_path):
    path = _write(tmp_path, f"FROM {UV}:1 AS python\nFROM python\nFROM Python AS again\nFROM scratch\n")
    assert _found(path) == [(1, f"{UV}:1", f"{UV}:1")]


def test_a_stage_name_used_before_it_is_defined_is_an_image(tmp_path):
    path = _write(tmp_path, "FROM builder\nFROM alpine AS builder\n")
    assert [reference for _, _, reference in _found(path)] == ["builder", "alpine"]


def test_an_arg_default_used_in_from_is_reported_at_the_arg_line(tmp_path):
    path = _write(
        tmp_path,
        f'# syntax=docker/dockerfile:1\nARG BASE="{UV}:1.2.3-20260101.1"\nARG OTHER=1\n'
        "FROM ${BASE} AS build\nFROM $BASE\n",
    )
    uses = scan_dockerfile(path)
    assert [(u.line, u.text) for u in uses] == [(2, f"{UV}:1.2.3-20260101.1")] * 2
    assert uses[0].where == "ARG BASE, used by FROM (stage build) at line 4 of Dockerfile"


def test_an_override_from_the_build_replaces_the_arg_default_and_points_at_its_own_file(tmp_path):
    path = _write(tmp_path, f"ARG BASE={UV}:1.0\nFROM ${{BASE}}\n")
    bake = tmp_path / "docker-bake.hcl"
    override = ArgValue(f"{UV}:2.0", bake, 7, "target app: args.BASE")
    [use] = scan_dockerfile(path, {"BASE": override})
    assert (use.file, use.line, use.text) == (bake, 7, f"{UV}:2.0")


def test_an_override_of_an_arg_the_file_does_not_declare_is_ignored(tmp_path):
    path = _write(tmp_path, "FROM ${BASE:-alpine:3}\n")
    override = ArgValue(f"{UV}:2.0", tmp_path / "compose.yaml", 3, "x")
    assert _found(path, {"BASE": override}) == [(1, "alpine:3", "alpine:3")]


def test_an_arg_declared_inside_a_stage_does_not_reach_a_later_from(tmp_path):
    path = _write(tmp_path, f"FROM alpine\nARG BASE={UV}:1.0\nFROM ${{BASE:-debian:12}}\n")
    assert [reference for _, _, reference in _found(path)] == ["alpine", "debian:12"]


def test_a_reference_assembled_from_an_arg_is_resolved_but_has_no_text_to_rewrite(tmp_path):
    path = _write(tmp_path, f"ARG TAG=1.2.3-20260101.1\nFROM {UV}:${{TAG}}\n")
    assert _found(path) == [(2, None, f"{UV}:1.2.3-20260101.1")]


def test_continuations_comments_and_directives_put_the_reference_on_its_own_line(tmp_path):
    path = _write(
        tmp_path,
        f"# escape=`\n# a comment: FROM {UV}:0.0.1\nFROM `\n  --platform=linux/amd64 `\n# inside\n"
        f"  {UV}:1.2 `\n  AS b\n",
    )
    assert _found(path) == [(6, f"{UV}:1.2", f"{UV}:1.2")]


def test_heredoc_bodies_are_not_read_as_instructions(tmp_path):
    path = _write(
        tmp_path,
        f"FROM {UV}:1\nRUN <<EOF\nFROM {UV}:9.9.9\necho hi\nEOF\nCOPY <<-END /x\n\tFROM evil:1\n\tEND\n",
    )
    assert _found(path) == [(1, f"{UV}:1", f"{UV}:1")]


def test_files_below_a_folder_by_name_skipping_hidden_folders(tmp_path):
    for name in (
        "Dockerfile",
        "svc/api.Dockerfile",
        "svc/Dockerfile.dev",
        "docker-bake.hcl",
        "compose.yml",
        "docker-compose.override.yaml",
        ".git/Dockerfile",
        "node_modules/x/Dockerfile",
        "README.md",
    ):
        _write(tmp_path, "", name)  # fmt: skip
    found = {str(p.relative_to(tmp_path)) for p in files_below([tmp_path])}
    assert found == {"Dockerfile", "svc/api.Dockerfile", "svc/Dockerfile.dev", "docker-bake.hcl", "compose.yml",
                     "docker-compose.override.yaml"}  # fmt: skip
    assert kind_of("docker-bake.override.json") == "bake" and kind_of("Dockerfile.txt") == "dockerfile"


def test_a_path_that_does_not_exist_is_a_config_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="nowhere: PATH: no such file or folder"):
        files_below([tmp_path / "nowhere"])


def test_only_the_family_is_kept_each_place_once_with_its_pin_kind(tmp_path):
    path = _write(
        tmp_path,
        f"FROM {UV}:1.2 AS a\nFROM {UV}:1.2.3-20260101.1 AS b\nFROM {UV}:1.2.3@{DIGEST} AS c\n"
        f"FROM registry.example.com/other/python311-uv:1\nFROM registry.example.com/team/sub/x:1\n"
        f"FROM https-less.example.com/team/python311-uv:1\nFROM {UV} AS d\n",
    )
    uses = family_uses([path, path], FAMILY)
    assert [(u.use.line, u.image, u.kind) for u in uses] == [
        (1, "python311-uv", PinKind.ROLLING),
        (2, "python311-uv", PinKind.IMMUTABLE),
        (3, "python311-uv", PinKind.DIGEST),
        (7, "python311-uv", PinKind.ROLLING),
    ]


def test_the_family_matches_references_as_docker_normalises_them(tmp_path):
    from baseimages.dependents.model import Family

    hub = Family.of("docker.io", "team")
    path = _write(tmp_path, "FROM team/uv:1\nFROM index.docker.io/team/uv:2\nFROM docker.io/library/team:3\n")
    assert [u.use.text for u in family_uses([path], hub)] == ["team/uv:1", "index.docker.io/team/uv:2"]
