#!/usr/bin/env bash
# scripts/soak.sh: the soak of issue 12, bounded in time. Not part of the
# test command (scripts/test.sh runs the 60 s version, without the plot).
#
#   scripts/soak.sh                  # 10 minutes of faults after 30 s of warm load
#   DURATION=2m scripts/soak.sh      # shorter
#   SHORT=1 scripts/soak.sh          # the 60 s version
#
# tools/soak builds ./cmd/tether, starts its own redis-server (fsynced
# append-only file) and two tether instances on free loopback ports behind a
# tiny round-robin proxy, drives half the capacity it measures through them,
# restarts Redis twice, pauses it once, kills one instance and starts it
# again; it prints a progress line every 10 s and the pass/fail summary,
# and exits 1 when a pass criterion fails. The timeline (soak.csv,
# events.csv) lands in OUT (default docs/img); with gnuplot installed
# (Debian gnuplot-nox) it is plotted to OUT/soak.png.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/img}
mkdir -p "$OUT"
args=(soak -out "$OUT")
if [ -n "${SHORT:-}" ]; then args+=(-short); else args+=(-duration "${DURATION:-10m}"); fi
status=0
go run ./tools/soak "${args[@]}" || status=$?
if [ -f "$OUT/soak.csv" ]; then
  if command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$OUT'; out='$OUT/soak.png'" scripts/soak-plot.gp && echo "plot: $OUT/soak.png"
  else
    echo "gnuplot is not installed (Debian gnuplot-nox): no plot; the timeline is in $OUT/soak.csv" >&2
  fi
fi
exit "$status"
