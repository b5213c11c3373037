#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, the js/wasm build of
# the engine (it runs in the browser), then every Go test.
# Usage: bash scripts/test.sh   (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l ./cmd ./engine $( [ -d wasm ] && echo ./wasm ) $( [ -d scripts ] && find scripts -name '*.go' ) )
if [ -n "$unformatted" ]; then
  echo "gofmt would change these files (run gofmt -w on them):"
  echo "$unformatted"
  exit 1
fi

echo "== go vet"
go vet ./...

echo "== js/wasm build of the engine"
GOOS=js GOARCH=wasm go build -o /dev/null ./engine/...

echo "== go test"
go test -count=1 ./...
