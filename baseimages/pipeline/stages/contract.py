"""Run an image's contract: build the tiny service FROM the candidate on every platform, its command
tests run in the slim runtime inside that build (see baseimages.checks.contract)."""

from __future__ import annotations

import shlex
from pathlib import Path

from ...checks.contract import RUN_ID_PLACEHOLDER, contract_dockerfile, contract_request, run_contract
from ...checks.contract_build import APPENDED_MARK
from ...core.events import Phase
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
        base_ref, runtime_ref = ctx.built.from_ref, tools.resolve_external(contract.runtime)
        # A registry that fails transiently while the service build resolves the candidate, or a session
        # BuildKit lost: the whole contract runs again, within the retry budget, as an image's build does.
        checks = ctx.with_retries(
            lambda: run_contract(
                tools.engine,
                ctx.name,
                contract,
                base_ref,
                runtime_ref,
                ctx.image.platforms,
                secrets=tools.settings.build_secrets(),
                build_contexts=tools.settings.build_contexts(),
                on_line=tools.line_sink(ctx.name),
                skips_allowed=ctx.image.spec.skips_allowed,
                markers=ctx.markers,
            )
        )
        for platform_result in ctx.result.platforms:
            platform_result.checks.extend(checks.get(platform_result.platform, []))
        raise_if_failed(ctx.result)

    def describe(self, ctx: ImageContext) -> list[str]:
        contract = ctx.image.spec.contract
        assert contract is not None and ctx.built is not None
        settings = ctx.tools.settings
        runtime = f"{contract.runtime}@<digest of {contract.runtime}>"
        dockerfile = Path("<tmp>/Dockerfile")
        service = contract_request(
            contract,
            dockerfile,
            Path("<tmp>/results"),
            ctx.built.ref,
            runtime,
            ctx.image.platforms,
            settings.build_secrets(),
            settings.build_contexts(),
        )
        appended = contract_dockerfile(contract, ctx.image.platforms[0], RUN_ID_PLACEHOLDER)
        appended = appended[appended.index(APPENDED_MARK) :]
        lines = [f"# {dockerfile}: {contract.recipe}, then:"]
        lines += [f"#   {line}" for line in appended.splitlines()[1:] if line]
        lines.append(shlex.join(service.argv()))
        return lines
