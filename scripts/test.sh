#!/usr/bin/env bash
# The fresh-machine test command: installs what is missing, then lint, typecheck and every
# test tier (unit, then integration against emulators the run starts on loopback ports).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$SPOTJOBS_ROOT"
pnpm lint
pnpm typecheck
pnpm test
