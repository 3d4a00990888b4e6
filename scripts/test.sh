#!/usr/bin/env bash
# scripts/test.sh: every test of the project, as CI runs it.
#   ./scripts/test.sh            format check, vet, race tests, then each fuzz target briefly
# Env: FUZZTIME (default 30000x: executions per fuzz target; 0 skips fuzzing), SOAK=0 skips the
# short soak, GOFLAGS as usual.
# The default is a count, not a duration: with a duration, Go 1.26's fuzz
# coordinator can fail a target with a bare "context deadline exceeded" at the
# deadline and no crasher (golang/go#75804, fixed in Go 1.27). A count has no
# deadline, so only a real failing input fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
FUZZTIME="${FUZZTIME:-30000x}"
step() { printf '\n==> %s  (%s)\n' "$*" "$(date +%H:%M:%S)"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || fail "go is not installed (need Go 1.25 or newer: https://go.dev/dl)"
step "toolchain: $(go version)"

# Tests start their own redis-server processes (single nodes, a Cluster, TLS)
# on free loopback ports; they need the binaries, not a running Redis.
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing redis-server and redis-tools (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null \
      || fail "apt-get install redis-server redis-tools failed"
  else
    fail "redis-server and redis-cli are needed by the Redis tests: install the Debian packages redis-server and redis-tools (or run this script as root to have it done)"
  fi
fi
step "redis: $(redis-server --version | cut -d' ' -f1-3)"
# The Sentinel failover test (cmd/tether TestRedisSentinelFailover) starts
# three redis-sentinel processes beside a master and a replica.
if ! command -v redis-sentinel >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing redis-sentinel (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-sentinel >/dev/null \
      || fail "apt-get install redis-sentinel failed"
  else
    fail "redis-sentinel is needed by the Sentinel failover test: install the Debian package redis-sentinel (or run this script as root to have it done)"
  fi
fi

# The browser tests (cmd/tether TestBrowser*, issue 15) drive headless
# Chromium, and trust a test CA through an NSS database made with certutil.
chromium_bin() { command -v chromium || command -v chromium-browser || command -v google-chrome || true; }
if [ -z "${TETHER_CHROMIUM:-}" ] && { [ -z "$(chromium_bin)" ] || ! command -v certutil >/dev/null; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing chromium and libnss3-tools (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libnss3-tools >/dev/null \
      || fail "apt-get install chromium libnss3-tools failed"
  else
    fail "the browser tests need Chromium and certutil: install the Debian packages chromium and libnss3-tools (or run this script as root to have it done, or set TETHER_CHROMIUM to a Chromium binary)"
  fi
fi
step "chromium: $("${TETHER_CHROMIUM:-$(chromium_bin)}" --version 2>/dev/null | head -1)"

# PostgreSQL for the user-directory tests (package internal/testenv/pgtest gives
# each test a schema of its own). In order: TETHER_TEST_DATABASE_URL as
# given; a server on 127.0.0.1:5432 that lets user postgres in without a
# password; else (or with TETHER_TEST_DATABASE_URL=private) a private
# throwaway cluster started here and stopped at exit (the Debian package
# postgresql is installed first when missing and run as root).
pg_ok() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }
pg_private() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ] || ! command -v psql >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      step "installing postgresql (Debian)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
        || fail "apt-get install postgresql failed"
      bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    else
      fail "the PostgreSQL tests need a server: set TETHER_TEST_DATABASE_URL, run one on 127.0.0.1:5432 with trust auth for user postgres, or install the Debian package postgresql (run this script as root to have it done)"
    fi
  fi
  PGTMP=$(mktemp -d /tmp/tether-pg.XXXXXX)
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGTMP" postgres
    chown postgres "$PGTMP"
    PG_AS=(runuser -u postgres --)
  fi
  PG_CTL="$bin/pg_ctl"
  trap '"${PG_AS[@]}" "$PG_CTL" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGTMP"' EXIT
  "${PG_AS[@]}" "$bin/initdb" -D "$PGTMP/data" -U postgres --auth=trust >"$PGTMP/initdb.log" 2>&1 \
    || fail "initdb of a private PostgreSQL cluster failed: $(tail -5 "$PGTMP/initdb.log")"
  local port
  for port in $(shuf -i 20000-40000 -n 5); do
    if "${PG_AS[@]}" "$PG_CTL" -D "$PGTMP/data" -w -t 30 -l "$PGTMP/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PGTMP -c fsync=off" start >/dev/null 2>&1; then
      export TETHER_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
      return
    fi
  done
  fail "could not start a private PostgreSQL cluster: $(tail -5 "$PGTMP/server.log")"
}
if [ "${TETHER_TEST_DATABASE_URL:-}" = private ]; then
  step "TETHER_TEST_DATABASE_URL=private: starting a private PostgreSQL"
  pg_private
elif [ -n "${TETHER_TEST_DATABASE_URL:-}" ]; then
  pg_ok "$TETHER_TEST_DATABASE_URL" || fail "TETHER_TEST_DATABASE_URL does not answer (check the server and the URL)"
elif pg_ok "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"; then
  export TETHER_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
else
  step "no PostgreSQL on 127.0.0.1:5432: starting a private one"
  pg_private
fi
export TETHER_TEST_REQUIRE_POSTGRES=1 # under this script, a PostgreSQL test never skips
step "postgres: $(psql "$TETHER_TEST_DATABASE_URL" -Atqc 'SHOW server_version')"

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || fail "these files are not gofmt-formatted (run gofmt -w):
$unformatted"

step "go vet ./..."
go vet ./... || fail "go vet reported problems (above)"

step "go test -race ./...  (unit, store conformance, end-to-end)"
go test -race -count=1 -timeout 20m ./... || fail "tests failed (above); rerun one package with: go test -race -run NAME ./PKG"

# The short soak (issue 12; scripts/soak.sh runs the 10-minute one): two
# tether instances on Redis behind a round-robin proxy, 60 s at half their
# capacity while Redis restarts twice and pauses once and one instance is
# killed; tools/soak exits 1 when a pass criterion fails (a 500, RSS or
# goroutines not back to their warm level, stray session keys, a lost
# increment; RSS within 20 % here, 10 % in the 10-minute run: see
# docs/benchmarks.md). Its build reuses the objects go vet compiled above; no race
# detector, whose own memory would be what the RSS check measures. About
# 110 s. SOAK=0 skips it.
if [ "${SOAK:-1}" != 0 ]; then
  step "short soak: go run ./tools/soak soak -short"
  go run ./tools/soak soak -short || fail "the short soak failed (above); rerun with: go run ./tools/soak soak -short"
fi

# The framework examples (chi, echo, gin, websockets, htmx) are a nested
# module, so the main module never depends on those libraries.
if [ -n "$(find examples -name '*.go' 2>/dev/null | head -1)" ]; then
  step "examples module: go vet and go test -race (ServeMux, chi, echo, gin, websocket chat, htmx)"
  (cd examples && go vet ./... && go test -race -count=1 -timeout 10m ./...) \
    || fail "the examples module failed (above); rerun with: (cd examples && go test -race ./...)"
fi

if [ "$FUZZTIME" != "0" ]; then
  # Every fuzz target in the module, each run briefly on top of its seed corpus.
  while read -r pkg target; do
    step "fuzz $target in $pkg for $FUZZTIME"
    corpus="$pkg/testdata/fuzz/$target"
    count_corpus() { if [ -d "$corpus" ]; then find "$corpus" -type f | wc -l; else echo 0; fi; }
    before=$(count_corpus)
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"; then
      if [ "$(count_corpus)" -gt "$before" ]; then
        fail "fuzz target $target found a failing input; it is saved under $corpus (replay: go test -run '$target' $pkg)"
      fi
      fail "fuzz target $target failed without saving an input (see above); with a duration FUZZTIME this can be golang/go#75804: use a count such as FUZZTIME=30000x"
    fi
  done < <(grep -rlE --include='*_test.go' --exclude-dir=examples '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . \
    | while read -r f; do
        d=$(dirname "$f")
        grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | sed 's/^func //' | while read -r t; do echo "./${d#./} $t"; done
      done | sort -u)
fi

step "all tests passed"
