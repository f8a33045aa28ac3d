"""OCI documents and archives: the image layouts that buildx writes, read and merged without a registry."""
