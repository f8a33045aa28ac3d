"""`python -m baseimages prune`: its flags, and the lines it prints. A dry run by default: what would go and
why (which rule), and what is kept because a kept tag still reaches it. `--apply` takes the run lock
(so it never races a push on the same registry and namespace), plans again under it, and deletes."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from ..core.errors import ConfigError
from ..core.lock import RunLock
from ..settings.config import SETTINGS, Settings

if TYPE_CHECKING:
    from ..catalog.plan import Plan
    from ..catalog.spec import Catalog
    from ..prune.local import LocalAction
    from ..prune.model import Change, Outcome
    from .options import Options


def add_prune_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `prune` and its flags (the `retention.*` settings' among them) on the CLI's subparsers."""
    prune = sub.add_parser(
        "prune",
        parents=[common],
        help="remove old dated and monthly tags, promoted or stale candidates and orphaned cache refs "
        "(a dry run unless --apply)",
    )
    prune.add_argument(
        "--apply", action="store_true", help="delete through the registry API (default: only say what would go)"
    )
    prune.add_argument(
        "--local",
        action="store_true",
        help="also prune the engine's BuildKit cache (docker builder prune --keep-storage) and remove the "
        "factory's local candidate and contract images",
    )
    for setting in SETTINGS:
        if setting.table == "retention" and setting.flag is not None:
            prune.add_argument(setting.flag, **setting.flag_arguments())


def prune_command(settings: Settings, catalog: Catalog, plan: Plan, options: Options, out: TextIO, err: TextIO) -> int:
    from ..prune.pruner import Pruner
    from ..registry.connect import registry_client

    if options.apply and options.dry_run:
        raise ConfigError("--apply", "--dry-run", "choose one: prune is a dry run unless --apply is given")
    registry = registry_client(
        settings, on_retry=lambda notice: print(f"retrying: {notice.text}", file=err, flush=True)
    )
    pruner = Pruner(settings, catalog, registry=registry)
    names = [image.name for image in plan.images] if options.only else None
    if not options.apply:
        prune_plan = pruner.plan(names, local=options.local)
        _print(prune_plan.lines(options.verbose), out)
        print("dry run: nothing changed (--apply makes these changes)", file=out)
        _write_report(options, prune_plan.to_dict())
        return 0
    with RunLock(settings.lock_dir, settings.registry, settings.namespace, options.wait_lock, "prune"):
        prune_plan = pruner.plan(names, local=options.local)
        _print(prune_plan.lines(options.verbose), out)

        def done(item: Change | LocalAction, outcome: Outcome) -> None:
            print(f"{outcome.value}: {item.describe()}", file=out, flush=True)

        result = pruner.apply(prune_plan, on_done=done)
    changed = sum(outcome.value == "done" for _, outcome in result.outcomes)
    print(f"applied: {changed} changes made, {len(result.outcomes) - changed} found done or left alone", file=out)
    _write_report(options, result.to_dict())
    return 0


def _print(lines: list[str], out: TextIO) -> None:
    for line in lines:
        print(line, file=out)


def _write_report(options: Options, data: dict[str, Any]) -> None:
    if options.report is not None:
        options.report.write_text(json.dumps(data, indent=2) + "\n")
