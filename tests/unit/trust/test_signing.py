"""cosign through the process choke point: exact command lines, the password only in the environment,
one-line errors, verified statements read back."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from baseimages.core.errors import SignatureRefused, SigningError
from baseimages.core.process import Finished
from baseimages.trust.signing import Cosign

REF = "localhost:5000/ns/uv@sha256:" + "a" * 64


class Runner:
    def __init__(self, answers: list[Finished] | None = None) -> None:
        self.calls: list[tuple[list[str], dict[str, str] | None]] = []
        self.answers = answers or []

    def __call__(self, argv, env):
        self.calls.append((list(argv), dict(env) if env else None))
        if self.answers:
            return self.answers.pop(0)
        return Finished(tuple(argv), 0, "", "")


def test_sign_runs_cosign_offline_with_the_key_and_the_password_only_in_its_environment(tmp_path):
    runner = Runner()
    Cosign(tmp_path / "cosign.key", "s3cret", runner).sign(REF)
    argv, env = runner.calls[0]
    assert argv == ["cosign", "sign", "--key", str(tmp_path / "cosign.key"), "--tlog-upload=false",
                    "--allow-http-registry", "--yes", REF]  # fmt: skip
    assert env == {"COSIGN_PASSWORD": "s3cret"}
    assert "s3cret" not in " ".join(argv)


def test_a_remote_registry_is_not_spoken_to_over_http(tmp_path):
    runner = Runner()
    Cosign(tmp_path / "k", "", runner).sign("registry.example.com/ns/uv@sha256:" + "a" * 64)
    assert "--allow-http-registry" not in runner.calls[0][0]


def test_attest_writes_the_predicate_to_a_file_and_names_its_type(tmp_path):
    seen = {}

    def runner(argv, env):
        path = Path(argv[argv.index("--predicate") + 1])
        seen["predicate"] = json.loads(path.read_text())
        seen["argv"] = list(argv)
        return Finished(tuple(argv), 0, "", "")

    Cosign(tmp_path / "k", "pw", runner).attest(REF, {"passed": True}, "https://example.test/t/v1")
    assert seen["predicate"] == {"passed": True}
    assert seen["argv"][seen["argv"].index("--type") + 1] == "https://example.test/t/v1"


def test_a_cosign_failure_is_one_signing_error_quoting_cosigns_error_line(tmp_path):
    runner = Runner([Finished(("cosign",), 1, "", "some log\nError: signing: wrong password\nmain.go:74: error")])
    with pytest.raises(SigningError) as info:
        Cosign(tmp_path / "k", "bad", runner).sign(REF)
    assert str(info.value) == f"signing {REF} failed: signing: wrong password"
    assert info.value.exit_code == 1


@pytest.mark.parametrize(
    "said",
    [
        "PUT http://localhost:5000/v2/ns/uv/manifests/sha256-aa.sig: DENIED: access to the resource is denied",
        "PUT http://localhost:5000/v2/ns/uv/manifests/sha256-aa.att: UNAUTHORIZED: authentication required",
        "PUT http://localhost:5000/v2/ns/uv/manifests/sha256-aa.sig: unexpected status code 403 Forbidden",
    ],
)
def test_a_registry_refusing_what_cosign_uploads_fails_with_the_registry_exit_code(tmp_path, said):
    runner = Runner([Finished(("cosign",), 1, "", f"Error: signing [{REF}]: signing digest: {said}\nmain.go:74")])
    with pytest.raises(SignatureRefused) as info:
        Cosign(tmp_path / "k", "pw", runner).sign(REF)
    assert str(info.value) == f"signing {REF} failed: signing [{REF}]: signing digest: {said}"
    assert info.value.exit_code == 3 and isinstance(info.value, SigningError)


def test_a_wrong_key_password_is_a_signing_error_not_a_registry_one(tmp_path):
    said = f"Error: signing [{REF}]: getting signer: reading key: decrypt: encrypted: decryption failed\nmain.go:74"
    with pytest.raises(SigningError) as info:
        Cosign(tmp_path / "k", "wrong", Runner([Finished(("cosign",), 1, "", said)])).sign(REF)
    assert not isinstance(info.value, SignatureRefused) and info.value.exit_code == 1


def test_signing_without_a_key_is_an_error_naming_the_setting():
    with pytest.raises(SigningError, match="--sign-key or BASEIMAGES_SIGN_KEY"):
        Cosign(None, None, Runner()).sign(REF)


def test_missing_cosign_binary_is_a_one_line_error(tmp_path):
    with pytest.raises(SigningError, match="not installed"):
        Cosign(tmp_path / "k", "", binary="cosign-that-is-not-there").sign(REF)


def test_verify_returns_none_when_cosign_verifies_and_the_reason_when_not(tmp_path):
    assert Cosign(runner=Runner()).verify(REF, tmp_path / "k.pub") is None
    failing = Runner([Finished(("cosign",), 1, "", "Error: no matching signatures: invalid signature")])
    assert Cosign(runner=failing).verify(REF, tmp_path / "k.pub") == "no matching signatures: invalid signature"
    argv = failing.calls[0][0]
    assert argv[:4] == ["cosign", "verify", "--key", str(tmp_path / "k.pub")] and "--insecure-ignore-tlog" in argv


def test_attestations_are_decoded_into_statements_with_their_subjects(tmp_path):
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://example.test/t/v1",
        "subject": [{"name": "localhost:5000/ns/uv", "digest": {"sha256": "a" * 64}}],
        "predicate": {"passed": True},
    }
    line = json.dumps({"payloadType": "application/vnd.in-toto+json",
                       "payload": base64.b64encode(json.dumps(statement).encode()).decode()})  # fmt: skip
    found = Cosign(runner=Runner([Finished(("cosign",), 0, line + "\n", "")])).attestations(
        REF, tmp_path / "k.pub", "https://example.test/t/v1"
    )
    assert not isinstance(found, str)
    assert [(s.predicate_type, s.subjects, dict(s.predicate)) for s in found] == [
        ("https://example.test/t/v1", ("sha256:" + "a" * 64,), {"passed": True})
    ]
