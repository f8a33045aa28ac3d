"""The registry client: HTTP with retries and auth, manifests and blobs, listings and uploads."""
