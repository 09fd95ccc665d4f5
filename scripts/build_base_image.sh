#!/usr/bin/env bash
# Build a Debian 12 (bookworm) image with Python 3.11, without any container registry, and cache it
# on this machine's engine under a fixed tag. The Dockerfile takes it as its BASE_IMAGE build argument.
#
#   scripts/build_base_image.sh [TAG]       # default: mcp-docker-base/python:3.11-bookworm
#
# Does nothing when TAG already exists (set FORCE=1 to rebuild). Needs root and debootstrap
# (`apt-get install debootstrap`); takes about 70 s and 275 MB once per machine. The image is kept on
# purpose: tests and CI reuse it; remove it with `docker rmi TAG` when you no longer need it.
#
# Users who can reach Docker Hub do not need this: build with `--build-arg BASE_IMAGE=python:3.11-slim-bookworm`.
set -euo pipefail

tag="${1:-${MCP_DOCKER_BASE_IMAGE:-mcp-docker-base/python:3.11-bookworm}}"
suite="${SUITE:-bookworm}"

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag already present (FORCE=1 rebuilds it)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 1; }

# The Debian mirror this machine's apt uses (deb822 .sources or one-line .list); else (Ubuntu) Debian's default.
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
    | grep -i debian | grep -v security | head -n1 || true)"
fi
if [ -z "$mirror" ]; then
  mirror="$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; break}}' \
    | grep -i debian | grep -v security | head -n1 || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

root="$(mktemp -d /tmp/mcp-docker-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
echo "debootstrap $suite from $mirror into $root"
keyring=()
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] && keyring=(--keyring /usr/share/keyrings/debian-archive-keyring.gpg)
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "${keyring[@]}" \
  "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Smaller image: no apt lists, caches, docs or man pages.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
  "$root"/usr/share/locale/* "$root"/var/log/*
tar -C "$root" -c . | docker import \
  -c 'CMD ["/bin/bash"]' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'LABEL org.opencontainers.image.description="Debian bookworm minbase with Python 3.11 (mcp-docker base)"' \
  - "$tag" >/dev/null
echo "built base image $tag in $(( $(date +%s) - start )) s"
