"""doctor's registry checks, through the project's RegistryClient (reads only, one quick retry): the target
registry answers the distribution API and accepts the login; each external base is served by Docker Hub
or by one of dockerd's registry mirrors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.errors import RegistryError
from ..core.reference import DOCKER_HUB, Reference, parse_reference
from ..core.retry import RetryPolicy
from ..registry.client import RegistryClient
from ..settings.config import PASSWORD_ENV, USER_ENV, Settings
from .model import DoctorContext, Finding, Verdict

QUICK = RetryPolicy(attempts=2, max_seconds=10, initial_wait=0.2, max_wait=1.0)
TIMEOUT = 5.0


def quick_client(settings: Settings, mirrors: tuple[str, ...]) -> RegistryClient:
    """A client for SETTINGS (CA bundle, login) that tries MIRRORS for Docker Hub, retries once, waits 5 s."""
    from ..registry.connect import registry_client

    client = registry_client(settings, retry=QUICK, timeout=TIMEOUT)
    client.mirrors = mirrors
    return client


@dataclass(frozen=True)
class Served:
    """Where an image reference was found: SOURCE (Docker Hub, a mirror's URL, a registry) and its digest,
    or None; NOTES say why each place that was asked could not serve it."""

    source: str | None
    digest: str | None
    notes: tuple[str, ...]


def check_registry(ctx: DoctorContext) -> Sequence[Finding]:
    settings = ctx.settings
    name = ctx.plan.images[0].name if ctx.plan.images else "doctor"
    ref = Reference(settings.registry, "/".join(p for p in (settings.namespace, name) if p))
    login = f"the login from {USER_ENV}" if settings.credentials else "no login (or ~/.docker/config.json's)"
    try:
        ctx.registry(()).call("GET", ref, "/v2/", expect=(200,))
    except RegistryError as exc:
        if exc.status in (401, 403):
            summary, fix = _refused(settings, exc)
        elif exc.status is None:  # no HTTP answer: connection, DNS, timeout or TLS
            summary = f"{settings.registry} cannot be reached: {exc}"
            fix = (
                "start the registry, or name a reachable one with --registry or BASEIMAGES_REGISTRY "
                "(`scripts/engine up` starts the local one on localhost:5000)"
            )
        else:
            summary = f"{settings.registry} does not answer as a registry: {exc}"
            fix = "check --registry (host[:port] of a registry) and any proxy in front of it"
        return [Finding("registry", Verdict.FAIL, summary, fix=fix, subject=settings.registry)]
    return [
        Finding(
            "registry",
            Verdict.OK,
            f"{settings.registry} answers the distribution API (/v2/) with {login}",
            subject=settings.registry,
        )
    ]


def _refused(settings: Settings, exc: RegistryError) -> tuple[str, str]:
    if settings.credentials is not None:
        return (
            f"{settings.registry} refuses the login of {USER_ENV} (HTTP {exc.status})",
            f"check {USER_ENV} and {PASSWORD_ENV}",
        )
    return (
        f"{settings.registry} needs a login (HTTP {exc.status}) and none is given",
        f"set {USER_ENV} and {PASSWORD_ENV}, or `docker login {settings.registry}`",
    )


def check_bases(ctx: DoctorContext) -> Sequence[Finding]:
    """Each external base of the selected images (and of their contract services' runtimes) can be resolved:
    from Docker Hub, or a mirror serving it."""
    bases = {image.spec.parent for image in ctx.plan.images if image.spec.parent_is_external}
    bases |= {image.spec.contract.runtime for image in ctx.plan.images if image.spec.contract is not None}
    return [_base_finding(ctx, base) for base in sorted(bases)]


def _base_finding(ctx: DoctorContext, base: str) -> Finding:
    served = where_served(ctx, base)
    details = served.notes
    if served.source is not None:
        summary = f"{served.source} serves {base} ({served.digest})"
        return Finding("base", Verdict.OK, summary, subject=base, details=details)
    if parse_reference(base).domain == DOCKER_HUB:
        fix = (
            "make Docker Hub reachable, or name a registry mirror that serves it in /etc/docker/daemon.json "
            '("registry-mirrors") and restart dockerd (`scripts/engine up` seeds a stand-in python:3.11-slim)'
        )
    else:
        fix = "make its registry reachable, or change the parent in image.yaml"
    return Finding("base", Verdict.FAIL, f"nothing serves {base}", fix=fix, subject=base, details=details)


def mirrors(ctx: DoctorContext) -> tuple[str, ...]:
    """dockerd's registry mirrors (as `docker info` says, else daemon.json), for Docker Hub references."""
    found = list(ctx.facts.mirrors) if ctx.facts is not None else []
    found += [m for m in ctx.settings.base_mirrors if m not in found]
    return tuple(found)


def where_served(ctx: DoctorContext, text: str) -> Served:
    """Where TEXT (an image reference) resolves: Docker Hub, else each mirror, for a Docker Hub reference;
    its own registry otherwise. Asked once per doctor run."""
    key = f"served:{text}"
    if key not in ctx.memo:
        ctx.memo[key] = _where_served(ctx, text)
    served: Served = ctx.memo[key]
    return served


def _where_served(ctx: DoctorContext, text: str) -> Served:
    try:
        ref = parse_reference(text)
    except ValueError as exc:
        return Served(None, None, (str(exc),))
    places = [(ref, "Docker Hub" if ref.domain == DOCKER_HUB else ref.domain)]
    if ref.domain == DOCKER_HUB:
        places += [(Reference(m, ref.path, ref.tag, ref.digest), f"the mirror {m}") for m in mirrors(ctx)]
    notes = []
    client = ctx.registry(())
    for place, label in places:
        try:
            digest = client.digest(place)
        except RegistryError as exc:
            notes.append(f"{label}: {exc}")
            continue
        if digest is not None:
            return Served(label, digest, tuple(notes))
        notes.append(f"{label}: has no {ref.path}:{ref.tag or ref.digest or 'latest'}")
    if ref.domain == DOCKER_HUB and not mirrors(ctx):
        notes.append("dockerd has no registry mirror")
    return Served(None, None, tuple(notes))
