"""The plan a person reads (`--dry-run`): per image why it builds, each platform with its builder, the
upload, the checks per platform, the contract, signing and the tags that would move, from which digest
to which; read from the registry as `plan` reads it, unknown where it does not answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.errors import RegistryError
from baseimages.core.reference import Reference
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"


@pytest.fixture
def family(catalog_writer):
    """uv FROM python:3.11-slim with a contract and a size budget, ml FROM uv with two checks."""
    contract = catalog_writer.images_dir / "uv" / "contract"
    contract.mkdir(parents=True)
    (contract / "Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    catalog_writer.add(
        "uv",
        contract={"context": "contract", "commands": [{"name": "app", "command": ["python", "/srv/app.py"]}]},
        size_budget={"max_mb": 200},
    )
    commands = [{"name": "python", "command": ["python", "--version"]}, {"name": "pip", "command": ["pip", "-V"]}]
    catalog_writer.add("ml", parent="uv", smoke={"commands": commands})
    return catalog_writer


def _factory(family, registry):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", builders={"linux/arm64": "node2"})
    catalog = family.load()
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=registry)
    return factory, make_plan(catalog, settings, now=NOW)


def _section(lines: list[str], name: str) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name} "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


def test_the_plan_says_per_image_why_it_builds_where_each_platform_builds_and_what_it_checks(family):
    factory, plan = _factory(family, MemoryRegistry())
    lines = factory.dry_run(plan, RunOptions(push=True)).lines()
    uv, ml = _section(lines, "uv"), _section(lines, "ml")
    assert "  why: build: new: 1.0.0 is not in the registry" in uv
    assert "  why: build: parent uv rebuilt" in ml
    assert any(line.startswith("    linux/amd64 on default, FROM python:3.11-slim@sha256:bbbbbbbbbbbb…") for line in uv)
    assert f"    linux/arm64 on node2, FROM {REGISTRY}/t/uv:candidate-1.0.0@<digest of uv>" in ml
    assert (
        f"  upload <tmp>/ml.oci.tar to {REGISTRY}/t/ml:candidate-1.0.0 (4 blobs at once, blobs mounted from t/uv)" in ml
    )
    # Checks per platform, by name; uv's size budget is checked once its candidate is in the registry.
    assert f"    linux/arm64: 2 checks: python, pip (in one container of {REGISTRY}/t/ml:candidate-1.0.0)" in ml
    assert any("linux/amd64: 2 checks: python runs, compressed size <= 200 MB" in line for line in uv)
    # The contract builds FROM the uploaded candidate by digest, as the run does.
    contract = uv[uv.index("  contract (its checks run inside the service build):") + 1]
    assert contract.startswith(
        f"    linux/amd64, linux/arm64: service FROM {REGISTRY}/t/uv:candidate-1.0.0@<digest of uv>"
    )
    assert contract.endswith("1 check: service contract: app")
    assert "  sign: not signed: no signing key (--sign-key or BASEIMAGES_SIGN_KEY)" in uv
    assert uv[-6:] == [
        "    1.0.0-20261129.1  new -> <digest of uv>",
        "    1.0.0             new -> <digest of uv>",
        "    1.0               new -> <digest of uv>",
        "    1                 new -> <digest of uv>",
        "    2026.11           new -> <digest of uv>",
        "    latest            new -> <digest of uv>",
    ]
    # Readable: no shell script, no quoting.
    assert not any("sh -c" in line or "'" in line or "docker create" in line for line in lines)


def test_a_forced_rebuild_shows_each_tag_moving_from_its_current_digest_and_the_days_next_number(family):
    registry = MemoryRegistry()
    factory, plan = _factory(family, registry)
    report = factory.run(plan, RunOptions(push=True))
    was = report.image("uv").digest
    assert was is not None
    uv = _section(factory.dry_run(plan, RunOptions(push=True, force=True)).lines(), "uv")
    assert uv[1].startswith("  why: build: forced")
    assert "    1.0.0-20261129.2  new -> <digest of uv>" in uv  # .1 names the first build and never moves
    assert f"    latest            {was[:19]}… -> <digest of uv>" in uv


def test_an_unchanged_image_runs_nothing_and_its_child_builds_from_its_published_digest(family):
    registry = MemoryRegistry()
    factory, plan = _factory(family, registry)
    published = factory.run(plan, RunOptions(push=True)).image("uv").digest
    assert published is not None
    dry = factory.dry_run(plan, RunOptions(push=True))
    assert dry.image("uv").actions == [] and dry.image("uv").published == published
    assert f"  nothing runs: it stays at {published[:19]}…; its children build FROM it" in dry.lines()
    assert dry.commands() == []  # ml is unchanged too: not one command


@dataclass
class Unreachable(MemoryRegistry):
    asked: int = 0

    def digest(self, ref: Reference) -> str | None:
        self.asked += 1
        raise RegistryError(f"{ref.domain}: unreachable: [Errno 101] Network is unreachable")

    def summary(self, ref: Reference) -> tuple[str, dict[str, str]] | None:
        self.asked += 1
        raise RegistryError(f"{ref.domain}: unreachable: [Errno 101] Network is unreachable")


def test_a_registry_that_does_not_answer_is_asked_once_and_leaves_what_it_holds_unknown(family):
    registry = Unreachable()
    factory, plan = _factory(family, registry)
    dry = factory.dry_run(plan, RunOptions(push=True))
    lines = dry.lines("plan")
    assert registry.asked == 1
    assert (
        lines[1]
        == "registry not asked (what it holds is unknown): docker.io: unreachable: [Errno 101] Network is unreachable"
    )
    uv = _section(lines, "uv")
    assert "  why: unknown, the registry did not answer: built" in uv
    assert "    1.0.0-20261129.<N>  unknown -> <digest of uv>" in uv
    assert any("BASE_IMAGE=python:3.11-slim@<digest of python:3.11-slim>" in line for line in dry.lines("commands"))


def test_a_build_dry_run_reads_no_registry_and_shows_no_upload_signing_or_tags(family):
    registry = Unreachable()
    factory, plan = _factory(family, registry)
    lines = factory.dry_run(plan, RunOptions()).lines()
    assert registry.asked == 0
    assert "  why: build builds and tests every selected image (it pushes nothing)" in lines
    assert not any(word in line for line in lines for word in ("upload", "sign", "tags of"))
