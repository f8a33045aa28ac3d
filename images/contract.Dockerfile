# The contract service recipe, shared by every image's contract (`contract.dockerfile` in image.yaml):
# a tiny service built exactly the way the platform's services are (see the seed guide): FROM the base
# AS builder, `uv pip sync` its lock into /opt/venv, then only the venv is copied into the slim
# runtime. Each image's `contract/` folder holds only what differs: the service's requirements.txt
# and app.py. baseimages builds it on every platform against the candidate digest and runs the
# contract tests in it; a base that breaks this is not promoted.
ARG BASE_IMAGE=localhost:5000/baseimages/python311-uv:latest
ARG RUNTIME_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
WORKDIR /build
COPY requirements.txt ./
# A service's lock pins what the base ships too (uv pip sync removes everything it does not list).
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=secret,id=ca-bundle,required=false \
    --mount=type=secret,id=index-url,required=false \
    set -eu; \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi; \
    if [ -s /run/secrets/index-url ]; then export UV_INDEX_URL="$(cat /run/secrets/index-url)"; fi; \
    uv pip freeze > /tmp/base-lock.txt; \
    cat /tmp/base-lock.txt requirements.txt > /tmp/service-lock.txt; \
    uv pip sync /tmp/service-lock.txt
COPY app.py ./

FROM ${RUNTIME_IMAGE}
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /build/app.py /srv/app.py
ENV PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv
CMD ["python", "/srv/app.py"]
