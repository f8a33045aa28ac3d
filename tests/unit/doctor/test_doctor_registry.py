"""doctor's registry checks against the in-process fake registry: the target registry reachable and its
login accepted or refused; each external base served by Docker Hub or a mirror, or by nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_probe import FakeProbe, closed_port, doctor_context, hub_clients
from fake_registry import make_image

from baseimages.core.retry import RetryPolicy
from baseimages.doctor.checkup import Verdict
from baseimages.doctor.engine import check_engine
from baseimages.doctor.registry import check_bases, check_registry, quick_client
from baseimages.settings.config import Credentials

FAST = RetryPolicy(attempts=2, max_seconds=5, initial_wait=0.01, max_wait=0.02)


@pytest.fixture
def no_docker_login(monkeypatch, tmp_path):
    """No ~/.docker/config.json login reaches the client quick_client makes."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


def _registry_finding(catalog_writer, **settings):
    catalog_writer.add("uv")
    ctx = doctor_context(catalog_writer.load(), namespace="team", **settings)
    ctx.registry = lambda mirrors: quick_client(ctx.settings, mirrors)
    (finding,) = check_registry(ctx)
    return finding


def test_reachable_registry_without_login_is_ok(catalog_writer, fake_registry, no_docker_login):
    finding = _registry_finding(catalog_writer, registry=fake_registry.address)
    assert (finding.verdict, finding.subject) == (Verdict.OK, fake_registry.address)
    assert "answers the distribution API" in finding.summary
    assert [(r.method, r.path) for r in fake_registry.requests] == [("GET", "/v2/")]


def test_accepted_login_is_ok_and_says_where_it_came_from(catalog_writer, fake_registry, no_docker_login):
    fake_registry.require_token("bot", "right")
    finding = _registry_finding(catalog_writer, registry=fake_registry.address, credentials=Credentials("bot", "right"))
    assert finding.verdict is Verdict.OK
    assert "BASEIMAGES_REGISTRY_USER" in finding.summary
    assert fake_registry.tokens_issued, "the login went through the token service"


def test_refused_login_fails_naming_the_variables(catalog_writer, fake_registry, no_docker_login):
    fake_registry.require_token("bot", "right")
    finding = _registry_finding(catalog_writer, registry=fake_registry.address, credentials=Credentials("bot", "wrong"))
    assert finding.verdict is Verdict.FAIL
    assert "refuses the login" in finding.summary and "BASEIMAGES_REGISTRY_PASSWORD" in finding.fix
    assert "wrong" not in finding.summary + finding.fix


def test_missing_login_fails_with_docker_login_fix(catalog_writer, fake_registry, no_docker_login):
    fake_registry.require_token("bot", "right")
    finding = _registry_finding(catalog_writer, registry=fake_registry.address)
    assert finding.verdict is Verdict.FAIL
    assert "needs a login" in finding.summary and f"docker login {fake_registry.address}" in finding.fix


def test_closed_port_fails_as_unreachable(catalog_writer, no_docker_login):
    address = f"127.0.0.1:{closed_port()}"
    finding = _registry_finding(catalog_writer, registry=address)
    assert finding.verdict is Verdict.FAIL
    assert f"{address} cannot be reached" in finding.summary and "Connection refused" in finding.summary
    assert "--registry" in finding.fix


def test_something_that_is_not_a_registry_fails_as_such(catalog_writer, fake_registry, no_docker_login):
    fake_registry.fault("404", path=r"^/v2/$")
    finding = _registry_finding(catalog_writer, registry=fake_registry.address)
    assert finding.verdict is Verdict.FAIL
    assert "does not answer as a registry" in finding.summary and "HTTP 404" in finding.summary


def _bases(catalog_writer, tmp_path: Path, mirrors=(), hub: str | None = None, probe_mirrors=()):
    catalog_writer.add("uv", contract=None)
    ctx = doctor_context(catalog_writer.load(), FakeProbe(mirrors=probe_mirrors), base_mirrors=tuple(mirrors))
    check_engine(ctx)

    ctx.registry = hub_clients(tmp_path, hub)
    return check_bases(ctx)


def test_base_from_docker_hub_is_ok(catalog_writer, tmp_path):
    (finding,) = _bases(catalog_writer, tmp_path, hub="sha256:" + "a" * 64)
    assert (finding.verdict, finding.subject) == (Verdict.OK, "python:3.11-slim")
    assert finding.summary.startswith("Docker Hub serves python:3.11-slim")


def test_base_from_the_mirror_when_docker_hub_is_unreachable_is_ok_and_says_so(catalog_writer, tmp_path, fake_registry):
    digest = fake_registry.preload("library/python", make_image(), tag="3.11-slim")
    (finding,) = _bases(catalog_writer, tmp_path, probe_mirrors=(fake_registry.url,))
    assert finding.verdict is Verdict.OK
    assert finding.summary == f"the mirror {fake_registry.url} serves python:3.11-slim ({digest})"
    assert any("Docker Hub" in line and "unreachable" in line for line in finding.details)


def test_mirrors_from_daemon_json_are_used_when_docker_info_names_none(catalog_writer, tmp_path, fake_registry):
    fake_registry.preload("library/python", make_image(), tag="3.11-slim")
    (finding,) = _bases(catalog_writer, tmp_path, mirrors=(fake_registry.url,))
    assert finding.verdict is Verdict.OK and fake_registry.url in finding.summary


def test_base_missing_from_the_mirror_and_hub_unreachable_fails(catalog_writer, tmp_path, fake_registry):
    (finding,) = _bases(catalog_writer, tmp_path, probe_mirrors=(fake_registry.url,))
    assert finding.verdict is Verdict.FAIL
    assert finding.summary == "nothing serves python:3.11-slim"
    assert "registry-mirrors" in finding.fix
    assert any("has no library/python:3.11-slim" in line for line in finding.details)


def test_hub_unreachable_and_no_mirror_fails_and_says_there_is_none(catalog_writer, tmp_path):
    (finding,) = _bases(catalog_writer, tmp_path)
    assert finding.verdict is Verdict.FAIL
    assert "dockerd has no registry mirror" in finding.details


def test_contract_runtime_is_a_base_too(catalog_writer, tmp_path, fake_registry):
    fake_registry.preload("library/python", make_image(), tag="3.11-slim")
    fake_registry.preload("library/debian", make_image("deb"), tag="bookworm-slim")
    contract = tmp_path / "images" / "uv" / "contract"
    contract.mkdir(parents=True)
    (contract / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    catalog_writer.add(
        "uv", contract={"context": "contract", "runtime": "debian:bookworm-slim", "commands": [{"command": ["true"]}]}
    )
    ctx = doctor_context(catalog_writer.load(), FakeProbe(mirrors=(fake_registry.url,)))
    check_engine(ctx)
    ctx.registry = hub_clients(tmp_path)
    findings = check_bases(ctx)
    assert [(f.subject, f.verdict) for f in findings] == [
        ("debian:bookworm-slim", Verdict.OK),
        ("python:3.11-slim", Verdict.OK),
    ]
