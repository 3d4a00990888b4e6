package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/pgstore"
	"github.com/tetherhq/tether/sqlitestore"
)

// doctorTimeout bounds each reachability check.
const doctorTimeout = 5 * time.Second

// report collects doctor's findings: one line each, "ok", "warn" or "FAIL".
type report struct {
	w     io.Writer
	fails int
	warns int
}

func (r *report) ok(format string, a ...any) { fmt.Fprintf(r.w, "ok    "+format+"\n", a...) }
func (r *report) warn(format string, a ...any) {
	r.warns++
	fmt.Fprintf(r.w, "warn  "+format+"\n", a...)
}
func (r *report) fail(format string, a ...any) {
	r.fails++
	fmt.Fprintf(r.w, "FAIL  "+format+"\n", a...)
}

// doctor checks the configuration and the stores the way serve would use
// them, without starting a server or changing anything: it never creates
// DATA_DIR, the development secret or a database. Each finding names what
// to do; no secret, password or URL appears in the output. It returns an
// error when something would stop serve from working (exit status 1);
// warnings alone exit 0.
func doctor(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 0 {
		return usageError{"doctor takes no arguments"}
	}
	r := &report{w: stdout}
	cfg, err := loadConfig(getenv)
	if err != nil {
		r.fail("%v", err)
		return fmt.Errorf("doctor: the configuration is invalid (above)")
	}
	r.ok("configuration: APP_ENV=%s, listening on %s", cfg.Env, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))

	doctorPorts(r, cfg)
	doctorSecrets(r, cfg)
	doctorEncryption(r, cfg)
	doctorDataDir(r, cfg)
	doctorSessions(ctx, r, cfg, getenv)
	doctorUsers(ctx, r, cfg)
	doctorDeployment(r, cfg)
	doctorDBSC(r, cfg)

	fmt.Fprintf(stdout, "\n%d problem(s), %d warning(s)\n", r.fails, r.warns)
	if r.fails > 0 {
		return fmt.Errorf("doctor: %d problem(s) would stop tether serve (FAIL lines above)", r.fails)
	}
	return nil
}

func doctorSecrets(r *report, cfg *config.Config) {
	if cfg.SessionSecret == "" && !cfg.Production() {
		if _, err := os.Stat(cfg.DevSecretPath()); errors.Is(err, fs.ErrNotExist) {
			r.ok("session secret: none yet; development generates one into %s at the first start", cfg.DevSecretPath())
			return
		}
	}
	secrets, warnings, err := cfg.Secrets()
	if err != nil {
		r.fail("session secret: %v", err)
		return
	}
	for _, w := range warnings {
		r.warn("session secret: %s", w)
	}
	source := "SESSION_SECRET"
	if cfg.SessionSecret == "" {
		source = cfg.DevSecretPath()
	}
	r.ok("session secret: from %s, %s; %d previous secret(s) still verify", source, config.MeasureSecret(string(secrets[0])), len(secrets)-1)
	for i, s := range secrets {
		if distinct(s) < 8 {
			name := "SESSION_SECRET"
			if i > 0 {
				name = fmt.Sprintf("SESSION_SECRET_PREVIOUS entry %d", i)
			}
			r.warn("%s has fewer than 8 different characters: it looks hand-made, not random; make one with `tether secret generate`", name)
		}
	}
}

// doctorPorts checks that serve could listen where the configuration says:
// HOST:PORT and, when set, METRICS_ADDR. Each address is bound for a moment
// and released; one that is taken (a running tether counts), not local or
// needs privileges is a failure that says what to do. PORT=0 always works.
func doctorPorts(r *report, cfg *config.Config) {
	if cfg.Port == 0 {
		r.ok("port: PORT=0, a free port is picked at start")
	} else {
		checkListen(r, "port", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), "set PORT (or serve --port) to a free one")
	}
	if cfg.MetricsAddr != "" {
		checkListen(r, "METRICS_ADDR", cfg.MetricsAddr, "set METRICS_ADDR to a free host:port")
	}
}

// checkListen reports whether addr can be listened on.
func checkListen(r *report, what, addr, fix string) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		r.ok("%s: %s is free", what, addr)
		return
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		r.fail("%s: %s is already in use (another tether or another program listens there): stop it, or %s", what, addr, fix)
	case errors.Is(err, syscall.EACCES):
		r.fail("%s: %s needs privileges to listen on (ports below 1024 usually do): %s, and put a proxy in front", what, addr, fix)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		r.fail("%s: %s is not an address of this machine: set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for all)", what, addr)
	default:
		r.fail("%s: cannot listen on %s (%s): %s", what, addr, cause(err), fix)
	}
}

// distinct counts the different bytes of s.
func distinct(s []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range s {
		if !seen[c] {
			seen[c], n = true, n+1
		}
	}
	return n
}

func doctorDataDir(r *report, cfg *config.Config) {
	st, err := os.Stat(cfg.DataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.ok("DATA_DIR %s: does not exist yet; created (mode 0700) at the first start", cfg.DataDir)
		return
	case err != nil:
		r.fail("DATA_DIR %s: %v", cfg.DataDir, err)
		return
	case !st.IsDir():
		r.fail("DATA_DIR %s is not a directory", cfg.DataDir)
		return
	}
	if w := openDataDir(cfg.DataDir, st.Mode()); w != "" {
		r.warn("%s", w)
	} else {
		r.ok("DATA_DIR %s: mode %v", cfg.DataDir, st.Mode().Perm())
	}
	probe, err := os.CreateTemp(cfg.DataDir, ".doctor-*")
	if err != nil {
		r.fail("DATA_DIR %s is not writable: %v", cfg.DataDir, err)
		return
	}
	probe.Close()
	os.Remove(probe.Name())
}

func doctorSessions(ctx context.Context, r *report, cfg *config.Config, getenv func(string) string) {
	if cfg.SessionStore == config.StorePostgres {
		ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
		defer cancel()
		st, err := pgstore.Inspect(ctx, cfg.DatabaseURL) // read-only: no migration, no sweep
		if err != nil {
			r.fail("session store: PostgreSQL (DATABASE_URL): %s; check that it runs and the URL's user, password and database", stripPrefixes(err.Error()))
			return
		}
		r.schema("session store: PostgreSQL (DATABASE_URL)", st.Schema, st.Latest, fmt.Sprintf("%d live session(s)", st.Live))
		return
	}
	if cfg.SessionStore == config.StoreRedis {
		ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
		defer cancel()
		rc, err := openRedis(ctx, cfg, getenv("REDIS_CA_CERT"), true, cfg.RedisClientCache, slog.New(slog.DiscardHandler))
		if err != nil {
			r.fail("session store: %v", err)
			return
		}
		defer rc.close()
		r.ok("session store: Redis at %s answers, scripts loaded; %s", strings.Join(redisAddrs(rc.rdb), ", "), cacheMode(rc.store))
		return
	}
	path := dbPath(cfg)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		r.ok("session store: SQLite %s does not exist yet; created at the first start", path)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	st, err := sqlitestore.Inspect(ctx, path) // read-only: no migration, no sweep
	if err != nil {
		r.fail("session store: SQLite %s cannot be read: %s", path, cause(err))
		return
	}
	r.schema("session store: SQLite "+path, st.Schema, st.Latest, fmt.Sprintf("%d live session(s)", st.Live))
}

// schema reports a database's schema version against the program's: newer
// is a failure (the server refuses it), older a warning (the server
// migrates it at start; doctor itself changes nothing).
func (r *report) schema(what string, have, want int, detail string) {
	switch {
	case have > want:
		r.fail("%s has schema version %d, newer than this tether's %d: run a newer tether", what, have, want)
	case have == 0:
		r.ok("%s has no tables yet; the server creates them at its first start", what)
	case have < want:
		r.warn("%s has schema version %d; the server migrates it to %d at its next start", what, have, want)
	default:
		r.ok("%s, %s", what, detail)
	}
}

// doctorUsers summarises the user directory read-only: no migration, no
// table created (users.InspectSQLite, users.InspectPostgres).
func doctorUsers(ctx context.Context, r *report, cfg *config.Config) {
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	where := "PostgreSQL (DATABASE_URL)"
	var sum users.Summary
	var err error
	if cfg.DatabaseURL != "" {
		sum, err = users.InspectPostgres(ctx, cfg.DatabaseURL)
	} else {
		where = "SQLite " + dbPath(cfg)
		if _, serr := os.Stat(dbPath(cfg)); errors.Is(serr, fs.ErrNotExist) {
			r.warn("users: no database yet; add one with `tether user add NAME` (or start with --demo in development)")
			return
		}
		sum, err = users.InspectSQLite(ctx, dbPath(cfg))
	}
	if err != nil {
		if cfg.DatabaseURL != "" {
			r.fail("users: %s", stripPrefixes(err.Error()))
		} else {
			r.fail("users: %s cannot be read: %s", where, cause(err))
		}
		return
	}
	if sum.Schema >= 1 && sum.Schema <= sum.Latest && sum.Users == 0 {
		r.warn("users: %s has no users; add one with `tether user add NAME`", where)
		return
	}
	r.schema("users: "+where, sum.Schema, sum.Latest,
		fmt.Sprintf("%d user(s), %d admin(s), %d disabled", sum.Users, sum.Admins, sum.Disabled))
}

// doctorDeployment flags set-ups that work but weaken the server.
func doctorDeployment(r *report, cfg *config.Config) {
	if cfg.Production() {
		if !cfg.TrustProxy.Enabled() {
			r.warn("production without TRUST_PROXY: behind a TLS-terminating proxy, set it to the proxies' addresses or CIDRs (a hop count believes any peer) so client IPs and https are believed; without a proxy, serve TLS in front of tether")
		}
		if cfg.MetricsAddr == "" {
			r.warn("production with /metrics on the main listener: anyone who reaches the server can read it; set METRICS_ADDR to a private host:port")
		}
		if cfg.RedisURL != "" && insecureRemote(cfg.RedisURL, "redis") {
			r.warn("REDIS_URL uses redis:// to a remote host: sessions cross the network in clear; use rediss://")
		}
		if cfg.DatabaseURL != "" && insecurePG(cfg.DatabaseURL) {
			r.warn("DATABASE_URL reaches a remote host without sslmode=verify-full or verify-ca: password hashes cross the network unprotected")
		}
	} else if cfg.Host != "127.0.0.1" && cfg.Host != "localhost" && cfg.Host != "::1" {
		r.warn("development server listening on %s: other hosts can reach it, and development cookies are not Secure", cfg.Host)
	}
	if n := cfg.TrustProxy.Hops; n > 0 {
		// issue 11 row 8: a hop count believes X-Forwarded-For from any peer.
		r.warn("TRUST_PROXY=%d is a hop count: the immediate peer is believed whoever it is, so a client that reaches tether without passing the proxy picks its own IP address (rate limits, audit log) and https; set TRUST_PROXY to the proxies' addresses or CIDRs instead (e.g. 10.0.0.0/8 or 192.168.1.10), or make sure only the proxy can reach tether", n)
	}
	if cfg.SessionStore == config.StoreSQLite && cfg.DatabaseURL != "" {
		r.warn("users are shared through DATABASE_URL but sessions stay in this instance's SQLite file: set SESSION_STORE=postgres (or REDIS_URL) when running several instances")
	}
	if cfg.AbsoluteTimeout > 24*time.Hour {
		r.warn("SESSION_ABSOLUTE_TIMEOUT %v is over a day (ASVS 7.3.2 asks for a limit set by risk; a day is already long)", cfg.AbsoluteTimeout)
	}
}

// insecureRemote reports whether raw uses the plain scheme to a host that
// is not loopback.
func insecureRemote(raw, plain string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == plain && !loopback(u.Hostname())
}

func insecurePG(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || loopback(u.Hostname()) || u.Hostname() == "" {
		return false
	}
	m := u.Query().Get("sslmode")
	return m != "verify-full" && m != "verify-ca"
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
