#!/usr/bin/env bash
# Takes the README's picture of the playground, docs/playground.png: builds
# the CLI, starts `compass serve` on a free loopback port, opens a link that
# runs a compile in headless Chromium, lets the page run for a while and
# saves the window. Fails when the picture is over 300 KB (a README image
# should stay small: narrow the window with COMPASS_SHOT_SIZE).
#
#   bash scripts/screenshot.sh
#   COMPASS_SHOT_SIZE=1200,900 COMPASS_SHOT_QUERY='model=vgg16&chip=S' bash scripts/screenshot.sh
#
# Needs Go and chromium (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${COMPASS_SHOT_OUT:-docs/playground.png}
size=${COMPASS_SHOT_SIZE:-1280,1000}
query=${COMPASS_SHOT_QUERY:-}
budget_ms=${COMPASS_SHOT_WAIT_MS:-30000}
browser=
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "error: chromium is needed (bash scripts/test.sh installs it, or apt-get install chromium)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/compass" ./cmd/compass
"$tmp/compass" serve --addr 127.0.0.1:0 --api=false --out "$tmp/web" >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 6000); do
  grep -q 'http://' "$tmp/serve.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
  sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$tmp/serve.log" | head -1)
[ -n "$url" ] || { echo "error: compass serve printed no URL:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
[ -n "$query" ] && url="$url?$query"
echo "screenshot of $url" >&2
"$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$tmp/profile" --window-size="$size" --virtual-time-budget="$budget_ms" \
  --screenshot="$tmp/shot.png" "$url" >"$tmp/chromium.log" 2>&1 || { cat "$tmp/chromium.log" >&2; exit 1; }
[ -s "$tmp/shot.png" ] || { echo "error: chromium wrote no picture:" >&2; cat "$tmp/chromium.log" >&2; exit 1; }
bytes=$(stat -c %s "$tmp/shot.png")
if [ "$bytes" -gt $((300 * 1024)) ]; then
  echo "error: the picture is $bytes bytes, over 300 KB: narrow COMPASS_SHOT_SIZE (now $size)" >&2
  exit 1
fi
mv "$tmp/shot.png" "$out"
echo "wrote $out ($bytes bytes, window $size)" >&2
