"""benchmarks/breakdown.py runs the product's own build commands with one piece changed at a time."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_model import Sample, Scenario  # noqa: E402
from breakdown import PRODUCT, VARIANTS, fresh_cache, product_builds  # noqa: E402
from breakdown_report import markdown  # noqa: E402

NS = "localhost:5000/ns"


def line(name: str, arch: str, base: str) -> str:
    return (
        f"docker buildx build --progress plain --build-arg 'BASE_IMAGE={base}' "
        f"--label org.opencontainers.image.title={name} --label 'io.baseimages.fingerprint=<fingerprint of {name}>' "
        f"--provenance mode=max --metadata-file '<tmp>/{name}.linux-{arch}.metadata.json' "
        f"--cache-from type=registry,ref={NS}/{name}:buildcache-{arch} "
        f"--cache-to type=registry,ref={NS}/{name}:buildcache-{arch},mode=max,ignore-error=true "
        f"--output 'type=oci,dest=<tmp>/{name}.linux-{arch}.oci.tar,name={NS}/{name}:candidate-1.0.0,"
        f"rewrite-timestamp=true' --platform linux/{arch} /images/{name}"
    )


LINES = [
    line("uv", "amd64", "python:3.11-slim@sha256:aa"),
    line("uv", "arm64", "python:3.11-slim@sha256:aa"),
    "# merge the platform archives into one index: <tmp>/uv.oci",
    "docker buildx build --output 'type=local,dest=<tmp>/uv-contract-1/results' --platform linux/amd64 /c",
    line("ml", "amd64", f"{NS}/uv:candidate-1.0.0@<digest of uv>"),
    line("ml", "arm64", f"{NS}/uv:candidate-1.0.0@<digest of uv>"),
]


def builds() -> dict[str, list[list[str]]]:
    return product_builds(LINES, Path("/w"), {"uv": "sha256:bb"})


def option(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == flag]


def test_the_platform_builds_are_the_dry_runs_with_placeholders_filled_and_contract_builds_left_out() -> None:
    found = builds()
    assert list(found) == ["uv", "ml"] and [len(v) for v in found.values()] == [2, 2]
    ml = found["ml"][0]
    assert f"BASE_IMAGE={NS}/uv:candidate-1.0.0@sha256:bb" in ml
    assert option(ml, "--metadata-file") == ["/w/ml.linux-amd64.metadata.json"]
    assert not any("<" in word for argv in found.values() for a in argv for word in a)


def test_each_variant_changes_its_piece_and_nothing_else() -> None:
    uv = builds()["uv"]
    assert VARIANTS[PRODUCT](uv) == uv
    assert "rewrite-timestamp" not in option(VARIANTS["no rewrite-timestamp"](uv)[0], "--output")[0]
    assert option(VARIANTS["provenance mode=min"](uv)[0], "--provenance") == ["mode=min"]
    assert option(VARIANTS["no provenance"](uv)[0], "--provenance") == ["false"]
    assert option(VARIANTS["no cache export"](uv)[0], "--cache-to") == []
    assert option(VARIANTS["no cache export"](uv)[0], "--cache-from") == option(uv[0], "--cache-from")
    output = option(VARIANTS["OCI layout (tar=false)"](uv)[1], "--output")[0]
    assert output.startswith("type=oci,dest=/w/uv.linux-arm64.oci,tar=false,name=") and "rewrite-timestamp" in output
    for name, change in VARIANTS.items():
        changed = change(uv)[0]
        assert changed[-1] == "/images/uv" and len(changed) >= len(uv[0]) - 2, name


def test_the_multi_platform_variant_is_one_build_of_both_platforms_with_one_archive_and_cache_ref() -> None:
    [one] = VARIANTS["one multi-platform build"](builds()["uv"])
    assert option(one, "--platform") == ["linux/amd64,linux/arm64"]
    assert option(one, "--output")[0].startswith("type=oci,dest=/w/uv.all.oci.tar,")
    assert option(one, "--cache-to") == [f"type=registry,ref={NS}/uv:buildcache,mode=max,ignore-error=true"]


def test_every_run_reads_and_writes_a_cache_ref_of_its_own() -> None:
    argv = fresh_cache(builds()["uv"][1], "bd-one0-3")
    assert option(argv, "--cache-from") == [f"type=registry,ref={NS}/uv:bd-one0-3-arm64"]
    assert option(argv, "--cache-to")[0].startswith(f"type=registry,ref={NS}/uv:bd-one0-3-arm64,mode=max")


def test_the_table_gives_each_pieces_cost_against_the_product_commands_and_the_ratio_to_bake() -> None:
    scenario = Scenario("breakdown-uv", "uv: each piece of the build path toggled")
    scenario.samples += [Sample(PRODUCT, 60.0), Sample("no cache export", 50.0), Sample("bake", 40.0)]
    scenario.samples.append(Sample("the product's push", 90.0, phases={"upload": 3.0}, tests_alone=20.0))
    text = markdown([scenario], "Measured now.", cold=True)
    assert "| product commands | 1 | 60.0 | 1.50 |  |" in text
    assert "| no cache export | 1 | 50.0 | 1.25 | -10.0 s |" in text
    assert "| the product's push without tests | | 70.0 | 1.75 | |" in text
