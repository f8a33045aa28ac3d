"""Bake files (HCL and JSON) and compose files: their own references, and the Dockerfiles they build read
with their args, each reference at the line of its text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_family import UV

from baseimages.core.errors import ConfigError
from baseimages.dependents.bake import scan_bake
from baseimages.dependents.compose import scan_compose

DIGEST = "sha256:" + "c" * 64
HCL = f"""variable "TAG" {{
  default = "1.2.3-20260101.1"
}}
group "default" {{
  targets = ["app", "worker"]
}}
# FROM {UV}:0.0.1 in a comment
target "app" {{
  context = "."
  dockerfile = "docker/app.Dockerfile"
  args = {{
    BASE = "{UV}:1.2.3-20260101.1"
    OTHER = "x"
  }}
  contexts = {{
    uv = "docker-image://{UV}@{DIGEST}"
  }}
}}
target "worker" {{
  inherits = ["app"]
  args = {{
    EXTRA = "{UV}:${{TAG}}"
  }}
}}
"""


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "app.Dockerfile").write_text(f"ARG BASE={UV}:1.0\nFROM ${{BASE}} AS build\n")
    return tmp_path


def _found(uses):
    return {(u.file.name, u.line, u.text, u.reference, u.where) for u in uses}


def test_a_bake_hcl_target_passes_its_args_to_the_dockerfile_and_its_contexts_name_images(tmp_path):
    bake = _repo(tmp_path) / "docker-bake.hcl"
    bake.write_text(HCL)
    found = _found(scan_bake(bake))
    assert ("docker-bake.hcl", 12, f"{UV}:1.2.3-20260101.1", f"{UV}:1.2.3-20260101.1",
            "target app: args.BASE, used by FROM (stage build) at line 2 of app.Dockerfile") in found  # fmt: skip
    assert ("docker-bake.hcl", 16, f"{UV}@{DIGEST}", f"{UV}@{DIGEST}", "target app: contexts.uv") in found
    # the worker inherits app's args and contexts; its own arg interpolates a variable: resolved, not rewritable
    assert ("docker-bake.hcl", 19, None, f"{UV}:1.2.3-20260101.1", "target worker: args.EXTRA") in found
    assert not any("0.0.1" in u[3] for u in found)
    assert not any(u[0] == "app.Dockerfile" for u in found)  # the ARG default is overridden by every target


def test_a_bake_json_file_reads_the_same(tmp_path):
    bake = _repo(tmp_path) / "docker-bake.json"
    document = {"target": {"app": {"dockerfile": "docker/app.Dockerfile", "args": {"BASE": f"{UV}:2.0"}}}}
    bake.write_text(json.dumps(document, indent=2))
    found = _found(scan_bake(bake))
    assert {(name, line, text) for name, line, text, _, _ in found} == {("docker-bake.json", 6, f"{UV}:2.0")}


def test_a_bake_target_without_args_reads_the_dockerfile_defaults(tmp_path):
    bake = _repo(tmp_path) / "docker-bake.hcl"
    bake.write_text('target "app" {\n  dockerfile = "docker/app.Dockerfile"\n}\n')
    assert [(u.file.name, u.line, u.text) for u in scan_bake(bake)] == [("app.Dockerfile", 1, f"{UV}:1.0")]


def test_a_bake_file_that_is_not_hcl_or_points_at_a_missing_dockerfile_is_a_config_error(tmp_path):
    bake = tmp_path / "docker-bake.hcl"
    bake.write_text('target "app" {\n')
    with pytest.raises(ConfigError, match="docker-bake.hcl: line 2: not valid HCL"):
        scan_bake(bake)
    bake.write_text('target "app" {\n  dockerfile = "nope.Dockerfile"\n}\n')
    with pytest.raises(ConfigError, match="target.app.dockerfile: .*nope.Dockerfile not found"):
        scan_bake(bake)


def test_compose_services_image_and_build_with_mapping_and_list_args(tmp_path):
    _repo(tmp_path)
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        f"services:\n  api:\n    image: {UV}:1.2\n  worker:\n    build:\n      context: .\n"
        f'      dockerfile: docker/app.Dockerfile\n      args:\n        BASE: "{UV}@{DIGEST}"\n'
        f"  batch:\n    build:\n      context: docker\n      dockerfile: app.Dockerfile\n"
        f"      args:\n        - BASE={UV}:1.2.3-20260101.1\n  plain:\n    build: docker\n"
    )
    (tmp_path / "docker" / "Dockerfile").write_text(f"FROM {UV}:3\n")
    found = [(u.file.name, u.line, u.text, u.where) for u in scan_compose(compose)]
    assert ("compose.yaml", 3, f"{UV}:1.2", "service api: image") in found
    assert ("compose.yaml", 9, f"{UV}@{DIGEST}", "service worker: build.args.BASE") in found
    assert ("compose.yaml", 15, f"{UV}:1.2.3-20260101.1", "service batch: build.args.BASE") in found
    assert ("Dockerfile", 1, f"{UV}:3", "FROM") in found


def test_a_compose_file_that_is_not_yaml_is_a_config_error_naming_the_line(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  api: [\n")
    with pytest.raises(ConfigError, match="compose.yaml: line 3: not valid YAML"):
        scan_compose(compose)
