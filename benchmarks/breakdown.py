"""What each piece of baseimages' build path costs on this machine, measured against `docker buildx bake`
in the same run, for one image (python311-uv) and for the family.

The commands are the product's own: those `push --dry-run=commands --force` prints for a namespace the
benchmark published first (untimed; children's `<digest of PARENT>` is the published parent, which a
reproducible rebuild gives again). Each variant runs them with one piece changed:

  product commands    as printed: one build per platform, at once, each into an OCI archive with
                      rewrite-timestamp=true, --provenance mode=max, a mode=max registry cache export
  no rewrite-timestamp, provenance mode=min, no provenance, no cache export,
  OCI layout (tar=false)  the output a directory instead of an archive
  one multi-platform build  both platforms in one build (one archive, one cache ref), on the same builder

An image's children start when its builds are done (as in a run). Then, timed apart: the product's
merge of the platform archives (its library function) and `docker image load` of the result; bake of the
same images on the same builder (its timer includes writing its bake file); and the product's whole
`push` into a fresh namespace, whose report gives its upload and test phases and its time without tests
(bench_model.without_tests). Every run writes a fresh cache ref (nothing read from the registry cache);
by default BuildKit's cache is emptied before every timed run as run.py's cold scenario does (--warm:
left as an untimed run of each tool filled it). bake pushes (it has no other output for a registry
family); the variants upload nothing: the product's upload is in its push's report. The order of the
variants reverses every other round.

    python benchmarks/breakdown.py            python311-uv and the family, 3 rounds (long: see --quick)
    python benchmarks/breakdown.py --quick    python311-uv alone, one round
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_model import Sample, Scenario
from breakdown_report import BAKE, LOAD, MERGE, PRODUCT, PUSH, markdown
from results_meta import describe, metadata, write_results
from run import FAMILY, REGISTRY, ROOT, Bench
from scenarios import empty_engine

Argv = list[str]
Builds = dict[str, list[Argv]]  # image -> its platform builds, in the product's order of images
PARENT = "python311-uv"
_DIGEST = re.compile(r"<digest of ([A-Za-z0-9_.-]+)>")
_FINGERPRINT = re.compile(r"<fingerprint of [A-Za-z0-9_.-]+>")


# ---------------------------------------------------------------------- the product's commands


def product_builds(lines: list[str], work: Path, digests: dict[str, str]) -> Builds:
    """The platform builds (`--output type=oci`) among a dry run's command LINES, grouped by image (its
    title label), placeholders filled: `<tmp>` is WORK, `<digest of X>` DIGESTS[X]."""
    builds: Builds = {}
    for line in lines:
        if not line.startswith("docker buildx build ") or "type=oci," not in line:
            continue
        text = _DIGEST.sub(lambda m: digests.get(m[1], m[0]), line.replace("<tmp>", str(work)))
        argv = shlex.split(_FINGERPRINT.sub("bench", text))
        title = next(v for v in _values(argv, "--label") if v.startswith("org.opencontainers.image.title="))
        builds.setdefault(title.split("=", 1)[1], []).append(argv)
    return builds


def _values(argv: Argv, flag: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == flag]


def with_option(argv: Argv, flag: str, value: str | None) -> Argv:
    """ARGV with FLAG's value(s) replaced by VALUE (None: FLAG dropped); added before the context if absent."""
    out, i, found = [], 0, False
    while i < len(argv):
        if argv[i] == flag:
            if value is not None and not found:
                out += [flag, value]
            found, i = True, i + 2
            continue
        out.append(argv[i])
        i += 1
    if not found and value is not None:
        out[-1:-1] = [flag, value]
    return out


def _edit(argv: Argv, flag: str, change: Callable[[str], str]) -> Argv:
    values = _values(argv, flag)
    return with_option(argv, flag, change(values[0])) if values else argv


def fresh_cache(argv: Argv, tag: str) -> Argv:
    """ARGV with its cache refs renamed to `:TAG-<arch>` (or `:TAG` without arch): an empty ref, so that
    no run reads what another one exported."""
    rename = re.compile(r"(ref=[^,]+):buildcache(-[a-z0-9]+)?")
    argv = _edit(argv, "--cache-from", lambda v: rename.sub(rf"\1:{tag}\2", v))
    return _edit(argv, "--cache-to", lambda v: rename.sub(rf"\1:{tag}\2", v))


def multi_platform(argvs: list[Argv]) -> list[Argv]:
    """The per-platform builds ARGVS of one image as one build of every platform (one archive, one cache ref)."""
    platforms = ",".join(_values(a, "--platform")[0] for a in argvs)
    one = with_option(argvs[0], "--platform", platforms)
    one = _edit(one, "--output", lambda v: re.sub(r"\.linux-[a-z0-9]+\.oci\.tar", ".all.oci.tar", v))
    one = _edit(one, "--metadata-file", lambda v: re.sub(r"\.linux-[a-z0-9]+\.", ".all.", v))
    strip = re.compile(r"(:[^,:]+)-(amd64|arm64)\b")
    one = _edit(one, "--cache-from", lambda v: strip.sub(r"\1", v))
    return [_edit(one, "--cache-to", lambda v: strip.sub(r"\1", v))]


def _each(change: Callable[[Argv], Argv]) -> Callable[[list[Argv]], list[Argv]]:
    return lambda argvs: [change(a) for a in argvs]


VARIANTS: dict[str, Callable[[list[Argv]], list[Argv]]] = {
    PRODUCT: _each(lambda a: a),
    "no rewrite-timestamp": _each(lambda a: _edit(a, "--output", lambda v: v.replace(",rewrite-timestamp=true", ""))),
    "provenance mode=min": _each(lambda a: with_option(a, "--provenance", "mode=min")),
    "no provenance": _each(lambda a: with_option(a, "--provenance", "false")),
    "no cache export": _each(lambda a: with_option(a, "--cache-to", None)),
    "OCI layout (tar=false)": _each(
        lambda a: _edit(a, "--output", lambda v: re.sub(r"dest=([^,]+)\.oci\.tar", r"dest=\1.oci,tar=false", v))
    ),
    "one multi-platform build": multi_platform,
}


# ---------------------------------------------------------------------- running them


def run_builds(builds: Builds, variant: str, tag: str) -> float:
    """BUILDS changed by VARIANT, each image's builds at once, children after their parent; seconds."""
    started = time.monotonic()
    for wave in ([n for n in builds if n == PARENT or len(builds) == 1], [n for n in builds if n != PARENT]):
        argvs = [fresh_cache(a, tag) for name in wave for a in VARIANTS[variant](builds[name])]
        with ThreadPoolExecutor(max_workers=max(1, len(argvs))) as pool:
            done = list(pool.map(lambda a: subprocess.run(a, capture_output=True, text=True, cwd=ROOT), argvs))
        for result in done:
            if result.returncode != 0:
                raise RuntimeError(f"{variant}: {result.stderr.strip().splitlines()[-1:] or ['?']}")
    return time.monotonic() - started


def merge_and_load(builds: Builds, work: Path) -> tuple[float, float]:
    """The product's merge of each image's platform archives (as the product's commands left them) and
    `docker image load` of the merged archive: seconds of each, over the images."""
    from baseimages.oci.merge import PlatformArchive, merge_platform_archives

    merge = load = 0.0
    for name, argvs in builds.items():
        parts = [PlatformArchive(_values(a, "--platform")[0], _archive(a)) for a in argvs]
        started = time.monotonic()
        merge_platform_archives(parts, work / f"{name}.merged", work / f"{name}.merged.tar", {})
        merge += time.monotonic() - started
        started = time.monotonic()
        subprocess.run(
            ["docker", "image", "load", "--quiet", "--input", str(work / f"{name}.merged.tar")],
            check=True,
            capture_output=True,
        )
        load += time.monotonic() - started
    return merge, load


def _archive(argv: Argv) -> Path:
    output = _values(argv, "--output")[0]
    return Path(next(p.split("=", 1)[1] for p in output.split(",") if p.startswith("dest=")))


def published_digest(namespace: str, name: str) -> str:
    request = urllib.request.Request(f"http://{REGISTRY}/v2/{namespace}/{name}/manifests/latest", method="HEAD")
    request.add_header("Accept", "application/vnd.oci.image.index.v1+json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(answer.headers["Docker-Content-Digest"])


def only_targets(names: list[str]) -> Callable[[dict[str, Any]], None]:
    """A bake-file edit that keeps the targets NAMES (the family: all of them)."""

    def edit(definition: dict[str, Any]) -> None:
        definition["target"] = {k: v for k, v in definition["target"].items() if k in names}
        definition["group"] = {"default": {"targets": names}}

    return edit


def measure(bench: Bench, images: list[str], rounds: int, cold: bool) -> Scenario:
    """Every variant, bake and the product's push of IMAGES, ROUNDS rounds, the order reversed every other."""
    label = "family" if len(images) > 1 else images[0]
    short = "fam" if len(images) > 1 else "one"
    scenario = Scenario(f"breakdown-{label}", f"{label}: each piece of the build path toggled")
    only = [] if len(images) > 1 else ["--only", images[0]]
    setup = bench.namespace(f"bd-{short}", "baseimages")
    bench.baseimages(setup, only)  # untimed: publishes what the dry run and the children's FROM read
    if not cold:  # untimed: bake's own steps in BuildKit's cache too, as the product's are
        bench.bake(bench.namespace(f"bd-{short}", "bake"), edit=only_targets(images))
    lines = subprocess.run(
        bench.cli("push", setup) + [*only, "--dry-run=commands", "--force"], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    builds = product_builds(lines, bench.work, {n: published_digest(setup, n) for n in images})
    errors: dict[str, str] = {}
    for r in range(rounds):
        order = [*VARIANTS, BAKE, PUSH]
        for variant in order if r % 2 == 0 else order[::-1]:
            if cold:
                empty_engine()
            tag = f"bd-{short}{r}-{list(VARIANTS).index(variant) if variant in VARIANTS else 'x'}"
            sample = _one(bench, builds, variant, images, tag)
            if sample is None:
                errors[variant] = "failed"
                continue
            scenario.samples.append(sample)
            if variant == PRODUCT:
                merge, load = merge_and_load(builds, bench.work)
                scenario.samples += [Sample(MERGE, merge), Sample(LOAD, load)]
            print(f"    {label} {variant:<26} {sample.seconds:7.2f} s", flush=True)
    scenario.note = "; ".join(f"{k}: {v}" for k, v in errors.items()) or None
    return scenario


def _one(bench: Bench, builds: Builds, variant: str, images: list[str], tag: str) -> Sample | None:
    try:
        if variant == BAKE:
            return bench.bake(bench.namespace(tag, "bake"), edit=only_targets(images))
        if variant == PUSH:
            only = [] if len(images) > 1 else ["--only", images[0]]
            sample = bench.baseimages(bench.namespace(tag, "baseimages"), only)
            sample.tool = PUSH
            return sample
        return Sample(variant, run_builds(builds, variant, tag))
    except (RuntimeError, subprocess.CalledProcessError, SystemExit) as exc:
        print(f"    {variant}: {exc}", flush=True)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="python311-uv alone, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", action="store_true", help="do not empty BuildKit's cache before each timed run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--name", help="results file stem (default: breakdown; breakdown-quick-smoke with --quick)")
    args = parser.parse_args(argv)
    meta = metadata()
    targets = [[PARENT]] if args.quick else [[PARENT], list(FAMILY)]
    with tempfile.TemporaryDirectory(prefix="baseimages-breakdown-") as tmp:
        bench = Bench(Path(tmp), verbose=True)
        scenarios = [measure(bench, t, 1 if args.quick else args.rounds, not args.warm) for t in targets]
    stem = args.name or ("breakdown-quick-smoke" if args.quick else "breakdown")
    settings = {"cold": not args.warm, "rounds": 1 if args.quick else args.rounds}
    payload = {"settings": settings, "scenarios": [asdict(s) for s in scenarios]}
    path = write_results(args.out / f"{stem}.json", payload, meta)
    table = markdown(scenarios, describe({"meta": meta}), cold=not args.warm)
    (args.out / f"{stem}.md").write_text(table)
    print(f"\n{table}\nwritten: {path}, {args.out / f'{stem}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
