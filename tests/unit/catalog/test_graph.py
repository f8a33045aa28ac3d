"""The dependency graph: waves, --only closures, cycles."""

from __future__ import annotations

import pytest

from baseimages.catalog.graph import build_order, with_parents
from baseimages.core.errors import ConfigError


def test_waves_put_parents_before_children_and_siblings_together(small_family):
    assert build_order(small_family.load().parents) == [["uv"], ["ml", "security"]]


def test_waves_of_a_deeper_graph_with_two_roots(small_family):
    small_family.add("ml-gpu", parent="ml")
    small_family.add("tools", parent="debian:12")
    assert build_order(small_family.load().parents) == [["tools", "uv"], ["ml", "security"], ["ml-gpu"]]


def test_only_includes_every_catalog_ancestor(small_family):
    small_family.add("ml-gpu", parent="ml")
    catalog = small_family.load()
    assert with_parents(catalog.parents, ["ml-gpu"]) == {"ml-gpu", "ml", "uv"}
    assert with_parents(catalog.parents, ["security", "uv"]) == {"security", "uv"}
    assert with_parents(catalog.parents, ["uv"]) == {"uv"}


def test_unknown_only_name_is_a_config_error_with_exit_code_2(small_family):
    catalog = small_family.load()
    with pytest.raises(ConfigError) as info:
        with_parents(catalog.parents, ["ml", "nope"])
    assert info.value.exit_code == 2
    assert (info.value.source, info.value.field) == ("--only", "nope")
    assert "ml" in info.value.problem and "uv" in info.value.problem  # lists the known names


def test_a_cycle_is_a_config_error_naming_the_parent_field_of_the_file_where_says():
    parents = {"a": "b", "b": "a", "c": None}
    with pytest.raises(ConfigError) as info:
        build_order(parents, lambda name: f"images/{name}/image.yaml")
    assert (info.value.source, info.value.field) == ("images/a/image.yaml", "parent")
    assert "a -> b -> a" in info.value.problem
