"""`changelog(registry, old, new)` on images made of layers built in the test and served by the in-process
fake registry: what the final filesystem has (layers in order, whiteouts, opaque folders), per platform."""

from __future__ import annotations

import pytest
from fake_image import sha256
from fake_layers import OPAQUE, File, Link, Platform, Symlink, dist_info, layer, layered_image, metadata, status

from baseimages.changelog import State, changelog
from baseimages.changelog.model import FILES_LISTED, FileChanges
from baseimages.core.errors import ConfigError, RegistryError

AMD, ARM = "linux/amd64", "linux/arm64"
SITE = "usr/local/lib/python3.11/site-packages"
VENV = "opt/venv/lib/python3.11/site-packages"
BASE = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("curl", "7.88.1-10"), ("libc6", "2.36-9"))})


@pytest.fixture
def diff(fake_registry, make_client):
    """`diff(old_layers, new_layers, old_config={}, new_config={})`: the linux/amd64 changelog of two images."""

    def run(old, new, old_config=None, new_config=None):
        fake_registry.preload("team/old", layered_image({AMD: Platform(old, old_config or {})}), tag="1")
        fake_registry.preload("team/new", layered_image({AMD: Platform(new, new_config or {})}), tag="2")
        log = changelog(make_client(), fake_registry.ref("team/old:1"), fake_registry.ref("team/new:2"))
        return log.platforms[AMD]

    return run


def _packages(platform):
    return {(c.name, c.old, c.new) for c in platform.packages}


def _python(platform):
    return {(c.environment, c.name, c.old, c.new) for c in platform.python}


def test_a_package_upgraded_in_a_later_layer_shows_its_old_and_new_version(diff):
    packages = (("bash", "5.2.15-2"), ("curl", "7.88.1-10+deb12u5"), ("libc6", "2.36-9"))
    upgrade = layer({"var/lib/dpkg/status": status(*packages)})
    platform = diff([BASE], [BASE, upgrade])
    assert platform.state is State.CHANGED
    assert _packages(platform) == {("curl", "7.88.1-10", "7.88.1-10+deb12u5")}
    assert platform.packages[0].change == "changed"


def test_a_whiteout_of_the_status_file_removes_every_package_and_a_new_one_replaces_it(diff):
    gone = layer({"var/lib/dpkg/.wh.status": b""})
    assert _packages(diff([BASE], [BASE, gone])) == {
        ("bash", "5.2.15-2", None), ("curl", "7.88.1-10", None), ("libc6", "2.36-9", None)
    }  # fmt: skip
    replaced = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("jq", "1.6-2.1"))})
    changes = _packages(diff([BASE], [BASE, gone, replaced]))
    assert changes == {("curl", "7.88.1-10", None), ("libc6", "2.36-9", None), ("jq", None, "1.6-2.1")}


def test_a_package_removed_by_a_whiteout_of_its_status_d_file_is_removed(diff):
    base = layer({"var/lib/dpkg/status.d/base-files": status(("base-files", "12.4")),
                  "var/lib/dpkg/status.d/tzdata": status(("tzdata", "2024a-0")),
                  "var/lib/dpkg/status.d/tzdata.md5sums": b"d41d8cd98f00b204e9800998ecf8427e  x\n"})  # fmt: skip
    platform = diff([base], [base, layer({"var/lib/dpkg/status.d/.wh.tzdata": b""})])
    assert [(c.name, c.change, c.old) for c in platform.packages] == [("tzdata", "removed", "2024a-0")]


def test_an_opaque_status_d_hides_every_lower_package_file(diff):
    base = layer({"var/lib/dpkg/status.d/a": status(("a", "1")), "var/lib/dpkg/status.d/b": status(("b", "1"))})
    opaque = layer({"var/lib/dpkg/status.d/" + OPAQUE: b"", "var/lib/dpkg/status.d/c": status(("c", "1"))})
    assert _packages(diff([base], [base, opaque])) == {("a", "1", None), ("b", "1", None), ("c", None, "1")}


def test_the_opaque_marker_does_not_hide_its_own_layers_files(diff):
    opaque = layer({"var/lib/dpkg/status.d/" + OPAQUE: b"", "var/lib/dpkg/status.d/c": status(("c", "1"))})
    assert _packages(diff([], [opaque])) == {("c", None, "1")}


def test_a_package_moved_to_another_layer_is_no_change(diff):
    a = layer({"var/lib/dpkg/status.d/a": status(("a", "1"))})
    b = layer({"var/lib/dpkg/status.d/b": status(("b", "2"))})
    both = layer({"var/lib/dpkg/status.d/a": status(("a", "1")), "var/lib/dpkg/status.d/b": status(("b", "2"))})
    platform = diff([a, b], [both])
    assert platform.packages == () and platform.files.total == 0 and platform.state is State.REBUILT


def test_only_installed_packages_count_and_multi_arch_same_ones_carry_their_arch(diff):
    base = layer({"var/lib/dpkg/status": status(("libssl3", "3.0.11-1", "amd64")) + b"\n"
                  + status(("oldie", "1.0"), state="deinstall ok config-files")})  # fmt: skip
    assert _packages(diff([], [base])) == {("libssl3:amd64", None, "3.0.11-1")}


def test_python_distributions_are_per_environment_venvs_included(diff):
    old = layer({**dist_info(SITE, "pip", "24.0"), **dist_info(VENV, "rich", "13.7.0")})
    new = layer({**dist_info(SITE, "pip", "24.0"), **dist_info(VENV, "rich", "13.7.1"),
                 **dist_info(VENV, "Typing_Extensions", "4.12.2"),
                 **dist_info("usr/lib/python3/dist-packages", "six", "1.16.0"),
                 f"{VENV}/pip/_vendor/six-1.dist-info/METADATA": metadata("six", "1")})  # fmt: skip
    assert _python(diff([old], [new])) == {
        ("/opt/venv", "rich", "13.7.0", "13.7.1"),
        ("/opt/venv", "typing-extensions", None, "4.12.2"),
        ("/usr", "six", None, "1.16.0"),
    }


def test_a_whiteout_of_a_venv_folder_removes_its_distributions(diff):
    venv = layer({**dist_info(VENV, "rich", "13.7.1"), **dist_info(SITE, "pip", "24.0")})
    platform = diff([venv], [venv, layer({"opt/.wh.venv": b""})])
    assert _python(platform) == {("/opt/venv", "rich", "13.7.1", None)}


def test_a_symbolic_link_over_a_folder_hides_what_was_below_it(diff):
    venv = layer({**dist_info(VENV, "rich", "13.7.1")})
    assert _python(diff([venv], [venv, layer({"opt/venv": Symlink("/srv/venv")})])) == {
        ("/opt/venv", "rich", "13.7.1", None)
    }


def test_a_hard_linked_metadata_reads_its_target_in_the_environment_of_the_link(diff):
    cache = "root/.cache/uv/archive-v0/abc/rich-13.7.1.dist-info/METADATA"
    linked = layer({cache: metadata("rich", "13.7.1"), f"{VENV}/rich-13.7.1.dist-info/METADATA": Link(cache)})
    assert _python(diff([], [linked])) == {("/opt/venv", "rich", None, "13.7.1")}


@pytest.mark.parametrize("compression", ["zstd", "tar"])
def test_zstd_and_uncompressed_layers_are_read(diff, compression):
    platform = diff([], [layer({"var/lib/dpkg/status": status(("bash", "5.2"))}, compression)])
    assert _packages(platform) == {("bash", None, "5.2")}


def test_config_keys_are_compared_one_by_one(diff):
    old = {"Env": ["PATH=/usr/bin", "LANG=C"], "Cmd": ["bash"], "User": "root", "Labels": {"a": "1", "b": "2"}}
    new = {"Env": ["PATH=/opt/venv/bin:/usr/bin"], "Cmd": ["python"], "WorkingDir": "/app",
           "Labels": {"a": "1", "b": "3"}, "ExposedPorts": {"8080/tcp": {}}}  # fmt: skip
    changes = {(c.key, c.change, c.old, c.new) for c in diff([BASE], [BASE], old, new).config}
    assert changes == {
        ("cmd", "changed", '["bash"]', '["python"]'),
        ("user", "removed", "root", None),
        ("workdir", "added", None, "/app"),
        ("env PATH", "changed", "/usr/bin", "/opt/venv/bin:/usr/bin"),
        ("env LANG", "removed", "C", None),
        ("port 8080/tcp", "added", None, "exposed"),
        ("label b", "changed", "2", "3"),
    }


def test_the_compressed_size_is_the_layers_and_config_as_stored(diff):
    extra = layer({"usr/share/doc/big": b"x" * 5000})
    platform = diff([BASE], [BASE, extra])
    assert platform.new_size - platform.old_size == len(extra.blob)
    assert platform.state is State.CHANGED and platform.packages == ()


def test_a_changed_file_is_a_change_even_with_the_same_packages_and_config(diff):
    a = layer({"etc/hostname": b"a\n"})
    b = layer({"etc/hostname": b"b\n"})
    platform = diff([BASE, a], [BASE, b])
    assert platform.state is State.CHANGED and platform.packages == () and platform.config == ()
    assert platform.files == FileChanges(0, 0, 1, (("changed", "etc/hostname"),))


BUILD = {"org.opencontainers.image.created": "2026-11-01T00:00:00Z", "io.baseimages.fingerprint": "aaa",
         "org.opencontainers.image.revision": "r1", "org.opencontainers.image.base.digest": "sha256:1"}  # fmt: skip
REBUILD = {"org.opencontainers.image.created": "2026-12-01T00:00:00Z", "io.baseimages.fingerprint": "bbb",
           "org.opencontainers.image.revision": "r2", "org.opencontainers.image.base.digest": "sha256:2"}  # fmt: skip


def test_the_same_files_at_other_dates_with_only_build_labels_changed_are_rebuilt_not_changed(diff):
    files = {"app": None, "app/main.py": b"print(1)\n", "usr/bin/tool": Symlink("/bin/true")}
    old = [BASE, layer(files, mtime=1_700_000_000)]
    new = [BASE, layer(files, mtime=1_800_000_000)]
    platform = diff(old, new, {"Labels": BUILD}, {"Labels": REBUILD})
    assert platform.state is State.REBUILT and platform.differs and platform.files.total == 0
    assert {c.name for c in platform.config} == set(BUILD) and all(c.build_label for c in platform.config)


def test_a_label_that_is_not_a_build_label_is_a_change(diff):
    platform = diff([BASE], [BASE], {"Labels": {**BUILD, "team": "a"}}, {"Labels": {**REBUILD, "team": "b"}})
    assert platform.state is State.CHANGED


@pytest.mark.parametrize(
    "old, new",
    [
        (File(b"x", mode=0o644), File(b"x", mode=0o755)),
        (File(b"x", uid=0), File(b"x", uid=1000)),
        (File(b"x", gid=0), File(b"x", gid=50)),
        (File(b"x"), File(b"x", xattrs={"security.capability": "cap"})),
        (Symlink("/bin/a"), Symlink("/bin/b")),
        (b"x", None),
    ],
    ids=["mode", "owner", "group", "xattr", "link-target", "file-to-folder"],
)
def test_a_file_whose_mode_owner_attributes_link_or_type_changed_is_a_change(diff, old, new):
    platform = diff([BASE, layer({"usr/bin/tool": old})], [BASE, layer({"usr/bin/tool": new})])
    assert platform.state is State.CHANGED and platform.files == FileChanges(0, 0, 1, (("changed", "usr/bin/tool"),))


def test_files_added_and_removed_by_a_whiteout_or_an_opaque_folder_are_listed(diff):
    base = layer({"etc": None, "etc/a": b"a", "etc/b": b"b", "opt/x/1": b"1"})
    new = layer({"etc/.wh.a": b"", "etc/c": b"c", f"opt/x/{OPAQUE}": b"", "opt/x/2": b"2"})
    platform = diff([BASE, base], [BASE, base, new])
    assert platform.files.paths == (
        ("removed", "etc/a"), ("added", "etc/c"), ("removed", "opt/x/1"), ("added", "opt/x/2"),
    )  # fmt: skip
    assert (platform.files.added, platform.files.removed, platform.files.changed) == (2, 2, 0)


def test_a_hard_link_compares_as_its_target_so_a_copy_with_the_same_content_is_no_change(diff):
    linked = layer({"usr/bin/a": b"tool", "usr/bin/b": Link("usr/bin/a")})
    copied = layer({"usr/bin/a": b"tool", "usr/bin/b": b"tool"})
    assert diff([BASE, linked], [BASE, copied]).files.total == 0


def test_the_paths_listed_are_capped_but_the_counts_are_complete(diff):
    many = layer({f"data/{n:03}": b"%d" % n for n in range(FILES_LISTED + 20)})
    files = diff([BASE], [BASE, many]).files
    assert files.added == FILES_LISTED + 20  # the tar's entries: a folder it has no entry for is not one
    assert len(files.paths) == FILES_LISTED and files.paths[0] == ("added", "data/000")


def test_two_platforms_where_one_differs_and_shared_layers_are_read_once(fake_registry, make_client):
    arm = Platform([BASE], {"Env": ["A=1"]})
    upgrade = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-3"))})
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE]), ARM: arm}), tag="1")
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE, upgrade]), ARM: arm}), tag="2")
    log = changelog(make_client(), fake_registry.ref("team/x:1"), fake_registry.ref("team/x:2"))
    assert log.platforms[ARM].state is State.UNCHANGED and not log.platforms[ARM].differs
    assert log.platforms[AMD].state is State.CHANGED and log.differs
    reads = [r.reference for r in fake_registry.requests if r.method == "GET" and r.kind == "blob"]
    assert reads.count(sha256(BASE.blob)) == 1 and reads.count(sha256(upgrade.blob)) == 1


def test_a_first_promotion_is_its_own_state_with_everything_listed_as_added(fake_registry, make_client):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE]), ARM: Platform([BASE])}), tag="1")
    log = changelog(make_client(), None, fake_registry.ref("team/x:1"))
    assert log.first and log.differs and log.old is None
    assert {p.state for p in log.platforms.values()} == {State.FIRST}
    assert {c.change for c in log.platforms[AMD].packages} == {"added"} and len(log.platforms[AMD].packages) == 3


def test_a_platform_only_one_image_has_is_reported_as_such(fake_registry, make_client):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE]), ARM: Platform([BASE])}), tag="1")
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE]), "linux/s390x": Platform([BASE])}), tag="2")
    log = changelog(make_client(), fake_registry.ref("team/x:1"), fake_registry.ref("team/x:2"))
    states = {name: p.state for name, p in log.platforms.items()}
    assert states == {AMD: State.UNCHANGED, ARM: State.REMOVED, "linux/s390x": State.ADDED}
    assert log.platforms[ARM].new_digest is None and log.platforms["linux/s390x"].old_digest is None


def test_platforms_narrow_the_changelog_and_one_neither_image_has_is_a_config_error(fake_registry, make_client):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE]), ARM: Platform([BASE])}), tag="1")
    ref = fake_registry.ref("team/x:1")
    assert list(changelog(make_client(), ref, ref, platforms=[ARM]).platforms) == [ARM]
    with pytest.raises(ConfigError, match="linux/riscv64"):
        changelog(make_client(), ref, ref, platforms=["linux/riscv64"])


def test_the_same_image_is_no_difference_and_no_layer_is_read(fake_registry, make_client):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE])}), tag="1")
    log = changelog(make_client(), fake_registry.ref("team/x:1"), fake_registry.ref("team/x:1"))
    assert not log.differs
    assert fake_registry.count("GET", "blob") == 0


def test_a_cache_passed_between_calls_reads_a_layer_once(fake_registry, make_client):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE])}), tag="1")
    fake_registry.preload("team/y", layered_image({AMD: Platform([BASE], {"User": "app"})}), tag="1")
    cache: dict = {}
    client = make_client()
    for _ in range(2):
        changelog(client, fake_registry.ref("team/x:1"), fake_registry.ref("team/y:1"), cache=cache)
    assert [r.reference for r in fake_registry.requests if r.reference == sha256(BASE.blob)] == [sha256(BASE.blob)]


def test_a_layer_whose_bytes_do_not_hash_to_its_digest_fails_the_changelog(fake_registry, make_client):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE])}), tag="1")
    fake_registry.blobs[sha256(BASE.blob)] = BASE.blob[:-1] + bytes([BASE.blob[-1] ^ 1])  # a proxy altered a byte
    with pytest.raises(RegistryError, match="not the blob's"):
        changelog(make_client(), None, fake_registry.ref("team/x:1"))


def test_a_layer_that_does_not_decompress_is_reported_by_its_digest_when_it_does_not_match(fake_registry, make_client):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE])}), tag="1")
    fake_registry.blobs[sha256(BASE.blob)] = b"<html>" + BASE.blob[6:]  # same size, not gzip any more
    with pytest.raises(RegistryError, match="not the blob's"):
        changelog(make_client(), None, fake_registry.ref("team/x:1"))


def test_a_layer_of_an_unknown_media_type_is_a_registry_error(fake_registry, make_client):
    odd = type(BASE)(BASE.blob, "application/vnd.example.layer")
    fake_registry.preload("team/x", layered_image({AMD: Platform([odd])}), tag="1")
    with pytest.raises(RegistryError, match="application/vnd.example.layer"):
        changelog(make_client(), None, fake_registry.ref("team/x:1"))


def test_a_layer_cut_short_in_the_middle_is_read_again_from_the_start(fake_registry, make_client, retries):
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE])}), tag="1")
    fake_registry.fault("incomplete", times=1, path=sha256(BASE.blob))
    log = changelog(make_client(), None, fake_registry.ref("team/x:1"))
    assert len(log.platforms[AMD].packages) == 3
    assert [notice.what for notice in retries] == [f"read layer {sha256(BASE.blob)}"]
