"""A stand-in service: imports its dependency from the venv the builder stage made."""

import sys

import six

print(f"service ok: python {sys.version_info.major}.{sys.version_info.minor}, six {six.__version__}, {sys.prefix}")
