"""`diff` on two real multi-platform builds pushed by buildx to the local registry: the second build adds one
Debian package (apt-get) and one Python distribution (a venv's dist-info) to the first; diff shows exactly those, on
both platforms, read from the registry alone (buildx's own gzip layers, the base's layers shared)."""

from __future__ import annotations

import io
import json
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from baseimages.cli.main import main

REGISTRY = "localhost:5000"  # the engine's registry, which mirrors the base image
BASE = f"{REGISTRY}/library/python:3.11-slim"
DOCKERFILES = {
    "1": f"FROM {BASE}\nLABEL org.example.build=one\n",
    "2": f"FROM {BASE}\nLABEL org.example.build=two\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends less && rm -rf /var/lib/apt/lists/*\n"
    # What `pip install six==1.16.0` leaves in a venv (the engine's base has no pip, its builds no PyPI).
    "RUN mkdir -p /opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info && printf "
    "'Metadata-Version: 2.1\\nName: six\\nVersion: 1.16.0\\n' "
    "> /opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA\n",
}


def _registry_answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.mark.integration
def test_diff_of_two_builds_shows_the_one_debian_and_one_pip_package_between_them(engine, tmp_path: Path):
    if not _registry_answers():
        pytest.fail(f"the registry at {REGISTRY} does not answer; run `scripts/engine up`")
    repository = f"{REGISTRY}/changelog-{uuid.uuid4().hex[:8]}/tiny"
    for tag, dockerfile in DOCKERFILES.items():
        (tmp_path / f"Dockerfile.{tag}").write_text(dockerfile)
        subprocess.run(
            ["docker", "buildx", "build", "--platform", "linux/amd64,linux/arm64", "--provenance=false",
             "-f", str(tmp_path / f"Dockerfile.{tag}"), "-t", f"{repository}:{tag}", "--push", str(tmp_path)],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
    (tmp_path / "pyproject.toml").write_text(f'[tool.baseimages]\nregistry = "{REGISTRY}"\n')
    out, err = io.StringIO(), io.StringIO()
    code = main(["diff", "--json", "--project", str(tmp_path), f"{repository}:1", f"{repository}:2"], out=out, err=err)
    assert code == 1, err.getvalue()
    doc = json.loads(out.getvalue())
    assert sorted(doc["platforms"]) == ["linux/amd64", "linux/arm64"]
    for platform in doc["platforms"].values():
        assert platform["state"] == "changed"
        assert [(p["name"], p["change"]) for p in platform["packages"]] == [("less", "added")]
        assert [(p["environment"], p["name"], p["new"]) for p in platform["python"]] == [("/opt/venv", "six", "1.16.0")]
        assert [(c["field"], c["name"], c["new"]) for c in platform["config"]] == [
            ("label", "org.example.build", "two")
        ]
        assert platform["size"]["new"] > platform["size"]["old"]
