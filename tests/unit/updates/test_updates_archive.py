"""A Debian archive's indexes as `updates` reads them: the Release (InRelease or Release, several components,
SHA256 sums), the Packages indexes (xz, gzip or plain, whichever the Release lists) and Debian version order
(epochs, tildes)."""

from __future__ import annotations

import pytest
from fake_archive import clearsigned, compressed, packages_index, release_file

from baseimages.core.errors import RegistryError
from baseimages.updates.archive import Archive, parse_packages, parse_release, strip_signature

BASE = "http://mirror.example/debian/dists/bookworm"


def _archive(files: dict[str, bytes]) -> tuple[Archive, list[str]]:
    """An Archive over FILES (URL -> body; any other URL is a 404), and the URLs it asked for."""
    asked: list[str] = []

    def fetch(url: str, limit: int | None) -> bytes | None:
        asked.append(url)
        return files.get(url)

    return Archive.over(fetch), asked


def _suite(indexes: dict[str, bytes], signed: bool = True, release: bytes | None = None) -> dict[str, bytes]:
    release = release if release is not None else release_file("stable", indexes)
    name = "InRelease" if signed else "Release"
    return {f"{BASE}/{name}": clearsigned(release) if signed else release} | {
        f"{BASE}/{path}": data for path, data in indexes.items()
    }


@pytest.mark.parametrize("ext", [".xz", ".gz", ""])
def test_a_packages_index_is_read_compressed_or_plain_as_the_release_lists_it(ext):
    data = compressed(packages_index({"openssl": "3.0.16-1", "bash": "5.2.15-2"}), ext)
    archive, _ = _archive(_suite({f"main/binary-amd64/Packages{ext}": data}))
    assert archive.packages(BASE, "main", "amd64") == {"openssl": "3.0.16-1", "bash": "5.2.15-2"}


def test_the_most_compressed_index_the_release_lists_is_the_one_fetched():
    plain = packages_index({"openssl": "3.0.16-1"})
    indexes = {"main/binary-amd64/Packages": plain, "main/binary-amd64/Packages.gz": compressed(plain, ".gz"),
               "main/binary-amd64/Packages.xz": compressed(plain, ".xz")}  # fmt: skip
    archive, asked = _archive(_suite(indexes))
    archive.packages(BASE, "main", "amd64")
    assert asked == [f"{BASE}/InRelease", f"{BASE}/main/binary-amd64/Packages.xz"]


def test_a_release_with_several_components_gives_each_its_own_index_per_architecture():
    indexes = {
        "main/binary-amd64/Packages.xz": compressed(packages_index({"openssl": "3.0.16-1"}), ".xz"),
        "contrib/binary-amd64/Packages.xz": compressed(packages_index({"foo": "1.0-1"}), ".xz"),
        "non-free-firmware/binary-arm64/Packages.gz": compressed(
            packages_index(
                {
                    "fw": "2",
                },
                "arm64",
            ),
            ".gz",
        ),
    }
    archive, _ = _archive(_suite(indexes))
    release = archive.release(BASE)
    assert release.components == ("contrib", "main", "non-free-firmware")
    assert archive.packages(BASE, "contrib", "amd64") == {"foo": "1.0-1"}
    assert archive.packages(BASE, "non-free-firmware", "arm64") == {"fw": "2"}
    assert archive.packages(BASE, "non-free-firmware", "amd64") == {}  # the Release lists none: apt skips it


def test_an_index_whose_sha256_is_not_the_releases_fails_naming_it():
    good = compressed(packages_index({"openssl": "3.0.16-1"}), ".xz")
    files = _suite({"main/binary-amd64/Packages.xz": good})
    files[f"{BASE}/main/binary-amd64/Packages.xz"] = compressed(packages_index({"openssl": "9.9-1"}), ".xz")
    archive, _ = _archive(files)
    with pytest.raises(RegistryError, match=r"Packages.xz: .*(SHA256|bytes)"):
        archive.packages(BASE, "main", "amd64")


def test_a_plain_release_is_read_when_there_is_no_inrelease():
    archive, asked = _archive(_suite({"main/binary-amd64/Packages": packages_index({"a": "1"})}, signed=False))
    assert archive.packages(BASE, "main", "amd64") == {"a": "1"}
    assert asked[:2] == [f"{BASE}/InRelease", f"{BASE}/Release"]


def test_a_suite_without_release_is_an_error_naming_it():
    archive, _ = _archive({})
    with pytest.raises(RegistryError, match=f"{BASE}: no InRelease nor Release"):
        archive.packages(BASE, "main", "amd64")


def test_an_html_page_for_a_release_is_an_error_not_an_empty_suite():
    archive, _ = _archive({f"{BASE}/InRelease": b"<html><body>login</body></html>"})
    with pytest.raises(RegistryError, match="not a Release file"):
        archive.release(BASE)


def test_the_inrelease_armour_is_removed_and_dash_escaped_lines_restored():
    signed = clearsigned(b"Suite: stable\nSHA256:\n abc 1 main/x\n- -escaped\n").decode()
    assert strip_signature(signed) == "Suite: stable\nSHA256:\n abc 1 main/x\n-escaped\n"
    assert strip_signature("Suite: plain\n") == "Suite: plain\n"


def test_not_automatic_and_but_automatic_upgrades_are_read_from_the_release():
    release = parse_release(release_file("bookworm-backports", {}, "NotAutomatic: yes\nButAutomaticUpgrades: yes"), "x")
    assert (release.not_automatic, release.but_automatic_upgrades) == (True, True)
    assert not parse_release(release_file("bookworm", {}), "x").not_automatic


def test_the_highest_version_of_a_package_listed_twice_wins_by_debian_order():
    index = packages_index({"a": ["1.0-1", "1:0.9-1", "2.0-1"], "b": ["1.1~rc1-1", "1.1-1", "1.0-1"],
                            "c": ["1.0-1+deb12u1", "1.0-1"]}).decode()  # fmt: skip
    assert parse_packages(index) == {"a": "1:0.9-1", "b": "1.1-1", "c": "1.0-1+deb12u1"}
