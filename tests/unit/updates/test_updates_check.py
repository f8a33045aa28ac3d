"""`check_updates` on images made of layers built in the test, served by the in-process fake registry, whose apt
sources point at an in-process archive and whose Python distributions are looked up on an in-process simple
index: Debian candidates per platform and suite, whiteouts of sources files, pinned distributions, and an
archive that cannot be reached."""

from __future__ import annotations

import pytest
from fake_archive import FakeWeb
from fake_layers import Platform, dist_info, layer, layered_image, status

from baseimages.updates import Target, check_updates, debian_arch

AMD, ARM = "linux/amd64", "linux/arm64"
SITE = "usr/local/lib/python3.11/site-packages"
DPKG = "var/lib/dpkg/status"


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


def _sources(web: FakeWeb) -> bytes:
    return (f"deb {web.url('/debian')} bookworm main\n"
            f"deb {web.url('/debian-security')} bookworm-security main\n").encode()  # fmt: skip


def _image(web: FakeWeb, packages: tuple[tuple[str, str], ...], *extra: dict, arm_packages=None):
    """Two platforms: a base of PACKAGES (ARM_PACKAGES on arm64) and the sources list, then EXTRA layers."""

    def platform(own):
        base = layer({DPKG: status(*own), "etc/apt/sources.list": _sources(web)})
        return Platform([base, *(layer(files) for files in extra)])

    return layered_image({AMD: platform(packages), ARM: platform(arm_packages or packages)})


def _publish(web: FakeWeb, amd: dict, arm: dict | None = None, security: dict | None = None) -> None:
    web.suite("debian", "bookworm", {"main": {"amd64": amd, "arm64": arm if arm is not None else amd}})
    fixes = security or {}
    web.suite("debian-security", "bookworm-security", {"main": {"amd64": fixes, "arm64": fixes}}, ext=".gz")


def _check(fake_registry, make_client, web, *names, folders=()):
    targets = [Target(name, fake_registry.ref(f"team/{name}:latest"), tuple(folders)) for name in names]
    return check_updates(make_client(), targets, web.url("/simple"))


def _debian(platform):
    return {(u.package, u.installed, u.candidate, u.suite, u.security) for u in platform.debian}


def test_each_platform_lists_the_newer_versions_its_sources_offer_and_which_suite_is_security(
    fake_registry, make_client, web
):
    installed = (("openssl", "3.0.15-1~deb12u1"), ("bash", "5.2.15-2"), ("local-only", "1.0"), ("tzdata", "2024a-0"))
    fake_registry.preload("team/uv", _image(web, installed), tag="latest")
    _publish(web, {"openssl": "3.0.15-1~deb12u1", "bash": "5.2.15-2+b1", "tzdata": "2024a-0"},
             security={"openssl": "3.0.16-1~deb12u1"})  # fmt: skip
    report = _check(fake_registry, make_client, web, "uv")
    (image,) = report.images
    assert image.error is None and image.digest == fake_registry.tags["team/uv"]["latest"]
    assert [p.platform for p in image.platforms] == [AMD, ARM]
    for platform in image.platforms:
        assert _debian(platform) == {
            ("bash", "5.2.15-2", "5.2.15-2+b1", "bookworm", False),
            ("openssl", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1", "bookworm-security", True),
        }
    assert report.installable and report.exit_code == 0
    assert image.platforms[0].sources == (f"{web.url('/debian')} bookworm main",
                                          f"{web.url('/debian-security')} bookworm-security main")  # fmt: skip


def test_each_platform_reads_its_own_architectures_index(fake_registry, make_client, web):
    fake_registry.preload("team/uv", _image(web, (("hello", "1.0"),)), tag="latest")
    _publish(web, {"hello": "1.0"}, arm={"hello": "1.1"})
    platforms = _check(fake_registry, make_client, web, "uv").images[0].platforms
    assert [(p.platform, _debian(p)) for p in platforms] == [
        (AMD, set()), (ARM, {("hello", "1.0", "1.1", "bookworm", False)})
    ]  # fmt: skip


def test_epochs_and_tildes_order_versions_as_debian_does(fake_registry, make_client, web):
    installed = (("a", "1:1.0-1"), ("b", "2.0~rc1-1"), ("c", "2.0-1"), ("libc6:amd64", "2.36-9"))
    fake_registry.preload("team/uv", _image(web, installed), tag="latest")
    _publish(web, {"a": "2.0-1", "b": "2.0-1", "c": "2.0~rc2-1", "libc6": "2.36-9+deb12u4"})
    amd = _check(fake_registry, make_client, web, "uv").images[0].platforms[0]
    assert {(u.package, u.candidate) for u in amd.debian} == {("b", "2.0-1"), ("libc6:amd64", "2.36-9+deb12u4")}


def test_a_sources_file_removed_by_a_later_layer_is_not_read(fake_registry, make_client, web):
    extra = {"etc/apt/sources.list.d/local.list": f"deb [trusted=yes] {web.url('/gone')} ./\n".encode()}
    image = _image(web, (("hello", "1.0"),), extra, {"etc/apt/sources.list.d/.wh.local.list": b""})
    fake_registry.preload("team/uv", image, tag="latest")
    _publish(web, {"hello": "1.1"})
    amd = _check(fake_registry, make_client, web, "uv").images[0].platforms[0]
    assert _debian(amd) == {("hello", "1.0", "1.1", "bookworm", False)}
    assert not any(path.startswith("/gone") for path in web.requests)


def test_a_flat_trusted_repository_is_read_from_its_folder(fake_registry, make_client, web):
    from fake_archive import packages_index, release_file

    flat = packages_index({"hello": "1.1"})
    web.put("/flat/Packages", flat)
    web.put("/flat/Release", release_file("stable", {"Packages": flat}))
    line = f"deb [trusted=yes] {web.url('/flat')} ./\n".encode()
    local = layer({DPKG: status(("hello", "1.0")), "etc/apt/sources.list.d/local.list": line})
    fake_registry.preload("team/uv", layered_image({AMD: Platform([local])}), tag="latest")
    (amd,) = _check(fake_registry, make_client, web, "uv").images[0].platforms
    assert {(u.package, u.candidate, u.suite) for u in amd.debian} == {("hello", "1.1", "./")}


def test_an_unreachable_archive_is_that_images_error_and_the_other_images_are_still_read(
    fake_registry, make_client, web
):
    broken = layer({DPKG: status(("hello", "1.0")), "etc/apt/sources.list": b"deb http://127.0.0.1:9/debian x main\n"})
    fake_registry.preload("team/broken", layered_image({AMD: Platform([broken])}), tag="latest")
    fake_registry.preload("team/uv", _image(web, (("hello", "1.0"),)), tag="latest")
    _publish(web, {"hello": "1.1"})
    report = _check(fake_registry, make_client, web, "broken", "uv", "never-promoted")
    broken_image, uv, never = report.images
    assert broken_image.error is not None and "127.0.0.1:9" in broken_image.error
    assert broken_image.exit_code == 3 and broken_image.platforms == ()
    assert _debian(uv.platforms[0]) == {("hello", "1.0", "1.1", "bookworm", False)}
    assert (never.digest, never.error) == (None, None)
    assert report.exit_code == 3


def test_python_distributions_are_compared_with_the_newest_final_release_unless_pinned(
    fake_registry, make_client, web, tmp_path
):
    (tmp_path / "requirements.txt").write_text("# pinned\nuv==0.13.9\nrich>=13  # a range is no pin\n")
    files = {DPKG: status(("bash", "5.2.15-2")), "etc/apt/sources.list": _sources(web),
             **dist_info(SITE, "uv", "0.13.9"), **dist_info(SITE, "pip", "24.0"), **dist_info(SITE, "rich", "13.9.4"),
             **dist_info("opt/venv/lib/python3.11/site-packages", "six", "1.17.0"),
             **dist_info("usr/lib/python3/dist-packages", "debian-own", "1.0"),
             **dist_info(SITE, "mine", "1.0")}  # fmt: skip
    fake_registry.preload("team/uv", layered_image({AMD: Platform([layer(files)])}), tag="latest")
    _publish(web, {})
    web.project("uv", ["0.13.9", "0.14.0"])
    web.project("pip", ["24.0", "25.3", "26.0b1"])
    web.project("rich", ["13.9.4", "14.1.0"], yanked=("14.1.0",))
    web.project("six", ["1.16.0", "1.17.0"])
    (amd,) = _check(fake_registry, make_client, web, "uv", folders=[tmp_path]).images[0].platforms
    assert [(u.environment, u.name, u.installed, u.candidate) for u in amd.python] == [
        ("/usr/local", "pip", "24.0", "25.3")
    ]
    assert [(p.name, p.installed, p.newest) for p in amd.pinned] == [("uv", "0.13.9", "0.14.0")]
    assert not any("debian-own" in path for path in web.requests)


@pytest.mark.parametrize(("platform", "arch"), [(AMD, "amd64"), ("linux/arm/v7", "armhf"), ("linux/386", "i386"),
                                                ("linux/arm64/v8", "arm64"), ("linux/ppc64le", "ppc64el")])  # fmt: skip
def test_a_docker_platform_maps_to_its_debian_architecture(platform, arch):
    assert debian_arch(platform) == arch


def test_not_automatic_suites_offer_nothing_and_backports_only_what_was_installed_from_them():
    from baseimages.updates.archive import Release
    from baseimages.updates.compute import Offer, debian_updates
    from baseimages.updates.sources import AptSource

    def offer(suite, version, not_automatic=False, upgrades=False):
        release = Release(suite, suite, ("main",), {}, not_automatic, upgrades)
        return Offer(version, AptSource("http://deb.example/debian", suite, ("main",)), release)

    offers = {
        "curl": [offer("bookworm", "7.88.1-10"), offer("bookworm-backports", "8.5.0-1~bpo12+1", True, True)],
        "git": [offer("bookworm", "1:2.39.2-1"), offer("bookworm-backports", "1:2.43.0-1~bpo12+1", True, True),
                offer("bookworm-backports", "1:2.43.0-1~bpo12+2", True, True)],
        "vim": [offer("bookworm", "2:9.0.1378-2"), offer("experimental", "2:9.1.0-1", True)],
    }  # fmt: skip
    installed = {"curl": "7.88.1-10", "git": "1:2.43.0-1~bpo12+1", "vim": "2:9.0.1378-2"}
    assert [(u.package, u.candidate) for u in debian_updates(installed, offers, "amd64")] == [
        ("git", "1:2.43.0-1~bpo12+2")
    ]
