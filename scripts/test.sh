#!/usr/bin/env bash
# The fresh-machine test command: installs what is missing, then lint, typecheck and every
# test tier (unit, then integration against emulators the run starts on loopback ports).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$SPOTJOBS_ROOT"
# Container builds are tested against a real Docker Engine: install and start one if none answers.
bash scripts/ensure-docker.sh
# The outside clients the tests drive (awscli, iproute2, systemd-analyze).
bash scripts/ensure-test-tools.sh
pnpm lint
pnpm typecheck

results="$TOOLS/test-results.json"
rm -f "$results"
status=0
pnpm test --reporter=default --reporter=json --outputFile.json="$results" || status=$?
# One plain closing line, whatever the reporter printed above it.
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$results" || true
exit "$status"
