"""The builders a run maps platforms to (the `builders` setting), checked before anything builds: each
must exist (a buildx builder, or a Docker context, which buildx lists as a builder of the `docker`
driver) and list the platforms mapped to it. A builder of the `docker` driver lists its platforms only
once booted, so it is asked with `--bootstrap`.

buildx builds on a Docker context's `docker` driver only as the current context: `docker buildx build
--builder CONTEXT` fails ("use `docker --context=CONTEXT buildx` to switch to context"). A name that is
a Docker context is therefore built with `docker --context NAME buildx build`, any other with
`--builder NAME`. Which names are contexts is read from the Docker CLI's context store (no process)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..core.errors import EngineError
from .probe import BuilderInfo

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


def is_docker_context(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether NAME is a Docker context of the CLI's store (`$DOCKER_CONFIG`, else ~/.docker), where
    each context's metadata is in contexts/meta/<sha256 of its name>/meta.json. `default` is none."""
    env = os.environ if environ is None else environ
    config = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")
    key = hashlib.sha256(name.encode()).hexdigest()
    return name != "default" and (config / "contexts" / "meta" / key / "meta.json").is_file()
