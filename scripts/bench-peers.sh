#!/usr/bin/env bash
# bench-peers.sh: whole-server throughput of tether against the peers in
# ../shared/peers and the ceiling tool, in one run on one machine, with the
# ratios issue 13 targets. Measures; never part of the test command.
#
#   flock /tmp/tether-bench.lock scripts/bench-peers.sh
#   RUNS=3 SERVERS="floor ceiling tether-off tether-on" flock /tmp/tether-bench.lock scripts/bench-peers.sh
#
# Servers (SERVERS, default all, in this order; RUNS rounds, default 2):
#   node 3000, floor 3101, scs 3102   the peers (started with peers.sh if not running)
#   ceiling 3111                      tools/ceiling: floor plus tether's JSON header set
#   tether-off 3200, tether-on 3201   tether serve --demo on the peers' Redis with
#                                     REDIS_CLIENT_CACHE=off / on (a server that does not
#                                     know the variable runs both the same way)
#   tether-on-1p 3202                 tether-on with GOMAXPROCS=1: the same binary held to
#                                     one core, leaving the other to wrk and Redis (the p99
#                                     experiment of docs/benchmarks.md; not in the default set)
# This script starts the ceiling and both tethers itself and stops them at
# the end. Per round, server and route (ROUTES, default "/profile /views"):
# log in once as alice, a WARMUP (2s) wrk run, then a bounded
# `wrk -t2 -c50 -d10s --latency` with that cookie, between two snapshots of
# the peers' Redis (port REDIS_PORT, 6390): INFO commandstats (every
# command but INFO itself) and INFO cpu (used_cpu_sys + used_cpu_user).
# Redis commands (those a Lua script runs included, as Redis counts them;
# scripts/req counts EVAL*/FCALL* alone) and Redis CPU per request are
# those deltas over the requests wrk made. Nothing else may use that Redis
# during a run.
#
# Output: the RESULT lines, a table of medians over the rounds, the ratios
# the issue's targets name (each computed within its round; median and the
# rounds' values), and OUT/bench.dat + OUT/bench.png (OUT default
# docs/img; scripts/bench-plot.gp draws req/s and p99 per server). Loopback
# only; wrk runs are bounded (DURATION at most 60s).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/../shared/peers}
RUNS=${RUNS:-2}
SERVERS=${SERVERS:-"node floor scs ceiling tether-off tether-on"}
ROUTES=${ROUTES:-"/profile /views"}
THREADS=${THREADS:-2} CONNS=${CONNS:-50} DURATION=${DURATION:-10s} WARMUP=${WARMUP:-2s}
REDIS_PORT=${REDIS_PORT:-6390}
OUT=${OUT:-$ROOT/docs/img}
WORK=$(mktemp -d /tmp/tether-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

declare -A PORT=([node]=3000 [floor]=3101 [scs]=3102 [ceiling]=3111 [tether-off]=3200 [tether-on]=3201 [tether-on-1p]=3202)
for s in $SERVERS; do
  [ -n "${PORT[$s]:-}" ] || { echo "bench-peers: unknown server $s in SERVERS (know: ${!PORT[*]})" >&2; exit 2; }
done
secs() { case "$1" in *m) echo $(( ${1%m} * 60 ));; *s) echo "${1%s}";; *) echo "$1";; esac; }
[ "$(secs "$DURATION")" -le 60 ] || { echo "bench-peers: DURATION must be <= 60s" >&2; exit 2; }
for c in wrk curl redis-cli gnuplot; do
  command -v "$c" >/dev/null || { echo "bench-peers: $c not found (apt-get install -y wrk curl redis-tools gnuplot-nox)" >&2; exit 2; }
done
[ -x "$PEERS/peers.sh" ] || { echo "bench-peers: $PEERS/peers.sh not found (set PEERS)" >&2; exit 2; }
echo "== peers"
(cd "$PEERS" && ./peers.sh status >/dev/null 2>&1) || (cd "$PEERS" && ./peers.sh setup && ./peers.sh start)
(cd "$PEERS" && ./peers.sh status)
redis-cli -p "$REDIS_PORT" PING >/dev/null || { echo "bench-peers: no Redis on 127.0.0.1:$REDIS_PORT" >&2; exit 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
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
wanted() { [[ " $SERVERS " == *" $1 "* ]]; }
free_port() {
  if listening "$1"; then
    echo "bench-peers: 127.0.0.1:$1 is already taken; stop what listens there (ss -ltnp | grep :$1) and retry" >&2
    exit 1
  fi
}

echo "== building tether and the ceiling tool"
if wanted tether-off || wanted tether-on || wanted tether-on-1p; then go build -o "$WORK/tether" ./cmd/tether; fi
if wanted ceiling; then go build -o "$WORK/ceiling" ./tools/ceiling; fi
for s in ceiling tether-off tether-on tether-on-1p; do if wanted "$s"; then free_port "${PORT[$s]}"; fi; done
start_tether() { # name port cache [GOMAXPROCS]
  mkdir -p "$WORK/$1" && chmod 700 "$WORK/$1"
  # From its own directory, so no .env of the checkout changes what is
  # measured; loopback only, development mode, the demo user.
  local procs=()
  [ -n "${4:-}" ] && procs=(GOMAXPROCS="$4")
  (cd "$WORK/$1" && exec env -u DATABASE_URL -u APP_ENV -u SESSION_STORE -u GOMAXPROCS "${procs[@]}" HOST=127.0.0.1 PORT="$2" \
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT" REDIS_CLIENT_CACHE="$3" DATA_DIR="$WORK/$1" \
    SESSION_SECRET="$("$WORK/tether" secret generate)" "$WORK/tether" serve --demo) >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  wait_port "$2" "${PIDS[-1]}" "$1"
}
if wanted tether-off; then start_tether tether-off "${PORT[tether-off]}" off; fi
if wanted tether-on; then start_tether tether-on "${PORT[tether-on]}" on; fi
if wanted tether-on-1p; then start_tether tether-on-1p "${PORT[tether-on-1p]}" on 1; fi
if wanted ceiling; then
  "$WORK/ceiling" -addr "127.0.0.1:${PORT[ceiling]}" -redis "127.0.0.1:$REDIS_PORT" >"$WORK/ceiling.log" 2>&1 &
  PIDS+=($!)
  wait_port "${PORT[ceiling]}" "${PIDS[-1]}" ceiling
fi

# snapshot FILE: Redis's command calls (all but INFO; commands that a Lua
# script runs count too, as Redis counts them), script calls (EVAL*,
# FCALL*: one round trip each) and CPU seconds.
snapshot() {
  redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' |
    awk -F'[:,=]' '/^cmdstat_/ && $1 != "cmdstat_info" { n += $3 }
      $1 ~ /^cmdstat_(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/ { sc += $3 }
      END { printf "calls=%d\nscripts=%d\n", n, sc }' >"$1"
  redis-cli -p "$REDIS_PORT" INFO cpu | tr -d '\r' |
    awk -F: '$1=="used_cpu_sys" || $1=="used_cpu_user" { s += $2 } END { printf "cpu=%.6f\n", s }' >>"$1"
}
get() { sed -n "s/^$1=//p" "$2"; }

# measure run label base route cookie: one RESULT line.
measure() {
  local run=$1 label=$2 base=$3 route=$4 cookie=$5
  local pre
  pre=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "$cookie" "$base$route")
  if [ "$pre" != 200 ]; then
    echo "RESULT run=$run label=$label route=$route skipped=pre-check-status-$pre"
    return
  fi
  [ "$WARMUP" = 0 ] || wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout 5s -H "$cookie" "$base$route" >/dev/null 2>&1
  snapshot "$WORK/before"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s --latency -H "$cookie" "$base$route" >"$WORK/wrk.out" 2>&1
  snapshot "$WORK/after"
  awk -v run="$run" -v label="$label" -v route="$route" \
    -v calls="$(( $(get calls "$WORK/after") - $(get calls "$WORK/before") ))" \
    -v scripts="$(( $(get scripts "$WORK/after") - $(get scripts "$WORK/before") ))" \
    -v cpu="$(awk -v a="$(get cpu "$WORK/after")" -v b="$(get cpu "$WORK/before")" 'BEGIN { printf "%.6f", a - b }')" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /requests in/ { reqs = $1 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { sub(/.*Socket errors: /, ""); gsub(/ /, ""); errs = $0 }
    END {
      if (non2xx == "") non2xx = 0; if (errs == "") errs = "none"
      printf "RESULT run=%s label=%s route=%s rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%s errors=%s redis_cmds_per_req=%.3f redis_scripts_per_req=%.3f redis_cpu_us_per_req=%.2f\n",
        run, label, route, rps, p50, p99, reqs, non2xx, errs, (reqs ? calls / reqs : 0), (reqs ? scripts / reqs : 0), (reqs ? cpu * 1e6 / reqs : 0)
    }' "$WORK/wrk.out"
}

login() { # base -> "Cookie: sid=…" (the value is never printed)
  local code sid
  code=$(curl -s -m 10 -D "$WORK/login.h" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data '{"username":"alice","password":"correct-horse"}' "$1/login")
  sid=$(tr -d '\r' <"$WORK/login.h" | grep -i '^set-cookie: *sid=' | tail -1 | sed -E 's/^[^:]*: *sid=([^;]*).*/\1/')
  if [ "$code" != 200 ] || [ -z "$sid" ]; then
    echo "bench-peers: login on $1 failed: status $code" >&2
    return 1
  fi
  echo "Cookie: sid=$sid"
}

RESULTS=$WORK/results
for run in $(seq "$RUNS"); do
  echo "== round $run/$RUNS ($(uptime | sed 's/.*load/load/'))"
  for s in $SERVERS; do
    base="http://127.0.0.1:${PORT[$s]}"
    cookie=$(login "$base")
    for r in $ROUTES; do measure "$run" "$s" "$base" "$r" "$cookie" | tee -a "$RESULTS"; done
  done
done
echo "== done ($(uptime | sed 's/.*load/load/'))"

mkdir -p "$OUT"
# What both summaries below share: the median of a list (empty: the value
# for none), appending to a list, and a RESULT line's key=value fields in f.
AWK_LIB=$(cat <<'AWK'
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
  if (n == 0) return empty
  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
function add(key, v) { vals[key] = (key in vals) ? vals[key] " " v : v }
function parse(   i, kv) {
  delete f
  for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
}
AWK
)
SERVERS="$SERVERS" ROUTES="$ROUTES" awk -v empty="" -f <(printf '%s\n' "$AWK_LIB") -f /dev/stdin "$RESULTS" <<'AWK' | tee "$WORK/summary"
{
  parse()
  if ("skipped" in f) next
  k = f["label"] SUBSEP f["route"]
  if (!(f["run"] in runs)) nruns++
  runs[f["run"]] = 1
  rps[f["run"], k] = f["rps"]; p99[f["run"], k] = f["p99_ms"]
  add("rps" SUBSEP k, f["rps"]); add("p99" SUBSEP k, f["p99_ms"]); add("cmds" SUBSEP k, f["redis_cmds_per_req"])
  add("cpu" SUBSEP k, f["redis_cpu_us_per_req"]); add("scr" SUBSEP k, f["redis_scripts_per_req"]); non[k] += f["non2xx"]
}
# ratio name num den route what: a ratio of numerator over denominator
# within each round; prints the median and the rounds' values.
function ratio(name, num, den, route, what, target,   r, list, line, v) {
  list = ""; line = ""
  for (r = 1; r in runs; r++) {
    a = (what == "p99" ? p99[r, num SUBSEP route] : rps[r, num SUBSEP route])
    b = (what == "p99" ? p99[r, den SUBSEP route] : rps[r, den SUBSEP route])
    if (a == "" || b == "" || b + 0 == 0) continue
    v = sprintf("%.2f", a / b); list = list " " v; line = line " " v
  }
  if (list != "") printf "  %-8s %-34s %5.2fx   (rounds:%s)   %s\n", route, name, median(list), line, target
}
END {
  n = split(ENVIRON["SERVERS"], order, " ")
  printf "\n== medians over %d round(s); Redis figures are deltas of INFO on the peers' Redis over wrk's requests\n", nruns
  printf "%-12s %-9s %10s %9s %10s %12s %14s %7s\n", "server", "route", "req/s", "p99 ms", "cmds/req", "scripts/req", "Redis us/req", "non2xx"
  nr = split(ENVIRON["ROUTES"], rts, " ")
  for (i = 1; i <= n; i++) for (j = 1; j <= nr; j++) {
    rt = rts[j]; k = order[i] SUBSEP rt
    if (!(("rps" SUBSEP k) in vals)) continue
    printf "%-12s %-9s %10.0f %9.2f %10.3f %12.3f %14.2f %7d\n", order[i], rt, median(vals["rps" SUBSEP k]), median(vals["p99" SUBSEP k]),
      median(vals["cmds" SUBSEP k]), median(vals["scr" SUBSEP k]), median(vals["cpu" SUBSEP k]), non[k]
  }
  print "\n== ratios within each round (median, and each round), with issue 13's targets"
  ratio("tether-on/floor req/s", "tether-on", "floor", "/profile", "rps", "target >= 1.5")
  ratio("tether-off/floor req/s", "tether-off", "floor", "/profile", "rps", "target >= 0.9")
  ratio("tether-off/ceiling req/s", "tether-off", "ceiling", "/profile", "rps", "target >= 0.95")
  ratio("tether-on/ceiling req/s", "tether-on", "ceiling", "/profile", "rps", "")
  ratio("tether-on p99 / floor p99", "tether-on", "floor", "/profile", "p99", "target <= 1.0")
  ratio("tether-off p99 / floor p99", "tether-off", "floor", "/profile", "p99", "")
  ratio("tether-on-1p p99 / floor p99", "tether-on-1p", "floor", "/profile", "p99", "")
  ratio("tether-on-1p/floor req/s", "tether-on-1p", "floor", "/profile", "rps", "")
  ratio("ceiling/floor req/s", "ceiling", "floor", "/profile", "rps", "")
  ratio("tether-on/scs req/s", "tether-on", "scs", "/profile", "rps", "")
  ratio("tether-on/node req/s", "tether-on", "node", "/profile", "rps", "")
  ratio("tether-on/floor req/s", "tether-on", "floor", "/views", "rps", "target >= 1.0")
  ratio("tether-off/floor req/s", "tether-off", "floor", "/views", "rps", "")
  ratio("tether-off/ceiling req/s", "tether-off", "ceiling", "/views", "rps", "")
  for (i = 1; i <= n; i++) if (order[i] ~ /^tether/ && (("cmds" SUBSEP order[i] SUBSEP "/profile") in vals))
    printf "  %-8s %-34s %6.3f   (rounds: %s)   %s\n", "/profile", "Redis commands per request, " order[i], median(vals["cmds" SUBSEP order[i] SUBSEP "/profile"]),
      vals["cmds" SUBSEP order[i] SUBSEP "/profile"], (order[i] == "tether-on" ? "target <= 0.05" : "")
}
AWK

# The data file for gnuplot: one line per server, medians.
SERVERS="$SERVERS" awk -v empty=NaN -v when="$(date -u '+%Y-%m-%d %H:%M UTC')" -f <(printf '%s\n' "$AWK_LIB") -f /dev/stdin "$RESULTS" >"$OUT/bench.dat" <<'AWK'
{
  parse()
  if ("skipped" in f) next
  for (m in f) if (m ~ /^(rps|p99_ms|redis_cmds_per_req|redis_cpu_us_per_req)$/) add(f["label"] SUBSEP f["route"] SUBSEP m, f[m])
  if (!(f["run"] in runs)) nruns++
  runs[f["run"]] = 1
}
END {
  printf "# scripts/bench-peers.sh, medians of %d round(s); written %s\n", nruns, when
  print "# server profile_rps profile_p99_ms views_rps views_p99_ms profile_cmds_per_req profile_redis_cpu_us views_cmds_per_req views_redis_cpu_us"
  n = split(ENVIRON["SERVERS"], order, " ")
  for (i = 1; i <= n; i++) {
    s = order[i]; line = s
    split("rps p99_ms", pm, " ")
    for (r = 1; r <= 2; r++) { rt = (r == 1 ? "/profile" : "/views"); for (j = 1; j <= 2; j++) line = line " " median(vals[s SUBSEP rt SUBSEP pm[j]]) }
    for (r = 1; r <= 2; r++) { rt = (r == 1 ? "/profile" : "/views"); line = line " " median(vals[s SUBSEP rt SUBSEP "redis_cmds_per_req"]) " " median(vals[s SUBSEP rt SUBSEP "redis_cpu_us_per_req"]) }
    print line
  }
}
AWK
gnuplot -e "dat='$OUT/bench.dat'; out='$OUT/bench.png'; title='$(date -u +%Y-%m-%d), $RUNS round(s), load $(uptime | sed 's/.*average: //')'" scripts/bench-plot.gp
echo "== wrote $OUT/bench.dat and $OUT/bench.png"
