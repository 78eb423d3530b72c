#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, install the tarball into an empty folder, and run
# the installed `rulegen` from another folder (init, then the whole demo). Catches a `files`
# list that forgets something the CLI reads at run time (prompts, cassettes, prices).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --pack-destination "$tmp" >/dev/null
mkdir -p "$tmp/app" "$tmp/elsewhere"
(cd "$tmp/app" && npm init -y >/dev/null && npm install --no-audit --no-fund --prefer-offline --loglevel=error "$tmp"/rulegen-*.tgz >/dev/null)
bin="$tmp/app/node_modules/.bin/rulegen"
cd "$tmp/elsewhere"
"$bin" --version >/dev/null
"$bin" init ws >/dev/null
"$bin" -q demo --dir "$tmp/elsewhere/demo" >/dev/null
"$bin" -q demo --logs --dir "$tmp/elsewhere/demo-logs" >/dev/null
echo "pack check: the packed rulegen installs into an empty folder and runs init, demo and demo --logs from another folder"
