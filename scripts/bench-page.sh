#!/usr/bin/env bash
# Measures the playground's main thread in headless Chromium: for a link
# that runs each zoo network (chip M, batch 16; ResNet34 on chip L), the
# longest main-thread task, how many tasks exceeded 50 ms (the browser's
# Long Tasks API) and the most elements one render step added. These
# figures depend on the machine and its load, so they are measured here
# (scripts/bench.sh puts them in docs/figures.md), not asserted by the browser test.
# Usage: bash scripts/bench-page.sh                 (every run, several minutes)
#        COMPASS_BENCH_PAGES=resnet18:M:16,resnet34:L:16 bash scripts/bench-page.sh
# Needs chromium (scripts/test.sh installs it) and Go.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null 2>&1 || { echo "error: chromium is needed (bash scripts/test.sh installs it)" >&2; exit 1; }
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./site -run '^$' -bench BenchmarkPageMainThread -benchtime 1x -timeout 60m -v 2>&1 |
  grep -v '^=== RUN\|^goos\|^goarch\|^pkg\|^cpu'
