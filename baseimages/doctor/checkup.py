"""`doctor`: checks that a machine can build, test and push the family, and changes nothing.

Each check returns typed findings, ok / warn / fail, each with the fix when it is not ok:

- the engine (`doctor_engine`): buildx and its version, dockerd, the containerd image store, the builders
  and their platforms, the QEMU binfmt handlers, the BuildKit cache against the free disk;
- the registries (`doctor_registry`): the target registry and its login, Docker Hub or a mirror serving
  each external base;
- what killed runs left (`doctor_leftovers`): containers and temporary folders of dead runs;
- each image (`doctor_context`, `doctor_dockerfile`): its build context after `.dockerignore` with the
  largest files, and the known Dockerfile traps.

Docker is asked through `engine_probe` (python-on-whales), registries through the project's
RegistryClient; nothing is pulled, built, pruned, logged in or written. A check that raises is itself a
failed finding, so one broken probe never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import BaseImagesError, InternalError
from .model import BINFMT_DIR, Check, DoctorContext, DoctorReport, Finding, FindingSink, Verdict

if TYPE_CHECKING:
    from ..catalog.plan import Plan
    from ..engine.probe import EngineProbe
    from ..registry.client import RegistryClient
    from ..settings.config import Settings

__all__ = ["Doctor", "DoctorContext", "DoctorReport", "Finding", "Verdict", "default_checks", "run_doctor"]


@dataclass
class Doctor:
    """Runs CHECKS (default: `default_checks()`) in order; each finding goes to ON_FINDING as it is made."""

    context: DoctorContext
    checks: Sequence[tuple[str, Check]] = field(default_factory=lambda: default_checks())
    on_finding: FindingSink | None = None

    def run(self) -> DoctorReport:
        findings: list[Finding] = []
        for name, check in self.checks:
            for finding in _guarded(name, check, self.context):
                findings.append(finding)
                if self.on_finding is not None:
                    self.on_finding(finding)
        return DoctorReport(tuple(findings))


def _guarded(name: str, check: Check, ctx: DoctorContext) -> Sequence[Finding]:
    """CHECK's findings; an error it raises is a failed finding of its own, never the end of doctor."""
    try:
        return check(ctx)
    except BaseImagesError as exc:
        return [Finding(name, Verdict.FAIL, str(exc), fix="see the message; other checks went on")]
    except Exception as exc:  # a bug in a check: said in one line, the others still run
        return [Finding(name, Verdict.FAIL, str(InternalError(f"doctor check {name}", exc)))]


def default_checks() -> list[tuple[str, Check]]:
    from .context import check_contexts
    from .dockerfile import check_dockerfiles
    from .engine import check_builders, check_buildx, check_cache, check_engine
    from .leftovers import check_leftovers
    from .qemu import check_qemu
    from .registry import check_bases, check_registry

    return [
        ("buildx", check_buildx),
        ("engine", check_engine),
        ("builder", check_builders),
        ("qemu", check_qemu),
        ("build cache", check_cache),
        ("leftovers", check_leftovers),
        ("registry", check_registry),
        ("base", check_bases),
        ("context", check_contexts),
        ("dockerfile", check_dockerfiles),
    ]


def run_doctor(
    settings: Settings,
    plan: Plan,
    *,
    engine: EngineProbe | None = None,
    registry: Callable[[tuple[str, ...]], RegistryClient] | None = None,
    binfmt_dir: Path | None = None,
    host_arch: str | None = None,
    temp_dir: Path | None = None,
    on_finding: FindingSink | None = None,
) -> DoctorReport:
    """Every check of the machine and of PLAN's images; ENGINE (default: the local Docker through
    python-on-whales, or DOCKER_HOST's), REGISTRY (default: quick clients for SETTINGS) and TEMP_DIR (where
    runs keep their temporary folders; default: the temp dir) may be injected."""
    import platform as host

    from ..engine.probe import DockerProbe
    from .registry import quick_client

    context = DoctorContext(
        settings=settings,
        plan=plan,
        engine=engine or DockerProbe(),
        registry=registry or (lambda mirrors: quick_client(settings, mirrors)),
        binfmt_dir=binfmt_dir or BINFMT_DIR,
        host_arch=host_arch if host_arch is not None else host.machine(),
        temp_dir=temp_dir,
    )
    return Doctor(context, on_finding=on_finding).run()


__all__ = ["Doctor", "DoctorContext", "DoctorReport", "Finding", "Verdict", "default_checks", "run_doctor"]
