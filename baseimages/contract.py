"""Contract tests: prove an image still works the way services use it.

A service is built from the image's `contract` folder exactly as the platform's services are:
`FROM ${BASE_IMAGE} AS builder`, `uv pip sync requirements.txt` into /opt/venv, then the venv copied
into `FROM ${RUNTIME_IMAGE}` (the slim runtime). Its command tests then run in that service on every
platform. A base image that breaks the contract fails, and is not promoted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .catalog import ContractSpec, SmokeSpec
from .engine import BuildRequest, Engine, LineSink, RunRequest
from .errors import BuildError
from .report import CheckResult, Status
from .smoke import run_smoke, skip_check

KIND = "contract"


def contract_request(
    name: str,
    contract: ContractSpec,
    base_ref: str,
    runtime_ref: str,
    platforms: Sequence[str],
    secrets: Sequence[str],
    build_contexts: Mapping[str, str],
) -> BuildRequest:
    return BuildRequest(
        context=contract.context,
        dockerfile=contract.recipe,
        platforms=list(platforms),
        build_args={"BASE_IMAGE": base_ref, "RUNTIME_IMAGE": runtime_ref},
        build_contexts=build_contexts,
        secrets=secrets,
        output={"type": "image", "name": service_tag(name)},
    )


def service_tag(name: str) -> str:
    """The local (never pushed) name of an image's contract service."""
    return f"baseimages-contract/{name}:candidate"


def run_contract(
    engine: Engine,
    name: str,
    contract: ContractSpec,
    base_ref: str,
    runtime_ref: str,
    platforms: Sequence[str],
    secrets: Sequence[str] = (),
    build_contexts: Mapping[str, str] | None = None,
    on_line: LineSink | None = None,
    skips_allowed: Mapping[str, str] | None = None,
) -> dict[str, list[CheckResult]]:
    """Build the contract service on BASE_REF and run its command tests; checks per platform.
    SKIPS_ALLOWED (platform -> reason) says where the contract may be skipped by its marker."""
    checks: dict[str, list[CheckResult]] = {p: [] for p in platforms}
    runnable = []
    for platform in platforms:
        marker = _skip_marker(engine, contract, base_ref, platform)
        if marker is None:
            runnable.append(platform)
        else:
            assert contract.skip_if_exists is not None
            allowed = (skips_allowed or {}).get(platform)
            checks[platform].append(skip_check("service contract", KIND, contract.skip_if_exists, marker, allowed))
    if not runnable:
        return checks
    request = contract_request(name, contract, base_ref, runtime_ref, runnable, secrets, build_contexts or {})
    try:
        engine.build(request, f"{name} contract service", on_line=on_line)
    except BuildError as exc:
        for platform in runnable:
            checks[platform].append(CheckResult("service contract: build", KIND, Status.FAILED, str(exc)))
        return checks
    for platform in runnable:
        checks[platform].append(CheckResult("service contract: build", KIND, Status.PASSED, service_tag(name)))
        checks_spec = SmokeSpec(commands=contract.commands)
        allowed = (skips_allowed or {}).get(platform)
        result = run_smoke(engine, service_tag(name), checks_spec, platform, allowed_skip=allowed)
        for check in result.checks:
            check.name = f"service contract: {check.name}"
            check.kind = KIND
            checks[platform].append(check)
    return checks


def _skip_marker(engine: Engine, contract: ContractSpec, base_ref: str, platform: str) -> str | None:
    """The content of the contract's skip marker in the base on PLATFORM, None when it is absent."""
    if not contract.skip_if_exists:
        return None
    probe = engine.run(RunRequest(base_ref, ["cat", contract.skip_if_exists], platform))
    return probe.stdout.strip() if probe.exit_code == 0 else None
