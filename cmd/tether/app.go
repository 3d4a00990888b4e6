package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/audit"
	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/passwords"
	"github.com/tetherhq/tether/sqlitestore"
)

// loadConfig reads the environment and ./.env.
func loadConfig(getenv func(string) string) (*config.Config, error) {
	return config.Load(getenv, ".env")
}

// app holds the stores every command opens.
type app struct {
	rdb      redis.UniversalClient // nil without REDIS_URL
	secrets  [][]byte
	sessions tether.Store
	users    users.Directory
	hasher   *passwords.Hasher // one per process: its bound on concurrent hashing is global
	ping     []func(context.Context) error
	closers  []func() error
}

// dbPath is the embedded database in the data directory.
func dbPath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "tether.db") }

// openApp opens the stores the configuration names: sessions where
// SESSION_STORE says (Redis at REDIS_URL, PostgreSQL at DATABASE_URL, or the
// SQLite file in DATA_DIR), Redis for the login throttling counters
// whenever REDIS_URL is set, users in PostgreSQL
// (DATABASE_URL) or in that same file. It creates DATA_DIR (mode 0700) when
// it is missing; warnings (DATA_DIR open to other users, those of the
// secrets) and where the stores are go to log.
func openApp(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create DATA_DIR %s: %s; set DATA_DIR (or --data-dir) to a directory you can write", cfg.DataDir, cause(err))
	}
	if st, err := os.Stat(cfg.DataDir); err == nil {
		if w := openDataDir(cfg.DataDir, st.Mode()); w != "" {
			log.Warn(w)
		}
	}
	secrets, warnings, err := cfg.Secrets()
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	a := &app{secrets: secrets}
	if cfg.RedisURL != "" {
		// With another SESSION_STORE, Redis still holds the login
		// throttling counters that every instance shares.
		sessionsHere := cfg.SessionStore == config.StoreRedis
		rc, err := openRedis(ctx, cfg, getenv("REDIS_CA_CERT"), sessionsHere, cfg.RedisClientCache, log)
		if err != nil {
			return nil, err
		}
		a.rdb = rc.rdb
		a.ping = append(a.ping, rc.ping)
		a.closers = append(a.closers, rc.close)
		if sessionsHere {
			a.sessions = rc.store
			log.Info("sessions in Redis", "addrs", strings.Join(redisAddrs(rc.rdb), ","), "client_cache", rc.store.CacheEnabled())
		}
	}
	switch cfg.SessionStore {
	case config.StorePostgres:
		store, err := openPostgresSessions(ctx, cfg)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.sessions = store
		a.ping = append(a.ping, store.Ping)
		a.closers = append(a.closers, store.Close)
		log.Info("sessions in PostgreSQL (DATABASE_URL)")
	case config.StoreSQLite:
		store, err := sqlitestore.Open(dbPath(cfg), sqlitestore.Options{})
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("cannot open the session database %s: %s; check that DATA_DIR is a directory you can write", dbPath(cfg), cause(err))
		}
		a.sessions = store
		a.ping = append(a.ping, store.Ping)
		a.closers = append(a.closers, store.Close)
	}
	a.hasher = passwords.NewHasher()
	a.users, err = openUsers(ctx, cfg, a.hasher)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.ping = append(a.ping, a.users.Ping)
	a.closers = append(a.closers, a.users.Close)
	if cfg.DatabaseURL != "" {
		log.Info("users in PostgreSQL (DATABASE_URL)")
	}
	return a, nil
}

// Ping reports whether the stores answer.
func (a *app) Ping(ctx context.Context) error {
	var errs []error
	for _, p := range a.ping {
		errs = append(errs, p(ctx))
	}
	return errors.Join(errs...)
}

// Close closes the stores, last opened first.
func (a *app) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
}

// openUsers opens the user directory named by the configuration: in
// PostgreSQL when DATABASE_URL is set (shared by every instance), else in
// the embedded SQLite file in DATA_DIR, which it creates (mode 0700) when
// it is missing, as openApp does, so `tether user add` works on a fresh
// machine. Passwords are hashed with h (nil: a new passwords.NewHasher()).
func openUsers(ctx context.Context, cfg *config.Config, h *passwords.Hasher) (users.Directory, error) {
	if h == nil {
		h = passwords.NewHasher()
	}
	if cfg.DatabaseURL != "" {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		u, err := users.OpenPostgres(ctx, cfg.DatabaseURL, h)
		if err != nil {
			msg := stripPrefixes(err.Error())
			if !strings.HasPrefix(msg, "cannot ") {
				msg = "cannot open the user directory in PostgreSQL (DATABASE_URL): " + msg
			}
			return nil, errors.New(msg)
		}
		return u, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create DATA_DIR %s: %s; set DATA_DIR (or --data-dir) to a directory you can write", cfg.DataDir, cause(err))
	}
	u, err := users.Open(dbPath(cfg), h)
	if err != nil {
		return nil, fmt.Errorf("cannot open the user database %s: %s; check that DATA_DIR is a directory you can write", dbPath(cfg), cause(err))
	}
	return u, nil
}

// openDataDir returns a warning when DATA_DIR, of mode mode, lets other
// users in: it holds the database (password hashes, sessions) and, in
// development, the generated secret. A directory tether creates is 0700;
// one made by someone else is left as it is, and reported.
func openDataDir(dir string, mode fs.FileMode) string {
	if mode.Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("DATA_DIR %s is open to other users (mode %v): it holds the database and the development secret; chmod 700 it", dir, mode.Perm())
}

// adminEnv opens what an admin command acts on: the user directory and a
// Manager on the configured session store (SQLite or Redis), so a command
// run beside a live server changes what the server sees at once. The
// security events of admin actions (user_disabled, password_changed,
// session_revoked, …) go to stderr as JSON lines in the server's format,
// with "actor":"cli", so the action is on record wherever the operator's
// shell is logged; stdout keeps the human-readable result.
type adminEnv struct {
	app    *app
	m      *tether.Manager
	events *audit.Logger
}

// openAdmin opens the stores without logging and a Manager on them; the
// events of the admin actions go to stderr.
func openAdmin(ctx context.Context, cfg *config.Config, getenv func(string) string, stderr io.Writer) (*adminEnv, error) {
	a, err := openApp(ctx, cfg, getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	m, err := tether.New(tether.Config{Store: a.sessions, Secrets: a.secrets, Production: cfg.Production(),
		EncryptionKeys: cfg.EncryptionKeys}) // the sessions serve wrote, and its user index
	if err != nil {
		a.Close()
		return nil, err
	}
	return &adminEnv{app: a, m: m, events: audit.New(stderr)}, nil
}

// event records an admin action on user u.
func (env *adminEnv) event(ctx context.Context, name string, u users.User, attrs ...slog.Attr) {
	env.events.Log(ctx, audit.Event{Type: name, UserID: u.ID,
		Attrs: append([]slog.Attr{slog.String("actor", "cli"), slog.String("username", u.Username)}, attrs...)})
}

// withUser opens the admin environment, looks up the user named name and
// runs act on both, closing the stores when act returns. A name that is
// not in the directory is an error that says so (userErr).
func withUser(ctx context.Context, cfg *config.Config, getenv func(string) string, stderr io.Writer, name string,
	act func(env *adminEnv, u users.User) error) error {
	env, err := openAdmin(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer env.app.Close()
	u, err := env.app.users.Get(ctx, name)
	if err != nil {
		return userErr(name, err)
	}
	return act(env, u)
}

// endSessions ends u's sessions (only those with the given ids, when there
// are any) and records how many as a session_revoked event with reason;
// ids that match no live session end nothing and record no event.
func (env *adminEnv) endSessions(ctx context.Context, u users.User, reason string, ids ...string) (int, error) {
	n, err := env.m.EndUserSessions(ctx, u.ID, ids...)
	if err != nil {
		return 0, err
	}
	if n == 0 && len(ids) > 0 {
		return 0, nil
	}
	env.event(ctx, tether.EventSessionRevoked, u, slog.Int("count", n), slog.String("reason", reason))
	return n, nil
}
