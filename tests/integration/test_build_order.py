"""The build's order on the real engine: arm64 (under QEMU here) starts first, so a step holding a
`sharing=locked` cache mount is arm64's first and amd64's step waits for it, not the other way round."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab_tools import RecordingEngine

from baseimages import Factory, ImageStatus, RunOptions, load_catalog, make_plan

NAME = "order-lab"


def _write(project: Path, token: str) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "order-lab"\nversion = "0.0.1"\n\n[tool.baseimages]\n')
    folder = project / "images" / NAME
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(
        "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n"
        f"RUN --mount=type=cache,target=/var/cache/lock,id=order-{token},sharing=locked echo {token}; "
        'echo "locked from $(date +%s.%N)"; sleep 5; echo "unlocked at $(date +%s.%N)"\n'
    )
    smoke = "smoke:\n  commands:\n    - name: it runs\n      command: [cat, /etc/hostname]\n"
    (folder / "image.yaml").write_text(f"name: {NAME}\nversion: 1.0.0\nparent: python:3.11-slim\n{smoke}")


def _second(lines: list[str], what: str) -> float:
    found = [float(m.group(1)) for line in lines if (m := re.search(rf"{what} (\d+\.\d+)$", line))]
    assert len(found) == 1, "\n".join(lines)
    return found[0]


def test_arm64_under_qemu_takes_a_locked_cache_mount_before_amd64(
    test_registry: str, tmp_path: Path, fresh_settings: Callable[..., Any]
) -> None:
    # A step no earlier build has: BuildKit leaves a cache mount's id out of the step's cache key, so the token
    # is in the command too (with the id alone, a rerun on the same engine found the step CACHED).
    _write(tmp_path, uuid.uuid4().hex)
    settings = fresh_settings(tmp_path, test_registry)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    engine = RecordingEngine()
    assert engine.architecture() == "x86_64"
    report = Factory(settings, catalog, engine=engine).run(make_plan(catalog, settings), RunOptions(push=False))
    assert report.exit_code == 0, [(i.name, i.error) for i in report.images]
    assert [i.status for i in report.images] == [ImageStatus.TESTED]
    arm, amd = (engine.logs[(NAME, platform, "oci")] for platform in ("linux/arm64", "linux/amd64"))
    assert _second(arm, "locked from") < _second(amd, "locked from")
    assert _second(amd, "locked from") >= _second(arm, "unlocked at")  # amd64's step waited for arm64's
