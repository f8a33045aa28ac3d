"""An image's apt sources as apt reads them: the one-line format with its options, the deb822 format, several
suites and components, security suites, flat repositories; what apt would refuse is an error naming the file."""

from __future__ import annotations

import pytest

from baseimages.core.errors import ConfigError
from baseimages.updates.sources import AptSource, parse_sources

ONE_LINE = """\
# the image's sources
deb http://deb.debian.org/debian bookworm main contrib  # two components
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64,arm64 trusted=yes] http://127.0.0.1:8080/repo/ stable main

deb http://security.debian.org/debian-security bookworm-security main
"""

DEB822 = """\
# deb822
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Trusted: yes
Architectures: arm64

Types: deb deb-src
Enabled: no
URIs: http://disabled.example/debian
Suites: sid
Components: main
"""


def test_one_line_sources_keep_options_components_and_order_and_skip_deb_src():
    sources = parse_sources({"etc/apt/sources.list": ONE_LINE})
    assert [(s.uri, s.suite, s.components) for s in sources] == [
        ("http://deb.debian.org/debian", "bookworm", ("main", "contrib")),
        ("http://127.0.0.1:8080/repo", "stable", ("main",)),
        ("http://security.debian.org/debian-security", "bookworm-security", ("main",)),
    ]
    local = sources[1]
    assert (local.trusted, local.architectures, local.file) == (True, ("amd64", "arm64"), "etc/apt/sources.list")
    assert local.takes("arm64") and not local.takes("armhf")
    assert [s.security for s in sources] == [False, False, True]


def test_deb822_sources_expand_every_uri_and_suite_and_skip_disabled_paragraphs():
    sources = parse_sources({"etc/apt/sources.list.d/debian.sources": DEB822})
    assert [(s.uri, s.suite, s.trusted, s.architectures) for s in sources] == [
        ("http://deb.debian.org/debian", "bookworm", False, ()),
        ("http://deb.debian.org/debian", "bookworm-updates", False, ()),
        ("http://deb.debian.org/debian-security", "bookworm-security", True, ("arm64",)),
    ]
    assert [s.security for s in sources] == [False, False, True]
    assert sources[0].base == "http://deb.debian.org/debian/dists/bookworm"


def test_sources_list_comes_first_then_sources_list_d_by_name():
    files = {
        "etc/apt/sources.list.d/b.list": "deb http://b.example/ b main\n",
        "etc/apt/sources.list.d/a.sources": "Types: deb\nURIs: http://a.example/\nSuites: a\nComponents: main\n",
        "etc/apt/sources.list": "deb http://first.example/ x main\n",
    }
    assert [s.host for s in parse_sources(files)] == ["first.example", "a.example", "b.example"]


def test_a_flat_repository_has_no_components_and_its_indexes_in_the_suite_folder():
    (flat,) = parse_sources({"etc/apt/sources.list.d/local.list": "deb [trusted=yes] http://127.0.0.1:9/repo ./\n"})
    assert (flat.flat, flat.components, flat.base) == (True, (), "http://127.0.0.1:9/repo")


def test_the_old_security_suite_spelling_counts_as_security():
    assert AptSource("http://mirror.example/debian-security", "buster/updates", ("main",)).security
    assert not AptSource("http://mirror.example/debian", "bookworm-updates", ("main",)).security


def test_a_non_http_archive_is_listed_but_not_readable():
    (cdrom,) = parse_sources({"etc/apt/sources.list": "deb file:/srv/repo stable main\n"})
    assert not cdrom.readable


@pytest.mark.parametrize(
    ("path", "text", "field"),
    [
        ("etc/apt/sources.list", "deb http://x.example/\n", "line 1"),
        ("etc/apt/sources.list", "# ok\ndeb http://x.example/ bookworm\n", "bookworm"),
        ("etc/apt/sources.list.d/x.sources", "Types: deb\nSuites: bookworm\nComponents: main\n", "URIs"),
    ],
)
def test_a_source_apt_would_refuse_is_an_error_naming_the_file_and_what(path, text, field):
    with pytest.raises(ConfigError) as info:
        parse_sources({path: text})
    assert (info.value.source, info.value.field) == (f"/{path}", field)
