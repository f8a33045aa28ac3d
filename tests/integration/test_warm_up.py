"""The cache warm-up on the real engine: while a parent's arm64 build (QEMU) still runs, its child's amd64
steps run FROM the parent's amd64 output (an OCI layout, exporting nothing); the child's own amd64 build,
FROM the parent's candidate in the registry, then finds every step in BuildKit's cache."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lab_tools import RecordingEngine

from baseimages import Factory, ImageStatus, RunOptions, RunReport, load_catalog, make_plan

PARENT, CHILD = "warm-parent", "warm-child"


def _write(project: Path, token: str) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "warm-lab"\nversion = "0.0.1"\n\n[tool.baseimages]\n')
    smoke = "smoke:\n  commands:\n    - name: it runs\n      command: [cat, /etc/hostname]\n"
    for name, parent, run in [
        # arm64 (QEMU here) takes longer: the child's amd64 steps can run before the parent's candidate exists
        (PARENT, "python:3.11-slim", f'if [ "$(uname -m)" = aarch64 ]; then sleep 20; fi; echo {token} > /parent'),
        (CHILD, PARENT, f"cat /parent && echo child {token} > /child"),
    ]:
        folder = project / "images" / name
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text(f"ARG BASE_IMAGE=python:3.11-slim\nFROM ${{BASE_IMAGE}}\nRUN {run}\n")
        (folder / "image.yaml").write_text(f"name: {name}\nversion: 1.0.0\nparent: {parent}\n{smoke}")


@pytest.fixture(scope="module")
def warmed(
    test_registry: str, tmp_path_factory: pytest.TempPathFactory, fresh_settings: Callable[..., Any]
) -> tuple[RecordingEngine, RunReport]:
    project = tmp_path_factory.mktemp("warm")
    _write(project, uuid.uuid4().hex)  # steps no earlier build has cached
    settings = fresh_settings(project, test_registry)
    assert settings.warm_up and settings.jobs >= 2
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    engine = RecordingEngine()
    report = Factory(settings, catalog, engine=engine).run(make_plan(catalog, settings), RunOptions(push=True))
    return engine, report


def test_the_child_warms_its_amd64_steps_while_the_parents_arm64_still_builds(warmed) -> None:
    engine, report = warmed
    assert report.exit_code == 0, [(i.name, i.error) for i in report.images]
    assert {i.status for i in report.images} == {ImageStatus.PROMOTED}
    child, parent = report.image(CHILD), report.image(PARENT)
    assert (CHILD, "linux/amd64", "cacheonly") in engine.logs, sorted(engine.logs)
    assert (CHILD, "linux/arm64", "cacheonly") not in engine.logs  # the parent's last platform: no head start
    warm_start, warm_end = child.platform_timeline["linux/amd64"]["warm"]
    assert warm_start < parent.platform_timeline["linux/arm64"]["build"][1]
    assert warm_end <= child.platform_timeline["linux/amd64"]["build"][0]  # its own build waited for it


def test_the_childs_own_amd64_build_finds_every_step_the_warm_up_ran_in_the_cache(warmed) -> None:
    engine, _ = warmed
    warm = engine.logs[(CHILD, "linux/amd64", "cacheonly")]
    assert any(re.match(r"#\d+ DONE", line) for line in warm), "\n".join(warm)  # the warm-up ran the step
    build = engine.logs[(CHILD, "linux/amd64", "oci")]
    step = next(line for line in build if re.match(r"#\d+ \[\d+/\d+\] RUN cat /parent", line))
    number = step.split()[0]
    assert f"{number} CACHED" in build, "\n".join(build)
    arm = engine.logs[(CHILD, "linux/arm64", "oci")]
    arm_step = next(line for line in arm if re.match(r"#\d+ \[\d+/\d+\] RUN cat /parent", line))
    assert f"{arm_step.split()[0]} CACHED" not in arm  # never warmed: it ran
