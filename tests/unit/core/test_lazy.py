"""core.lazy: a package's names loaded from one of its modules when first asked."""

from __future__ import annotations

import subprocess
import sys

import pytest

import baseimages.changelog
import baseimages.updates


def test_a_lazy_name_is_the_modules_own_and_an_unknown_name_is_an_attribute_error():
    from baseimages.changelog.compute import changelog
    from baseimages.updates.compute import check_updates

    assert baseimages.changelog.changelog is changelog
    assert baseimages.updates.check_updates is check_updates
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        baseimages.updates.nothing  # noqa: B018


def test_the_module_loads_only_when_a_lazy_name_is_first_asked():
    probe = (
        "import sys, baseimages.changelog as c; before = 'baseimages.changelog.compute' in sys.modules; "
        "c.installed; print(before, 'baseimages.changelog.compute' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
