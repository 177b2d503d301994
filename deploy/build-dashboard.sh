#!/usr/bin/env bash
# Builds the dashboard into dashboard/dist, which the api serves
# (PATROLCHAT_DASHBOARD_DIR): `npm ci` when dashboard/node_modules is missing
# or older than the lock file, then `npm run build` (Vite, then the .br and
# .gz copies of scripts/compress.mjs).
#
#   deploy/build-dashboard.sh          build when Node.js 20.19+ is here; else
#                                      say why and leave the api's JSON 404 at /
#   deploy/build-dashboard.sh --test   Node.js is required; also run the
#                                      message check (every language has every
#                                      key, well-formed), the dashboard's unit
#                                      tests and size budget
set -euo pipefail
cd "$(dirname "$0")/../dashboard"
mode=${1:-build}

log() { printf 'dashboard: %s\n' "$*" >&2; }
skip() {
    if [ "$mode" = --test ]; then log "error: $*"; exit 1; fi
    log "$* — not built; the api answers / with a JSON 404 until it is"
    exit 0
}

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    skip "node and npm not found (deploy/install-deps.sh installs them)"
read -r major minor < <(node -p 'process.versions.node.split(".").slice(0, 2).join(" ")')
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
    skip "Node.js $(node --version) is too old for Vite 8 (needs 20.19 or newer)"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
fi
log "npm run build"
npm run --silent build >/dev/null
if [ "$mode" = --test ]; then
    node scripts/check-messages.mjs
    npm run --silent test
    npm run --silent size
fi
log "built $(ls dist/assets | grep -cv '\.\(br\|gz\)$') assets in dashboard/dist, with .br and .gz copies"
