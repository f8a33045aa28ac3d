"""`audit`, the library and the command: tags that agree, every platform, signatures and test records
with a key, leftover candidates; text or JSON; exit codes. An in-process registry: no Docker, no network."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from fake_history import History
from fake_image import make_image
from fakes import AttestingCosign

from baseimages.audit.auditor import audit
from baseimages.audit.model import Kind
from baseimages.catalog.fingerprint import CREATED_KEY
from baseimages.catalog.plan import make_plan
from baseimages.cli.main import main
from baseimages.core.reference import parse_reference
from baseimages.settings.config import Settings
from baseimages.trust.signing import Cosign

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
ROLLING = ["1.0.0", "1.0", "1", "2026.11", "latest"]


@pytest.fixture
def family(catalog_writer, fake_registry, clean_env, tmp_path):
    """uv and ml (FROM uv), both 1.0.0, cleanly promoted: an October build, a November one, then today's."""
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{fake_registry.address}"\nnamespace = "t"\n'
    )
    builds = {}
    for name in ("uv", "ml"):
        history = History(fake_registry, f"t/{name}")
        october = history.build("2026-10-02", ["1.0.0-20261002.1", "2026.10"])
        earlier = history.build("2026-11-28", ["1.0.0-20261128.1"])
        today = history.build("2026-11-29", ["1.0.0-20261129.1", *ROLLING])
        builds[name] = (history, october, earlier, today)
    return catalog_writer, builds


def _audit(family, fake_registry, make_client, **kwargs):
    writer, _ = family
    settings = Settings(root=writer.root, registry=fake_registry.address, namespace="t")
    plan = make_plan(writer.load(), settings, now=NOW)
    return audit(plan, make_client(), **kwargs)


def _problems(report):
    return [(p.image, p.kind, p.tag) for p in report.problems]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_a_cleanly_promoted_family_holds_and_the_audit_only_reads(family, fake_registry, make_client):
    report = _audit(family, fake_registry, make_client)
    assert report.ok and report.exit_code == 0 and report.problems == []
    uv = report.images[0]
    assert (uv.name, uv.tags, uv.promoted, uv.newest) == ("uv", 9, 3, "1.0.0-20261129.1")
    assert {r.method for r in fake_registry.requests} <= {"GET", "HEAD"}


def test_a_half_promotion_is_broken_tag_by_tag(family, fake_registry, make_client):
    _, builds = family
    history, _, earlier, _ = builds["uv"]
    for tag in ("1", "2026.11", "latest"):
        history.tag(tag, earlier)
    report = _audit(family, fake_registry, make_client)
    assert _problems(report) == [("uv", Kind.DISAGREE, tag) for tag in ("1", "2026.11", "latest")]
    assert report.problems[0].detail == f"names {earlier[:19]}, not 1.0.0-20261129.1 ({builds['uv'][3][:19]}): " \
        "a promotion cut short"  # fmt: skip
    assert report.exit_code == 1


def test_a_rolling_tag_a_complete_promotion_sets_is_missing_and_an_old_monthly_tag_must_name_its_months_newest(
    family, fake_registry, make_client
):
    _, builds = family
    history, october, _, today = builds["ml"]
    del fake_registry.tags["t/ml"]["latest"]
    history.tag("2026.10", today)  # October's tag moved to a November build
    report = _audit(family, fake_registry, make_client)
    assert _problems(report) == [("ml", Kind.MISSING, "latest"), ("ml", Kind.DISAGREE, "2026.10")]


def test_a_promoted_digest_without_every_catalog_platform_is_broken(family, fake_registry, make_client):
    _, builds = family
    history = builds["uv"][0]
    amd64 = fake_registry.preload("t/uv", make_image("amd64 only", platforms=["linux/amd64"]))
    history.tag("1.0.0-20261129.2", amd64)
    for tag in ROLLING:
        history.tag(tag, amd64)
    report = _audit(family, fake_registry, make_client)
    assert _problems(report) == [("uv", Kind.PLATFORMS, "1.0.0-20261129.2")]
    assert report.problems[0].detail.endswith("lacks linux/arm64 (it has linux/amd64)")


def test_with_a_key_an_unsigned_promoted_digest_is_broken(family, fake_registry, make_client, tmp_path):
    _, builds = family
    client = make_client()
    key = tmp_path / "cosign.pub"
    key.write_text("-----BEGIN PUBLIC KEY-----\n")

    def platforms_of(digest):
        repo = "t/uv" if digest in builds["uv"] else "t/ml"
        index = client.index(parse_reference(f"{fake_registry.address}/{repo}@{digest}"))
        return {m.platform: m.digest for m in index.manifests}

    signed = {digest for name in ("uv", "ml") for digest in builds[name][1:]} - {builds["uv"][2]}
    runner = AttestingCosign(platforms_of, passed=signed)
    report = _audit(family, fake_registry, make_client, public_key=key, cosign=Cosign(runner=runner))
    assert report.signatures
    kinds = {(p.image, p.kind, p.tag) for p in report.problems}
    assert kinds == {("uv", Kind.TRUST, "1.0.0-20261128.1")}
    details = [p.detail for p in report.problems]
    assert details[0].startswith("signature: ") and details[1].startswith("test record: none signed by this key")


def test_candidates_older_than_the_newest_promotion_or_at_an_older_promotion_are_leftovers(
    family, fake_registry, make_client
):
    _, builds = family
    history = builds["uv"][0]
    history.build("2026-11-20", ["candidate-1.0.0"])  # a build that never promoted, before the newest promotion
    builds["ml"][0].tag("candidate-1.0.0", builds["ml"][2])  # at a promotion that is not the newest
    report = _audit(family, fake_registry, make_client)
    assert _problems(report) == [("uv", Kind.LEFTOVER, "candidate-1.0.0"), ("ml", Kind.LEFTOVER, "candidate-1.0.0")]
    assert "built 2026-11-20, before the newest promotion 1.0.0-20261129.1" in report.problems[0].detail
    assert "promoted as 1.0.0-20261128.1, not the newest 1.0.0-20261129.1" in report.problems[1].detail


def test_the_candidate_of_the_newest_promotion_and_a_build_since_it_are_not_leftovers(
    family, fake_registry, make_client
):
    _, builds = family
    builds["ml"][0].tag("candidate-1.0.0", builds["ml"][3])  # what every push leaves
    # A candidate built after the newest promotion is a build under way, or one that failed: not a leftover.
    later = make_image("next", annotations={CREATED_KEY: "2026-11-30T00:00:00Z"})
    fake_registry.preload("t/uv", later, tag="candidate-1.0.0")
    assert _audit(family, fake_registry, make_client).problems == []


def test_the_command_prints_each_problem_and_exits_1_or_0_when_all_holds(family, fake_registry, tmp_path):
    code, out, err = run("audit", "--project", str(tmp_path))
    assert (code, err) == (0, "")
    assert out == "audit: 2 image(s), 18 tag(s), tags and platforms checked: all holds\n"
    _, builds = family
    builds["uv"][0].tag("latest", builds["uv"][2])
    code, out, _ = run("audit", "--project", str(tmp_path))
    assert code == 1
    assert out.splitlines()[0].startswith("BROKEN uv disagree latest: names ")
    assert out.splitlines()[-1] == "audit: 2 image(s), 18 tag(s), tags and platforms checked: 1 problem(s)"


def test_the_json_report_has_the_documented_shape(family, fake_registry, tmp_path):
    _, builds = family
    builds["uv"][0].tag("latest", builds["uv"][2])
    code, out, _ = run("audit", "--project", str(tmp_path), "--json", "--only", "uv")
    data = json.loads(out)
    assert code == 1 and set(data) == {"ok", "exit_code", "signatures", "summary", "images"}
    assert (data["ok"], data["exit_code"], data["signatures"]) == (False, 1, False)
    (uv,) = data["images"]
    assert set(uv) == {"name", "repository", "tags", "promoted", "newest", "ok", "problems"}
    assert uv["problems"] == [
        {"kind": "disagree", "tag": "latest", "digest": builds["uv"][2], "detail": uv["problems"][0]["detail"]}
    ]


def test_a_registry_that_cannot_be_read_exits_3_and_a_missing_key_exits_2(family, fake_registry, tmp_path):
    code, _, err = run("audit", "--project", str(tmp_path), "--key", str(tmp_path / "missing.pub"))
    assert code == 2 and err.startswith("error: --key: ") and "no such file" in err
    fake_registry.fault("500")
    code, _, err = run("audit", "--project", str(tmp_path), "--retry-attempts", "1")
    assert code == 3 and err.startswith("error: ") and err.count("\n") == 1
