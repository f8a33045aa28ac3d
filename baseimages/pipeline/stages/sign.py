"""Signing before any tag moves: the tested index digest is signed with cosign, and the signed record
of its tests is attached to it. Without a signing key, nothing is signed, and the report says so."""

from __future__ import annotations

from ...core.events import Phase
from ...trust.changelogrecord import CHANGELOG_TYPE
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
    """The per-platform smoke and contract results, as a signed in-toto attestation on the index; and the
    promotion's changelog (once read: see stages.changelog), as another."""

    key = "record"
    phase = Phase.ATTESTING
    heavy = False

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push and ctx.tools.signer.key is not None

    def detail(self, ctx: ImageContext) -> str:
        return f"test record ({TEST_RECORD_TYPE})"

    def actions(self, ctx: ImageContext) -> list[Action]:
        """The test record; then the changelog, when it was read (a dry run shows it: a run reads it)."""
        kinds = [(TEST_RECORD_TYPE, "test-record")]
        if ctx.result.changelog is not None or ctx.tools.planning:
            kinds.append((CHANGELOG_TYPE, "changelog"))
        actions: list[Action] = []
        for kind, name in kinds:
            predicate = ctx.tools.workdir / f"{ctx.name}.{name}.json"
            argv = ctx.tools.signer.attest_argv(_subject(ctx), predicate, kind)
            actions.append(CosignAttest(_subject(ctx), kind, predicate, tuple(argv)))
        return actions

    def run(self, ctx: ImageContext) -> None:
        assert ctx.index is not None
        for attest in only(self.actions(ctx), CosignAttest):
            if attest.predicate_type == CHANGELOG_TYPE:
                record = ctx.result.changelog or {}
            else:
                record = test_record(ctx.result, ctx.index)
            ctx.tools.signer.attest(attest.subject, record, attest.predicate_type, attest.predicate)
            ctx.result.attestations.append(attest.predicate_type)


def _subject(ctx: ImageContext) -> str:
    assert ctx.built is not None
    return f"{ctx.image.repository}@{ctx.built.digest}"
