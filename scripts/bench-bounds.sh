#!/usr/bin/env bash
# Measures the bounded-work cases of issue 15 with the native CLI: wall
# time and peak resident memory (/usr/bin/time -f %M) of requests that
# used to exhaust memory or run for minutes, and whether each is refused
# up front (LimitError: the figure and the flag that lifts it) or runs.
# The figures depend on the machine and its load, so they are measured
# here (scripts/bench.sh puts them in docs/figures.md), not asserted by
# tests. Chips and graphs are generated under a temporary directory.
# Usage: bash scripts/bench-bounds.sh
# Needs Go, jq and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null 2>&1 || { echo "error: jq is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "error: GNU time (/usr/bin/time) is needed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/compass" ./cmd/compass
c="$tmp/compass"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Chips: M with 32x32 crossbars (4 per core), with 1x4 crossbars, and 1x4
# crossbars 4 per core (the adversarial "many tiny crossbars" chips).
"$c" chip --chip M >"$tmp/m.json"
jq '.name="M-32x32x4" | .crossbar_rows=32 | .crossbar_cols=32 | .crossbars_per_core=4' "$tmp/m.json" >"$tmp/m32x4.json"
jq '.name="M-1x4" | .crossbar_rows=1 | .crossbar_cols=4' "$tmp/m.json" >"$tmp/m1x4.json"
jq '.name="M-1x4x4" | .crossbar_rows=1 | .crossbar_cols=4 | .crossbars_per_core=4' "$tmp/m.json" >"$tmp/m1x4x4.json"
# The widest chip the ranges allow: 16,384 cores of 64 crossbars.
jq '.name="wide" | .cores=16384 | .crossbars_per_core=64' "$tmp/m.json" >"$tmp/wide.json"

# Graphs: chains of n Linear(64)+ReLU layers in the JSON IR.
chain() {
  jq -n --argjson n "$1" '{name: "chain\($n)", nodes: ([{name: "x", op: "Input", shape: [64]}] +
    ([range(0; $n)] | map([{name: "fc\(.)", op: "Linear", inputs: [(if . == 0 then "x" else "r\(. - 1)" end)],
      linear: {out_features: 64, bias: true}}, {name: "r\(.)", op: "ReLU", inputs: ["fc\(.)"]}]) | add))}' >"$tmp/chain$1.json"
}
for n in 1000 2000 16384 20000; do chain "$n"; done

run() { # label, then the CLI arguments
  local label=$1
  shift
  local out
  if out=$( { /usr/bin/time -f "%e s, %M KB peak" "$c" "$@" >/dev/null; } 2>&1); then
    printf '%-44s ran:     %s\n' "$label" "$(tail -1 <<<"$out")"
  else
    printf '%-44s refused: %s\n    %s\n' "$label" "$(tail -1 <<<"$out")" "$(grep -m1 'compass' <<<"$out" | cut -c1-200)"
  fi
}

run "paper grid sweep (45 configurations)" sweep --json
run "resnet18, 32x32x4-crossbar M, all methods" compile --model resnet18 --chip "$tmp/m32x4.json" --method all
run "resnet18, 1x4-crossbar M, all methods" compile --model resnet18 --chip "$tmp/m1x4.json" --method all
run "resnet18, 1x4x4-crossbar M, all methods" compile --model resnet18 --chip "$tmp/m1x4x4.json" --method all
run "1,000-layer chain on M, all methods" compile --model "$tmp/chain1000.json" --method all
run "2,000-layer chain on M, all methods" compile --model "$tmp/chain2000.json" --method all
run "2,000-layer chain on M, greedy" compile --model "$tmp/chain2000.json" --method greedy
run "20,000-layer chain on M, all methods" compile --model "$tmp/chain20000.json" --method all
# A chain where every span is valid on the wide chip: the validity map's
# worst case before it was grown with a sliding window (17-22 s then, 0.6 s
# since).
run "16,384-layer chain on the widest chip, greedy" compile --model "$tmp/chain16384.json" --chip "$tmp/wide.json" --method greedy
run "resnet18 on M, simulate batch 65536" simulate --model resnet18 --chip M --batch 65536 --method greedy
