"""The Python package index as `updates` reads it: PEP 691 JSON or PEP 503 HTML pages, final and not yanked
releases only, credentials in the index URL sent but never shown, and the pins of requirements files."""

from __future__ import annotations

import pytest
from fake_archive import FakeWeb

from baseimages.core.errors import RegistryError
from baseimages.registry.client import RegistryClient
from baseimages.updates.pypi import PackageIndex, newest, pinned_names, version_of


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


def _index(web: FakeWeb, url: str, tmp_path) -> PackageIndex:
    return PackageIndex(RegistryClient(docker_config=tmp_path / "none"), url)


def test_the_newest_final_not_yanked_release_of_a_json_page(web, tmp_path):
    web.project("rich", ["13.9.4", "14.0.0", "14.1.0", "15.0.0rc1", "15.0.0.dev1"], yanked=("14.1.0",))
    index = _index(web, web.url("/simple"), tmp_path)
    assert index.latest("Rich") == "14.0.0"
    assert index.latest("no-such-project") is None
    assert web.requests == ["/simple/rich/", "/simple/no-such-project/"]


def test_an_html_only_index_is_read_with_its_yanked_marks(web, tmp_path):
    page = (
        '<html><body><a href="x">six-1.16.0-py2.py3-none-any.whl</a>'
        '<a href="y" data-yanked="">six-1.18.0.tar.gz</a><a href="z">six-1.17.0.tar.gz</a></body></html>'
    )
    web.put("/simple/six/", page.encode(), "text/html")
    assert _index(web, web.url("/simple/"), tmp_path).latest("six") == "1.17.0"


def test_credentials_in_the_index_url_are_sent_as_basic_auth_and_never_shown(web, tmp_path):
    web.put("/simple/six/", b"not json", "application/vnd.pypi.simple.v1+json")
    index = _index(web, f"http://user:s3cret@{web.address}/simple", tmp_path)
    with pytest.raises(RegistryError) as info:
        index.latest("six")
    assert "s3cret" not in str(info.value) and f"http://{web.address}/simple/six/" in str(info.value)
    assert web.authorizations == ["Basic dXNlcjpzM2NyZXQ="]


def test_versions_come_from_wheel_and_sdist_names():
    assert version_of("typing_extensions-4.16.0-py3-none-any.whl") == "4.16.0"
    assert version_of("python-dateutil-2.9.0.post0.tar.gz") == "2.9.0.post0"
    assert version_of("notes.txt") is None
    files = [("a-1.0.tar.gz", False), ("a-1.0.post1-py3-none-any.whl", False), ("a-bad.zip", False)]
    assert newest(files) == "1.0.post1"


def test_only_names_pinned_with_double_equals_are_pinned(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "# c\nuv==0.13.9\nTyping_Extensions == 4.16.0 ; python_version < '3.12'\nrich>=13\n-r other.txt\n"
        "numpy[extra]===2.4.6 \\\n    --hash=sha256:abc\n"
    )
    (tmp_path / "requirements-dev.txt").write_text("six==1.17.0  # dev\n")
    assert pinned_names([tmp_path]) == {"uv", "typing-extensions", "numpy", "six"}
