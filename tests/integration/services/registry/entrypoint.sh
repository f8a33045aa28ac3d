#!/bin/sh
# With REGISTRY_USER/REGISTRY_PASSWORD set, the registry requires basic auth (htpasswd).
set -e
if [ -n "${REGISTRY_USER:-}" ]; then
  htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" > /etc/docker/registry/htpasswd
  export REGISTRY_AUTH=htpasswd REGISTRY_AUTH_HTPASSWD_REALM=test REGISTRY_AUTH_HTPASSWD_PATH=/etc/docker/registry/htpasswd
fi
exec docker-registry serve /etc/docker/registry/config.yml
