"""The builders a run maps platforms to (the `builders` setting), checked before anything builds: each
must exist (a buildx builder, or a Docker context, which buildx lists as a builder of the `docker`
driver) and list the platforms mapped to it. A builder of the `docker` driver lists its platforms only
once booted, so it is asked with `--bootstrap`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from .engine_probe import BuilderInfo
from .errors import EngineError

WHERE = "the `builders` setting (--builder, BASEIMAGES_BUILDERS or [tool.baseimages.builders])"


def check_builders(
    builders: Mapping[str, str], platforms: Iterable[str], inspect: Callable[[str], BuilderInfo]
) -> None:
    """Raise EngineError (exit 4) unless each builder BUILDERS maps one of PLATFORMS to answers INSPECT
    and lists every platform mapped to it."""
    wanted: dict[str, list[str]] = {}
    for platform in platforms:
        if platform in builders:
            wanted.setdefault(builders[platform], []).append(platform)
    for name, mapped in wanted.items():
        try:
            info = inspect(name)
        except EngineError as exc:
            raise EngineError(
                f"builder {name!r}, mapped to {', '.join(mapped)} by {WHERE}, is not usable: {exc}"
            ) from None
        missing = [p for p in mapped if not lists_platform(info.platforms, p)]
        if missing:
            has = ", ".join(info.platforms) or "no platform"
            raise EngineError(
                f"builder {name!r} cannot build {', '.join(missing)} (it lists {has}); "
                f"map {missing[0]} to another builder in {WHERE}"
            )


def lists_platform(listed: Iterable[str], platform: str) -> bool:
    """Whether a builder that LISTED these platforms builds PLATFORM (linux/arm64 is also linux/arm64/v8)."""
    names = set(listed)
    return platform in names or (platform == "linux/arm64" and "linux/arm64/v8" in names)
