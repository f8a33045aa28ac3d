"""The tests' own Debian repository (apt_repo.py) as a real build sees it: apt in a two-platform
`docker buildx build` on the stand-in python:3.11-slim installs `baseimages-probe` 1.0 from it, and after
`publish("1.1")` a rebuild without cache installs 1.1. Light: one RUN, and only the one-line file holding the
installed version is exported (a scratch stage, `--output type=local`), no image is loaded or pushed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from apt_repo import AptRepo

from baseimages.engine.client import DockerEngine

PLATFORMS = ("linux/amd64", "linux/arm64")

DOCKERFILE = """\
FROM python:3.11-slim AS probe
RUN rm -f /etc/apt/sources.list.d/* && echo "{sources}" > /etc/apt/sources.list \\
    && apt-get update -q && apt-get install -y -q --no-install-recommends baseimages-probe \\
    && dpkg-query -W -f '${{Version}}' baseimages-probe > /probe-version
FROM scratch
COPY --from=probe /probe-version /
"""


def installed_versions(context: Path, out: Path, repo: AptRepo) -> dict[str, str]:
    """Build CONTEXT for both platforms without cache; the probe's installed version per platform."""
    (context / "Dockerfile").write_text(DOCKERFILE.format(sources=repo.sources_line))
    done = subprocess.run(
        [
            "docker",
            "buildx",
            "build",
            "--no-cache",
            "--progress=plain",
            "--platform",
            ",".join(PLATFORMS),
            "--output",
            f"type=local,dest={out}",
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"the build failed; the repository saw {repo.requests}\n{done.stderr[-4000:]}")
    return {p: (out / p.replace("/", "_") / "probe-version").read_text() for p in PLATFORMS}


@pytest.mark.integration
def test_a_build_installs_the_published_probe_and_a_rebuild_without_cache_gets_the_next_version(
    engine: DockerEngine, apt_repo: AptRepo, tmp_path: Path
) -> None:
    assert installed_versions(tmp_path, tmp_path / "first", apt_repo) == {p: "1.0" for p in PLATFORMS}
    assert any("Packages" in line for line in apt_repo.requests)  # apt read this repository's indexes

    apt_repo.publish("1.1")

    assert installed_versions(tmp_path, tmp_path / "second", apt_repo) == {p: "1.1" for p in PLATFORMS}
