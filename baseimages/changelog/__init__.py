"""What changed between two images, per platform, read from the registry alone: Debian packages, Python
distributions, the files, the image config and the compressed size (`changelog(registry, ref_a, ref_b)`); what
one image has installed and its apt sources (`installed(registry, ref, manifests)`).

`changelog`, `installed` and `Installed` are loaded from `.compute` when first used: it loads the layer
readers (python-debian among them), which a run that reads no layer never needs."""

from typing import TYPE_CHECKING

from ..core.lazy import lazy_names
from .model import (
    SCHEMA,
    Changelog,
    ConfigChange,
    FileChanges,
    ImageVersion,
    PackageChange,
    PlatformChangelog,
    PythonChange,
    State,
)
from .render import markdown, text_lines

if TYPE_CHECKING:
    from .compute import Installed, changelog, installed
else:
    __getattr__ = lazy_names(__name__, ".compute", ("Installed", "changelog", "installed"))

__all__ = [
    "SCHEMA",
    "Changelog",
    "ConfigChange",
    "FileChanges",
    "ImageVersion",
    "Installed",
    "PackageChange",
    "PlatformChangelog",
    "PythonChange",
    "State",
    "changelog",
    "installed",
    "markdown",
    "text_lines",
]
