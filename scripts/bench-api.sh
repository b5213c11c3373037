#!/usr/bin/env bash
# Time per request of the HTTP API for ResNet18 on chip M at batch 1 (the
# compass method, seed 1): natively (`compass serve`) and in workerd
# (scripts/worker.sh: the Worker, one Go instance per request). Sequential
# requests after a warm-up; prints the median, mean, min and max.
#
#   bash scripts/bench-api.sh [REQUESTS]   (default 20)
#
# A measurement, not a test: nothing here passes or fails on a time.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
case "$n" in '' | *[!0-9]*) echo "usage: bash scripts/bench-api.sh [REQUESTS]" >&2; exit 2 ;; esac
command -v curl >/dev/null || { echo "error: curl is needed" >&2; exit 1; }

body='{"model":"resnet18","chip":"M","batch":1,"methods":["compass"],"seed":1}'
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_health() { # URL LOG
  for _ in $(seq 1 3000); do
    if curl -fs "$1/v1/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "error: $1 did not come up; its log:" >&2
  cat "$2" >&2
  exit 1
}

measure() { # NAME URL
  local url=$2/v1/compile
  curl -fs -o /dev/null -H 'Content-Type: application/json' -d "$body" "$url" # warm-up
  curl -fs -o /dev/null -H 'Content-Type: application/json' -d "$body" "$url"
  for _ in $(seq 1 "$n"); do
    curl -fs -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' -d "$body" "$url"
  done | sort -n | awk -v name="$1" -v n="$n" '
    { t[NR] = $1 * 1000; sum += t[NR] }
    END {
      med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
      printf "%-8s %3d requests: median %7.1f ms, mean %7.1f ms, min %7.1f ms, max %7.1f ms\n", name, NR, med, sum / NR, t[1], t[NR]
    }'
}

echo "building the native compass and starting compass serve (the API only; a placeholder site)" >&2
go build -o "$tmp/compass" ./cmd/compass
mkdir -p "$tmp/site"
printf '<!doctype html>' >"$tmp/site/index.html"
printf '\0asm' >"$tmp/site/compass.wasm"
native_port=$(free_port)
setsid "$tmp/compass" serve --addr "127.0.0.1:$native_port" --build=false --out "$tmp/site" >"$tmp/native.log" 2>&1 &
pids+=($!)
wait_health "http://127.0.0.1:$native_port" "$tmp/native.log"

echo "starting the Worker in workerd (scripts/worker.sh)" >&2
worker_port=$(free_port)
setsid bash scripts/worker.sh "$worker_port" >"$tmp/worker.log" 2>&1 &
pids+=($!)
wait_health "http://127.0.0.1:$worker_port" "$tmp/worker.log"

wasm=.cache/worker/compass-worker.wasm
echo "ResNet18 on chip M at batch 1, method compass, seed 1; $(nproc) CPUs; $(date -u +%Y-%m-%d)"
measure native "http://127.0.0.1:$native_port"
measure workerd "http://127.0.0.1:$worker_port"
# Brotli at quality 11 through the module's own brotli package, from a
# throwaway program in the gitignored .cache (no brotli tool needed).
mkdir -p .cache/brsize
cat >.cache/brsize/main.go <<'GO'
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/andybalholm/brotli"
)

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var n counter
	w := brotli.NewWriterLevel(&n, brotli.BestCompression)
	io.Copy(w, bytesReader(data))
	w.Close()
	fmt.Println(int64(n))
}
GO
cat >.cache/brsize/reader.go <<'GO'
package main

import (
	"bytes"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
GO
printf 'worker wasm: %s bytes, %s gzip -9, %s brotli q11\n' "$(wc -c <"$wasm")" "$(gzip -9 -c "$wasm" | wc -c)" "$(go run ./.cache/brsize "$wasm")"
