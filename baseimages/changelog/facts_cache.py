"""The layer facts a changelog read, kept by layer digest across runs: a layer's facts depend on its bytes
alone (`layers.read_facts`), so the next changelog that meets the same layer (the published image it is
compared with, a rebuilt layer that came out byte for byte) does not read it from the registry again.

One JSON file per layer in a folder (the `layer-cache` setting), written atomically; in memory for the
run. A file that cannot be read or written is as if it were absent: the cache never fails a changelog.
Files no run has read or written for `KEEP_DAYS` are removed when a run first uses the folder. JSON, not
pickle: a file in the folder is data, never code.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from .contents import Distribution, Package
from .layers import Fact, LayerFacts

FORMAT = 1
KEEP_DAYS = 30


class FactsCache(MutableMapping[str, LayerFacts]):
    """Layer digest -> its facts: in memory, and in DIRECTORY when one is given."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[str, LayerFacts] = {}
        self._pruned = False

    def __getitem__(self, digest: str) -> LayerFacts:
        if digest in self._memory:
            return self._memory[digest]
        facts = self._read(digest)
        if facts is None:
            raise KeyError(digest)
        self._memory[digest] = facts
        return facts

    def __setitem__(self, digest: str, facts: LayerFacts) -> None:
        self._memory[digest] = facts
        self._write(digest, facts)

    def __delitem__(self, digest: str) -> None:
        del self._memory[digest]

    def __iter__(self) -> Iterator[str]:
        return iter(self._memory)

    def __len__(self) -> int:
        return len(self._memory)

    def _path(self, digest: str) -> Path | None:
        if self.directory is None or not digest.startswith("sha256:"):
            return None
        return self.directory / f"{digest.removeprefix('sha256:')}.json"

    def _read(self, digest: str) -> LayerFacts | None:
        path = self._path(digest)
        if path is None:
            return None
        try:
            doc = json.loads(path.read_text())
            facts = decode(doc) if doc.get("format") == FORMAT and doc.get("digest") == digest else None
            if facts is not None:
                os.utime(path)  # used: kept
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            facts = None
        self._prune()
        return facts

    def _write(self, digest: str, facts: LayerFacts) -> None:
        path = self._path(digest)
        if path is None:
            return
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "w") as out:
                    json.dump(encode(facts), out, separators=(",", ":"))
                os.replace(name, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name)
            self._prune()

    def _prune(self) -> None:
        """Once per run, after its first read or write: remove the files no run used for KEEP_DAYS."""
        if self._pruned or self.directory is None:
            return
        self._pruned = True
        oldest = time.time() - KEEP_DAYS * 86400
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.directory):
                with contextlib.suppress(OSError):
                    if entry.name.endswith(".json") and entry.stat().st_mtime < oldest:
                        os.unlink(entry.path)


def encode(facts: LayerFacts) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "digest": facts.digest,
        "files": {path: _encode_fact(fact) for path, fact in facts.files.items()},
        "whiteouts": sorted(facts.whiteouts),
        "opaque": sorted(facts.opaque),
        "entries": sorted(facts.entries),
        "tree": facts.tree,
        "sources": facts.sources,
    }


def decode(doc: dict[str, Any]) -> LayerFacts:
    return LayerFacts(
        digest=str(doc["digest"]),
        files={str(path): _decode_fact(fact) for path, fact in doc["files"].items()},
        whiteouts=frozenset(map(str, doc["whiteouts"])),
        opaque=frozenset(map(str, doc["opaque"])),
        entries=frozenset(map(str, doc["entries"])),
        tree={str(k): str(v) for k, v in doc["tree"].items()},
        sources={str(k): str(v) for k, v in doc["sources"].items()},
    )


def _encode_fact(fact: Fact) -> dict[str, Any] | None:
    if fact is None:
        return None
    if isinstance(fact, Distribution):
        return {"distribution": [fact.environment, fact.name, fact.version]}
    return {"packages": [[package.name, package.version] for package in fact]}


def _decode_fact(doc: dict[str, Any] | None) -> Fact:
    if doc is None:
        return None
    if "distribution" in doc:
        environment, name, version = doc["distribution"]
        return Distribution(str(environment), str(name), str(version))
    return tuple(Package(str(name), str(version)) for name, version in doc["packages"])
