"""What `updates` looks at (updates.targets): the package index the builds use, and each image's promoted build
with the requirements folders of its catalog line."""

from __future__ import annotations

import pytest

from baseimages.core.errors import ConfigError
from baseimages.settings.config import load_settings
from baseimages.updates.targets import index_url, selected, target


def test_the_index_read_is_the_builds_index_url_then_pip_index_url_then_pypi(tmp_path):
    both = {"BASEIMAGES_INDEX_URL": "https://secret.example/simple", "PIP_INDEX_URL": "https://pip.example/simple"}
    assert index_url(load_settings(tmp_path, environ=both), both) == "https://secret.example/simple"
    pip = {"PIP_INDEX_URL": "https://pip.example/simple"}
    assert index_url(load_settings(tmp_path, environ=pip), pip) == "https://pip.example/simple"
    assert index_url(load_settings(tmp_path, environ={}), {}) == "https://pypi.org/simple"


def test_a_target_is_the_promoted_tag_with_the_requirements_folders_of_the_image_and_its_catalog_parents(
    catalog_writer,
):
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    catalog = catalog_writer.load()
    settings = load_settings(catalog_writer.root, environ={})
    found = target(settings, catalog, "ml", tag="1.0.0")
    assert str(found.ref) == f"{settings.repository('ml')}:1.0.0"
    assert found.folders == (catalog["ml"].directory, catalog["uv"].directory)
    assert selected(catalog, []) == catalog.names()
    with pytest.raises(ConfigError, match="--only: nope: is not an image of the catalog"):
        selected(catalog, ["nope"], flag="--only")
