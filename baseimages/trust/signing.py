"""Signatures and attestations with cosign (Debian's `cosign` package), offline by default.

A cosign private key signs a digest (`cosign sign`) and attaches signed in-toto attestations to it
(`cosign attest`); the public key verifies both. No transparency log is reachable here, so nothing
is uploaded to one (`--tlog-upload=false`) and verification does not ask one (`--insecure-ignore-tlog`).
The key's password reaches cosign as COSIGN_PASSWORD in its environment only: never on a command
line, in a log, a report or `--dry-run` output.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import SignatureRefused, SigningError
from ..core.process import Finished, run_process
from ..core.runs import owned_tempdir
from ..registry.http import is_local

# How cosign (go-containerregistry) says the registry refused an upload: the distribution error codes,
# or the bare status when the registry sent no error body.
_REFUSED = re.compile(r"\b(DENIED|UNAUTHORIZED)\b|status code 40[13]\b|\b40[13] (Forbidden|Unauthorized)\b")

Runner = Callable[[Sequence[str], "Mapping[str, str] | None"], Finished]


def _run(argv: Sequence[str], env: Mapping[str, str] | None) -> Finished:
    return run_process(argv, env=env, timeout=300)


@dataclass(frozen=True)
class Statement:
    """One verified in-toto statement: its predicate type, subject digests and predicate."""

    predicate_type: str
    subjects: tuple[str, ...]  # sha256:... digests
    predicate: Mapping[str, Any]


class Cosign:
    """cosign against one registry. KEY and PASSWORD sign; `verify*` take a public key per call."""

    def __init__(
        self, key: Path | None = None, password: str | None = None, runner: Runner | None = None, binary: str = "cosign"
    ) -> None:
        self.key = key
        self._password = password
        self._given_runner = runner
        self._binary = binary

    def sign_argv(self, reference: str) -> list[str]:
        """The command that signs REFERENCE (`repo@sha256:...`): what `--dry-run` prints."""
        return [self._binary, "sign", "--key", str(self.key), "--tlog-upload=false", *_http(reference), "--yes",
                reference]  # fmt: skip

    def attest_argv(self, reference: str, predicate: Path, predicate_type: str) -> list[str]:
        return [self._binary, "attest", "--key", str(self.key), "--predicate", str(predicate), "--type",
                predicate_type, "--tlog-upload=false", *_http(reference), "--yes", reference]  # fmt: skip

    def sign(self, reference: str) -> None:
        self._must(self.sign_argv(reference), f"signing {reference}")

    def attest(
        self, reference: str, predicate: Mapping[str, Any], predicate_type: str, path: Path | None = None
    ) -> None:
        """Attach PREDICATE to REFERENCE as a signed in-toto attestation of PREDICATE_TYPE; cosign reads it
        from PATH (default: a temporary file)."""
        if path is None:
            with owned_tempdir("attest") as tmp:
                return self.attest(reference, predicate, predicate_type, Path(tmp) / "predicate.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(predicate, indent=1, sort_keys=True))
        self._must(self.attest_argv(reference, path, predicate_type), f"attesting {predicate_type} on {reference}")
        return None

    def public_key(self, path: Path) -> Path:
        """Write the public key of the signing key to PATH (`cosign public-key`); SigningError when it cannot."""
        path.parent.mkdir(parents=True, exist_ok=True)
        argv = [self._binary, "public-key", "--key", str(self.key), "--outfile", str(path)]
        self._must(argv, "reading the public key of the signing key")
        return path

    def verify(self, reference: str, public_key: Path) -> str | None:
        """None when REFERENCE carries a signature made with PUBLIC_KEY's private key, else why not."""
        argv = [self._binary, "verify", "--key", str(public_key), "--insecure-ignore-tlog", *_http(reference),
                reference]  # fmt: skip
        done = self._runner(argv, None)
        return None if done.ok else _reason(done)

    def attestations(self, reference: str, public_key: Path, predicate_type: str) -> list[Statement] | str:
        """The statements of PREDICATE_TYPE on REFERENCE signed with PUBLIC_KEY's private key, or why
        none could be verified (no attestation, another key)."""
        argv = [self._binary, "verify-attestation", "--key", str(public_key), "--type", predicate_type,
                "--insecure-ignore-tlog", *_http(reference), reference]  # fmt: skip
        done = self._runner(argv, None)
        if not done.ok:
            return _reason(done)
        try:
            return [_statement(line) for line in done.stdout.splitlines() if line.strip()]
        except (ValueError, KeyError, TypeError) as exc:
            return f"cosign printed an attestation that is not an in-toto statement: {exc}"

    def _runner(self, argv: Sequence[str], env: Mapping[str, str] | None) -> Finished:
        return (self._given_runner or _run)(argv, env)

    def _must(self, argv: list[str], what: str) -> None:
        if self.key is None:
            raise SigningError(f"{what}: no signing key (set --sign-key or BASEIMAGES_SIGN_KEY)")
        env = {"COSIGN_PASSWORD": self._password or ""}
        done = self._runner(argv, env)
        if not done.ok:
            reason = _reason(done)
            refused = _REFUSED.search(reason) is not None
            raise (SignatureRefused if refused else SigningError)(f"{what} failed: {reason}")


def _http(reference: str) -> list[str]:
    """cosign speaks plain HTTP to a local registry only when told to."""
    domain = reference.split("/", 1)[0]
    return ["--allow-http-registry"] if is_local(domain) else []


def _reason(done: Finished) -> str:
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip().startswith("Error:")]
    return lines[-1].removeprefix("Error:").strip() if lines else done.last_line()


def _statement(line: str) -> Statement:
    envelope = json.loads(line)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    subjects = tuple(f"sha256:{s['digest']['sha256']}" for s in statement["subject"])
    return Statement(str(statement["predicateType"]), subjects, statement.get("predicate") or {})
