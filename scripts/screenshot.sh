#!/usr/bin/env bash
# Takes the README's picture of the playground, docs/playground.png: builds
# the CLI, starts `compass serve` on a free loopback port, opens a link that
# runs a compile in headless Chromium, waits for the run to finish and saves
# the results as they fill the window. Fails when the picture is over 300 KB (a README image
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
# The page runs its compile in a Web Worker, which headless chromium's
# --screenshot does not wait for: a small chromedp driver (chromedp is
# already a test dependency of site/) waits for the run to finish, scrolls
# the results to the top and saves the window. It is written under out/
# (ignored by git) for the run only.
driver="out/screenshot-driver-$$"
mkdir -p "$driver"
trap 'cleanup; rm -rf "$driver"' EXIT
cat >"$driver/main.go" <<'GO'
// Command screenshot-driver saves a picture of the playground once its
// first run has finished (written and removed by scripts/screenshot.sh).
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	url := flag.String("url", "", "page to open")
	out := flag.String("out", "", "PNG to write")
	browser := flag.String("browser", "chromium", "browser binary")
	w := flag.Int("width", 1280, "window width")
	h := flag.Int("height", 1000, "window height")
	wait := flag.Duration("wait", 3*time.Minute, "longest wait for the run")
	flag.Parse()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(*browser), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(*w, *h), chromedp.Flag("hide-scrollbars", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, *wait)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(*url))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.state === 'done'`, chromedp.WithPollingInterval(100*time.Millisecond)))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Sleep(2*time.Second)) // the plots draw one an animation frame
	}
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.querySelector('#results') || document.body).scrollIntoView(), true`))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond))
	}
	var png []byte
	if err == nil {
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		log.Fatalf("screenshot of %s: %v", *url, err)
	}
	if err := os.WriteFile(*out, png, 0o644); err != nil {
		log.Fatal(err)
	}
}
GO
go run "./$driver" -url "$url" -out "$tmp/shot.png" -browser "$(command -v "$browser")" \
  -width "${size%,*}" -height "${size#*,}" || exit 1
[ -s "$tmp/shot.png" ] || { echo "error: the driver wrote no picture" >&2; exit 1; }
bytes=$(stat -c %s "$tmp/shot.png")
if [ "$bytes" -gt $((300 * 1024)) ]; then
  echo "error: the picture is $bytes bytes, over 300 KB: narrow COMPASS_SHOT_SIZE (now $size)" >&2
  exit 1
fi
mv "$tmp/shot.png" "$out"
echo "wrote $out ($bytes bytes, window $size)" >&2
