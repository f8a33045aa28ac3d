"""The signed changelog of a promotion: what `push` attests on every index it promotes with a signing key.

Predicate type `CHANGELOG_TYPE`; the in-toto statement's subject is the promoted index digest. The
predicate is the changelog's JSON document (schema `baseimages.changelog/v1`, docs/changelog.md): what
changed, per platform, from the build the promotion replaces (`old`, null for a first promotion) to this
index (`new.digest`, the subject).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..registry.client import ImageIndex

CHANGELOG_TYPE = "https://baseimages.dev/attestations/changelog/v1"


def changelog_problems(predicate: Mapping[str, Any], index: ImageIndex) -> list[str]:
    """Why PREDICATE is not a changelog of INDEX: [] when it is."""
    if predicate.get("schema") != "baseimages.changelog/v1":
        return [f"the changelog's schema is {predicate.get('schema')!r}, not baseimages.changelog/v1"]
    new = predicate.get("new") or {}
    digest = new.get("digest") if isinstance(new, Mapping) else None
    return [] if digest == index.digest else [f"the changelog names {digest}, not {index.digest}"]
