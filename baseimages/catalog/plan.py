"""The plan: which images build, in which wave, for which platforms, under which tags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigError
from ..settings.config import Settings
from .graph import build_order, with_parents
from .spec import Catalog, ImageSpec
from .tags import TagSet, compute_tags


@dataclass(frozen=True)
class PlannedImage:
    spec: ImageSpec
    repository: str  # registry/namespace/name
    platforms: tuple[str, ...]
    tags: TagSet
    wave: int

    @property
    def name(self) -> str:
        return self.spec.name

    def tag_refs(self, tags: Iterable[str]) -> list[str]:
        return [f"{self.repository}:{tag}" for tag in tags]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.spec.version,
            "parent": self.spec.parent,
            "platforms": list(self.platforms),
            "tags": list(self.tags.shown),
            "wave": self.wave,
            "repository": self.repository,
        }


@dataclass(frozen=True)
class Plan:
    images: tuple[PlannedImage, ...]  # in build order
    build_date: dt.datetime

    @property
    def waves(self) -> list[list[PlannedImage]]:
        out: list[list[PlannedImage]] = []
        for image in self.images:
            while len(out) <= image.wave:
                out.append([])
            out[image.wave].append(image)
        return [w for w in out if w]

    @property
    def source_date_epoch(self) -> int:
        """SOURCE_DATE_EPOCH of every build of the plan: the build day, 00:00 UTC. Two builds of the same
        inputs on the same day are byte for byte the same; `created` says the day."""
        day = self.build_date.astimezone(dt.UTC).date()
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())

    @property
    def created(self) -> str:
        """org.opencontainers.image.created of the plan's builds (from SOURCE_DATE_EPOCH)."""
        return dt.datetime.fromtimestamp(self.source_date_epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_dict(self) -> dict[str, Any]:
        return {"images": [i.to_dict() for i in self.images]}


def make_plan(
    catalog: Catalog,
    settings: Settings,
    only: Sequence[str] = (),
    platforms: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> Plan:
    """Resolve the graph into waves and compute every tag. ONLY selects images (with their parents);
    PLATFORMS narrows each image's platforms (an image that has none of them is an error)."""
    now = now or dt.datetime.now(dt.UTC)
    selected = with_parents(catalog.parents, only) if only else set(catalog.images)
    planned: list[PlannedImage] = []
    wave_index = 0
    for wave in build_order(catalog.parents):
        names = [n for n in wave if n in selected]
        if not names:
            continue
        for name in names:
            spec = catalog[name]
            chosen = tuple(p for p in spec.platforms if not platforms or p in platforms)
            if not chosen:
                raise ConfigError(
                    "--platform", ",".join(platforms), f"image {name!r} builds only for {', '.join(spec.platforms)}"
                )
            planned.append(
                PlannedImage(
                    spec=spec,
                    repository=settings.repository(name),
                    platforms=chosen,
                    tags=compute_tags(spec.version, now.date()),
                    wave=wave_index,
                )
            )
        wave_index += 1
    return Plan(images=tuple(planned), build_date=now)
