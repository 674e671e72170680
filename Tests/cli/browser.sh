#!/usr/bin/env bash
# Opens a report.html in headless Chromium: writes the DOM it built, its console log and a
# screenshot. Usage: browser.sh REPORT_HTML OUT_DIR
set -uo pipefail
html=$(realpath "$1") out=$2
mkdir -p "$out"
browser=$(command -v chromium || command -v chromium-browser) || { echo "no chromium on PATH" >&2; exit 1; }
flags=(--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars)
"$browser" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$html" >"$out/dom.html" 2>"$out/console.log"
"$browser" "${flags[@]}" --window-size=1280,2400 --screenshot="$out/screenshot.png" "file://$html" >/dev/null 2>&1
test -s "$out/dom.html" && test -s "$out/screenshot.png"
