"""`python -m baseimages`: a thin layer that parses flags, calls the library and prints.

Exit codes: 0 all good; 1 a build, smoke test or promotion failed; 2 bad input (catalog, settings,
flags); 3 registry unreachable or refusing after retries; 4 no usable Docker engine; 5 another run
holds the lock for the same registry and namespace; 130 interrupted (SIGINT, Ctrl-C); 143 stopped
(SIGTERM). Every command runs inside `stop_signals()`: a first SIGINT or SIGTERM stops it cleanly, a
second one ends the process at once.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..catalog.plan import Plan, make_plan
from ..catalog.spec import Catalog, load_catalog
from ..core.errors import BaseImagesError, ConfigError, InternalError, RunCancelled
from ..core.interrupts import exit_code_of, signal_of, stop_signals
from ..core.version import installed_version
from ..pipeline.dry_run import MODES, parse_mode
from ..settings.config import SETTINGS, Settings, parse_platforms
from .audit import add_audit_parser
from .dependents import COMMANDS as DEPENDENTS_COMMANDS
from .dependents import add_dependents_parsers
from .doctor import add_doctor_parser
from .options import Options
from .output import ProgressPrinter, decisions, print_plan, print_summary

if TYPE_CHECKING:
    from ..pipeline.factory import Factory
    from .run_output import RunOutput


def _common_flags() -> argparse.ArgumentParser:
    """The flags every command takes: the declared settings' flags, the selection, the run's options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--project", type=Path, default=Path("."), help="project root holding pyproject.toml and images/"
    )
    for setting in SETTINGS:  # a flag for each project setting that declares one (a sub-table's: its command's)
        if setting.flag is not None and not setting.table:
            common.add_argument(setting.flag, **setting.flag_arguments())
    common.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="only this image and the parents it needs (repeatable)",
    )
    common.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="OS/ARCH",
        help="only these platforms (repeatable or comma-separated)",
    )
    common.add_argument(
        "--dry-run",
        choices=MODES,
        metavar="[=MODE]",
        help="print what would run instead of running it: `--dry-run` the plan (per image: why it builds, its "
        "builds, upload, checks, contract, signing and the tags that would move), `--dry-run=commands` the exact "
        "docker, buildx and cosign command lines",
    )
    common.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report of the run to FILE")
    common.add_argument(
        "--force",
        action="store_true",
        help="rebuild unchanged images (an existing immutable tag still never moves: a new build gets the next one)",
    )
    common.add_argument(
        "--refresh",
        choices=["window", "monthly", "updates"],
        help="rebuild an unchanged image when its last build is older than --refresh-days (window, the default), "
        "from before this month (monthly: the scheduled job's mode), or that too and when an update is installable "
        "for it (updates: which count is --refresh-updates)",
    )
    common.add_argument(
        "--wait-lock",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run on the same registry and namespace to finish (default: refuse at once)",
    )
    common.add_argument(
        "--no-cache", action="store_true", help="build every step again (with --force: a rebuild that must be the same)"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="stream the buildx logs")
    return common


class VersionRequested(Exception):
    """`--version` was given: main prints the installed version to its OUT and returns 0."""


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the installed version and exit")

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise VersionRequested


def _prog() -> str:
    """How the user called us: the `baseimages` console script, or `python -m baseimages`."""
    return "baseimages" if Path(sys.argv[0]).name == "baseimages" else "python -m baseimages"


def _parser() -> argparse.ArgumentParser:
    common = _common_flags()
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Build, smoke-test, push and promote a family of multi-arch base images.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", parents=[common], help="list the catalog")
    plan = sub.add_parser("plan", parents=[common], help="show build waves, tags, and what push would rebuild and why")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    sub.add_parser("build", parents=[common], help="build and smoke-test every platform, push nothing")
    add_doctor_parser(sub, common)
    add_audit_parser(sub, common)
    test = sub.add_parser("test", parents=[common], help="smoke-test existing images in the registry")
    test.add_argument("ref", nargs="?", help="image reference (default: each selected image's latest tag)")
    sub.add_parser("push", parents=[common], help="build, smoke-test, push, then move tags")
    sub.add_parser("bake-file", parents=[common], help="print the equivalent `docker buildx bake` definition (JSON)")
    verify = sub.add_parser(
        "verify", parents=[common], help="check an image's signature, provenance, SBOMs and signed test record"
    )
    verify.add_argument("ref", help="image reference in a registry, by tag or digest")
    verify.add_argument("--key", type=Path, required=True, metavar="PUBLIC_KEY", help="the publisher's public key")
    from .diff import add_diff_parser
    from .history import add_history_parser
    from .prune import add_prune_parser
    from .updates import add_updates_parser

    add_prune_parser(sub, common)
    add_dependents_parsers(sub)
    add_diff_parser(sub, common)
    add_history_parser(sub, common)
    add_updates_parser(sub, common)
    return parser


def parse_args(argv: Sequence[str]) -> Options:
    # `--dry-run` alone is the plan: spelled out here, so that it never takes the next word (a REF) as its mode.
    args = list(argv)
    end = args.index("--") if "--" in args else len(args)
    ns = _parser().parse_args([f"--dry-run={MODES[0]}" if a == "--dry-run" else a for a in args[:end]] + args[end:])
    platforms: list[str] = []
    for value in ns.platform:
        platforms.extend(parse_platforms(value, "--platform", value))
    overrides = {
        setting.attr: setting.from_flag(",".join(text) if isinstance(text, list) else text)
        for setting in SETTINGS
        if setting.flag is not None and (text := getattr(ns, setting.attr, None)) is not None
    }
    return Options(
        command=ns.command,
        project=ns.project,
        overrides=overrides,
        only=tuple(ns.only),
        platforms=tuple(platforms),
        dry_run=ns.dry_run,
        report=ns.report,
        json=getattr(ns, "json", False),
        ref=getattr(ns, "ref", None),
        refs=(ns.ref_a, ns.ref_b) if ns.command == "diff" else (),
        force=ns.force,
        refresh=ns.refresh,
        wait_lock=ns.wait_lock,
        verbose=ns.verbose,
        key=getattr(ns, "key", None),
        no_cache=ns.no_cache,
        apply=getattr(ns, "apply", False),
        local=getattr(ns, "local", False),
        paths=tuple(getattr(ns, "paths", ())),
        fail_if_behind=getattr(ns, "fail_if_behind", False),
        limit=getattr(ns, "limit", 10),
        images=tuple(getattr(ns, "image", ())),
        fail_if_updates=getattr(ns, "fail_if_updates", False),
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr

    def forced(sig: signal.Signals) -> None:
        print(f"{sig.name} again: stopped at once; the next run removes what this one left", file=err, flush=True)

    try:
        with stop_signals(on_force=forced):
            options = parse_args(sys.argv[1:] if argv is None else argv)
            return _dispatch(options, out, err)
    except VersionRequested:
        print(f"baseimages {installed_version()}", file=out)
        return 0
    except RunCancelled as exc:
        print(str(exc), file=err)
        return exc.exit_code
    except BaseImagesError as exc:
        print(f"error: {exc}", file=err)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # a stop signal outside a run (prune, doctor, loading the catalog, ...)
        sig = signal_of(exc)
        print(f"interrupted ({sig.name}): stopped; nothing more was changed", file=err)
        return exit_code_of(sig)
    except Exception as exc:  # a bug: one line, never a traceback
        error = InternalError("baseimages", exc)
        print(f"error: {error}", file=err)
        return error.exit_code


def _dispatch(options: Options, out: TextIO, err: TextIO) -> int:
    settings = options.settings()
    if options.command == "verify":
        return _verify(settings, options, out)
    if options.command in DEPENDENTS_COMMANDS:  # service repositories: no catalog needed
        from .dependents import dependents_command

        return dependents_command(settings, options, out, err)
    if options.command in ("diff", "history", "updates"):  # registry reads (and the catalog, by name)
        from . import diff, history, updates

        commands = {"diff": diff.diff_command, "history": history.history_command, "updates": updates.updates_command}
        return commands[options.command](settings, options, out, err)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    plan = make_plan(catalog, settings, only=options.only, platforms=options.platforms)
    if options.command == "bake-file":
        from ..pipeline.bake import bake_definition

        print(json.dumps(bake_definition(plan, settings), indent=2), file=out)
        return 0
    if options.command == "doctor":
        from .doctor import doctor

        return doctor(settings, plan, as_json=options.json, out=out)
    if options.command == "audit":
        from .audit import audit_command

        return audit_command(settings, plan, options, out)
    if options.command == "list":
        for image in plan.images:
            spec = image.spec
            print(f"{spec.name:<22} {spec.version:<10} FROM {spec.parent:<22} {','.join(image.platforms)}", file=out)
        return 0
    if options.command == "prune":
        from .prune import prune_command

        return prune_command(settings, catalog, plan, options, out, err)
    return _run(options, settings, catalog, plan, out, err)


def _run(options: Options, settings: Settings, catalog: Catalog, plan: Plan, out: TextIO, err: TextIO) -> int:
    """`plan`, `build`, `push` and `test`: the commands that go through the Factory."""
    from ..pipeline.factory import Factory  # imports no Docker layer: python-on-whales loads only when Docker is used

    run_options = options.run_options(settings)
    if options.command == "plan":
        print_plan(plan, settings, decisions(settings, catalog, run_options, plan), options.json, out)
        return 0
    from .run_output import RunOutput  # the live view or the progress lines

    output = RunOutput(plan, err, ProgressPrinter(err, verbose=options.verbose), options.verbose)
    factory = Factory(settings, catalog, on_event=output.event, on_build_line=output.build_line)
    push = options.command == "push"
    if options.dry_run and options.command in ("build", "push"):
        from ..core.retry import RetryPolicy
        from ..registry.connect import registry_client

        # The registry is only read, once, briefly (as `plan` reads it): a dry run never hangs on one that is down.
        quick = registry_client(settings, retry=RetryPolicy(attempts=1, max_seconds=5), timeout=5) if push else None
        for line in factory.dry_run(plan, run_options, registry=quick).lines(parse_mode(options.dry_run)):
            print(line, file=out)
        return 0
    if options.command == "test":
        return _test(factory, catalog, plan, settings, options, out, err, output)
    try:
        with output:  # the Factory holds the run lock and writes the reports, logs and metrics
            report = factory.run(plan, run_options)
    except RunCancelled as exc:  # a stop signal: the report, written, says what was done before it
        if exc.report is not None:
            print_summary(exc.report, out, err, exc.report.logs)
        raise
    print_summary(report, out, err, report.logs)
    return report.exit_code


def _verify(settings: Settings, options: Options, out: TextIO) -> int:
    """One line per failure and exit 1, or one line and exit 0 when every check holds."""
    from ..registry.connect import registry_client
    from ..trust.signing import Cosign
    from ..trust.verify import verify_image

    assert options.ref is not None and options.key is not None
    verdict = verify_image(options.ref, options.key, registry_client(settings), Cosign())
    for failure in verdict.failures:
        print(f"FAILED {failure}", file=out)
    if verdict.ok:
        print(f"verified {options.ref} ({verdict.digest}): signed, provenance and SBOM for "
              f"{', '.join(verdict.platforms)}, test record passed", file=out)  # fmt: skip
    return 0 if verdict.ok else 1


def _test(
    factory: Factory,
    catalog: Catalog,
    plan: Plan,
    settings: Settings,
    options: Options,
    out: TextIO,
    err: TextIO,
    output: RunOutput,
) -> int:
    if options.ref:
        name = options.only[0] if options.only else options.ref.split("@")[0].rsplit("/", 1)[-1].split(":")[0]
        if name not in catalog.images:
            raise ConfigError("REF", options.ref, f"no catalog image named {name!r}; name it with --only NAME")
        targets = [(options.ref, catalog[name])]
    else:
        targets = [(f"{image.repository}:latest", image.spec) for image in plan.images]
    if options.dry_run:
        for ref, spec in targets:
            print(f"smoke-test {ref} ({spec.name}) on every platform of its index", file=out)
        return 0
    with output:
        report = factory.test_all(targets, options.platforms, options.run_options(settings))
    print_summary(report, out, err, report.logs)
    return report.exit_code
