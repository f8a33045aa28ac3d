"""What the CLI prints: the plan, the plain progress lines and the run's summary (the CLI layer;
the library never prints)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..catalog.plan import Plan
from ..catalog.spec import Catalog
from ..core.errors import BaseImagesError
from ..core.results import ImageStatus, RunReport, Status
from ..settings.config import Settings

if TYPE_CHECKING:
    from ..core.events import Event
    from ..pipeline.options import RunOptions


def print_plan(
    plan: Plan, settings: Settings, decisions: dict[str, tuple[str, list[str]]], as_json: bool, out: TextIO
) -> None:
    if as_json:
        data = plan.to_dict()
        for item in data["images"]:
            action, reasons = decisions[item["name"]]
            item["action"] = action
            item["reasons"] = reasons
        print(json.dumps(data, indent=2), file=out)
        return
    print(f"registry: {settings.registry}  namespace: {settings.namespace}", file=out)
    for number, wave in enumerate(plan.waves, 1):
        print(f"wave {number}:", file=out)
        for image in wave:
            action, reasons = decisions[image.name]
            print(
                f"  {image.name} {image.spec.version} FROM {image.spec.parent} [{', '.join(image.platforms)}]", file=out
            )
            print(f"    {action}: {'; '.join(reasons)}", file=out)
            print(f"    tags: {', '.join(image.tags.shown)}", file=out)


def decisions(
    settings: Settings, catalog: Catalog, options: RunOptions, plan: Plan
) -> dict[str, tuple[str, list[str]]]:
    """What `push` would do per image; 'unknown' when the registry cannot be asked right now (one
    attempt, 5 s: `plan` never hangs on a registry that is down)."""
    from ..core.retry import RetryPolicy
    from ..pipeline.factory import Factory
    from ..registry.connect import registry_client

    quick = registry_client(settings, retry=RetryPolicy(attempts=1, max_seconds=5), timeout=5)
    factory = Factory(settings, catalog, registry=quick)
    try:
        return {name: (d.action.value, list(d.reasons)) for name, d in factory.decide(plan, options).items()}
    except BaseImagesError as exc:
        return {image.name: ("unknown", [f"registry not asked: {exc}"]) for image in plan.images}


class ProgressPrinter:
    def __init__(self, stream: TextIO, verbose: bool) -> None:
        self.stream = stream
        self.verbose = verbose

    def event(self, event: Event) -> None:
        where = f" [{event.platform}]" if event.platform else ""
        detail = f"  {event.detail}" if event.detail else ""
        image = event.image or "-"  # a retry that concerns no image (an external base's request)
        print(
            f"[{event.elapsed:7.1f}s] {image:<22} {event.phase.value}{where}{detail}",
            file=self.stream,
            flush=True,
        )

    def build_line(self, image: str, line: str) -> None:
        if self.verbose:
            print(f"  {image} | {line}", file=self.stream, flush=True)


def print_summary(report: RunReport, out: TextIO, err: TextIO, log_files: Mapping[str, Path]) -> None:
    for image in report.images:
        if image.log and image.status is ImageStatus.FAILED:
            whole = f"; the whole log: {log_files[image.name]}" if image.name in log_files else ""
            print(f"--- buildx log of {image.name}, the lines around the error{whole} ---", file=err)
            print(image.log, file=err)
            print("---", file=err)
    print("", file=out)
    for image in report.images:
        print(f"{image.name:<22} {image.status.value:<9} {image.digest or '-'}", file=out)
        if image.reasons and image.status is not ImageStatus.UNCHANGED:  # why it built, or converged
            print(f"    why: {'; '.join(image.reasons)}", file=out)
        for platform in image.platforms:
            size = f" {platform.compressed_bytes / 1e6:.1f} MB" if platform.compressed_bytes else ""
            skipped = [c for c in platform.checks if c.status is Status.SKIPPED]
            passed = sum(c.status is Status.PASSED for c in platform.checks)
            built = f", built on {platform.builder}" if platform.builder else ""
            print(
                f"    {platform.platform:<14} {platform.status.value:<8} "
                f"{passed}/{platform.executed} checks passed"
                + (f", {len(skipped)} skipped" if skipped else "")
                + size
                + built,
                file=out,
            )
            if platform.executed == 0:
                print(f"      FAILED: {platform.problem}", file=out)
            for check in platform.checks:
                if check.status is Status.FAILED:
                    print(f"      FAILED {check.name}: {check.detail}", file=out)
            for check in skipped:
                print(f"      skipped {check.name}: {check.detail}", file=out)
        if image.tags:
            print(f"    tags: {', '.join(image.tags)}", file=out)
        if image.error and not any(p.status is Status.FAILED for p in image.platforms):
            print(f"    error: {image.error}", file=out)
    for warning in report.warnings:  # e.g. a Pushgateway down: the build's verdict stands
        print(f"warning: {warning}", file=err)
