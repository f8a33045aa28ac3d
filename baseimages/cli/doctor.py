"""The CLI side of `python -m baseimages doctor`: runs the library's checks and prints each finding as it
is made (or, with --json, all of them at the end). Exit code 0, or 1 when any finding fails."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from ..catalog.plan import Plan
from ..settings.config import Settings

if TYPE_CHECKING:
    from ..doctor.checkup import Finding


def add_doctor_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `doctor` (the common flags, plus --json) in the CLI's subcommands SUB."""
    parser = sub.add_parser("doctor", parents=[common], help="check the engine, registries and catalog; change nothing")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")


def doctor(settings: Settings, plan: Plan, *, as_json: bool, out: TextIO) -> int:
    from ..doctor.checkup import run_doctor  # loaded by the command that uses it, not by every CLI start

    def show(finding: Finding) -> None:
        for line in finding.lines():
            print(line, file=out, flush=True)

    report = run_doctor(settings, plan, on_finding=None if as_json else show)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2), file=out)
    else:
        print(f"doctor: {report.summary()}", file=out)
    return report.exit_code
