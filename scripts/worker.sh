#!/usr/bin/env bash
# Build the COMPASS-Go API Worker (wasm/worker) and run it in workerd, the
# open-source runtime of Cloudflare Workers, in the foreground on
# 127.0.0.1:PORT. Ctrl-C stops it.
#
#   bash scripts/worker.sh PORT          build, then run on 127.0.0.1:PORT
#   bash scripts/worker.sh --build DIR   only build the Worker's files into DIR
#                                        (for wrangler deploy: docs/deploy.md)
#
# The Worker's limits are workerd.capnp's bindings; set COMPASS_MAX_BODY_BYTES,
# COMPASS_DEADLINE, COMPASS_MAX_BATCH, COMPASS_MAX_SIM_EVENTS or
# COMPASS_CORS_ORIGINS in the environment to replace one.
#
# workerd comes from npm (@cloudflare/workerd-linux-64, the pinned version
# below) into a cache outside git: $COMPASS_CACHE/workerd/VERSION, with
# COMPASS_CACHE defaulting to $XDG_CACHE_HOME/compass-go or
# ~/.cache/compass-go (the repository's gitignored .cache when there is no
# HOME). The build goes to .cache/worker in the repository (gitignored).
# Exit status 3: workerd is missing and could not be installed (no npm, no
# registry, another platform); 2: usage; 1: any other failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

WORKERD_VERSION=1.20261117.1 # npm view @cloudflare/workerd-linux-64 versions

usage() {
  echo "usage: bash scripts/worker.sh PORT | --build DIR" >&2
  exit 2
}
[ $# -eq 1 ] || [ $# -eq 2 ] || usage

build_only=""
if [ "$1" = "--build" ]; then
  [ $# -eq 2 ] || usage
  build_only=$2
else
  [ $# -eq 1 ] || usage
  port=$1
  case "$port" in
    '' | *[!0-9]*) echo "error: PORT must be a number, got '$port'" >&2; exit 2 ;;
  esac
  if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "error: PORT must be from 1 to 65535, got $port" >&2
    exit 2
  fi
fi

build() {
  local out=$1
  mkdir -p "$out"
  echo "worker.sh: building compass-worker.wasm (GOOS=js GOARCH=wasm) into $out" >&2
  GOOS=js GOARCH=wasm go build -trimpath -ldflags "-s -w" -o "$out/compass-worker.wasm" ./wasm/worker
  cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"
  cp wasm/worker/worker.mjs wasm/worker/workerd.capnp wasm/worker/wrangler.toml "$out/"
  # The handler's limits: an environment variable named as a binding of
  # workerd.capnp replaces that binding's text.
  local name value
  for name in COMPASS_MAX_BODY_BYTES COMPASS_DEADLINE COMPASS_MAX_BATCH COMPASS_MAX_SIM_EVENTS COMPASS_CORS_ORIGINS; do
    value=${!name:-}
    [ -n "$value" ] || continue
    case "$value" in
      *[!A-Za-z0-9.:/,_*-]*) echo "error: $name='$value' holds a character a binding does not take" >&2; exit 2 ;;
    esac
    sed -i "s|(name = \"$name\", text = \"[^\"]*\")|(name = \"$name\", text = \"$value\")|" "$out/workerd.capnp"
    echo "worker.sh: $name = $value" >&2
  done
}

if [ -n "$build_only" ]; then
  build "$build_only"
  exit 0
fi

cache=${COMPASS_CACHE:-}
if [ -z "$cache" ]; then
  if [ -n "${XDG_CACHE_HOME:-}" ]; then
    cache=$XDG_CACHE_HOME/compass-go
  elif [ -n "${HOME:-}" ]; then
    cache=$HOME/.cache/compass-go
  else
    cache=$root/.cache
  fi
fi
workerd_dir=$cache/workerd/$WORKERD_VERSION
workerd=$workerd_dir/node_modules/@cloudflare/workerd-linux-64/bin/workerd
if [ ! -x "$workerd" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "error: this script installs workerd for Linux x86-64 only (this is $(uname -s)-$(uname -m)); install workerd yourself and put it at $workerd" >&2; exit 3 ;;
  esac
  command -v npm >/dev/null 2>&1 || { echo "error: npm is needed to install workerd (@cloudflare/workerd-linux-64@$WORKERD_VERSION)" >&2; exit 3; }
  echo "worker.sh: installing @cloudflare/workerd-linux-64@$WORKERD_VERSION into $workerd_dir" >&2
  mkdir -p "$workerd_dir"
  if ! npm install --prefix "$workerd_dir" --no-save --no-audit --no-fund --loglevel=error \
    "@cloudflare/workerd-linux-64@$WORKERD_VERSION" >&2; then
    echo "error: npm could not install @cloudflare/workerd-linux-64@$WORKERD_VERSION (is the npm registry reachable?)" >&2
    exit 3
  fi
  [ -x "$workerd" ] || { echo "error: npm installed no workerd binary at $workerd" >&2; exit 3; }
fi

out=$root/.cache/worker
build "$out"
echo "worker.sh: workerd $("$workerd" --version 2>/dev/null || echo "$WORKERD_VERSION") serving on http://127.0.0.1:$port/ (Ctrl-C stops)" >&2
cd "$out"
exec "$workerd" serve workerd.capnp --socket-addr "http=127.0.0.1:$port"
