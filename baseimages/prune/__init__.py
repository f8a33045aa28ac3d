"""Retention: a prune plan computed from what the registry holds, applied by digest."""
