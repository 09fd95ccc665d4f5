#!/usr/bin/env bash
# A current Docker Engine (Debian 13's docker.io 26.1, Compose v2 2.26 and buildx 0.13 as CLI plugins)
# beside the machine's own engine, without installing anything from Debian 13 (see ENGINE.md):
#   scripts/current_engine.sh fetch   # download and unpack the packages into $ROOT (once per machine)
#   scripts/current_engine.sh start   # start dockerd on unix://$SOCK with its own data root and bridge
#   scripts/current_engine.sh stop
# On Debian 13 the packages are the machine's own: `fetch` installs them with apt instead.
set -euo pipefail
ROOT=${MCPT_CURRENT_ROOT:-/opt/mcpt-current}
SOCK=${MCPT_CURRENT_SOCK:-/run/mcpt-current.sock}
STATE=${MCPT_CURRENT_STATE:-/var/lib/mcpt-current}
BRIDGE=mcpt-br26
NET=${MCPT_CURRENT_NET:-10.213.7}

mirror() {
  # The machine's own Debian mirror: a deb822 'URIs:' line or a one-line 'deb URL' entry (comments skipped).
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -E 's/\[[^]]*\] //' | awk '{print $2}'
  } | grep -v security | head -1
}

fetch() {
  if [ -x "$ROOT/usr/sbin/dockerd" ]; then return; fi
  local dir; dir=$(mktemp -d)
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$ROOT"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) trixie main" >"$dir/sources.list"
  local opts=(-o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache")
  apt-get "${opts[@]}" update -q >/dev/null
  (cd "$dir" && apt-get "${opts[@]}" download docker.io docker-compose docker-buildx >/dev/null)
  for deb in "$dir"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  rm -rf "$dir"
}

plugins() {
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
  ln -sf /usr/sbin/runc "$STATE/bin/runc"
  ip link show $BRIDGE >/dev/null 2>&1 || {
    ip link add $BRIDGE type bridge
    ip addr add "$NET.1/24" dev $BRIDGE
    ip link set $BRIDGE up
  }
  PATH="$STATE/bin:$ROOT/usr/sbin:$ROOT/usr/bin:$PATH" setsid "$ROOT/usr/sbin/dockerd" \
    --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/dockerd.pid" \
    -H "unix://$SOCK" --bridge $BRIDGE --containerd-namespace mcpt26 --containerd-plugins-namespace mcpt26p \
    >"$STATE/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  echo "current engine did not start; see $STATE/dockerd.log" >&2
  tail -20 "$STATE/dockerd.log" >&2
  exit 1
}

stop() {
  if [ -f "$STATE/dockerd.pid" ]; then
    kill "$(cat "$STATE/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 1 60); do [ -f "$STATE/dockerd.pid" ] || break; sleep 0.5; done
  fi
  ip link del $BRIDGE 2>/dev/null || true
}

"${1:-start}"
