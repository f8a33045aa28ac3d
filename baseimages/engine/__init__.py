"""The Docker engine: typed requests run through python-on-whales, builders, build cache and build logs."""
