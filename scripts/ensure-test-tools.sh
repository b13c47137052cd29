#!/usr/bin/env bash
# The Debian tools the test tiers drive as outside parts, installed with apt-get when missing
# (as root; safe to run repeatedly and concurrently):
#   awscli            a real AWS client against the emulators (batch-runner staging and outputs)
#   iproute2          network namespaces for multi-host tests (batch-runner multi-node)
#   systemd           systemd-analyze, to verify the unit files
#   chromium          a headless browser for the fossa-node page tests (driven by playwright-core)
# Exit 0 when all are there; 1 with the reason otherwise (the tests then fail naming the tool).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "ensure-test-tools: $*" >&2; }

missing=()
command -v aws >/dev/null 2>&1 || missing+=(awscli)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || { say "missing ${missing[*]}; installing them needs root (run: sudo $0)"; exit 1; }
command -v apt-get >/dev/null 2>&1 || { say "missing ${missing[*]} and apt-get is not here"; exit 1; }
mkdir -p "$ROOT/.tools"
exec 9>"$ROOT/.tools/apt.lock"
flock -w 600 9
say "apt-get install ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
