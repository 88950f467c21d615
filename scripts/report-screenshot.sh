#!/usr/bin/env bash
# Looks at an evaluation report as a person would: renders report.html in headless Chromium
# (Debian: apt-get install -y chromium) and saves a screenshot.
# Usage: scripts/report-screenshot.sh REPORT_DIR [OUT.png] [HEIGHT]
set -euo pipefail
dir="$(cd "$1" && pwd)"
out="${2:-$dir/report.png}"
height="${3:-2200}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome)"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="1150,$height" \
  --screenshot="$out" "file://$dir/report.html" 2>/dev/null
echo "wrote $out"
