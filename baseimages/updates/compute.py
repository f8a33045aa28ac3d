"""Which updates are installable for promoted images, read from the registry and the images' own archives: no
engine, no container.

For each image, its promoted build (`latest`) is read as a changelog reads an image (each layer streamed once,
whiteouts honoured): its dpkg status, its Python distributions and its apt sources files. Each platform's
packages are then looked up in the `Packages` indexes of its sources for that platform's architecture, and its
distributions on the package index. One image that cannot be read (an archive or the registry unreachable)
is reported with its error; the others are still read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..changelog import Installed, installed
from ..changelog.layers import LayerFacts
from ..core.errors import BaseImagesError
from ..core.reference import Reference
from ..registry.client import PlatformManifest, RegistryClient
from .archive import Archive, Release
from .model import DebianUpdate, ImageUpdates, PlatformUpdates, UpdatesReport
from .pypi import DEFAULT_INDEX, PackageIndex, pinned_names
from .python import python_updates
from .sources import AptSource, parse_sources
from .web import FetchBytes, redacted

# Docker platform (after `linux/`) -> Debian architecture
DEBIAN_ARCH = {"amd64": "amd64", "arm64": "arm64", "arm64/v8": "arm64", "arm/v7": "armhf", "arm/v6": "armel",
               "arm/v5": "armel", "386": "i386", "ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64",
               "mips64le": "mips64el", "loong64": "loong64"}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """An image to look at: its catalog name, the reference of its promoted build, and the folders whose
    requirements files pin its Python distributions (its own and its catalog parents')."""

    image: str
    ref: Reference
    folders: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Offer:
    version: str
    source: AptSource
    release: Release


def check_updates(
    registry: RegistryClient,
    targets: Sequence[Target],
    index_url: str = DEFAULT_INDEX,
    platforms: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    cache: MutableMapping[str, LayerFacts] | None = None,
) -> UpdatesReport:
    """The installable updates of each of TARGETS (only PLATFORMS, when given), its archives and INDEX_URL read
    through REGISTRY's HTTP transport. Never raises for one image: its error is in its ImageUpdates."""
    archive = Archive.over(FetchBytes(registry))
    index = PackageIndex(registry, index_url)
    wanted = tuple(platforms or ())
    layers: MutableMapping[str, LayerFacts] = {} if cache is None else cache
    images = tuple(_image(registry, archive, index, target, wanted, layers) for target in targets)
    return UpdatesReport(now or dt.datetime.now(dt.UTC), images, redacted(index_url), wanted)


def _image(
    registry: RegistryClient,
    archive: Archive,
    index: PackageIndex,
    target: Target,
    platforms: tuple[str, ...],
    cache: MutableMapping[str, LayerFacts],
) -> ImageUpdates:
    name, ref = target.image, target.ref
    digest = None
    try:
        digest = registry.digest(ref)
        if digest is None:
            return ImageUpdates(name, str(ref))
        found = registry.index(ref)
        manifests = [m for m in found.manifests if not platforms or m.platform in platforms]
        contents = installed(registry, ref, manifests, cache)
        pinned = pinned_names(target.folders)
        result = tuple(_platform(archive, index, m, contents[m.platform], pinned) for m in manifests)
        return ImageUpdates(name, str(ref), found.digest, result)
    except BaseImagesError as exc:
        return ImageUpdates(name, str(ref), digest, error=str(exc), exit_code=exc.exit_code)


def _platform(
    archive: Archive, index: PackageIndex, manifest: PlatformManifest, contents: Installed, pinned: frozenset[str]
) -> PlatformUpdates:
    arch = debian_arch(manifest.platform)
    sources = parse_sources(contents.sources)
    offers, read, skipped = _offers(archive, sources, arch)
    debian = debian_updates(contents.packages, offers, arch)
    python, pins = python_updates(contents.python, pinned, index.latest)
    return PlatformUpdates(manifest.platform, manifest.digest, debian, python, pins, read, skipped)


def debian_arch(platform: str) -> str:
    """The Debian architecture of a Docker platform: linux/arm/v7 -> armhf."""
    rest = platform.partition("/")[2]
    return DEBIAN_ARCH.get(rest) or DEBIAN_ARCH.get(rest.partition("/")[0]) or rest.partition("/")[0]


def _offers(
    archive: Archive, sources: Sequence[AptSource], arch: str
) -> tuple[dict[str, list[Offer]], tuple[str, ...], tuple[str, ...]]:
    """Package -> the versions SOURCES offer of it for ARCH; the sources read; the sources skipped, and why."""
    offers: dict[str, list[Offer]] = {}
    read: list[str] = []
    skipped: list[str] = []
    if not sources:
        skipped.append("no apt sources in the image")
    for source in sources:
        if not source.readable:
            skipped.append(f"{source.label()}: not an http(s) archive")
            continue
        if not source.takes(arch):
            skipped.append(f"{source.label()}: not for {arch}")
            continue
        release = archive.release(source.base)
        for component in source.components or ("",):
            for package, version in archive.packages(source.base, component, arch).items():
                offers.setdefault(package, []).append(Offer(version, source, release))
        read.append(source.label())
    return offers, tuple(read), tuple(skipped)


def debian_updates(installed: dict[str, str], offers: dict[str, list[Offer]], arch: str) -> tuple[DebianUpdate, ...]:
    """The packages of INSTALLED (name or name:arch -> version) that OFFERS have a higher version of, as apt's
    default policy picks it: the highest version of the suites apt upgrades from automatically; a suite marked
    NotAutomatic (experimental) never, one also marked ButAutomaticUpgrades (backports) only for a package whose
    installed version came from it."""
    from debian.debian_support import Version  # imported when used: python-debian costs a run that reads no Debian file

    updates = []
    for package, current in sorted(installed.items()):
        name, _, qualifier = package.partition(":")
        if qualifier not in ("", arch, "all"):
            continue  # another architecture's package (multiarch): not in this platform's indexes
        chosen = _candidates(offers.get(name, []), current)
        if not chosen:
            continue
        best = max(chosen, key=lambda offer: Version(offer.version))
        if Version(best.version) <= Version(current):
            continue
        same = [offer for offer in chosen if Version(offer.version) == Version(best.version)]
        origin = next((offer for offer in same if offer.source.security), same[0])
        updates.append(
            DebianUpdate(
                package, current, best.version, origin.source.suite, origin.source.security, origin.source.uri
            )  # fmt: skip
        )
    return tuple(updates)


def _candidates(offers: list[Offer], current: str) -> list[Offer]:
    from debian.debian_support import Version  # imported when used: python-debian costs a run that reads no Debian file

    automatic = [offer for offer in offers if not offer.release.not_automatic]
    if any(Version(offer.version) == Version(current) for offer in automatic):
        return automatic
    from_upgradable = [
        offer for offer in offers if offer.release.not_automatic and offer.release.but_automatic_upgrades
    ]
    if any(Version(offer.version) == Version(current) for offer in from_upgradable):
        return automatic + from_upgradable
    return automatic
