"""A real Prometheus stack fed by one run: a Pushgateway and a node_exporter (textfile collector) receive a
family's metrics, and a Prometheus with baseimages' alert rules scrapes both every second.

The run is a Factory run with the fake engine and the in-memory registry of the unit tests (no Docker): a
family of four, where `broken` is over its size budget (so it fails, and two alerts fire) and `security`'s
build is retried once (a registry retry). The updates waiting in the family (WAITING_UPDATES, a look of the
daily `updates` check made by hand) are published beside the run's metrics by the library function that
command calls (`publish_waiting`), into the same metrics file and Pushgateway.
tests/integration/test_operators_view.py feeds the same parts from a real build instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from baseimages.catalog.plan import make_plan
from baseimages.catalog.spec import load_catalog
from baseimages.core.errors import RegistryError
from baseimages.core.retry import RetryPolicy
from baseimages.outputs.metrics_publish import publish_waiting
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings
from baseimages.updates import DebianUpdate, ImageUpdates, PlatformUpdates, UpdatesReport, found

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "monitoring" / "alerts.yml"
sys.path.insert(0, str(ROOT / "tests" / "unit"))  # the unit tests' fakes: FakeEngine, MemoryRegistry
from fakes import FakeEngine, MemoryRegistry  # noqa: E402
from prometheus_processes import Prometheus, Server, node_exporter, prometheus, pushgateway  # noqa: E402

NOW = dt.datetime.now(dt.UTC)


class FlakyEngine(FakeEngine):
    """The first build of FLAKY fails as a registry hiccup would (transient), the retry succeeds."""

    flaky: str = "security"

    def build(self, request: Any, image: str, on_line: Any = None) -> str:
        if image.split(" ")[0] == self.flaky and self.flaky not in self.builds:
            self.builds.append(self.flaky)
            raise RegistryError(f"{self.flaky}: base resolution: HTTP 503 Service Unavailable", transient=True)
        return super().build(request, image, on_line)


def write_catalog(root: Path) -> Path:
    images = {
        "uv": {"size_budget": {"max_mb": 80}},
        "ml": {"parent": "uv", "size_budget": {"max_mb": 400, "max_mb_over_parent": 60}},
        "security": {"parent": "uv"},
        "broken": {"size_budget": {"max_mb": 0.5}},  # every platform is 1 MB in the in-memory registry
    }
    for name, fields in images.items():
        folder = root / "images" / name
        folder.mkdir(parents=True)
        spec = {"name": name, "version": "1.0.0", "parent": "python:3.11-slim", **fields}
        spec["smoke"] = {"commands": [{"name": "python runs", "command": ["python", "--version"]}]}
        (folder / "image.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        (folder / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    return root


# Updates installable in the family, as the daily `updates` check exports them: (image, platform, kind) ->
# (seconds the oldest has waited, how many packages). Below every alert's threshold: nothing fires.
WAITING_UPDATES = {
    ("uv", "linux/amd64", "security"): (2 * 86400.0, 1),
    ("uv", "linux/amd64", "any"): (10 * 86400.0, 3),
    ("uv", "linux/arm64", "security"): (2 * 86400.0, 1),
    ("uv", "linux/arm64", "any"): (9 * 86400.0, 2),
    ("ml", "linux/amd64", "any"): (3 * 86400.0, 1),
}


def waiting_look(registry: str) -> UpdatesReport:
    """A look that finds WAITING_UPDATES: per image and platform, its security updates (the oldest first seen
    as long ago as the `security` figure says) and the others (the oldest as the `any` figure says)."""
    platforms: dict[str, dict[str, list[DebianUpdate]]] = {}
    for (image, platform), kinds in _by_platform().items():
        (oldest_security, security), (oldest, every) = kinds.get("security", (0.0, 0)), kinds["any"]
        ages = [oldest_security] + [0.0] * (security - 1) if security else []
        ages += [oldest] + [0.0] * (every - security - 1) if every > security else []
        updates = [
            DebianUpdate(f"pkg{n}", "1.0", "1.1", "bookworm-security" if n < security else "bookworm", n < security,
                         "http://deb.debian.org/debian", NOW - dt.timedelta(seconds=age))
            for n, age in enumerate(ages)
        ]  # fmt: skip
        platforms.setdefault(image, {})[platform] = updates
    images = tuple(
        ImageUpdates(image, f"{registry}/t/{image}:latest", "sha256:" + "a" * 64, tuple(
            PlatformUpdates(platform, "sha256:" + "b" * 64, tuple(updates)) for platform, updates in looked.items()
        ))
        for image, looked in sorted(platforms.items())
    )  # fmt: skip
    return UpdatesReport(NOW, images)


def _by_platform() -> dict[tuple[str, str], dict[str, tuple[float, int]]]:
    """WAITING_UPDATES as (image, platform) -> kind -> its figures."""
    kinds: dict[tuple[str, str], dict[str, tuple[float, int]]] = {}
    for (image, platform, kind), figures in WAITING_UPDATES.items():
        kinds.setdefault((image, platform), {})[kind] = figures
    return kinds


@dataclass
class Stack:
    report: dict[str, Any]  # the run's JSON report
    metrics_file: Path
    gateway: Server
    node: Server
    prometheus: Prometheus

    def seconds(self) -> dict[tuple[str, str], float]:
        """(image, phase) -> seconds, as the JSON report shows them."""
        return {(i["name"], phase): s for i in self.report["images"] for phase, s in i["seconds"].items()}


@contextlib.contextmanager
def fed_stack_at(workdir: Path) -> Iterator[Stack]:
    textfiles = workdir / "textfiles"
    textfiles.mkdir()
    with pushgateway(workdir) as gateway, node_exporter(workdir, textfiles) as node:
        project = write_catalog(workdir / "project")
        metrics_file = textfiles / "baseimages.prom"
        settings = Settings(
            root=project,
            registry="registry.test:5000",
            namespace="t",
            metrics_file=metrics_file,
            pushgateway=gateway.url,
        )
        catalog = load_catalog(settings.catalog_dir, settings.platforms)
        registry = MemoryRegistry(retry=RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02))
        factory = Factory(settings, catalog, engine=FlakyEngine(build_seconds=0.2), registry=registry)
        report = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
        assert report.warnings == [], report.warnings
        look = waiting_look(settings.registry)
        assert publish_waiting(settings, look, found(look)) == []
        with prometheus(workdir, {"pushgateway": gateway, "node": node}, [ALERTS]) as server:
            stack = Stack(report.to_dict(), metrics_file, gateway, node, server)
            # Both targets scraped: every image's build duration from each.
            server.wait_for('baseimages_phase_duration_seconds{phase="build"}', count=2 * len(report.images))
            yield stack


@pytest.fixture(scope="session")
def fed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fed_stack_at(tmp_path_factory.mktemp("prometheus")) as stack:
        yield stack
