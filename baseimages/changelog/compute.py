"""The changelog of two images, computed from the registry alone: no engine, no container, no emulation.

For each platform, the image manifest gives the layers and the config; each layer is streamed from the
registry once (its facts are kept by digest, so layers the two images share are read once), and the
layers' facts are merged per image into its final filesystem (filesystem.py). A platform whose manifest
digest is the same in both images is unchanged and nothing of it is read.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigError, RegistryError
from ..core.reference import Reference
from ..core.retry import call_with_retries
from ..registry.client import ImageIndex, PlatformManifest, RegistryClient
from .config import config_changes, config_keys
from .filesystem import distributions, final_files, final_sources, final_tree, packages
from .layers import LayerFacts, read_facts
from .model import Changelog, FileChanges, ImageVersion, PackageChange, PlatformChangelog, PythonChange, State

LAYER_JOBS = 4  # layers read at once


@dataclass(frozen=True)
class Layer:
    ref: Reference  # a repository that holds it
    digest: str
    size: int
    media_type: str


@dataclass(frozen=True)
class Contents:
    """What a changelog compares of one platform of one image."""

    packages: dict[str, str]
    python: dict[tuple[str, str], str]
    config: dict[tuple[str, str], str]
    files: dict[str, str]


def changelog(
    registry: RegistryClient,
    ref_a: Reference | None,
    ref_b: Reference,
    platforms: Iterable[str] | None = None,
    cache: MutableMapping[str, LayerFacts] | None = None,
) -> Changelog:
    """What changed from REF_A to REF_B (tags or digests, any repositories), per platform the two have (or only
    PLATFORMS); REF_A None: REF_B is a first promotion. CACHE keeps layer facts by digest between calls.
    RegistryError when an image cannot be read; ConfigError for a platform in neither image."""
    new = registry.index(ref_b)
    old = registry.index(ref_a) if ref_a is not None else None
    wanted = _platforms(old, new, platforms)
    reader = _Reader(registry, {} if cache is None else cache)
    plans: dict[str, tuple[PlatformManifest | None, PlatformManifest | None]] = {}
    for platform in wanted:
        before = old.for_platform(platform) if old is not None else None
        plans[platform] = (before, new.for_platform(platform))
    reader.prepare(ref_a, ref_b, plans)
    result = {platform: reader.platform(platform, old is None, *plans[platform]) for platform in wanted}
    previous = None if old is None or ref_a is None else ImageVersion(str(ref_a), old.digest)
    return Changelog(previous, ImageVersion(str(ref_b), new.digest), result)


@dataclass(frozen=True)
class Installed:
    """What one platform of an image has installed, and the apt sources it installs from."""

    packages: dict[str, str]  # Debian package (name, or name:arch) -> version
    python: dict[tuple[str, str], str]  # (environment, normalised name) -> version
    sources: dict[str, str]  # path of an apt sources file -> its text


def installed(
    registry: RegistryClient,
    ref: Reference,
    manifests: Iterable[PlatformManifest],
    cache: MutableMapping[str, LayerFacts] | None = None,
) -> dict[str, Installed]:
    """Platform -> what REF's image has installed there, for each of its MANIFESTS (from `registry.index(ref)`),
    read from the registry's layers like a changelog (CACHE keeps layer facts by digest between calls)."""
    chosen = list(manifests)
    reader = _Reader(registry, {} if cache is None else cache)
    reader.prepare(None, ref, {manifest.platform: (None, manifest) for manifest in chosen})
    found = {}
    for manifest in chosen:
        layers = reader.layer_facts(manifest)
        files = final_files(layers)
        found[manifest.platform] = Installed(packages(files), distributions(files), final_sources(layers))
    return found


def _platforms(old: ImageIndex | None, new: ImageIndex, only: Iterable[str] | None) -> list[str]:
    every = list(new.platforms) + [p for p in (old.platforms if old is not None else ()) if p not in new.platforms]
    if only is None:
        return sorted(every)
    chosen = list(dict.fromkeys(only))
    for platform in chosen:
        if platform not in every:
            raise ConfigError("--platform", platform, f"neither image has it (they have {', '.join(sorted(every))})")
    return sorted(chosen)


class _Reader:
    """Reads the manifests, configs and layers of the platforms to compare; layers in parallel, each once."""

    def __init__(self, registry: RegistryClient, cache: MutableMapping[str, LayerFacts]) -> None:
        self.registry = registry
        self.cache = cache
        self.manifests: dict[tuple[str, str], dict[str, Any]] = {}  # (repository, digest) -> manifest document
        self.refs: dict[str, Reference] = {}  # manifest digest -> the reference it was found by

    def prepare(
        self,
        ref_a: Reference | None,
        ref_b: Reference,
        plans: dict[str, tuple[PlatformManifest | None, PlatformManifest | None]],
    ) -> None:
        """Read the manifests of the platforms that need reading, then every layer they name not yet known."""
        needed: list[tuple[Reference, PlatformManifest]] = []
        for before, after in plans.values():
            if after is not None and (before is None or before.digest != after.digest):
                needed.append((ref_b, after))
                if before is not None and ref_a is not None:
                    needed.append((ref_a, before))
        layers: dict[str, Layer] = {}
        for ref, manifest in needed:
            self.refs[manifest.digest] = ref
            for layer in self._layers(ref, manifest.digest):
                if layer.digest not in self.cache:
                    layers.setdefault(layer.digest, layer)
        with ThreadPoolExecutor(max_workers=LAYER_JOBS) as pool:
            for facts in pool.map(self._read_layer, layers.values()):
                self.cache[facts.digest] = facts

    def platform(
        self, platform: str, first: bool, before: PlatformManifest | None, after: PlatformManifest | None
    ) -> PlatformChangelog:
        old_size = before.compressed_size if before else None
        new_size = after.compressed_size if after else None
        digests = (before.digest if before else None, after.digest if after else None)
        if after is None:
            return PlatformChangelog(platform, State.REMOVED, *digests, old_size, new_size)
        if before is not None and before.digest == after.digest:
            return PlatformChangelog(platform, State.UNCHANGED, *digests, old_size, new_size)
        empty = Contents({}, {}, {}, {})
        old = self._contents(before) if before is not None else empty
        new = self._contents(after)
        packages_ = tuple(
            PackageChange(name, old.packages.get(name), new.packages.get(name))
            for name in sorted(old.packages.keys() | new.packages.keys())
            if old.packages.get(name) != new.packages.get(name)
        )
        python = tuple(
            PythonChange(env, name, old.python.get((env, name)), new.python.get((env, name)))
            for env, name in sorted(old.python.keys() | new.python.keys())
            if old.python.get((env, name)) != new.python.get((env, name))
        )
        config = config_changes(old.config, new.config)
        files = FileChanges.between(old.files, new.files)
        if first or before is None:
            state = State.FIRST if first else State.ADDED
        else:
            inside = packages_ or python or files.total or any(not change.build_label for change in config)
            state = State.CHANGED if inside else State.REBUILT
        return PlatformChangelog(platform, state, *digests, old_size, new_size, packages_, python, config, files)

    def layer_facts(self, manifest: PlatformManifest) -> list[LayerFacts]:
        """The facts of MANIFEST's layers, lowest first (read by `prepare`)."""
        ref = self.refs[manifest.digest]
        return [self.cache[layer.digest] for layer in self._layers(ref, manifest.digest)]

    def _contents(self, manifest: PlatformManifest) -> Contents:
        ref = self.refs[manifest.digest]
        layers = self.layer_facts(manifest)
        files = final_files(layers)
        doc = self.manifests[(ref.repository, manifest.digest)]
        config = self.registry.blob_json(ref, manifest.config_digest, doc["config"]["size"])
        return Contents(packages(files), distributions(files), config_keys(config), final_tree(layers))

    def _layers(self, ref: Reference, digest: str) -> list[Layer]:
        key = (ref.repository, digest)
        if key not in self.manifests:
            answer = self.registry.manifest(Reference(ref.domain, ref.path, None, digest))
            if answer is None or answer.is_index:
                raise RegistryError(f"{ref.repository}@{digest}: not an image manifest in the registry")
            self.manifests[key] = answer.doc
        return [
            Layer(ref, layer["digest"], layer["size"], str(layer.get("mediaType", "")))
            for layer in self.manifests[key]["layers"]
        ]

    def _read_layer(self, layer: Layer) -> LayerFacts:
        def attempt() -> LayerFacts:
            with self.registry.open_blob(layer.ref, layer.digest, layer.size) as stream:
                try:
                    facts = read_facts(stream, layer.media_type, layer.digest)
                except RegistryError:
                    stream.finish()  # bytes altered on the way are the error to report, when they are
                    raise
                stream.finish()  # the digest is checked before the facts are used
                return facts

        registry = self.registry
        return call_with_retries(f"read layer {layer.digest}", attempt, registry.retry, registry.on_retry)
