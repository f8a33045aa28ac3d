"""Run an image's contract: build the tiny service FROM the candidate on every platform and run its
command tests in the slim runtime (see baseimages.contract)."""

from __future__ import annotations

import shlex

from ..catalog import SmokeSpec
from ..contract import contract_request, run_contract, service_tag
from ..events import Phase
from ..smoke import command_runs
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

    def run(self, ctx: ImageContext) -> None:
        contract = ctx.image.spec.contract
        assert contract is not None and ctx.built is not None
        tools = ctx.tools
        checks = run_contract(
            tools.engine,
            ctx.name,
            contract,
            ctx.built.ref,  # the candidate in the local image store (the contract builds there)
            tools.resolve_external(contract.runtime),
            ctx.image.platforms,
            secrets=tools.settings.build_secrets(),
            build_contexts=tools.settings.build_contexts(),
            on_line=tools.line_sink(ctx.name),
            skips_allowed=ctx.image.spec.skips_allowed,
        )
        for platform_result in ctx.result.platforms:
            platform_result.checks.extend(checks.get(platform_result.platform, []))
        raise_if_failed(ctx.result)

    def describe(self, ctx: ImageContext) -> list[str]:
        contract = ctx.image.spec.contract
        assert contract is not None and ctx.built is not None
        settings = ctx.tools.settings
        runtime = f"{contract.runtime}@<digest of {contract.runtime}>"
        service = contract_request(
            ctx.name,
            contract,
            ctx.built.ref,
            runtime,
            ctx.image.platforms,
            settings.build_secrets(),
            settings.build_contexts(),
        )
        lines = [shlex.join(service.argv())]
        checks = SmokeSpec(commands=contract.commands)
        for platform in ctx.image.platforms:
            lines.extend(run.describe() for run in command_runs(service_tag(ctx.name), checks, platform))
        return lines
