"""An SBOM per platform, attached to that platform's manifest as a signed cosign attestation
(`--type cyclonedx`): exported root filesystem -> cdxgen -> `cosign attest`. It needs the signing key,
like every attestation baseimages makes; without one, no SBOM is attached and the report says so."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from ...core.events import Phase
from ...trust.sbom import SBOM_TYPE, generate_sbom
from .base import ImageContext, Stage


class AttachSbom(Stage):
    key = "sbom"
    phase = Phase.ATTESTING

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push and ctx.tools.signer.key is not None

    def detail(self, ctx: ImageContext) -> str:
        return f"SBOM per platform ({SBOM_TYPE})"

    def run(self, ctx: ImageContext) -> None:
        assert ctx.built is not None and ctx.index is not None
        tools = ctx.tools
        for manifest in ctx.index.manifests:
            folder = tools.workdir / f"{ctx.name}-{manifest.platform.replace('/', '-')}"
            try:
                tools.engine.export_rootfs(ctx.built.ref, manifest.platform, folder / "rootfs")
                bom = generate_sbom(folder / "rootfs", folder / "sbom.json", ctx.name, manifest.platform)
            finally:
                shutil.rmtree(folder / "rootfs", ignore_errors=True)
            tools.signer.attest(f"{ctx.image.repository}@{manifest.digest}", bom, SBOM_TYPE)
            ctx.note(f"{len(bom.get('components') or [])} packages", manifest.platform)
        ctx.result.attestations.append(SBOM_TYPE)

    def describe(self, ctx: ImageContext) -> list[str]:
        lines = []
        for platform in ctx.image.platforms:
            subject = f"{ctx.image.repository}@<digest of {ctx.name} {platform}>"
            argv = ctx.tools.signer.attest_argv(subject, Path(f"<sbom of {platform}.json>"), SBOM_TYPE)
            lines += [
                f"# export the {platform} root filesystem of {ctx.built.ref if ctx.built else ctx.name}, "
                "then: cdxgen -t rootfs <rootfs> --only pkg:deb --only pkg:pypi",
                shlex.join(argv),
            ]
        return lines
