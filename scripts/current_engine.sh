#!/usr/bin/env bash
# A current Docker Engine (Debian 13's docker.io 26.1, Compose v2 2.26 and buildx 0.13 as CLI plugins)
# beside the machine's own engine, without installing anything from Debian 13 (see ENGINE.md):
#   scripts/current_engine.sh fetch   # download and unpack the packages into $ROOT (once per machine)
#   scripts/current_engine.sh start   # start dockerd on unix://$SOCK with its own data root and bridge
#   scripts/current_engine.sh stop
#   scripts/current_engine.sh status  # exit 0 and the engine's version when it answers
# On Debian 13 (and later) the packages are the machine's own: `fetch` installs them with apt and
# ROOT defaults to / (there is no Docker 20.10 there to keep apart from).
# Every name is a variable, so a second instance (e.g. to test the start logic) never meets the
# shared one: MCPT_CURRENT_ROOT, _SOCK, _STATE, _BRIDGE, _NET (a /24 prefix), _NS (containerd namespace).
set -euo pipefail
CODENAME=$( . /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
case "$CODENAME" in
  trixie|forky|sid) NATIVE=1 ;;
  *) NATIVE=0 ;;
esac
if [ "$NATIVE" = 1 ]; then ROOT=${MCPT_CURRENT_ROOT:-/}; else ROOT=${MCPT_CURRENT_ROOT:-/opt/mcpt-current}; fi
ROOT=${ROOT%/}
SOCK=${MCPT_CURRENT_SOCK:-/run/mcpt-current.sock}
STATE=${MCPT_CURRENT_STATE:-/var/lib/mcpt-current}
BRIDGE=${MCPT_CURRENT_BRIDGE:-mcpt-br26}
NET=${MCPT_CURRENT_NET:-10.213.7}
NS=${MCPT_CURRENT_NS:-mcpt26}

mirror() {
  # The machine's own Debian mirror: a deb822 'URIs:' line or a one-line 'deb URL' entry (comments skipped).
  # One URL, always: a missing sources.list (grep's status, under pipefail) must not add the fallback
  # to a found mirror.
  local found
  found=$({ grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
            grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed -E 's/\[[^]]*\] //' | awk '{print $2}'
          } | grep -v security | head -1 || true)
  echo "${found:-http://deb.debian.org/debian}"
}

fetch() {
  if [ "$NATIVE" = 1 ] && [ -z "$ROOT" ]; then
    # Debian 13: the machine's own packages (Docker 26.1, Compose v2, buildx); nothing to unpack.
    [ -x /usr/sbin/dockerd ] && [ -x /usr/libexec/docker/cli-plugins/docker-buildx ] && return
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io docker-compose docker-buildx
    return
  fi
  if [ -x "$ROOT/usr/sbin/dockerd" ] && [ -x "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" ]; then return; fi
  [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || {
    echo "fetch needs /usr/share/keyrings/debian-archive-keyring.gpg (apt-get install debian-archive-keyring)" >&2
    exit 1
  }
  [ -n "$ROOT" ] || { echo "MCPT_CURRENT_ROOT=/ is for Debian 13, whose own packages are the current engine" >&2; exit 1; }
  FETCH_DIR=$(mktemp -d)
  trap 'rm -rf "$FETCH_DIR"' EXIT
  local dir=$FETCH_DIR
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) trixie main" >"$dir/sources.list"
  local opts=(-o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache")
  apt-get "${opts[@]}" update -q >/dev/null
  (cd "$dir" && apt-get "${opts[@]}" download docker.io docker-compose docker-buildx >/dev/null)
  # Unpack into a scratch folder first, then copy over ROOT: a failed download or unpack leaves ROOT
  # as it was (never removed: an engine may be running from it).
  mkdir -p "$dir/root"
  for deb in "$dir"/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  for f in usr/sbin/dockerd usr/libexec/docker/cli-plugins/docker-compose usr/libexec/docker/cli-plugins/docker-buildx; do
    [ -x "$dir/root/$f" ] || { echo "fetch: $f is missing from the downloaded packages" >&2; exit 1; }
  done
  mkdir -p "$ROOT"
  cp -a "$dir/root/." "$ROOT/"
}

plugins() {
  [ -n "$ROOT" ] || return 0  # Debian 13: the plugins are in the CLI's own system folder
  mkdir -p "$HOME/.docker/cli-plugins"
  for p in docker-compose docker-buildx; do
    ln -sf "$ROOT/usr/libexec/docker/cli-plugins/$p" "$HOME/.docker/cli-plugins/$p"
  done
}

start() {
  fetch
  plugins
  if DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1; then return; fi
  mkdir -p "$STATE/data" "$STATE/exec" "$STATE/bin"
  ln -sf "$(command -v runc || echo /usr/sbin/runc)" "$STATE/bin/runc"
  ip link show "$BRIDGE" >/dev/null 2>&1 || {
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  }
  PATH="$STATE/bin:$ROOT/usr/sbin:$ROOT/usr/bin:$PATH" setsid "$ROOT/usr/sbin/dockerd" \
    --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/dockerd.pid" \
    -H "unix://$SOCK" --bridge "$BRIDGE" --containerd-namespace "$NS" --containerd-plugins-namespace "${NS}p" \
    >"$STATE/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  echo "current engine did not start; see $STATE/dockerd.log" >&2
  tail -20 "$STATE/dockerd.log" >&2
  exit 1
}

alive() {
  # Running, and not a zombie (dockerd's parent is gone; PID 1 in a container may never reap it).
  local stat; stat=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${stat:0:1}" != Z ]
}

stop() {
  if [ -f "$STATE/dockerd.pid" ]; then
    local pid; pid=$(cat "$STATE/dockerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do alive "$pid" || break; sleep 0.5; done
    if alive "$pid"; then
      echo "dockerd $pid did not stop within 30 s; killing it" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/dockerd.pid"
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
}

status() {
  DOCKER_HOST=unix://$SOCK docker version --format 'current engine: Docker {{.Server.Version}} (API {{.Server.APIVersion}}) on unix://'"$SOCK"
}

case "${1:-start}" in
  fetch|start|stop|status) "${1:-start}" ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
