"""Runs `python -m baseimages push` (cli.main) on a terminal, for tests/unit/test_live_view.py: the
family of report_family.py on the fake engine and the in-memory registry, whose builds and runs take
long enough to be watched, and where ml's arm64 smoke test fails. Usage: live_driver.py PROJECT_DIR.
Prints `EXIT <code>` when the run ended."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import CatalogWriter
from report_family import REGISTRY, GrowingRegistry, TimedEngine, write_family

import baseimages.pipeline.factory
import baseimages.pipeline.permits
from baseimages.cli.main import main


def run(root: Path) -> int:
    family = write_family(CatalogWriter(root))
    (root / "pyproject.toml").write_text(f'[tool.baseimages]\nregistry = "{REGISTRY}"\nnamespace = "t"\njobs = 3\n')
    engine = TimedEngine(
        build_seconds=2.0, run_seconds=0.7, fail_on={"/ml:": "linux/arm64"}, platform_seconds={"linux/arm64": 3.0}
    )  # arm64 builds take longer (QEMU): the children warm their amd64 cache meanwhile
    registry = GrowingRegistry()
    baseimages.pipeline.factory.DockerEngine = lambda: engine  # type: ignore[assignment,misc]
    baseimages.pipeline.permits.WARM_GRACE = 0.3  # a warm-up starts soon after the parent's amd64 output
    baseimages.pipeline.factory.registry_client = lambda *args, **kwargs: registry  # type: ignore[assignment]
    return main(["push", "--project", str(family.root), "--lock-dir", str(root / "locks")])


if __name__ == "__main__":
    code = run(Path(sys.argv[1]))
    print(f"EXIT {code}", flush=True)
