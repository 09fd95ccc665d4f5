#!/usr/bin/env bash
# Put every locked runtime dependency, as wheels, into a folder of the build context, so the image
# builds with no network at all (`pip/uv install --no-index --find-links`). Runs on the host, which
# reaches PyPI; air-gapped users run it on a machine that does and carry the folder over.
#
#   scripts/prepare_wheels.sh [OUT]   # default: .docker-wheels (git-ignored, sent to the build)
#
# Wheels are for the image's interpreter (CPython 3.11, glibc Linux, this machine's architecture),
# whatever Python the host runs. Also downloads uv (the builder stage installs with it) and
# uv_build (the project's build backend), pinned to the host's uv version.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-.docker-wheels}"
py="${PYTHON_VERSION:-3.11}"
arch="$(uname -m)"
mkdir -p "$out"
rm -f "$out"/requirements.txt

uv export --frozen --no-dev --no-hashes --no-emit-project --no-header --no-annotate -q -o "$out/requirements.txt"
uv_version="$(uv --version | awk '{print $2}')"
printf "uv==%s\n" "$uv_version" >"$out/tools.txt"

# pip (run by uvx, so the host needs no pip of its own) resolves for the target platform: bookworm's
# glibc 2.36. pip takes each --platform literally (manylinux_2_36 does not admit a manylinux_2_28 wheel,
# such as google-re2's), so every glibc from 2.17 to 2.36 is named.
platforms=()
for minor in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${minor}_${arch}"); done
uvx --quiet --from pip pip download --quiet --disable-pip-version-check \
  --only-binary=:all: --implementation cp --python-version "$py" \
  "${platforms[@]}" --platform "manylinux2014_${arch}" --platform any \
  --dest "$out" -r "$out/requirements.txt" -r "$out/tools.txt"
echo "prepared $(ls "$out"/*.whl | wc -l) wheels in $out"
