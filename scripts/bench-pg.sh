#!/usr/bin/env bash
# bench-pg.sh: tether with SESSION_STORE=postgres against scs with its
# PostgreSQL store (pgxstore), in one run on one machine, and the ratios
# issue 12 asks for. Measures; never part of the test command.
#
#   scripts/bench-pg.sh                 # RUNS=2 rounds of tether, scs-pg
#   RUNS=3 scripts/bench-pg.sh
#   BENCH_DATABASE_URL=postgres://… scripts/bench-pg.sh
#
# It builds and starts tether (port 3201) and the scs-pg peer
# (scripts/peers/scs-pg, its own module, port 3103) on the same PostgreSQL,
# each in a schema of its own (tether_bench, scs_bench, created with psql and
# dropped at the end), and stops both at the end. Every load is
# ../shared/peers/bench-profile.sh's bounded wrk run (2 s warm-up, 10 s
# measured, wrk -t2 -c50, per route: GET /profile, GET /views), the servers
# interleaved within each round. Loopback only. Quote ratios within a round.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/../shared/peers}
RUNS=${RUNS:-2}
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
WORK=$(mktemp -d /tmp/tether-bench-pg.XXXXXX)
PIDS=()
psqlq() { psql "$DB" -v ON_ERROR_STOP=1 -qAt -c "$1"; }
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  psqlq 'DROP SCHEMA IF EXISTS tether_bench CASCADE; DROP SCHEMA IF EXISTS scs_bench CASCADE' || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$PEERS/bench-profile.sh" ] || { echo "bench-pg: $PEERS/bench-profile.sh not found (set PEERS)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-pg: wrk not found (apt-get install wrk)" >&2; exit 2; }
command -v psql >/dev/null || { echo "bench-pg: psql not found (apt-get install postgresql-client)" >&2; exit 2; }
case "$DB" in
  *@127.0.0.1[:/]*|*@localhost[:/]*) ;;
  *) echo "bench-pg: BENCH_DATABASE_URL must point at a loopback server" >&2; exit 2 ;;
esac
sep='?'; case "$DB" in *\?*) sep='&' ;; esac

echo "== building tether and scs-pg"
go build -o "$WORK/tether" ./cmd/tether
(cd scripts/peers/scs-pg && go build -o "$WORK/scs-pg" .)

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in 3201 3103; do
  if listening "$p"; then
    echo "bench-pg: 127.0.0.1:$p is already taken; stop what listens there (ss -ltnp | grep :$p) and retry" >&2
    exit 1
  fi
done
wait_port() { # port pid name: up to 20 s, and the process we started must be the one alive
  for _ in $(seq 200); do
    if listening "$1"; then
      kill -0 "$2" 2>/dev/null && return 0
      break
    fi
    sleep 0.1
  done
  echo "bench-pg: $3 did not come up on 127.0.0.1:$1; its log:" >&2
  cat "$WORK/$3.log" >&2
  exit 1
}

psqlq 'DROP SCHEMA IF EXISTS tether_bench CASCADE; CREATE SCHEMA tether_bench; DROP SCHEMA IF EXISTS scs_bench CASCADE'
mkdir -p "$WORK/data" && chmod 700 "$WORK/data"
# From $WORK, so no .env of the checkout changes what is measured; loopback
# only, development mode, the demo user; sessions and users in PostgreSQL,
# no Redis.
(cd "$WORK" && exec env -u REDIS_URL -u APP_ENV HOST=127.0.0.1 PORT=3201 SESSION_STORE=postgres \
  DATABASE_URL="${DB}${sep}search_path=tether_bench" DATA_DIR="$WORK/data" \
  SESSION_SECRET="$("$WORK/tether" secret generate)" "$WORK/tether" serve --demo) >"$WORK/tether.log" 2>&1 &
PIDS+=($!)
wait_port 3201 "${PIDS[-1]}" tether
"$WORK/scs-pg" -addr 127.0.0.1:3103 -db "${DB}${sep}search_path=scs_bench" >"$WORK/scs-pg.log" 2>&1 &
PIDS+=($!)
wait_port 3103 "${PIDS[-1]}" scs-pg

declare -A PORT=([tether]=3201 [scs-pg]=3103)
RESULTS=$WORK/results
for run in $(seq "$RUNS"); do
  order="tether scs-pg"
  [ $((run % 2)) -eq 0 ] && order="scs-pg tether" # A,B then B,A: neither always goes first
  for s in $order; do
    echo "== round $run/$RUNS: $s"
    LABEL=$s "$PEERS/bench-profile.sh" "http://127.0.0.1:${PORT[$s]}" | grep '^RESULT' | sed "s/^/run=$run /" | tee -a "$RESULTS"
  done
done

echo
echo "== requests per second (p99), and tether over scs-pg in the same round"
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

# Writes under load: scs re-commits the session on every request; tether
# writes on /profile only when the idle deadline moved by a second or more.
sleep 2 # let the backends flush their statistics
echo
echo "== session-table writes over the whole run (every round, both routes, warm-ups and logins included)"
awk '{ for (i=2;i<=NF;i++) { split($i,kv,"="); f[kv[1]]=kv[2] } n[f["label"]] += f["requests"] }
  END { for (l in n) printf "%-8s %d measured requests\n", l, n[l] }' "$RESULTS" | sort
psqlq "SELECT format('%-8s %s rows updated (%s of them HOT), %s inserted (%s)', CASE schemaname WHEN 'tether_bench' THEN 'tether' ELSE 'scs-pg' END,
  n_tup_upd, n_tup_hot_upd, n_tup_ins, schemaname || '.' || relname) FROM pg_stat_user_tables
  WHERE (schemaname, relname) IN (('tether_bench', 'tether_sessions'), ('scs_bench', 'sessions')) ORDER BY 1"
