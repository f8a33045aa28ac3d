"""Settings: each declared once (key, env var, flag, type, default, doc) and loaded from flags, BASEIMAGES_*
variables and pyproject.toml.
"""
