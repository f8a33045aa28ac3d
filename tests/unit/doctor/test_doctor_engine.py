"""doctor's engine checks against a FakeProbe: buildx, dockerd and its image store, the builders' platforms,
the build cache against the free disk. Each verdict, and the fix that comes with it."""

from __future__ import annotations

from fake_probe import GB, FakeProbe, doctor_context

from baseimages.doctor.checkup import Verdict
from baseimages.doctor.engine import check_builders, check_buildx, check_cache, check_engine
from baseimages.engine.probe import BuilderInfo, BuilderNode, CacheUsage


def _only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def _up(ctx):
    """Run the engine check first, as doctor does: the builder and cache checks need its facts."""
    check_engine(ctx)
    return ctx


def test_buildx_version_is_shown_and_ok(catalog_writer):
    catalog_writer.add("uv")
    finding = _only(check_buildx(doctor_context(catalog_writer.load())))
    assert (finding.verdict, finding.summary) == (Verdict.OK, "buildx 0.13.1")


def test_buildx_older_than_named_contexts_fails_with_upgrade_fix(catalog_writer):
    catalog_writer.add("uv")
    probe = FakeProbe(version="github.com/docker/buildx v0.7.1 05846896d149da05f3d6fd1e7770da187b52a247")
    finding = _only(check_buildx(doctor_context(catalog_writer.load(), probe)))
    assert finding.verdict is Verdict.FAIL
    assert "0.7.1 is too old" in finding.summary and "upgrade" in finding.fix


def test_missing_buildx_fails_with_install_fix(catalog_writer):
    catalog_writer.add("uv")
    finding = _only(check_buildx(doctor_context(catalog_writer.load(), FakeProbe(no_buildx=True))))
    assert finding.verdict is Verdict.FAIL
    assert "'buildx' is not a docker command" in finding.summary and "docker-buildx" in finding.fix


def test_engine_up_with_containerd_store_is_two_ok_findings(catalog_writer):
    catalog_writer.add("uv")
    ctx = doctor_context(catalog_writer.load())
    engine, store = check_engine(ctx)
    assert (engine.check, engine.verdict) == ("engine", Verdict.OK)
    assert "dockerd 26.1.5 at unix:///var/run/docker.sock" in engine.summary
    assert (store.check, store.verdict) == ("image store", Verdict.OK)
    assert ctx.facts is not None


def test_engine_down_fails_naming_the_host_and_the_builder_and_cache_checks_ask_nothing(catalog_writer):
    catalog_writer.add("uv")
    probe = FakeProbe(host="unix:///tmp/none.sock", down=True)
    ctx = doctor_context(catalog_writer.load(), probe)
    finding = _only(check_engine(ctx))
    assert finding.verdict is Verdict.FAIL
    assert "unix:///tmp/none.sock" in finding.summary and "scripts/engine up" in finding.fix
    assert check_builders(ctx) == [] and check_cache(ctx) == []
    assert probe.asked == ["info"]


def test_classic_image_store_fails_with_containerd_snapshotter_fix(catalog_writer):
    catalog_writer.add("uv")
    probe = FakeProbe(driver_type="", storage_driver="overlay2")
    _, store = check_engine(doctor_context(catalog_writer.load(), probe))
    assert store.verdict is Verdict.FAIL
    assert "overlay2" in store.summary and '"containerd-snapshotter": true' in store.fix


def test_builder_with_every_needed_platform_is_ok_and_lists_the_others(catalog_writer):
    catalog_writer.add("uv")
    other = BuilderInfo("remote", "remote", False, (BuilderNode("r0", "inactive", ()),))
    probe = FakeProbe()
    probe.builder_list = [*probe.builder_list, other]
    finding = _only(check_builders(_up(doctor_context(catalog_writer.load(), probe))))
    assert (finding.verdict, finding.subject) == (Verdict.OK, "default")
    assert "the images need linux/amd64, linux/arm64" in finding.summary
    assert finding.details == ("other builder: remote (remote driver, inactive): no platforms",)


def test_builder_without_arm64_fails_and_says_to_register_qemu_and_restart(catalog_writer):
    catalog_writer.add("uv")
    probe = FakeProbe(
        builder_list=[BuilderInfo("default", "docker", True, (BuilderNode("d", "running", ("linux/amd64",)),))]
    )
    finding = _only(check_builders(_up(doctor_context(catalog_writer.load(), probe))))
    assert finding.verdict is Verdict.FAIL
    assert "cannot build linux/arm64" in finding.summary
    assert "QEMU" in finding.fix and "restart dockerd" in finding.fix


def test_builder_platforms_follow_the_selected_images(catalog_writer):
    catalog_writer.add("uv", platforms=["linux/amd64"])
    probe = FakeProbe(
        builder_list=[BuilderInfo("default", "docker", True, (BuilderNode("d", "running", ("linux/amd64",)),))]
    )
    assert _only(check_builders(_up(doctor_context(catalog_writer.load(), probe)))).verdict is Verdict.OK


def test_inactive_container_builder_warns_with_bootstrap_fix(catalog_writer):
    catalog_writer.add("uv")
    node = BuilderNode("multi0", "inactive", ())
    probe = FakeProbe(builder_list=[BuilderInfo("multi", "docker-container", True, (node,))])
    finding = _only(check_builders(_up(doctor_context(catalog_writer.load(), probe))))
    assert finding.verdict is Verdict.WARN
    assert finding.fix == "docker buildx inspect --bootstrap multi"


def test_cache_with_plenty_of_free_disk_is_ok_and_names_the_prune_command(catalog_writer):
    catalog_writer.add("uv")
    ctx = _up(doctor_context(catalog_writer.load(), free=60 * GB))
    finding = _only(check_cache(ctx))
    assert finding.verdict is Verdict.OK
    assert "build cache 1.0 GB (200 entries" in finding.summary and "60.0 GB free on /var/lib/docker" in finding.summary
    assert any("docker builder prune" in line for line in finding.details)


def test_cache_larger_than_the_free_disk_warns_with_the_prune_command(catalog_writer):
    catalog_writer.add("uv")
    probe = FakeProbe(cache=CacheUsage(30 * GB, 25 * GB, 900))
    finding = _only(check_cache(_up(doctor_context(catalog_writer.load(), probe, free=20 * GB))))
    assert finding.verdict is Verdict.WARN
    assert "less than the cache holds" in finding.summary
    assert finding.fix.startswith("docker builder prune --force --filter until=168h")


def test_almost_full_disk_fails(catalog_writer):
    catalog_writer.add("uv")
    finding = _only(check_cache(_up(doctor_context(catalog_writer.load(), free=1 * GB))))
    assert finding.verdict is Verdict.FAIL
    assert "run out of disk" in finding.summary and "docker builder prune" in finding.fix


def test_remote_engine_disk_is_not_measured_here(catalog_writer):
    catalog_writer.add("uv")
    ctx = _up(doctor_context(catalog_writer.load(), FakeProbe(host="tcp://builder.example:2376"), free=1 * GB))
    finding = _only(check_cache(ctx))
    assert finding.verdict is Verdict.OK
    assert "not visible from here" in finding.summary
