"""The smoke and contract phases of one local candidate, timed as SmokeTest and ContractTest run them
(every platform at once, then the contract), with the checkout on PYTHONPATH: run it once with an older
checkout and once with this one, interleaved, to compare the two designs on the same image.

    PYTHONPATH=/path/to/checkout python benchmarks/checks_phases.py IMAGE LOCAL_REF RUNTIME_REF

IMAGE is a catalog name (images/ of this project), LOCAL_REF its candidate in the local image store,
RUNTIME_REF the contract runtime pinned by digest. Prints one JSON line of seconds and statuses, with
results_meta's metadata under "meta" (its commit is the checkout on PYTHONPATH, the design measured).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from results_meta import metadata

import baseimages
from baseimages.catalog.spec import load_catalog
from baseimages.checks.contract import run_contract
from baseimages.checks.smoke import run_smoke
from baseimages.engine.client import DockerEngine
from baseimages.settings.config import Settings

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ["linux/amd64", "linux/arm64"]


def main(name: str, ref: str, runtime: str) -> dict[str, Any]:
    new = importlib.util.find_spec("baseimages.checks.runner") is not None  # one runner container per platform
    settings = Settings(root=ROOT)
    spec = load_catalog(ROOT / "images", PLATFORMS)[name]
    engine = DockerEngine()
    marker = spec.contract.skip_if_exists if spec.contract else None
    found: dict[str, dict[str, str | None]] = {}

    def one(platform: str) -> tuple[str, float, str]:
        started = time.monotonic()
        more: dict[str, Any] = {}
        if new and marker:
            found[platform] = more["markers"] = {marker: None}
        config = engine.image_config(ref)
        result = run_smoke(engine, ref, spec.smoke, platform, config, spec.skips_allowed.get(platform), **more)
        return platform, time.monotonic() - started, result.status.value

    started = time.monotonic()
    with ThreadPoolExecutor(len(spec.platforms)) as pool:
        smoke = list(pool.map(one, spec.platforms))
    out: dict[str, Any] = {"meta": metadata(root=Path(baseimages.__file__).resolve().parents[1])}
    out |= {"design": "runner" if new else "per-check", "image": name}
    out["smoke"] = round(time.monotonic() - started, 1)
    out["platforms"] = {platform: [round(seconds, 1), status] for platform, seconds, status in smoke}
    if spec.contract:
        more = {"markers": found} if new else {}
        started = time.monotonic()
        checks = run_contract(
            engine,
            name,
            spec.contract,
            ref,
            runtime,
            spec.platforms,
            settings.build_secrets(),
            settings.build_contexts(),
            skips_allowed=spec.skips_allowed,
            **more,
        )
        out["contract"] = round(time.monotonic() - started, 1)
        out["contract_checks"] = {p: [c.status.value for c in cs] for p, cs in checks.items()}
    return out


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
