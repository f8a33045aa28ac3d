"""Run an image's contract: build the tiny service FROM the candidate on every platform, its command
tests run in the slim runtime inside that build (see baseimages.checks.contract)."""

from __future__ import annotations

from ...checks.contract import (
    RUN_ID_PLACEHOLDER,
    build_contract,
    contract_dockerfile,
    contract_groups,
    contract_request,
    contract_skips,
    judge_contract,
)
from ...checks.contract_build import APPENDED_MARK
from ...checks.smoke import applicable
from ...core.errors import BuildError
from ...core.events import Phase
from ...engine.requests import RunResult
from ..actions import Action, ContractBuild, only
from .base import ImageContext, Stage
from .checks import raise_if_failed


class ContractTest(Stage):
    key = "contract"
    phase = Phase.CONTRACT_TESTING

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.image.spec.contract is not None

    def detail(self, ctx: ImageContext) -> str:
        contract = ctx.image.spec.contract
        return f"service FROM {ctx.name}, runtime {contract.runtime if contract else '-'}"

    def actions(self, ctx: ImageContext) -> list[Action]:
        """One service build per group of platforms with the same checks (usually one), FROM the candidate
        as its children build FROM it (pushing: uploaded, by digest); not on a platform whose base has the
        contract's skip marker (the smoke tests read it; a dry run assumes it absent)."""
        contract = ctx.image.spec.contract
        assert contract is not None and ctx.built is not None
        tools = ctx.tools
        platforms = ctx.image.platforms
        skipped = contract_skips(contract, platforms, ctx.markers)
        runnable = [p for p in platforms if p not in skipped]
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

    def run(self, ctx: ImageContext) -> None:
        contract = ctx.image.spec.contract
        assert contract is not None
        tools = ctx.tools
        builds = only(self.actions(ctx), ContractBuild)
        on_line = tools.line_sink(ctx.name)

        def attempt() -> dict[str, BuildError | RunResult]:
            found: dict[str, BuildError | RunResult] = {}
            for build in builds:
                found |= build_contract(tools.engine, ctx.name, contract, build.request, on_line)
            return found

        # A registry that fails transiently while the service build resolves the candidate, or a session
        # BuildKit lost: the whole contract runs again, within the retry budget, as an image's build does.
        found = ctx.with_retries(attempt)
        skipped = contract_skips(contract, ctx.image.platforms, ctx.markers)
        checks = judge_contract(contract, ctx.image.platforms, found, skipped, ctx.image.spec.skips_allowed)
        for platform_result in ctx.result.platforms:
            platform_result.checks.extend(checks.get(platform_result.platform, []))
        raise_if_failed(ctx.result)
