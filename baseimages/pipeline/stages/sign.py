"""Signing before any tag moves: the tested index digest is signed with cosign, and the signed record
of its tests is attached to it. Without a signing key, nothing is signed, and the report says so."""

from __future__ import annotations

import shlex
from pathlib import Path

from ...core.events import Phase
from ...trust.testrecord import TEST_RECORD_TYPE, test_record
from .base import ImageContext, Stage

NO_KEY = "not signed: no signing key (--sign-key or BASEIMAGES_SIGN_KEY)"


class Sign(Stage):
    key = "sign"
    phase = Phase.SIGNING
    heavy = False

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push

    def run(self, ctx: ImageContext) -> None:
        signer = ctx.tools.signer
        if signer.key is None:
            ctx.result.signed = False
            ctx.note(NO_KEY, None)
            return
        signer.sign(_subject(ctx))
        ctx.result.signed = True

    def describe(self, ctx: ImageContext) -> list[str]:
        signer = ctx.tools.signer
        if signer.key is None:
            return [f"# {NO_KEY}"]
        return [shlex.join(signer.sign_argv(_subject(ctx)))]


class RecordTests(Stage):
    """The per-platform smoke and contract results, as a signed in-toto attestation on the index."""

    key = "record"
    phase = Phase.ATTESTING
    heavy = False

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push and ctx.tools.signer.key is not None

    def detail(self, ctx: ImageContext) -> str:
        return f"test record ({TEST_RECORD_TYPE})"

    def run(self, ctx: ImageContext) -> None:
        assert ctx.index is not None
        ctx.tools.signer.attest(_subject(ctx), test_record(ctx.result, ctx.index), TEST_RECORD_TYPE)
        ctx.result.attestations.append(TEST_RECORD_TYPE)

    def describe(self, ctx: ImageContext) -> list[str]:
        argv = ctx.tools.signer.attest_argv(_subject(ctx), Path("<test-record.json>"), TEST_RECORD_TYPE)
        return [shlex.join(argv)]


def _subject(ctx: ImageContext) -> str:
    assert ctx.built is not None
    return f"{ctx.image.repository}@{ctx.built.digest}"
