"""baseimages.settings.metrics_kinds: the values `metrics-file` and `pushgateway` accept (their one-line errors per
place, flag, variable and pyproject key, are tested for every setting in test_config and test_cli)."""

from __future__ import annotations

import pytest

from baseimages.settings.kinds import Invalid, OutputPath
from baseimages.settings.metrics_kinds import PushgatewayUrl


def test_the_metrics_file_is_a_file_to_write_in_an_existing_folder_never_a_directory(tmp_path):
    kind = OutputPath(directory=False)
    assert kind.check(str(tmp_path / "m.prom")) == tmp_path / "m.prom"
    assert kind.check("") is None
    with pytest.raises(Invalid, match="no such directory: .*/missing$"):
        kind.check(str(tmp_path / "missing" / "m.prom"))
    with pytest.raises(Invalid, match="is a directory, not a file"):
        kind.check(str(tmp_path))


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("http://127.0.0.1:9091", "http://127.0.0.1:9091"),
        ("https://push.example/prefix/", "https://push.example/prefix"),
        (" http://[::1]:9091 ", "http://[::1]:9091"),
        ("", ""),
    ],
)
def test_a_pushgateway_url_is_http_or_https_with_a_host(text, url):
    assert PushgatewayUrl().check(text) == url


@pytest.mark.parametrize(
    "text", ["localhost:9091", "ftp://push.example", "http://", "http://h:port", "http://h:9091/?x=1", "http://h#f"]
)
def test_anything_else_is_not_a_pushgateway_url(text):
    with pytest.raises(Invalid, match="is not a Pushgateway URL, e.g. http://localhost:9091"):
        PushgatewayUrl().check(text)
