"""A real push of a tiny image with `--notify-url` of a webhook the test runs on 127.0.0.1: once the tags
moved, the hook receives one POST whose body names the pushed digest, its tags and platform, and the
changelog summary the run stored (a first promotion)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webhook import serve_hook

from baseimages.cli.main import main
from baseimages.outputs.notify import changelog_summary

REGISTRY = "localhost:5000"  # the engine's registry (`scripts/engine up`); dockerd mirrors python:3.11-slim


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with serve_hook() as served:
        yield served


@pytest.mark.integration
def test_a_push_notifies_the_hook_with_the_promoted_digest_and_the_changelog_summary(engine, tmp_path: Path, hook):
    url, received = hook
    image = tmp_path / "images" / "tiny"
    image.mkdir(parents=True)
    (image / "Dockerfile").write_text("ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\nRUN echo hi > /hi.txt\n")
    (image / "image.yaml").write_text(
        "name: tiny\nversion: 0.1.0\nparent: python:3.11-slim\nplatforms: [linux/amd64]\n"
        "smoke:\n  commands:\n    - name: hi\n      command: [cat, /hi.txt]\n      stdout: '^hi$'\n"
    )
    namespace = f"notify{uuid.uuid4().hex[:8]}"
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{REGISTRY}"\nnamespace = "{namespace}"\nbuild-cache = false\n'
    )
    report = tmp_path / "report.json"
    out, err = io.StringIO(), io.StringIO()
    args = [
        "push",
        "--project",
        str(tmp_path),
        "--notify-url",
        url,
        "--report",
        str(report),
        "--lock-dir",
        str(tmp_path),
    ]
    code = main(args, out=out, err=err)
    assert code == 0, err.getvalue()
    [result] = json.loads(report.read_text())["images"]
    assert result["status"] == "promoted"
    assert [r["path"] for r in received] == ["/hook"]
    body = received[0]["body"]
    assert body["schema"] == "baseimages.notify/v1" and body["image"] == "tiny"
    assert body["repository"] == f"{REGISTRY}/{namespace}/tiny"
    assert body["digest"] == result["digest"] and body["digest"].startswith("sha256:")
    assert body["tags"] == result["tags"] and "latest" in body["tags"]
    assert body["previous_digest"] is None and body["platforms"] == ["linux/amd64"]
    assert body["reports"] == {"json": str(report)}
    # The summary of the changelog the run stored (a first promotion once promotion computes it).
    assert "changelog" in body and body["changelog"] == changelog_summary(result.get("changelog"))
    if body["changelog"] is not None:
        assert body["changelog"]["first"] is True
        assert body["changelog"]["platforms"]["linux/amd64"]["state"] == "first"
