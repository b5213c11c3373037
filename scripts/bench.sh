#!/usr/bin/env bash
# Measures the project's timings and memory figures and writes them, with
# the date, the machine (CPU model, cores, Go version, load) and the exact
# command behind each figure, to docs/figures.md. The README and the docs
# quote no timings: they point to that page, which only this script writes.
# A measurement, not a test: nothing here passes or fails on a time; the
# script fails only when a command fails or a benchmark it names is gone.
#
#   bash scripts/bench.sh                  Go benchmarks, whole commands,
#                                          bench-sim.sh, bench-bounds.sh and
#                                          the WebAssembly sizes (about 5 min)
#   COMPASS_BENCH_PAGE=1 bash scripts/bench.sh   also scripts/bench-page.sh
#                                          (headless chromium, several minutes)
#   COMPASS_BENCH_API=1 bash scripts/bench.sh    also scripts/bench-api.sh
#                                          (installs workerd from npm into a cache)
#   COMPASS_FIGURES=/tmp/f.md bash scripts/bench.sh   write elsewhere
#
# Needs Go, GNU time (/usr/bin/time), jq (bench-bounds.sh), python3 and,
# for the WebAssembly benchmark, node.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dest=${COMPASS_FIGURES:-$root/docs/figures.md}
[ -x /usr/bin/time ] || { echo "error: GNU time (/usr/bin/time) is needed (Debian package: time)" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "error: jq is needed (scripts/bench-bounds.sh builds its inputs with it)" >&2; exit 1; }
tmp=$(mktemp -d)
serve_pid=
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
out="$tmp/figures.md"
bin="$tmp/compass"
go build -o "$bin" ./cmd/compass

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l)
started=$(date -u +%Y-%m-%dT%H:%MZ)
log() { echo "bench.sh: $*" >&2; }

# fenced: runs a command, writes it (as SHOWN, or as run when SHOWN is
# empty) and its output (stdout and stderr) as a section; fails when the
# command does.
fenced() { # TITLE, SHOWN, then the command as words
  local title=$1 shown=$2
  shift 2
  log "$title"
  "$@" >"$tmp/fenced" 2>&1 || { echo "error: $title: $* failed:" >&2; cat "$tmp/fenced" >&2; exit 1; }
  {
    printf '\n### %s\n\n`%s`\n\n```text\n' "$title" "${shown:-$*}"
    cat "$tmp/fenced"
    printf '```\n'
  } >>"$out"
}

# gobench: a Go benchmark run, its Benchmark lines only; fails when no
# benchmark matched (a renamed benchmark must not leave a silent gap).
gobench() { # TITLE, PACKAGE, PATTERN, then extra go test flags
  local title=$1 pkg=$2 pattern=$3
  shift 3
  log "$title"
  local res
  res=$(go test "$pkg" -run '^$' -bench "$pattern" -benchmem "$@" 2>&1) || { echo "$res" >&2; exit 1; }
  grep -q '^Benchmark' <<<"$res" || { echo "error: no benchmark of $pkg matches $pattern:" >&2; echo "$res" >&2; exit 1; }
  {
    printf '\n### %s\n\n`go test %s -run '"'"'^$'"'"' -bench '"'"'%s'"'"' -benchmem %s`\n\n```text\n' "$title" "$pkg" "$pattern" "$*"
    grep '^Benchmark' <<<"$res"
    printf '```\n'
  } >>"$out"
}

# timed: wall time and peak RSS of one CLI run, as a table row.
timed() { # WHAT, then the compass arguments
  local what=$1
  shift
  log "$what"
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; exit 1; }
  local wall rss
  read -r wall rss <"$tmp/time"
  printf '| %s | `compass %s` | %s s | %s MB |\n' "$what" "$*" "$wall" "$((rss / 1024))" >>"$out"
}

cat >"$out" <<EOF
# Measured figures

Written by \`bash scripts/bench.sh\`; do not edit by hand, run the script again. Every figure
depends on the machine and its load, so none is asserted by a test, and the README and the other
docs quote none: they point here. A load average above the core count means other work shared
the machine during the run, and the times are longer than on an idle one.

- measured: $started (UTC), commit $commit$([ "$dirty" -gt 0 ] && echo " with $dirty files changed in the work tree")
- machine: $cpu, $(nproc) cores, $(go version | cut -d' ' -f3-), $(uname -sr)
- load average (1, 5, 15 min) at the start: $load_start
EOF

printf '\n## Whole commands\n\nWall time and peak resident memory (GNU time, `/usr/bin/time -f "%%e %%M"`) of the CLI built with\n`go build -o compass ./cmd/compass`, one run each.\n\n| what | command | wall | peak RSS |\n|---|---|---|---|\n' >>"$out"
timed "the paper's grid (3 networks x 3 chips x 5 batches, every method)" sweep
timed "the same grid, every plan also scheduled and simulated" sweep --simulate
timed "ResNet18 on M at batch 16, every method" compile --model resnet18 --chip M --batch 16 --method all
timed "the same, simulated" simulate --model resnet18 --chip M --batch 16 --method all
timed "the same, optimal-sim (the estimator's 8 best plans simulated)" compile --model resnet18 --chip M --batch 16 --method optimal-sim
timed "VGG16 on S at batch 1, every method" compile --model vgg16 --chip S --batch 1 --method all
timed "the zoo's mappings on M (ViT-B/16)" inspect --model vit_b_16 --chip M

printf '\n## Search, estimate and simulation benchmarks\n\nGo benchmarks (`ns/op` is one run of the named work; `-benchtime 3x` where a run is long).\n' >>"$out"
gobench "GA, exact optimum and k best plans (partition)" ./engine/internal/partition 'GA|Optimal|KBest' -benchtime 3x
gobench "every valid span estimated once (estimate)" ./engine/internal/estimate 'AllSpans'
gobench "the discrete-event simulator (sim)" ./engine/internal/sim 'Simulate' -benchtime 3x
gobench "mapping and the validity map's window against span-by-span packing (mapping)" ./engine/internal/mapping 'MapResNet50|MapChain2000ChipM|ValidEndsMixedUnits'
gobench "the DRAM model, sequential and random bursts (dram)" ./engine/internal/dram 'SequentialRead|RandomRead'
gobench "the facade, compile and JSON (api)" ./engine/api 'CompileResNet18M16' -benchtime 5x
gobench "optimal-sim beside optimal, each simulated through the facade (api)" ./engine/api 'OptimalSim' -benchtime 2x
gobench "the HTTP handler (httpapi)" ./engine/httpapi 'CompileResNet18' -benchtime 5x

if command -v node >/dev/null 2>&1; then
  log "the WebAssembly engine under Node"
  wasmexec="$(go env GOROOT)/lib/wasm"
  [ -x "$wasmexec/go_js_wasm_exec" ] || wasmexec="$(go env GOROOT)/misc/wasm"
  res=$(cd wasm && PATH="$wasmexec:$PATH" GOOS=js GOARCH=wasm go test . -run '^$' -bench CompileResNet18M16 -benchtime 5x 2>&1) || { echo "$res" >&2; exit 1; }
  grep -q '^Benchmark' <<<"$res" || { echo "error: no wasm benchmark matched:" >&2; echo "$res" >&2; exit 1; }
  {
    printf '\n### the same compile as WebAssembly under Node %s (compare with the api benchmark above)\n\n' "$(node --version)"
    printf '`cd wasm && PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test . -run '"'"'^$'"'"' -bench CompileResNet18M16 -benchtime 5x`\n\n```text\n'
    grep '^Benchmark' <<<"$res"
    printf '```\n'
  } >>"$out"
else
  printf '\n(The WebAssembly benchmark was not run: node is not installed.)\n' >>"$out"
fi

printf '\n## Scripts\n' >>"$out"
fenced "the simulator's memory as the batch grows" "" bash scripts/bench-sim.sh
fenced "work refused before it starts, and adversarial chips and graphs" "" bash scripts/bench-bounds.sh

printf '\n## The playground\n' >>"$out"
fenced "the WebAssembly module's size (a fresh build)" "compass build --out DIR" "$bin" build --out "$tmp/web"
# compass serve from its start to the URL line, with the build cached by
# the build above (what a second `go run ./cmd/compass serve` waits).
log "serve to its URL"
start=$(date +%s.%N)
"$bin" serve --addr 127.0.0.1:0 --out "$tmp/web" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
  grep -q 'http://' "$tmp/serve.log" && break
  sleep 0.05
done
grep -q 'http://' "$tmp/serve.log" || { echo "error: compass serve printed no URL:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
end=$(date +%s.%N)
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=
printf '\n### `compass serve` from its start to the URL line, build cached\n\n`compass serve --addr 127.0.0.1:0` (after the build above): %.2f s. A cold start (empty Go build cache and\ncompression cache) compiles the engine for WebAssembly first and takes minutes.\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" >>"$out"

if [ "${COMPASS_BENCH_PAGE:-0}" = 1 ]; then
  fenced "the page's main thread in headless Chromium" "" bash scripts/bench-page.sh
else
  printf '\n(The page benchmark, `bash scripts/bench-page.sh`, was not run: set COMPASS_BENCH_PAGE=1.)\n' >>"$out"
fi
if [ "${COMPASS_BENCH_API:-0}" = 1 ]; then
  fenced "one HTTP API request, natively and in workerd" "" bash scripts/bench-api.sh 20
else
  printf '\n(The HTTP API benchmark, `bash scripts/bench-api.sh`, was not run: set COMPASS_BENCH_API=1.)\n' >>"$out"
fi

printf '\n- load average at the end: %s; finished %s (UTC)\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%Y-%m-%dT%H:%MZ)" >>"$out"
mv "$out" "$dest"
log "wrote $dest"
