"""Trust in what is published, with real cosign and a real registry: every image of the family is
signed, attested and verifies; each tamper case fails `verify` with its own line; labels mean what
they say."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import urllib.request

import pytest

from baseimages.cli.main import main
from baseimages.core.reference import Reference, parse_reference
from baseimages.registry.client import RegistryClient
from baseimages.trust.changelogrecord import CHANGELOG_TYPE
from baseimages.trust.sbom import SBOM_TYPE, packages
from baseimages.trust.signing import Cosign
from baseimages.trust.testrecord import TEST_RECORD_TYPE
from baseimages.trust.verify import verify_image

ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"


def _get(ref: Reference) -> dict:
    """A manifest as the registry holds it (the test registry speaks plain HTTP on localhost)."""
    url = f"http://{ref.domain}/v2/{ref.path}/manifests/{ref.digest or ref.tag}"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": ACCEPT}), timeout=30) as answer:
        return json.loads(answer.read())


def _put(client: RegistryClient, ref: Reference, doc: dict) -> tuple[str, int]:
    body = json.dumps(doc).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    target = Reference(ref.domain, ref.path, ref.tag, None if ref.tag else digest)
    return client.put_manifest(target, doc["mediaType"], body), len(body)


def test_every_image_of_the_family_is_signed_attested_with_sbom_test_record_and_changelog_and_verifies(
    family, signing_key, registry_client, capsys
):
    report, _, _ = family
    for image in report.images:
        assert image.signed is True and image.attestations == [SBOM_TYPE, TEST_RECORD_TYPE, CHANGELOG_TYPE], image.name
        verdict = verify_image(f"{image.repository}:latest", signing_key.public, registry_client, Cosign())
        assert verdict.failures == [], image.name
        assert verdict.digest == image.digest and verdict.platforms == ("linux/amd64", "linux/arm64")
    uv = report.image("python311-uv")
    code = main(["verify", f"{uv.repository}:1.0.0", "--key", str(signing_key.public)])
    assert code == 0
    assert capsys.readouterr().out.startswith(f"verified {uv.repository}:1.0.0 ({uv.digest})")


def test_children_name_their_parent_by_its_immutable_tag_and_carry_provenance(family, registry_client):
    report, _, _ = family
    uv = report.image("python311-uv")
    immutable = next(tag for tag in uv.tags if tag.startswith("1.0.0-"))
    for child in ("python311-ml", "python311-security"):
        result = report.image(child)
        ref = parse_reference(f"{result.repository}@{result.digest}")
        index = registry_client.index(ref)
        for manifest in index.manifests:
            labels = registry_client.blob_json(ref, manifest.config_digest)["config"]["Labels"]
            assert labels["org.opencontainers.image.base.name"] == f"{uv.repository}:{immutable}"
            assert labels["org.opencontainers.image.base.digest"] == uv.digest
            assert labels["org.opencontainers.image.created"].endswith("T00:00:00Z")
            assert "org.opencontainers.image.source" not in labels  # a copy of the catalog has no git remote
            assert "https://slsa.dev/provenance/v0.2" in index.predicates_for(manifest.platform)


def _retag(client: RegistryClient, source: Reference, tag: str, note: str, fresh_platform: str | None = None) -> str:
    """A new index at TAG with SOURCE's image manifests (another digest: an extra annotation). With
    FRESH_PLATFORM, that platform's manifest is replaced by a copy with an annotation (the same image,
    another digest: nothing was ever attested on it) and its provenance entry follows it. Returns the
    new index digest."""
    index = _get(source)
    index.setdefault("annotations", {})["io.baseimages.test.tamper"] = note
    if fresh_platform is not None:
        entry = next(m for m in index["manifests"] if _platform(m) == fresh_platform)
        manifest = _get(Reference(source.domain, source.path, None, entry["digest"]))
        manifest.setdefault("annotations", {})["io.baseimages.test.tamper"] = note
        old = entry["digest"]
        entry["digest"], entry["size"] = _put(client, Reference(source.domain, source.path), manifest)
        for other in index["manifests"]:
            notes = other.get("annotations") or {}
            if notes.get("vnd.docker.reference.digest") == old:
                notes["vnd.docker.reference.digest"] = entry["digest"]
    return _put(client, Reference(source.domain, source.path, tag), index)[0]


def _platform(entry: dict) -> str:
    plat = entry.get("platform") or {}
    return f"{plat.get('os')}/{plat.get('architecture')}"


@pytest.fixture(scope="module")
def tampered(family, registry_client, signing_key, signing_key_factory, tmp_path_factory):
    """Each tamper case as a tag of python311-security's repository: name -> reference."""
    report, _, settings = family
    security = report.image("python311-security")
    source = parse_reference(f"{security.repository}@{security.digest}")
    own = Cosign(signing_key.private, signing_key.password)
    other_key = signing_key_factory(tmp_path_factory.mktemp("other-key"), "other")
    other = Cosign(other_key.private, other_key.password)
    repo = security.repository
    cases: dict[str, str] = {}

    def case(name: str, fresh_platform: str | None = None) -> tuple[str, str]:
        digest = _retag(registry_client, source, f"tamper-{name}", name, fresh_platform)
        cases[name] = f"{repo}:tamper-{name}"
        return f"{repo}@{digest}", digest

    index = registry_client.index(source)
    good = _record(index)

    case("unsigned")
    subject, _ = case("other-key")
    other.sign(subject)
    subject, _ = case("record-of-another-digest")
    own.sign(subject)
    own.attest(subject, good, TEST_RECORD_TYPE)  # names security's digest, not this one
    subject, digest = case("record-says-failed")
    own.sign(subject)
    failed = _record(index, digest)
    failed["platforms"][1]["status"] = "failed"
    own.attest(subject, failed, TEST_RECORD_TYPE)
    subject, digest = case("no-sbom-for-arm64", fresh_platform="linux/arm64")
    own.sign(subject)
    fresh = registry_client.index(parse_reference(subject))
    own.attest(subject, _record(fresh, digest), TEST_RECORD_TYPE)
    return cases


def _record(index, digest: str | None = None) -> dict:
    platforms = [{"platform": m.platform, "digest": m.digest, "status": "passed"} for m in index.manifests]
    return {"digest": digest or index.digest, "passed": True, "platforms": platforms}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unsigned", ["signature: ", "test record: none signed by this key"]),
        ("other-key", ["signature: ", "test record: none signed by this key"]),
        ("record-of-another-digest", ["test record: the test record names "]),
        ("record-says-failed", ["test record: the test record says linux/arm64 failed"]),
        ("no-sbom-for-arm64", ["sbom: none attested for linux/arm64"]),
    ],
)
def test_each_tamper_case_fails_verify_with_its_own_line(tampered, signing_key, registry_client, case, expected):
    verdict = verify_image(tampered[case], signing_key.public, registry_client, Cosign())
    assert len(verdict.failures) == len(expected), verdict.failures
    for line, start in zip(verdict.failures, expected, strict=True):
        assert line.startswith(start), (case, verdict.failures)


def test_promotion_moved_every_tag_to_the_signed_digest(family, signing_key, registry_client):
    report, _, _ = family
    for image in report.images:
        for tag in image.tags:
            digest = registry_client.digest(parse_reference(f"{image.repository}:{tag}"))
            assert digest == image.digest, (image.name, tag)
        assert Cosign().verify(f"{image.repository}@{image.digest}", signing_key.public) is None


def test_a_forced_rebuild_without_cache_is_byte_for_byte_the_same_and_moves_no_tag(
    family, engine, registry_client, signing_key
):
    from baseimages import Factory, RunOptions, load_catalog, make_plan

    report, _, settings = family
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    names = ["python311-uv", "python311-security"]  # ml's torch layer takes minutes to rebuild without cache
    before = {n: _all_tags(registry_client, report.image(n)) for n in names}
    factory = Factory(dataclasses.replace(settings), catalog, engine=engine)
    plan = make_plan(catalog, settings, only=names, now=report.started)  # its build date (a run may cross midnight)
    again = factory.run(plan, RunOptions(push=True, force=True, no_cache=True))
    assert again.exit_code == 0, [(i.name, i.error) for i in again.images]
    for name in names:
        result = again.image(name)
        assert result.status.value == "unchanged", (name, result.reasons, result.error)
        if not result.reasons[-1].startswith("rebuilt byte for byte"):
            pytest.fail(f"{name}: {result.reasons}\n{_differences(registry_client, result)}")
        assert result.digest == report.image(name).digest
        assert _all_tags(registry_client, result) == before[name]


def _differences(client: RegistryClient, image) -> str:
    """What differs between the published platform manifests of IMAGE and its candidate's: config and
    layers (a layer whose uncompressed content is the same is a compression difference), and for a layer
    whose content differs, the first tar entries that differ (name, mode, owner, time, size, content)."""
    published = client.index(parse_reference(f"{image.repository}@{image.digest}"))
    tags = client.tags(parse_reference(image.repository))
    tag = next((t for t in tags if t.startswith("candidate-") and t.removeprefix("candidate-") in image.tags), None)
    if tag is None:
        return "no candidate tag to compare with"
    candidate = client.index(parse_reference(f"{image.repository}:{tag}"))
    lines = [f"published {published.digest}, candidate {candidate.digest}"]
    for old in published.manifests:
        new = candidate.for_platform(old.platform)
        if new is None or new.digest == old.digest:
            continue
        lines.append(f"{old.platform}: {old.digest} -> {new.digest}")
        docs = [_get(parse_reference(f"{image.repository}@{m.digest}")) for m in (old, new)]
        configs = [client.blob_json(parse_reference(image.repository), d["config"]["digest"]) for d in docs]
        changed = [(key, a, b) for key, a, b in _changed(*configs) if not key.startswith("rootfs")]
        lines += [f"  config {key}: {a!r:.200} -> {b!r:.200}" for key, a, b in changed]
        pairs = zip(docs[0]["layers"], docs[1]["layers"], configs[0]["rootfs"]["diff_ids"],
                    configs[1]["rootfs"]["diff_ids"], strict=False)  # fmt: skip
        for n, (a, b, diff_a, diff_b) in enumerate(pairs):
            if a["digest"] == b["digest"]:
                continue
            if diff_a == diff_b:
                lines.append(f"  layer {n}: the same content, compressed otherwise ({a['size']} vs {b['size']} bytes)")
                continue
            entries = [_tar_entries(client, image.repository, layer) for layer in (a, b)]
            changed = sorted(k for k in entries[0].keys() | entries[1].keys() if entries[0].get(k) != entries[1].get(k))
            lines.append(f"  layer {n}: {len(changed)} entries differ")
            lines += [f"    {k}: {entries[0].get(k)} -> {entries[1].get(k)}" for k in changed[:15]]
    return "\n".join(lines)


def _changed(a: dict, b: dict, prefix: str = "") -> list[tuple[str, object, object]]:
    """(key, old, new) of what differs between A and B, nested mappings (the config's labels) key by key."""
    found: list[tuple[str, object, object]] = []
    for key in sorted(a.keys() | b.keys()):
        old, new = a.get(key), b.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            found += _changed(old, new, f"{prefix}{key}.")
        elif old != new:
            found.append((f"{prefix}{key}", old, new))
    return found


def _tar_entries(client: RegistryClient, repository: str, layer: dict) -> dict[str, tuple]:
    import gzip
    import io
    import tarfile

    data = gzip.decompress(client.blob(parse_reference(repository), layer["digest"], layer["size"]))
    entries: dict[str, tuple] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            content = tar.extractfile(member) if member.isfile() else None
            digest = hashlib.sha256(content.read()).hexdigest()[:12] if content is not None else member.linkname
            entries[member.name] = (oct(member.mode), member.uid, member.gid, member.mtime, member.size, digest)
    return entries


def _all_tags(client: RegistryClient, image) -> dict[str, str | None]:
    return {tag: client.digest(parse_reference(f"{image.repository}:{tag}")) for tag in image.tags}


def _sbom(image, platform: str, signing_key, registry_client) -> dict[str, str]:
    index = registry_client.index(parse_reference(f"{image.repository}@{image.digest}"))
    manifest = index.for_platform(platform)
    statements = Cosign().attestations(f"{image.repository}@{manifest.digest}", signing_key.public, SBOM_TYPE)
    assert not isinstance(statements, str), statements
    return packages(dict(statements[0].predicate))


def _upstream(debian_version: str) -> str:
    """The upstream part of a Debian version: `2:1.3.2+ds1-1` -> `1.3.2`."""
    version = debian_version.split(":", 1)[-1]
    return version.split("+")[0].rsplit("-", 1)[0]


def _smoke_detail(image, platform: str, check: str) -> str:
    result = next(p for p in image.platforms if p.platform == platform)
    return next(c.detail for c in result.checks if c.name == check)


def test_each_platforms_sbom_lists_what_the_smoke_tests_see_at_their_versions(family, signing_key, registry_client):
    report, _, _ = family
    uv, ml, security = (report.image(n) for n in ("python311-uv", "python311-ml", "python311-security"))
    for platform in ("linux/amd64", "linux/arm64"):
        seen = _smoke_detail(uv, platform, "uv runs at the pinned version")  # "uv 0.13.9 ..."
        assert _sbom(uv, platform, signing_key, registry_client)["uv"] == seen.split()[1]
        found = _sbom(security, platform, signing_key, registry_client)
        assert found["hyperscan"] == "0.9.1"
        nmap = _smoke_detail(security, platform, "nmap runs").split("Nmap version ")[1].split()[0]
        assert _upstream(found["nmap"]) == nmap, (found["nmap"], nmap)
        masscan = _smoke_detail(security, platform, "masscan runs").split("Masscan version ")[1].split()[0]
        assert _upstream(found["masscan"]) == masscan, (found["masscan"], masscan)
        assert "libc6" in found and ("python3.11" in found or "python3.11-minimal" in found)
    torch = _sbom(ml, "linux/amd64", signing_key, registry_client)["torch"]
    assert torch == _smoke_detail(ml, "linux/amd64", "torch imports at the pinned version") == "2.13.0+cpu"
