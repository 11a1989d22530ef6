# syntax=docker/dockerfile:1
# Tutela's server image: the API (`tutela serve`, the default), and with another command the
# migrate step (`tutela db upgrade`), workers (`tutela worker`) and the one beat (`tutela beat`).
# Production layout, settings and checks: docs/production.md; deploy/compose.yaml runs it.
#
#   docker build -t tutela:0.1.0 .
#   docker run --read-only --tmpfs /tmp -v tutela-data:/data -p 8000:8000 tutela:0.1.0

ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm

# --- builder: the project's wheel, installed with the server extra into a venv -------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/tutela
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY src ./src
# The versions CI tested (constraints.txt); every dependency installs from a binary wheel.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/tutela/bin/pip install --constraint constraints.txt "$(ls /wheels/tutela-*.whl)[server]"

# --- runtime: the venv only, run as an unprivileged numeric user --------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="Tutela" \
      org.opencontainers.image.description="Self-hostable compliance platform for AI infrastructure on Azure" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="docs/production.md"

# Nothing is written outside /data (the volume) and /tmp: the root filesystem can be read-only.
ENV PATH=/opt/tutela/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TUTELA_DATA_DIR=/data \
    TUTELA_HOST=0.0.0.0 \
    TUTELA_PORT=8000

RUN groupadd --system --gid 10001 tutela \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin tutela \
 && mkdir /data \
 && chown 10001:10001 /data \
 && chmod 0700 /data

COPY --from=builder /opt/tutela /opt/tutela

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

# Ready: the database, the Redis broker and the platform key are usable (503 otherwise).
# No curl in the slim image: the venv's Python asks. Workers and beat serve no HTTP: the compose
# file turns this check off for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('TUTELA_PORT', '8000') + '/health/ready', timeout=4)"]

ENTRYPOINT ["tutela"]
CMD ["serve"]
