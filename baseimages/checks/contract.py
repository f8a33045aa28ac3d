"""Contract tests: prove an image still works the way services use it.

A service is built from the image's `contract` folder exactly as the platform's services are:
`FROM ${BASE_IMAGE} AS builder`, `uv pip sync requirements.txt` into /opt/venv, then the venv copied
into `FROM ${RUNTIME_IMAGE}` (the slim runtime). Its command tests run in that service on every
platform, inside the same build (`baseimages.checks.contract_build`): the service is never exported. A base
that breaks the contract fails, and is not promoted.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..catalog.spec import ContractSpec
from ..core.errors import BuildError, ConfigError
from ..core.results import CheckResult, Status
from ..core.runs import owned_tempdir
from ..engine.client import BuildRequest, Engine, LineSink, RunRequest, RunResult
from .contract_build import check_dockerfile, platform_folder, read_results
from .runner import RunnerCheck, runner_request
from .smoke import applicable, judge_commands, run_checks, runner_output, skip_check

KIND = "contract"
RUN_ID_PLACEHOLDER = "<run id>"


def contract_request(
    contract: ContractSpec,
    dockerfile: Path,
    dest: Path,
    base_ref: str,
    runtime_ref: str,
    platforms: Sequence[str],
    secrets: Sequence[str],
    build_contexts: Mapping[str, str],
) -> BuildRequest:
    """The one buildx call of a contract: DOCKERFILE (from `contract_dockerfile`), results into DEST."""
    return BuildRequest(
        context=contract.context,
        dockerfile=dockerfile,
        platforms=list(platforms),
        build_args={"BASE_IMAGE": base_ref, "RUNTIME_IMAGE": runtime_ref},
        build_contexts=build_contexts,
        secrets=secrets,
        output={"type": "local", "dest": str(dest)},
    )


def contract_dockerfile(contract: ContractSpec, platform: str, run_id: str) -> str:
    """The recipe with the stages that run the contract's checks for PLATFORM appended."""
    try:
        recipe = contract.recipe.read_text()
        checks = [RunnerCheck(tuple(c.command), c.skip_if_exists) for c in applicable(contract.commands, platform)]
        return check_dockerfile(recipe, checks, run_id)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(str(contract.recipe), "", f"cannot be used as the contract recipe: {exc}") from None


def service_tag(name: str) -> str:
    """The local name an image's contract service had when contracts exported it (`prune --local`
    still removes what earlier versions left)."""
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
    markers: Mapping[str, Mapping[str, str | None]] | None = None,
) -> dict[str, list[CheckResult]]:
    """Build the contract service on BASE_REF with its command tests run inside the build; checks per
    platform. SKIPS_ALLOWED (platform -> reason) says where the contract may be skipped by its marker;
    MARKERS (platform -> path -> content, None when absent) is what the smoke tests read of it already."""
    known = {
        platform: _skip_marker(engine, contract, base_ref, platform, (markers or {}).get(platform, {}))
        for platform in platforms
    }
    runnable = [platform for platform in platforms if known[platform] is None]
    found: dict[str, BuildError | RunResult] = {}
    with owned_tempdir("contract") as tmp:
        for number, group in enumerate(contract_groups(contract, runnable), 1):
            folder = Path(tmp) / str(number)
            request = contract_request(
                contract, folder / "Dockerfile", folder / "results", base_ref, runtime_ref, group, secrets,
                build_contexts or {},
            )  # fmt: skip
            found |= build_contract(engine, name, contract, request, on_line)
    return judge_contract(contract, platforms, found, known, skips_allowed or {})


def contract_groups(contract: ContractSpec, platforms: Sequence[str]) -> list[list[str]]:
    """PLATFORMS grouped by the checks that apply to them: one build per group (usually one for all)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for platform in platforms:
        groups.setdefault(tuple(c.name for c in applicable(contract.commands, platform)), []).append(platform)
    return list(groups.values())


def build_contract(
    engine: Engine, name: str, contract: ContractSpec, request: BuildRequest, on_line: LineSink | None
) -> dict[str, BuildError | RunResult]:
    """One buildx call (REQUEST, from `contract_request`) for its platforms: the Dockerfile written where
    the request reads it (a new run id each time), then per platform the build's error or what the
    runner wrote. A transient failure (BuildKit lost the session) is raised: the caller may run it again."""
    platforms = list(request.platforms)
    folder = request.dockerfile.parent
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        request.dockerfile.write_text(contract_dockerfile(contract, platforms[0], uuid.uuid4().hex))
        try:
            engine.build_files(request, f"{name} contract service", on_line=on_line)
        except BuildError as exc:
            if exc.transient:
                raise
            return dict.fromkeys(platforms, exc)
        dest = Path(request.output["dest"])
        return {platform: read_results(platform_folder(dest, platform, platforms)) for platform in platforms}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def judge_contract(
    contract: ContractSpec,
    platforms: Sequence[str],
    found: Mapping[str, BuildError | RunResult],
    skipped: Mapping[str, str | None],
    skips_allowed: Mapping[str, str],
) -> dict[str, list[CheckResult]]:
    """Checks per platform: skipped by its marker (SKIPPED: platform -> the marker's content), else
    judged on what its build FOUND."""
    checks: dict[str, list[CheckResult]] = {}
    for platform in platforms:
        allowed = skips_allowed.get(platform)
        marker = skipped.get(platform)
        if marker is not None:
            assert contract.skip_if_exists is not None
            checks[platform] = [skip_check("service contract", KIND, contract.skip_if_exists, marker, allowed)]
        elif platform in found:
            checks[platform] = _judge(contract, platform, found[platform], allowed)
        else:
            checks[platform] = []
    return checks


def _judge(
    contract: ContractSpec, platform: str, found: BuildError | RunResult, allowed: str | None
) -> list[CheckResult]:
    if isinstance(found, BuildError):
        return [CheckResult("service contract: build", KIND, Status.FAILED, str(found))]
    output = runner_output(found)
    built = "built; its checks ran in the build (nothing exported)"
    results = [CheckResult("service contract: build", KIND, Status.PASSED, built)]
    judged = judge_commands(applicable(contract.commands, platform), output, allowed, kind=KIND)
    if output.problem:
        judged.append(CheckResult("check runner", KIND, Status.FAILED, output.problem))
    for check in judged:
        check.name = f"service contract: {check.name}"
    return results + judged


def _skip_marker(
    engine: Engine, contract: ContractSpec, base_ref: str, platform: str, known: Mapping[str, str | None]
) -> str | None:
    """The content of the contract's skip marker in the base on PLATFORM, None when it is absent: what
    the smoke tests read (KNOWN), else one runner container on the base."""
    path = contract.skip_if_exists
    if not path:
        return None
    if path in known:
        return (known[path] or "").strip() if known[path] is not None else None
    request = marker_request(contract, base_ref, platform)
    assert request is not None
    return read_marker(engine, request, path)


def marker_request(contract: ContractSpec, base_ref: str, platform: str) -> RunRequest | None:
    """The runner container that reads the contract's skip marker in BASE_REF on PLATFORM (None: no marker)."""
    path = contract.skip_if_exists
    return None if not path else runner_request(base_ref, platform, [path], [path], [])


def read_marker(engine: Engine, request: RunRequest, path: str) -> str | None:
    """Run REQUEST (`marker_request`'s): the content of the marker PATH, None when the image has none (or the
    runner could not say: then the contract runs, and fails where the marker would have skipped it)."""
    output = run_checks(engine, request)
    if output.problem or output.paths.get(path) is None:
        return None
    return output.markers.get(path, "").strip()
