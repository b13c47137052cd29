#!/usr/bin/env bash
# README command one: installs what is missing, then runs the compile farm on the embedded
# default (one data directory, no AWS): the request API and the build daemon as two processes,
# a sample build submitted through the CLI (queued → building → ready, artifact downloaded and
# its sha256 verified), and the same request again, served from the cache. Then it keeps serving
# until Ctrl-C (or exits at once with --once).
#
# Builds run in a fresh Docker container when an engine answers (this script tries to install
# and start one, which needs root); otherwise the daemon falls back to host processes and says
# so in its log. The sample uses the local builder image (a busybox root with Portage stand-ins:
# a real Gentoo stage3 build takes minutes to hours); set SPOTJOBS_COMPILE_BUILDER_IMAGE to run
# real builds.
#
# Settings (environment): SPOTJOBS_COMPILE_EXECUTOR=process skips Docker; SPOTJOBS_COMPILE_DATA_DIR (default .data/compile in this checkout,
# emptied first; a directory you name is kept),
# SPOTJOBS_COMPILE_PORT (default: a free port), SPOTJOBS_COMPILE_SAMPLE (default app-misc/hello-2.12),
# SPOTJOBS_COMPILE_SAMPLE_USE (default "nls -test").
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$SPOTJOBS_ROOT"

once=false
for arg in "$@"; do
  case "$arg" in
    --once) once=true ;;
    *) echo "usage: $0 [--once]" >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s\n' "$*"; }
pkg=packages/compile-worker

export SPOTJOBS_COMPILE_BACKEND=local
if [ -z "${SPOTJOBS_COMPILE_DATA_DIR:-}" ]; then
  # A fresh farm on every run, so the sample shows a whole build and then a cache hit.
  export SPOTJOBS_COMPILE_DATA_DIR="$SPOTJOBS_ROOT/.data/compile"
  rm -rf "$SPOTJOBS_COMPILE_DATA_DIR"
fi
data="$SPOTJOBS_COMPILE_DATA_DIR"
mkdir -p "$data" "$data/downloads"
export SPOTJOBS_COMPILE_CACHE_DIR="$data/binpkgs"
export SPOTJOBS_SLEEP_SOCKET="$data/sleep-hook.sock"
export SPOTJOBS_COMPILE_HEALTH_PORT="${SPOTJOBS_COMPILE_HEALTH_PORT:-0}"
export SPOTJOBS_COMPILE_PORT="${SPOTJOBS_COMPILE_PORT:-$(node -e '
  const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')}"
export SPOTJOBS_COMPILE_URL="http://127.0.0.1:$SPOTJOBS_COMPILE_PORT"
# One API key for this run, shared by the API (accepts it) and the CLI (sends it); never printed.
SPOTJOBS_COMPILE_API_KEY="$(node -e 'console.log(require("node:crypto").randomBytes(24).toString("base64url"))')"
export SPOTJOBS_COMPILE_API_KEY SPOTJOBS_COMPILE_API_KEYS="$SPOTJOBS_COMPILE_API_KEY"

say "Docker Engine"
if [ "${SPOTJOBS_COMPILE_EXECUTOR:-auto}" != process ] && bash scripts/ensure-docker.sh >"$data/ensure-docker.log" 2>&1; then
  export SPOTJOBS_COMPILE_BUILDER_IMAGE="${SPOTJOBS_COMPILE_BUILDER_IMAGE:-$(bash $pkg/builder-image/build-test-image.sh)}"
  echo "builds run in containers of $SPOTJOBS_COMPILE_BUILDER_IMAGE"
else
  # With `auto` the daemon probes the engine itself and says loudly that it falls back.
  [ "${SPOTJOBS_COMPILE_EXECUTOR:-auto}" = process ] || echo "no Docker Engine could be started (see $data/ensure-docker.log)"
  echo "builds run as host processes, with the Portage stand-in"
  export SPOTJOBS_COMPILE_EMERGE="$SPOTJOBS_ROOT/$pkg/builder-image/standin/emerge"
fi

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

say "starting the request API and the build daemon (data: $data)"
node $pkg/src/api-main.ts >"$data/api.log" 2>&1 &
pids+=($!)
node $pkg/src/worker-main.ts >"$data/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
# The daemon logs JSON lines (pino): show its headline events as they happen.
tail -n +1 -F --pid="$worker" "$data/worker.log" 2>/dev/null | node -e '
  const keep = /running|HOST PROCESSES|build (started|ready|failed|given back)|pulled|stopped|error/i;
  require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
    try {
      const l = JSON.parse(line);
      if (keep.test(l.msg)) console.log(`   [daemon] ${l.msg}${l.cpv ? ` ${l.cpv}` : ""}${l.executor ? ` (${l.executor})` : ""}`);
    } catch { console.log(`   [daemon] ${line}`); }
  });' &
pids+=($!)

for _ in $(seq 1 150); do
  grep -q 'spotjobs-compile-api ready' "$data/api.log" 2>/dev/null && break
  sleep 0.2
done
grep -q 'spotjobs-compile-api ready' "$data/api.log" || { cat "$data/api.log" >&2; echo "the API did not start" >&2; exit 1; }

cli="$pkg/bin/spotjobs-compile"
sample="${SPOTJOBS_COMPILE_SAMPLE:-app-misc/hello-2.12}"
sample_use="${SPOTJOBS_COMPILE_SAMPLE_USE:-nls -test}"
say "requesting $sample with USE=\"$sample_use\""
# Polled often so the short sample build shows each state it passes through.
"$cli" request "$sample" --use "$sample_use" --output "$data/downloads" --poll-interval 0.2
say "the same request again"
"$cli" request "$sample" --use "$sample_use" --output "$data/downloads"

if $once; then
  say "done (--once): stopping"
  exit 0
fi
say "the compile farm serves $SPOTJOBS_COMPILE_URL (API key in this shell only); Ctrl-C stops it"
wait "${pids[0]}"
