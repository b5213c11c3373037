#!/usr/bin/env bash
# Measures the simulator's wall time and peak memory (RSS) as the batch
# grows: `compass simulate --model resnet18 --chip M --batch N` for each N,
# with /usr/bin/time. The simulator streams the program (each stream's
# per-input instructions stored once, generated as the pipeline reaches
# them), so memory should stay nearly flat while time grows with the batch.
# A batch whose program runs more than limits.max_sim_events is refused
# before it starts; COMPASS_BENCH_SIM_LIFT=1 lifts that limit (to 2^40) to
# measure the run itself (ResNet18-M at batch 65536 runs 329 M events,
# a few minutes). Figures depend on the machine and its load, so they are
# measured here (scripts/bench.sh puts them in docs/figures.md), not
# asserted by a test.
# Usage: bash scripts/bench-sim.sh
#        COMPASS_BENCH_SIM_BATCHES="16 1024" COMPASS_BENCH_SIM_LIFT=1 bash scripts/bench-sim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time is needed (Debian package: time)" >&2; exit 1; }
bin="$(mktemp -d)/compass"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/compass
lift=()
[ "${COMPASS_BENCH_SIM_LIFT:-0}" = 1 ] && lift=(--max-sim-events $((1 << 40)))
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")"
printf '%-8s %-12s %-10s %-14s %s\n' batch wall "peak RSS" instructions outcome
for n in ${COMPASS_BENCH_SIM_BATCHES:-16 1024 4096 65536}; do
  out="$(mktemp)"
  if /usr/bin/time -f "%e %M" -o "$out.time" "$bin" simulate --model resnet18 --chip M --batch "$n" --json "${lift[@]}" >"$out" 2>"$out.err"; then
    instr="$(grep -o '"events":[0-9]*' "$out" | head -1 | cut -d: -f2)"
    outcome="simulated"
  else
    instr="-"
    outcome="refused: $(sed 's/^compass simulate: //' "$out.err" | head -c 150)..."
  fi
  read -r wall rss < <(tail -n 1 "$out.time")
  printf '%-8s %-12s %-10s %-14s %s\n' "$n" "${wall} s" "$((rss / 1024)) MB" "$instr" "$outcome"
  rm -f "$out" "$out.time" "$out.err"
done
