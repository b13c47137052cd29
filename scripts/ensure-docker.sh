#!/usr/bin/env bash
# Makes a Docker Engine answer on this machine, for the container-build tests and the
# compile-worker's main job. On a fresh Debian 12 machine, as root:
#   1. an engine already answers (`docker info`)   -> done at once (the usual case);
#   2. Debian's docker.io (and busybox-static, for the locally imported test images) is
#      installed with apt-get when missing;
#   3. systemd running -> `systemctl start docker`; otherwise dockerd is started in the
#      background (log and pidfile under .tools/docker/), trying flag sets from the most
#      capable to the most portable until a `docker run` of a busybox image works:
#        defaults -> no iptables/bridge -> + fuse-overlayfs -> + vfs storage.
#      The set that worked is remembered in .tools/docker/dockerd.flags and tried first.
# Safe to run concurrently (flock) and repeatedly. Exit 0 when an engine answers; 1 with the
# reason and the tail of the dockerd log otherwise.
# Env: SPOTJOBS_DOCKER_START_TIMEOUT (seconds per start attempt, default 60).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.tools/docker"
LOG="$STATE/dockerd.log"
PIDFILE="$STATE/dockerd.pid"
FLAGS_FILE="$STATE/dockerd.flags"
LOCK="$STATE/ensure.lock"
TIMEOUT="${SPOTJOBS_DOCKER_START_TIMEOUT:-60}"
SMOKE_IMAGE="spotjobs-docker-smoke:latest"

say() { echo "ensure-docker: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }
deb_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
# Debian's busybox-static, the root of every image the tests import (no registry is reachable).
have_busybox_static() { ! command -v dpkg-query >/dev/null 2>&1 || deb_installed busybox-static; }

if engine_answers && have_busybox_static; then
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "no Docker Engine answers and installing or starting one needs root (run: sudo $0)"

mkdir -p "$STATE"
exec 9>"$LOCK"
flock -w "$((TIMEOUT * 4))" 9 || die "another ensure-docker.sh holds $LOCK"

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install a Docker Engine by hand (Debian's docker.io)"
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  say "apt-get install $*"
  # No recommends: needrestart would ask questions, and nothing recommended is needed.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
have_busybox_static || missing+=(busybox-static)
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  apt_install "${missing[@]}"
fi
engine_answers && exit 0

# systemd hosts: the packaged unit is the right owner of the daemon.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  say "starting docker.service"
  systemctl start docker.service >&2 || say "systemctl start docker failed; starting dockerd directly"
  for _ in $(seq 1 "$((TIMEOUT * 4))"); do engine_answers && exit 0; sleep 0.25; done
fi

# Cgroup controllers must be mounted for the runtime (the cgroupfs-mount package does this on
# non-systemd hosts); mount the unified hierarchy when nothing is there.
if [ -d /sys/fs/cgroup ] && [ -z "$(ls -A /sys/fs/cgroup 2>/dev/null)" ]; then
  say "mounting cgroup2 on /sys/fs/cgroup"
  mount -t cgroup2 cgroup2 /sys/fs/cgroup || say "could not mount cgroup2 (continuing)"
fi

our_dockerd_pid() {
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid="$(cat "$PIDFILE")"
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = dockerd ] && echo "$pid"
}

stop_our_dockerd() {
  local pid
  pid="$(our_dockerd_pid)" || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
}

# Waits until the engine answers (0) or the started daemon dies or the timeout passes (1).
wait_for_engine() {
  local deadline=$((SECONDS + TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    engine_answers && return 0
    our_dockerd_pid >/dev/null || { sleep 0.5; our_dockerd_pid >/dev/null || return 1; }
    sleep 0.25
  done
  return 1
}

# An engine that answers `docker info` may still fail to run a container (overlay on an
# unsupported filesystem, missing cgroups): import a busybox rootfs and run it.
smoke_test() {
  local dir rc=0
  dir="$(mktemp -d)"
  mkdir -p "$dir/bin"
  cp /bin/busybox "$dir/bin/busybox"
  ln -s busybox "$dir/bin/sh"
  ln -s busybox "$dir/bin/true"
  tar -C "$dir" -c . | docker import - "$SMOKE_IMAGE" >/dev/null 2>&1 || rc=1
  rm -rf "$dir"
  [ "$rc" -eq 0 ] || return 1
  timeout 60 docker run --rm --network none "$SMOKE_IMAGE" /bin/true >>"$LOG" 2>&1 || rc=1
  docker rmi "$SMOKE_IMAGE" >/dev/null 2>&1 || true
  return "$rc"
}

# Another run of this script started dockerd and it is still coming up: wait for it.
if our_dockerd_pid >/dev/null; then
  say "dockerd (pid $(our_dockerd_pid)) is starting; waiting"
  wait_for_engine && exit 0
  stop_our_dockerd
fi

# A dockerd killed outright leaves its containerd's pid file behind; once that pid belongs to
# another process, a new dockerd waits on it and never answers. Drop it unless it names a
# running containerd.
stale_containerd_pid=/var/run/docker/containerd/containerd.pid
if [ -s "$stale_containerd_pid" ]; then
  pid="$(cat "$stale_containerd_pid")"
  if [ ! -r "/proc/$pid/comm" ] || [ "$(cat "/proc/$pid/comm")" != containerd ]; then
    say "removing the stale $stale_containerd_pid (pid $pid is not a containerd)"
    rm -f "$stale_containerd_pid"
  fi
fi

attempts=(
  ""
  "--iptables=false --bridge=none"
  "--iptables=false --bridge=none --storage-driver=fuse-overlayfs"
  "--iptables=false --bridge=none --storage-driver=vfs"
)
if [ -s "$FLAGS_FILE" ]; then
  attempts=("$(cat "$FLAGS_FILE")" "${attempts[@]}")
fi

declare -A seen=()
tried=()
for flags in "${attempts[@]}"; do
  [ -z "${seen["x$flags"]-}" ] || continue
  seen["x$flags"]=1
  tried+=("[${flags:-defaults}]")
  if [[ "$flags" == *fuse-overlayfs* ]]; then
    [ -e /dev/fuse ] || continue
    command -v fuse-overlayfs >/dev/null 2>&1 || apt_install fuse-overlayfs || continue
  fi
  say "starting dockerd ${flags:-(defaults)}; log $LOG"
  echo "=== $(date -u +%FT%TZ) dockerd $flags" >>"$LOG"
  # setsid: the daemon outlives this script and the caller's process group; 9>&-: it must
  # not inherit (and so hold forever) the lock.
  # shellcheck disable=SC2086
  setsid dockerd $flags --pidfile "$PIDFILE" </dev/null >>"$LOG" 2>&1 9>&- &
  disown || true
  for _ in $(seq 1 20); do [ -s "$PIDFILE" ] && break; sleep 0.25; done
  if wait_for_engine && smoke_test; then
    echo "$flags" >"$FLAGS_FILE"
    say "engine answers (dockerd ${flags:-with defaults}, pid $(our_dockerd_pid || echo '?'))"
    exit 0
  fi
  say "dockerd ${flags:-(defaults)} did not come up or could not run a container; trying the next flags"
  stop_our_dockerd
done

say "last lines of $LOG:"
tail -n 30 "$LOG" >&2 || true
die "no Docker Engine could be started (tried: ${tried[*]})"
