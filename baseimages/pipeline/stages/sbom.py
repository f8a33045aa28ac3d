"""An SBOM per platform, attached to that platform's manifest as a signed cosign attestation
(`--type cyclonedx`): exported root filesystem -> cdxgen -> `cosign attest`. It needs the signing key,
like every attestation baseimages makes; without one, no SBOM is attached and the report says so."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ...core.events import Phase
from ...trust.sbom import SBOM_TYPE, generate_sbom
from ..actions import Action, CosignAttest, GenerateSbom
from .base import ImageContext, Stage


class AttachSbom(Stage):
    key = "sbom"
    phase = Phase.ATTESTING

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push and ctx.tools.signer.key is not None

    def detail(self, ctx: ImageContext) -> str:
        return f"SBOM per platform ({SBOM_TYPE})"

    def actions(self, ctx: ImageContext) -> list[Action]:
        """Per platform manifest: its root filesystem exported, cdxgen's SBOM of it, then that SBOM
        attested on the platform's manifest."""
        assert ctx.built is not None and ctx.index is not None
        tools = ctx.tools
        actions: list[Action] = []
        for manifest in ctx.index.manifests:
            folder = tools.workdir / f"{ctx.name}-{manifest.platform.replace('/', '-')}"
            sbom = GenerateSbom(ctx.built.ref, manifest.platform, folder / "rootfs", folder / "sbom.json")
            subject = f"{ctx.image.repository}@{manifest.digest}"
            argv = tools.signer.attest_argv(subject, sbom.output, SBOM_TYPE)
            actions += [sbom, CosignAttest(subject, SBOM_TYPE, sbom.output, tuple(argv))]
        return actions

    def run(self, ctx: ImageContext) -> None:
        tools = ctx.tools
        boms: dict[Path, tuple[str, dict[str, Any]]] = {}  # SBOM file -> its platform and document
        for action in self.actions(ctx):
            if isinstance(action, GenerateSbom):
                try:
                    tools.engine.export_rootfs(action.image, action.platform, action.rootfs)
                    bom = generate_sbom(action.rootfs, action.output, ctx.name, action.platform)
                    boms[action.output] = (action.platform, bom)
                finally:
                    shutil.rmtree(action.rootfs, ignore_errors=True)
            elif isinstance(action, CosignAttest):
                platform, bom = boms[action.predicate]
                tools.signer.attest(action.subject, bom, action.predicate_type, action.predicate)
                ctx.note(f"{len(bom.get('components') or [])} packages", platform)
        ctx.result.attestations.append(SBOM_TYPE)
