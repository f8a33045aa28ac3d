"""The signed record of an image's tests: what `push` attests on every index it promotes, and what
`verify` reads back.

Predicate type `TEST_RECORD_TYPE`; the in-toto statement's subject is the index digest. The predicate:

    {"image": "python311-uv", "version": "1.0.0", "repository": "registry/ns/python311-uv",
     "digest": "sha256:<index>", "fingerprint": "sha256:<inputs>", "tested_at": "<RFC 3339>",
     "passed": true,
     "platforms": [{"platform": "linux/amd64", "digest": "sha256:<platform manifest>",
                    "status": "passed" | "degraded" | "failed", "problem": "",
                    "checks": [{"name": "...", "kind": "command|file|metadata|size|contract",
                                "status": "passed|skipped|failed"}]}]}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..core.results import ImageResult, Status
from ..registry.client import ImageIndex

TEST_RECORD_TYPE = "https://baseimages.dev/attestations/test-record/v1"


def test_record(result: ImageResult, index: ImageIndex, now: dt.datetime | None = None) -> dict[str, Any]:
    """The predicate for RESULT, tested at the digests of INDEX."""
    platforms = []
    for platform in result.platforms:
        manifest = index.for_platform(platform.platform)
        platforms.append(
            {
                "platform": platform.platform,
                "digest": manifest.digest if manifest else None,
                "status": platform.status.value,
                "problem": platform.problem,
                "checks": [{"name": c.name, "kind": c.kind, "status": c.status.value} for c in platform.checks],
            }
        )
    return {
        "image": result.name,
        "version": result.version,
        "repository": result.repository,
        "digest": index.digest,
        "fingerprint": result.fingerprint,
        "tested_at": (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "passed": all(p["status"] != Status.FAILED.value for p in platforms) and bool(platforms),
        "platforms": platforms,
    }


def record_problems(predicate: Mapping[str, Any], index: ImageIndex) -> list[str]:
    """Why PREDICATE is not a passing record of INDEX (its digest, every platform): [] when it is."""
    problems = []
    if predicate.get("digest") != index.digest:
        problems.append(f"the test record names {predicate.get('digest')}, not {index.digest}")
    recorded = {p.get("platform"): p for p in predicate.get("platforms") or [] if isinstance(p, Mapping)}
    for manifest in index.manifests:
        entry = recorded.get(manifest.platform)
        if entry is None:
            problems.append(f"the test record has no result for {manifest.platform}")
        elif entry.get("status") not in (Status.PASSED.value, Status.DEGRADED.value):
            problems.append(f"the test record says {manifest.platform} {entry.get('status')}")
        elif entry.get("digest") != manifest.digest:
            problems.append(f"the test record's {manifest.platform} is {entry.get('digest')}, not {manifest.digest}")
    if predicate.get("passed") is not True and not problems:
        problems.append("the test record does not say passed")
    return problems
