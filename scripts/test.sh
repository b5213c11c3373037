#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, the js/wasm build of
# the engine, every Go test (including the browser test in real Chromium),
# and the WebAssembly front end's tests under Node.
# Usage: bash scripts/test.sh   (from anywhere inside the repository)
# It installs what the tests need when missing: Debian's chromium (as root,
# with apt-get). Node is expected on the machine (it is on this project's).
set -euo pipefail
cd "$(dirname "$0")/.."
# This script provides everything the tests need, so a test that finds a
# resource missing must fail, not skip: the tests treat CI as that signal.
export CI="${CI:-true}"

echo "== tools"
if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is missing: installing Debian's chromium for the browser test"
  if [ "$(id -u)" != 0 ]; then
    echo "error: installing chromium needs root (apt-get); install it and rerun" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y chromium
fi
chromium --version 2>/dev/null | head -1
command -v node >/dev/null 2>&1 || { echo "error: node is needed for the WebAssembly tests" >&2; exit 1; }
node --version

echo "== gofmt"
unformatted=$(gofmt -l ./cmd ./engine ./wasm ./site)
if [ -n "$unformatted" ]; then
  echo "gofmt would change these files (run gofmt -w on them):"
  echo "$unformatted"
  exit 1
fi

echo "== go vet"
go vet ./...
GOOS=js GOARCH=wasm go vet ./wasm

echo "== js/wasm build of the engine and the front end"
GOOS=js GOARCH=wasm go build -o /dev/null ./engine/...
GOOS=js GOARCH=wasm go build -o /dev/null ./wasm
GOOS=js GOARCH=wasm go vet ./wasm/worker
GOOS=js GOARCH=wasm go build -o /dev/null ./wasm/worker

echo "== sample ONNX models (module github.com/advancedclimatesystems/gonnx, into the module cache only)"
# Real .onnx files this project did not write, for engine/onnx's tests. The
# module is downloaded outside this module, so go.mod and go.sum stay as
# they are; the tests find the files through COMPASS_GONNX_DIR.
gonnx_tmp=$(mktemp -d)
gonnx_json=$(cd "$gonnx_tmp" && go mod download -json github.com/advancedclimatesystems/gonnx@v1.1.0)
rmdir "$gonnx_tmp"
COMPASS_GONNX_DIR=$(printf '%s\n' "$gonnx_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$COMPASS_GONNX_DIR" ] || [ ! -d "$COMPASS_GONNX_DIR" ]; then
  echo "could not download github.com/advancedclimatesystems/gonnx@v1.1.0:"
  echo "$gonnx_json"
  exit 1
fi
export COMPASS_GONNX_DIR
echo "$COMPASS_GONNX_DIR"

echo "== ONNX corpus (real third-party ONNX files from pinned npm packages, into a cache outside git)"
# engine/api's TestONNXCorpus checks each imports, maps exactly the crossbar
# layers and weights its own protobuf walk counts, and compiles with every
# method; it fails when CI is set and the corpus is missing.
COMPASS_ONNX_CORPUS=$(bash scripts/onnx-corpus.sh)
export COMPASS_ONNX_CORPUS
echo "$COMPASS_ONNX_CORPUS"

echo "== go test"
# The simulator's paper-grid tests run all five of the paper's batches
# here; a plain go test runs batches 1 and 16 (engine/internal/sim's
# gridBatches).
COMPASS_FULL_GRID=1 go test -count=1 ./...

echo "== fuzzing past the parsers (a short fixed count; README: how to run longer)"
# A fuzzed chip through compile (every method) and simulate, and the JSON
# graph reader through compile; inputs that once failed are kept in
# engine/api/testdata/fuzz and run with every go test.
go test ./engine/api -run '^$' -fuzz '^FuzzChipThroughEngine$' -fuzztime 1000x
go test ./engine/api -run '^$' -fuzz '^FuzzReadGraphJSON$' -fuzztime 20000x
go test ./engine/onnx -run '^$' -fuzz '^FuzzRead$' -fuzztime 5000x
go test ./engine/httpapi -run '^$' -fuzz '^FuzzDecodeMsgpack$' -fuzztime 20000x

echo "== WebAssembly front end under Node (same bytes as the native CLI)"
native=$(mktemp -d)
trap 'rm -rf "$native"' EXIT
go build -o "$native/compass" ./cmd/compass
"$native/compass" compile --model resnet18 --chip M --batch 16 --method all --objective latency --seed 7 --json > "$native/compile_resnet18_M_16.json"
"$native/compass" compile --model squeezenet1_1 --chip S --batch 4 --method all --objective edp --seed 3 --json > "$native/compile_squeezenet_S_4_edp.json"
"$native/compass" inspect --model mobilenet_v2 --chip ReRAM --json > "$native/inspect_mobilenet_v2_ReRAM.json"
"$native/compass" compile --model squeezenet1_1 --chip M-fit --batch 4 --method all,optimal-sim --refine 4 --objective edp --seed 3 --json > "$native/compile_squeezenet_Mfit_4_edp_optimal_sim.json"
# The page's simulate always records the trace (it draws the timeline), so the CLI writes one too.
"$native/compass" simulate --model resnet18 --chip M --batch 2 --method greedy,optimal --seed 1 --placement crossbar --trace "$native/trace.json" --json > "$native/simulate_resnet18_M_2_crossbar.json"
COMPASS_NATIVE_DIR="$native" PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test -count=1 ./wasm/
