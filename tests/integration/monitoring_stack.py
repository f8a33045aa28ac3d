"""A real Prometheus stack fed by one run: a Pushgateway and a node_exporter (textfile collector) receive a
family's metrics, and a Prometheus with baseimages' alert rules scrapes both every second.

The run is a Factory run with the fake engine and the in-memory registry of the unit tests (no Docker): a
family of four, where `broken` is over its size budget (so it fails, and two alerts fire) and `security`'s
build is retried once (a registry retry). The updates waiting in the family (WAITING_UPDATES) are pushed
beside the run's metrics, as the daily `updates` check exports them. tests/integration/test_operators_view.py
feeds the same parts from a real build instead.
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
from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

from baseimages.catalog.plan import make_plan
from baseimages.catalog.spec import load_catalog
from baseimages.core.errors import RegistryError
from baseimages.core.retry import RetryPolicy
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

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


def push_waiting_updates(gateway: str) -> None:
    """WAITING_UPDATES into each image's group of the run's job (POST: the run's own metrics stay)."""
    for image in sorted({key[0] for key in WAITING_UPDATES}):
        registry = CollectorRegistry()
        labels = ["image", "platform", "kind"]
        waiting = Gauge("baseimages_update_waiting_seconds", "oldest update's wait", labels, registry=registry)
        count = Gauge("baseimages_updates_installable", "packages with an update", labels, registry=registry)
        for (name, platform, kind), (seconds, packages) in WAITING_UPDATES.items():
            if name == image:
                waiting.labels(name, platform, kind).set(seconds)
                count.labels(name, platform, kind).set(packages)
        pushadd_to_gateway(gateway, job="baseimages", grouping_key={"image": image}, registry=registry)


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
        push_waiting_updates(gateway.url)
        with prometheus(workdir, {"pushgateway": gateway, "node": node}, [ALERTS]) as server:
            stack = Stack(report.to_dict(), metrics_file, gateway, node, server)
            # Both targets scraped: every image's build duration from each.
            server.wait_for('baseimages_phase_duration_seconds{phase="build"}', count=2 * len(report.images))
            yield stack


@pytest.fixture(scope="session")
def fed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fed_stack_at(tmp_path_factory.mktemp("prometheus")) as stack:
        yield stack
