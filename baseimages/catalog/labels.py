"""The OCI labels and index annotations a build carries, from the plan, the parent and the checkout.

`created` is the plan's SOURCE_DATE_EPOCH (the build day), so that two builds of the same inputs the
same day are identical. `base.name` is the name a consumer can rely on: the parent's immutable tag (or
the external base as the catalog names it), never a candidate tag. `source` is the repository's URL,
left out when there is none (a checkout's filesystem path is no URL).
"""

from __future__ import annotations

import re

from .fingerprint import BASE_DIGEST_KEY, CREATED_KEY, FINGERPRINT_KEY, INPUTS_KEY, Inputs

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+\.[a-z]{2,}):(?P<path>[^/].*)$")


def repository_url(remote: str) -> str:
    """The web URL of a git remote (https, ssh or scp-like `git@host:org/repo.git`); "" for anything
    else, such as a local path or a file:// clone."""
    remote = remote.strip()
    if remote.startswith(("https://", "http://")):
        return _strip_git(re.sub(r"//[^@/]*@", "//", remote))  # never a token from the URL
    if remote.startswith("ssh://"):
        host_path = remote.removeprefix("ssh://").split("@", 1)[-1]
        host, _, path = host_path.partition("/")
        return _strip_git(f"https://{host.split(':')[0]}/{path}") if path else ""
    match = _SCP_LIKE.match(remote)
    if match:
        return _strip_git(f"https://{match['host']}/{match['path']}")
    return ""


def _strip_git(url: str) -> str:
    return url.removesuffix("/").removesuffix(".git")


def image_labels(
    *,
    title: str,
    version: str,
    description: str,
    created: str,
    revision: str,
    source: str,
    base_name: str,
    base_digest: str,
    inputs: Inputs | None,
) -> dict[str, str]:
    """The labels of one image build; empty values are left out."""
    labels = {
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": source,
        "org.opencontainers.image.base.name": base_name,
        "org.opencontainers.image.base.digest": base_digest,
        "org.opencontainers.image.description": description,
    }
    if inputs is not None:
        labels[FINGERPRINT_KEY] = inputs.fingerprint
    return {k: v for k, v in labels.items() if v}


def index_annotations(created: str, base_digest: str, inputs: Inputs | None) -> dict[str, str]:
    """Annotations of the pushed index, where one registry request reads them back (change detection)."""
    notes = {CREATED_KEY: created, BASE_DIGEST_KEY: base_digest}
    if inputs is not None:
        notes |= {FINGERPRINT_KEY: inputs.fingerprint, INPUTS_KEY: inputs.encoded()}
    return {key: value for key, value in notes.items() if value}
