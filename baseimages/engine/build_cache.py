"""The registry build cache: BuildKit's cache of each image, one ref per platform, in the image's own
repository of the push registry (`REPO:buildcache-amd64`, `REPO:buildcache-arm64`,
`REPO:buildcache-arm-v7`), so that any engine, a fresh one included, reuses what another one built.

- One ref per platform: each platform builds on its own, and builds that export to one ref keep only the
  last one to finish (buildx #1044).
- `mode=max`: the cache of every step, the builder stages' included, not only the final image's layers.
- `ignore-error=true` on the export: the image is built and in its archive when the cache export runs,
  and the factory uploads it itself afterwards; a cache that could not be written costs the next build
  its speed, never this build its image. An import that fails (the ref does not exist yet, the registry
  does not answer) is a warning of BuildKit's: the steps run.
- Only when pushing (the cache lives next to the images it was built for) and the `build-cache` setting
  is on. With `--no-cache` (every step runs again, the reproducibility check) nothing is imported; the
  fresh cache is still exported.

`bake-file` gives each bake target the same kind of cache at `REPO:buildcache`: bake builds a
target's platforms in one build, whose cache export holds them all.

What a ref held after the build that made a published image is recorded in that image's index
(`BUILD_CACHE_KEY`, per platform: `cache_layers` and the build request's recipe), so that a later
rebuild of the same inputs can tell whether the cache it would build from is that one (see
`pipeline.stages.reuse`).

The cache never carries a secret: the CA bundle and the index URL are build secrets, mounted for the
steps that use them and never written to a layer, and BuildKit keys a cached step by its command and
inputs, not by a secret's content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CACHE_TAG_PREFIX = "buildcache-"
BUILD_CACHE_KEY = "io.baseimages.build-cache"  # the index annotation: PLATFORM=CACHE_LAYERS+RECIPE;...


def cache_tag(platform: str) -> str:
    """The cache ref's tag of PLATFORM: linux/amd64 -> buildcache-amd64, linux/arm/v7 -> buildcache-arm-v7;
    another OS keeps its name (windows/amd64 -> buildcache-windows-amd64)."""
    system, _, rest = platform.partition("/")
    return CACHE_TAG_PREFIX + (rest if system == "linux" else platform).replace("/", "-")


def cache_ref(repository: str, platform: str) -> str:
    """Where the cache of REPOSITORY's image for PLATFORM lives."""
    return f"{repository}:{cache_tag(platform)}"


@dataclass(frozen=True)
class BuildCache:
    """Where one build reads its cache from and writes it to: buildx's `--cache-from` and `--cache-to`
    values (None: not at all)."""

    cache_from: Mapping[str, str] | None = None
    cache_to: Mapping[str, str] | None = None


NO_CACHE = BuildCache()


def registry_cache(repository: str, platform: str, *, enabled: bool, reuse: bool) -> BuildCache:
    """The registry cache of the build of PLATFORM of REPOSITORY's image: read (when REUSE) and written at
    the platform's ref when ENABLED (pushing, with the `build-cache` setting on)."""
    if not enabled:
        return NO_CACHE
    source = {"type": "registry", "ref": cache_ref(repository, platform)}
    target = {**source, "mode": "max", "ignore-error": "true"}
    return BuildCache(source if reuse else None, target)


def bake_cache(repository: str) -> tuple[str, str]:
    """The `cache-from` and `cache-to` entries of the bake target of REPOSITORY's image."""
    ref = f"type=registry,ref={repository}:{CACHE_TAG_PREFIX.rstrip('-')}"
    return ref, f"{ref},mode=max,ignore-error=true"


def cache_layers(index: Mapping[str, Any]) -> str:
    """What a cache ref holds, from its INDEX document: the sha256 of its layers' digests, sorted. Each
    export of the same cache writes its index anew (the order of its entries, their annotations and its
    config's record order change); the layers it holds do not."""
    layers = sorted(str(e.get("digest", "")) for e in index.get("manifests", []) if "layer" in str(e.get("mediaType")))
    return hashlib.sha256("\n".join(layers).encode()).hexdigest()[:32]


def encode_cache_states(states: Mapping[str, str]) -> str:
    """The `BUILD_CACHE_KEY` annotation's value: each platform's record (`cache_layers`, `+`, the build
    request's recipe), in platform order."""
    return ";".join(f"{platform}={states[platform]}" for platform in sorted(states))


def decode_cache_states(value: str) -> dict[str, str]:
    """Platform -> its record, from a `BUILD_CACHE_KEY` value (entries that do not parse are left out)."""
    out: dict[str, str] = {}
    for item in value.split(";"):
        platform, sep, state = item.partition("=")
        if sep and platform and state:
            out[platform] = state
    return out
