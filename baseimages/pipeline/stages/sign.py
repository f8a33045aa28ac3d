"""Signing before any tag moves: the tested index digest is signed with cosign, and the signed record
of its tests is attached to it. Without a signing key, nothing is signed, and the report says so."""

from __future__ import annotations

from ...core.events import Phase
from ...trust.testrecord import TEST_RECORD_TYPE, test_record
from ..actions import Action, CosignAttest, CosignSign, Notice, only
from .base import ImageContext, Stage

NO_KEY = "not signed: no signing key (--sign-key or BASEIMAGES_SIGN_KEY)"


class Sign(Stage):
    key = "sign"
    phase = Phase.SIGNING
    heavy = False

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push

    def actions(self, ctx: ImageContext) -> list[Action]:
        signer = ctx.tools.signer
        if signer.key is None:
            return [Notice(NO_KEY)]
        return [CosignSign(_subject(ctx), tuple(signer.sign_argv(_subject(ctx))))]

    def run(self, ctx: ImageContext) -> None:
        for action in self.actions(ctx):
            if isinstance(action, CosignSign):
                ctx.tools.signer.sign(action.subject)
                ctx.result.signed = True
            else:  # no key: not signed, and the progress says why
                ctx.result.signed = False
                ctx.note(action.summary(), None)


class RecordTests(Stage):
    """The per-platform smoke and contract results, as a signed in-toto attestation on the index."""

    key = "record"
    phase = Phase.ATTESTING
    heavy = False

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push and ctx.tools.signer.key is not None

    def detail(self, ctx: ImageContext) -> str:
        return f"test record ({TEST_RECORD_TYPE})"

    def actions(self, ctx: ImageContext) -> list[Action]:
        predicate = ctx.tools.workdir / f"{ctx.name}.test-record.json"
        argv = ctx.tools.signer.attest_argv(_subject(ctx), predicate, TEST_RECORD_TYPE)
        return [CosignAttest(_subject(ctx), TEST_RECORD_TYPE, predicate, tuple(argv))]

    def run(self, ctx: ImageContext) -> None:
        assert ctx.index is not None
        for attest in only(self.actions(ctx), CosignAttest):
            record = test_record(ctx.result, ctx.index)
            ctx.tools.signer.attest(attest.subject, record, attest.predicate_type, attest.predicate)
        ctx.result.attestations.append(TEST_RECORD_TYPE)


def _subject(ctx: ImageContext) -> str:
    assert ctx.built is not None
    return f"{ctx.image.repository}@{ctx.built.digest}"
