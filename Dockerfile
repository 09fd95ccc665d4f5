# mcp-docker: an MCP server for the Docker engine, serving stdio by default.
#
# The build is offline: every Python dependency comes from a wheels folder in the build context,
# so it works on air-gapped machines and on engines that reach no registry.
#
#   scripts/prepare_wheels.sh                 # on a host that reaches PyPI: .docker-wheels/
#   scripts/build_base_image.sh               # no Docker Hub? a Debian 12 + Python 3.11 base, once per machine
#   docker build --build-arg BASE_IMAGE=mcp-docker-base/python:3.11-bookworm -t mcp-docker .
#
# With Docker Hub, the default base (python:3.11-slim-bookworm) works as is.
#
# Running it (the server talks to the engine through the mounted socket; `mcpuser` is not root, so
# give it the socket's group):
#
#   docker run -i --rm -v /var/run/docker.sock:/var/run/docker.sock \
#     --group-add "$(stat -c %g /var/run/docker.sock)" mcp-docker
ARG BASE_IMAGE=python:3.11-slim-bookworm
ARG WHEELS=.docker-wheels

# ---- builder: uv installs the project and its locked dependencies into /opt/mcp-docker ----------
FROM ${BASE_IMAGE} AS builder
ARG WHEELS
ENV PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 UV_OFFLINE=1 UV_NO_CACHE=1 UV_PYTHON_DOWNLOADS=never
COPY ${WHEELS}/ /wheels/
RUN python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install --quiet --no-index --find-links /wheels -r /wheels/tools.txt \
 && /opt/uv/bin/uv venv --quiet --python "$(command -v python3)" /opt/mcp-docker
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src/ src/
# Dependencies exactly as locked (requirements.txt is exported from uv.lock), then the project
# itself, built from this source by uv's own build backend.
RUN VIRTUAL_ENV=/opt/mcp-docker /opt/uv/bin/uv pip install --quiet --no-index --find-links /wheels \
      -r /wheels/requirements.txt \
 && VIRTUAL_ENV=/opt/mcp-docker /opt/uv/bin/uv pip install --quiet --no-index --find-links /wheels --no-deps . \
 && /opt/mcp-docker/bin/mcp-docker --version

# ---- runtime: the base image plus the virtual environment, as a non-root user ---------------------
FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.0.0
LABEL org.opencontainers.image.title="mcp-docker" \
      org.opencontainers.image.description="Model Context Protocol server for the Docker engine" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/mcp-docker/mcp-docker" \
      org.opencontainers.image.version="${VERSION}" \
      io.modelcontextprotocol.server.name="io.github.mcp-docker/mcp-docker"
# mcpuser (uid 10001) owns nothing but its home. The engine's socket belongs to root and a `docker`
# group whose id differs per machine: pass it with `--group-add <gid of the socket>` (see docs/SETUP.md).
RUN groupadd --system --gid 10001 mcpuser \
 && useradd --system --uid 10001 --gid mcpuser --home-dir /home/mcpuser --create-home \
      --shell /usr/sbin/nologin mcpuser
COPY --from=builder /opt/mcp-docker /opt/mcp-docker
ENV PATH=/opt/mcp-docker/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MCP_DOCKER_TRANSPORT=stdio
USER mcpuser
WORKDIR /home/mcpuser
# Healthy when the engine answers through the mounted socket (or DOCKER_HOST).
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 \
  CMD ["mcp-docker", "doctor", "--json"]
EXPOSE 8000
ENTRYPOINT ["mcp-docker"]
CMD ["serve"]
