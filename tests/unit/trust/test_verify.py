"""`verify`: each missing or wrong piece of trust is one failure line; a complete image verifies."""

from __future__ import annotations

import base64
import json

import pytest
from fake_image import PROVENANCE, make_image

from baseimages.cli.main import main
from baseimages.core.errors import ConfigError
from baseimages.core.process import Finished
from baseimages.trust.sbom import SBOM_TYPE
from baseimages.trust.signing import Cosign
from baseimages.trust.testrecord import TEST_RECORD_TYPE
from baseimages.trust.verify import verify_image

SPDX = "https://spdx.dev/Document"


class Cosigned:
    """Answers `cosign verify` (signed or not) and `cosign verify-attestation` (the given records)."""

    def __init__(
        self, signed: bool = True, records: list[dict] | None = None, subject: str | None = None, sboms=()
    ) -> None:
        self.signed = signed
        self.records = records or []
        self.subject = subject
        self.sboms = set(sboms)  # platform manifest digests with a signed CycloneDX attestation

    def __call__(self, argv, env):
        argv = list(argv)
        if argv[1] == "verify":
            if self.signed:
                return Finished(tuple(argv), 0, "[{}]", "")
            return Finished(tuple(argv), 1, "", "Error: no matching signatures: invalid signature")
        if argv[argv.index("--type") + 1] == SBOM_TYPE:
            digest = argv[-1].rsplit("@", 1)[1]
            if digest not in self.sboms:
                return Finished(tuple(argv), 1, "", "Error: no matching attestations")
            statement = {"predicateType": SBOM_TYPE, "predicate": {"bomFormat": "CycloneDX"},
                         "subject": [{"name": "x", "digest": {"sha256": digest.split(":")[1]}}]}  # fmt: skip
            line = json.dumps({"payload": base64.b64encode(json.dumps(statement).encode()).decode()})
            return Finished(tuple(argv), 0, line, "")
        if not self.records:
            return Finished(tuple(argv), 1, "", "Error: no matching attestations")
        subject = self.subject or argv[-1].rsplit("@", 1)[1]
        lines = []
        for record in self.records:
            statement = {"predicateType": TEST_RECORD_TYPE, "predicate": record,
                         "subject": [{"name": "x", "digest": {"sha256": subject.split(":")[1]}}]}  # fmt: skip
            lines.append(json.dumps({"payload": base64.b64encode(json.dumps(statement).encode()).decode()}))
        return Finished(tuple(argv), 0, "\n".join(lines), "")


@pytest.fixture
def published(fake_registry, tmp_path):
    """An image with provenance and an SBOM for both platforms; returns (reference, image, public key)."""
    image = make_image("pub", attestation=True, predicates=(PROVENANCE, SPDX))
    fake_registry.preload("team/uv", image, tag="1.0.0")
    key = tmp_path / "cosign.pub"
    key.write_text("-----BEGIN PUBLIC KEY-----\n")
    return f"{fake_registry.address}/team/uv:1.0.0", image, key


def _record(image, **changes):
    platforms = [{"platform": p, "digest": d, "status": "passed"} for p, d in _platform_digests(image)]
    return {"digest": image.digest, "passed": True, "platforms": platforms, **changes}


def _platform_digests(image):
    index = json.loads(image.index)
    return [(f"{e['platform']['os']}/{e['platform']['architecture']}", e["digest"])
            for e in index["manifests"] if e["platform"]["os"] != "unknown"]  # fmt: skip


def _verify(published, make_client, runner):
    reference, _, key = published
    return verify_image(reference, key, make_client(), Cosign(runner=runner))


def test_a_signed_image_with_provenance_sboms_and_a_passing_record_verifies(published, make_client):
    _, image, _ = published
    verdict = _verify(published, make_client, Cosigned(records=[_record(image)]))
    assert verdict.failures == [] and verdict.ok
    assert verdict.digest == image.digest and verdict.platforms == ("linux/amd64", "linux/arm64")


def test_an_unsigned_digest_or_another_keys_signature_fails_the_signature_line(published, make_client):
    _, image, _ = published
    verdict = _verify(published, make_client, Cosigned(signed=False, records=[_record(image)]))
    assert len(verdict.failures) == 1
    assert verdict.failures[0].startswith("signature: ") and "invalid signature" in verdict.failures[0]


def test_a_test_record_for_another_digest_fails(published, make_client):
    _, image, _ = published
    other = "sha256:" + "9" * 64
    verdict = _verify(published, make_client, Cosigned(records=[_record(image, digest=other)], subject=other))
    assert verdict.failures == [f"test record: none names {image.digest}"]


def test_a_record_that_says_a_platform_failed_fails(published, make_client):
    _, image, _ = published
    record = _record(image)
    record["platforms"][1]["status"] = "failed"
    verdict = _verify(published, make_client, Cosigned(records=[record]))
    assert verdict.failures == ["test record: the test record says linux/arm64 failed"]


def test_no_test_record_signed_by_this_key_fails(published, make_client):
    verdict = _verify(published, make_client, Cosigned(records=[]))
    assert verdict.failures == ["test record: none signed by this key (no matching attestations)"]


def test_a_missing_sbom_for_one_platform_fails_naming_it(fake_registry, make_client, tmp_path):
    image = make_image("half", attestation=True, predicates=(PROVENANCE,))
    fake_registry.preload("team/half", image, tag="1.0.0")
    key = tmp_path / "k.pub"
    key.write_text("x")
    cosign = Cosign(runner=Cosigned(records=[_record(image)]))
    verdict = verify_image(f"{fake_registry.address}/team/half:1.0.0", key, make_client(), cosign)
    assert verdict.failures == ["sbom: none attested for linux/amd64", "sbom: none attested for linux/arm64"]


def test_a_missing_public_key_is_a_config_error_naming_the_flag(published, make_client, tmp_path):
    reference, _, _ = published
    with pytest.raises(ConfigError, match="--key"):
        verify_image(reference, tmp_path / "none.pub", make_client(), Cosign(runner=Cosigned()))


def test_cli_verify_prints_one_line_per_failure_and_exits_1(published, fake_registry, tmp_path, monkeypatch, capsys):
    import baseimages.trust.signing

    reference, image, key = published
    runner = Cosigned(signed=False, records=[])
    monkeypatch.setattr(baseimages.trust.signing, "_run", runner)
    code = main(["verify", reference, "--key", str(key), "--project", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert [line.split(":")[0] for line in lines] == ["FAILED signature", "FAILED test record"]
    assert "invalid signature" in lines[0] and "no matching attestations" in lines[1]


def test_an_sbom_attested_with_cosign_on_each_platform_manifest_counts_and_a_missing_one_fails(
    fake_registry, make_client, tmp_path
):
    image = make_image("cosigned", attestation=True, predicates=(PROVENANCE,))
    fake_registry.preload("team/cos", image, tag="1.0.0")
    key = tmp_path / "k.pub"
    key.write_text("x")
    amd64, arm64 = (digest for _, digest in _platform_digests(image))
    both = Cosign(runner=Cosigned(records=[_record(image)], sboms={amd64, arm64}))
    assert verify_image(f"{fake_registry.address}/team/cos:1.0.0", key, make_client(), both).failures == []
    one = Cosign(runner=Cosigned(records=[_record(image)], sboms={amd64}))
    failures = verify_image(f"{fake_registry.address}/team/cos:1.0.0", key, make_client(), one).failures
    assert failures == ["sbom: none attested for linux/arm64"]
