#!/usr/bin/env bash
# bench-peers.sh: whole-server throughput of tether against the peers in
# ../shared/peers, in one run on one machine, and the ratios the Redis issue
# asks for. Measures; never part of the test command.
#
#   scripts/bench-peers.sh            # RUNS=2 rounds of node, floor, scs, ceiling, tether
#   RUNS=3 SERVERS="floor ceiling tether" scripts/bench-peers.sh
#
# It starts the peers if they are not running (../shared/peers/peers.sh), and
# starts tether (REDIS_URL on the peers' Redis, port 3200) and the ceiling
# tool (tools/ceiling, port 3111) itself, stopping those two at the end.
# Every load is bench-profile.sh's bounded wrk run (2 s warm-up, 10 s
# measured, per route). Loopback only. Quote ratios within one round.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/../shared/peers}
RUNS=${RUNS:-2}
SERVERS=${SERVERS:-"node floor scs ceiling tether"}
WORK=$(mktemp -d /tmp/tether-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$PEERS/bench-profile.sh" ] || { echo "bench-peers: $PEERS/bench-profile.sh not found (set PEERS)" >&2; exit 2; }
echo "== peers"
(cd "$PEERS" && ./peers.sh status >/dev/null 2>&1) || (cd "$PEERS" && ./peers.sh setup && ./peers.sh start)
(cd "$PEERS" && ./peers.sh status)

echo "== building tether and the ceiling tool"
go build -o "$WORK/tether" ./cmd/tether
go build -o "$WORK/ceiling" ./tools/ceiling

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in 3200 3111; do
  if listening "$p"; then
    echo "bench-peers: 127.0.0.1:$p is already taken; stop what listens there (ss -ltnp | grep :$p) and retry" >&2
    exit 1
  fi
done
wait_port() { # port pid name: up to 10 s, and the process we started must be the one alive
  for _ in $(seq 100); do
    if listening "$1"; then
      kill -0 "$2" 2>/dev/null && return 0
      break
    fi
    sleep 0.1
  done
  echo "bench-peers: $3 did not come up on 127.0.0.1:$1; its log:" >&2
  cat "$WORK/$3.log" >&2
  exit 1
}
mkdir -p "$WORK/data" && chmod 700 "$WORK/data"
# From $WORK, so no .env of the checkout changes what is measured; loopback
# only, development mode, the demo user.
(cd "$WORK" && exec env -u DATABASE_URL -u APP_ENV HOST=127.0.0.1 REDIS_URL=redis://127.0.0.1:6390 PORT=3200 \
  DATA_DIR="$WORK/data" SESSION_SECRET="$("$WORK/tether" secret generate)" \
  "$WORK/tether" serve --demo) >"$WORK/tether.log" 2>&1 &
PIDS+=($!)
wait_port 3200 "${PIDS[-1]}" tether
"$WORK/ceiling" -addr 127.0.0.1:3111 -redis 127.0.0.1:6390 >"$WORK/ceiling.log" 2>&1 &
PIDS+=($!)
wait_port 3111 "${PIDS[-1]}" ceiling

declare -A PORT=([node]=3000 [floor]=3101 [scs]=3102 [ceiling]=3111 [tether]=3200)
RESULTS=$WORK/results
for run in $(seq "$RUNS"); do
  for s in $SERVERS; do
    echo "== round $run/$RUNS: $s"
    LABEL=$s "$PEERS/bench-profile.sh" "http://127.0.0.1:${PORT[$s]}" | grep '^RESULT' | sed "s/^/run=$run /" | tee -a "$RESULTS"
  done
done

echo
echo "== requests per second (p99), and tether over each server in the same round"
awk '
  { run=$1; sub("run=","",run); for (i=2;i<=NF;i++) { split($i,kv,"="); f[kv[1]]=kv[2] }
    rps[run, f["label"], f["route"]] = f["rps"]; p99[run, f["label"], f["route"]] = f["p99"]
    runs[run]=1; labels[f["label"]]=1; routes[f["route"]]=1 }
  END {
    for (r in runs) for (l in labels) for (rt in routes) if ((r, l, rt) in rps) {
      line = sprintf("round %s  %-8s %-9s %9.0f rps (p99 %s)", r, l, rt, rps[r, l, rt], p99[r, l, rt])
      if (l != "tether" && (r, "tether", rt) in rps && rps[r, l, rt] > 0)
        line = line sprintf("   tether/%s = %.2fx", l, rps[r, "tether", rt] / rps[r, l, rt])
      print line
    }
  }' "$RESULTS" | sort
