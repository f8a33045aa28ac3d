"""Flaky and dead registries, through a fault-injecting proxy in front of a real registry."""

from __future__ import annotations

from pathlib import Path

from baseimages import Factory, ImageStatus, RunOptions, load_catalog, make_plan
from baseimages.core.reference import parse_reference
from baseimages.engine.client import DockerEngine
from baseimages.registry.client import RegistryClient

FAMILY = ["python311-uv", "python311-ml", "python311-security"]


def _push(settings, engine, events=None):
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    factory = Factory(settings, catalog, engine=engine, on_event=events.append if events is not None else None)
    return factory.run(make_plan(catalog, settings), RunOptions(push=True))


def _tags(report, client: RegistryClient) -> dict[tuple[str, str], str | None]:
    return {
        (image.name, tag): client.digest(parse_reference(f"{image.repository}:{tag}"))
        for image in report.images
        for tag in ("latest", "1.0.0", "candidate-1.0.0")
    }


def test_family_pushes_through_30_percent_faults_then_a_dead_registry_moves_nothing_and_a_rerun_builds_the_rest(
    fault_proxy, engine: DockerEngine, tmp_path: Path, catalog_copy, fresh_settings, registry_client: RegistryClient
) -> None:
    project = catalog_copy(tmp_path / "family", FAMILY)
    settings = fresh_settings(project, fault_proxy.address)

    # 1. 30% of the registry requests fail (503, connection reset) or stall: the family still pushes.
    fault_proxy.set(rate=0.3, modes=["503", "reset", "stall"], stall_seconds=2, seed=11)
    events: list = []
    first = _push(settings, engine, events)
    faults = fault_proxy.counters()
    fault_proxy.set(rate=0.0)
    assert first.exit_code == 0, [(i.name, i.error) for i in first.images]
    assert [i.status for i in first.images] == [ImageStatus.PROMOTED] * 3
    assert faults["503"] > 0 and faults["reset"] > 0 and faults["stall"] > 0, faults
    assert any(e.phase.value == "retrying" for e in events), "retries must be reported"
    promoted = _tags(first, registry_client)
    assert all(digest is not None for digest in promoted.values())

    # 2. A new release of python311-security (1.0.1, a changed input), then the registry goes down:
    #    exit 3 after the retry budget, and no tag of any image moved.
    requirements = project / "images" / "python311-security" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "# refreshed\n")
    spec = project / "images" / "python311-security" / "image.yaml"
    spec.write_text(spec.read_text().replace("version: 1.0.0", "version: 1.0.1"))
    fault_proxy.set(rate=1.0, modes=["503"])
    down = settings.with_overrides(retry_attempts=3, retry_max_seconds=20)
    dead = _push(down, engine)
    fault_proxy.set(rate=0.0)
    assert dead.exit_code == 3
    assert all(i.status is ImageStatus.FAILED for i in dead.images)
    assert all("gave up after 3 attempts" in (i.error or "") for i in dead.images), [i.error for i in dead.images]
    assert _tags(first, registry_client) == promoted

    # 3. Faults gone: the rerun completes and builds only what had not promoted.
    rerun = _push(settings, engine)
    assert rerun.exit_code == 0, [(i.name, i.error) for i in rerun.images]
    statuses = {i.name: i.status for i in rerun.images}
    assert statuses == {
        "python311-uv": ImageStatus.UNCHANGED,
        "python311-ml": ImageStatus.UNCHANGED,
        "python311-security": ImageStatus.PROMOTED,
    }
    assert rerun.image("python311-security").reasons == ["new: 1.0.1 is not in the registry"]
    after = _tags(first, registry_client)
    for (name, tag), digest in promoted.items():
        if (name, tag) != ("python311-security", "latest"):
            assert after[(name, tag)] == digest, (name, tag)  # 1.0.0 of security stays where it was
    assert after[("python311-security", "latest")] == rerun.image("python311-security").digest
