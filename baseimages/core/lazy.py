"""Names a package exports but loads from one of its modules only when first asked (PEP 562): for modules
whose imports cost a run that never uses them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from typing import Any


def lazy_names(package: str, module: str, names: Collection[str]) -> Callable[[str], Any]:
    """The module `__getattr__` of PACKAGE: each of NAMES read from its MODULE (relative, e.g. ".compute")
    when first asked; any other name is an AttributeError, as for a module without it."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(module, package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
