"""Run an image's contract: build the tiny service FROM the candidate on every platform, its command
tests run in the slim runtime inside that build (see baseimages.checks.contract).

It runs while the smoke tests do (they run `beside` it): the two share nothing but the candidate, and on
an image whose tests take longest under QEMU (python311-ml's) running them one after the other was the end
of every run. The contract reads its own skip marker (one runner container per platform), so it does not
wait for the smoke tests; its checks join theirs once both ran (`SmokeTest.joined`), and a failure of
either fails the image."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ...checks.contract import (
    RUN_ID_PLACEHOLDER,
    build_contract,
    contract_dockerfile,
    contract_groups,
    contract_request,
    judge_contract,
    marker_request,
    read_marker,
)
from ...checks.contract_build import APPENDED_MARK
from ...checks.smoke import applicable
from ...core.errors import BuildError
from ...core.events import Phase
from ...engine.requests import RunResult
from ..actions import Action, ContainerRun, ContractBuild, only
from .base import ImageContext, Stage


class ContractTest(Stage):
    key = "contract"
    phase = Phase.CONTRACT_TESTING

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.image.spec.contract is not None

    def detail(self, ctx: ImageContext) -> str:
        contract = ctx.image.spec.contract
        return f"service FROM {ctx.name}, runtime {contract.runtime if contract else '-'}"

    def actions(self, ctx: ImageContext) -> list[Action]:
        """Per platform, the container that reads the contract's skip marker in the candidate (when it has
        one); then one service build per group of platforms with the same checks (usually one), FROM the
        candidate as its children build FROM it (pushing: uploaded, by digest), on the platforms whose
        candidate has no marker (a dry run assumes it absent)."""
        return [*self._probes(ctx), *self._builds(ctx, {})]

    def run(self, ctx: ImageContext) -> None:
        contract = ctx.image.spec.contract
        assert contract is not None
        tools = ctx.tools
        skipped = self._skipped(ctx)
        builds = only(self._builds(ctx, skipped), ContractBuild)
        on_line = tools.line_sink(ctx.name)

        def attempt() -> dict[str, BuildError | RunResult]:
            found: dict[str, BuildError | RunResult] = {}
            for build in builds:
                found |= build_contract(tools.engine, ctx.name, contract, build.request, on_line)
            return found

        # A registry that fails transiently while the service build resolves the candidate, or a session
        # BuildKit lost: the whole contract runs again, within the retry budget, as an image's build does.
        found = ctx.with_retries(attempt)
        ctx.contract_checks = judge_contract(
            contract, ctx.image.platforms, found, skipped, ctx.image.spec.skips_allowed
        )

    def _probes(self, ctx: ImageContext) -> list[ContainerRun]:
        contract = ctx.image.spec.contract
        assert contract is not None and ctx.built is not None
        marker = contract.skip_if_exists
        probes = [(p, marker_request(contract, ctx.built.ref, p)) for p in ctx.image.platforms]
        return [
            ContainerRun(p, request, (f"{marker}: the contract's skip marker",)) for p, request in probes if request
        ]

    def _skipped(self, ctx: ImageContext) -> dict[str, str]:
        """Platform -> the content of the contract's skip marker, where the candidate has it (read now)."""
        marker = ctx.image.spec.contract.skip_if_exists if ctx.image.spec.contract else None
        probes = self._probes(ctx)
        if not marker or not probes:
            return {}
        engine = ctx.tools.engine

        def read(probe: ContainerRun) -> str | None:
            return None if probe.request is None else read_marker(engine, probe.request, marker)

        with ThreadPoolExecutor(max_workers=len(probes)) as pool:
            found = dict(zip((probe.platform for probe in probes), pool.map(read, probes), strict=True))
        return {platform: content for platform, content in found.items() if content is not None}

    def _builds(self, ctx: ImageContext, skipped: dict[str, str]) -> list[Action]:
        contract = ctx.image.spec.contract
        assert contract is not None and ctx.built is not None
        tools = ctx.tools
        runnable = [p for p in ctx.image.platforms if p not in skipped]
        runtime = tools.resolve_external(contract.runtime)
        actions: list[Action] = []
        for number, group in enumerate(contract_groups(contract, runnable), 1):
            folder = tools.workdir / f"{ctx.name}-contract-{number}"
            request = contract_request(
                contract, folder / "Dockerfile", folder / "results", ctx.built.from_ref, runtime, group,
                tools.settings.build_secrets(), tools.settings.build_contexts(),
            )  # fmt: skip
            appended = contract_dockerfile(contract, group[0], RUN_ID_PLACEHOLDER)
            lines = appended[appended.index(APPENDED_MARK) :].splitlines()[1:]
            checks = tuple(f"service contract: {c.name}" for c in applicable(contract.commands, group[0]))
            actions.append(ContractBuild(tuple(group), request, contract.recipe, tuple(filter(None, lines)), checks))
        return actions
