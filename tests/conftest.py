"""Shared test configuration: integration tests (tests/integration) run after the unit tests, and those
marked `after_suite` after every other test (they inspect what the whole suite left behind)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)
    items.sort(
        key=lambda item: (
            2 if item.get_closest_marker("after_suite") else 1 if item.get_closest_marker("integration") else 0
        )
    )
