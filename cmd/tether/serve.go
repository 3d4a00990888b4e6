package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/audit"
	"github.com/tetherhq/tether/clientip"
	"github.com/tetherhq/tether/internal/server"
	"github.com/tetherhq/tether/internal/users"
	"github.com/tetherhq/tether/metrics"
	"github.com/tetherhq/tether/throttle"
	"github.com/tetherhq/tether/throttle/redisthrottle"
)

// demoUser is created by serve --demo (development only): the seed's user.
const (
	demoUser     = "alice"
	demoPassword = "correct-horse"
)

// shutdownGrace bounds a graceful shutdown.
const shutdownGrace = 10 * time.Second

// serve runs `tether serve`: the HTTP server on the configured stores until
// ctx is cancelled, then a graceful shutdown of at most shutdownGrace.
// Security events go to stdout as JSON lines, the operational log to
// stderr. --demo (refused in production) first creates the demo user.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "create the demo user alice / correct-horse (development only)")
	port := fs.String("port", "", "listen port (overrides PORT)")
	host := fs.String("host", "", "listen address (overrides HOST)")
	dataDir := fs.String("data-dir", "", "data directory (overrides DATA_DIR)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", pos[0])}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if *port != "" {
		p, err := strconv.Atoi(*port)
		if err != nil || p < 0 || p > 65535 {
			return usageError{fmt.Sprintf("--port %q is not a port number (0-65535)", *port)}
		}
		cfg.Port = p
	}
	if *host != "" {
		cfg.Host = *host
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *demo && cfg.Production() {
		return errors.New("--demo creates a user with a published password and is refused when APP_ENV=production")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	app, err := openApp(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer app.Close()

	if *demo {
		if err := ensureDemoUser(ctx, app.users); err != nil {
			return err
		}
		log.Info("demo user ready", "username", demoUser)
	}

	events := audit.New(stdout)
	resolver := clientip.New(cfg.TrustProxy)
	mets := metrics.New()
	mets.Passwords(app.hasher)
	var counter, sharedCounter throttle.Counter = throttle.NewMemory(nil), nil
	if app.rdb != nil {
		counter = redisthrottle.New(app.rdb, "") // shared by every instance
		sharedCounter = counter
	}
	allow, err := allowCreate(cfg.CreatePerIP, sharedCounter, resolver.ClientIP)
	if err != nil {
		return err
	}
	m, err := tether.New(tether.Config{
		Store:                mets.Store(app.sessions),
		Secrets:              app.secrets,
		EncryptionKeys:       cfg.EncryptionKeys,
		Production:           cfg.Production(),
		IdleTimeout:          cfg.IdleTimeout,
		AbsoluteTimeout:      cfg.AbsoluteTimeout,
		RoleAbsoluteTimeouts: map[string]time.Duration{"admin": cfg.AdminAbsoluteTimeout},
		CookieMode:           cfg.CookieMode,
		RenewInterval:        cfg.RenewInterval,
		RenewGrace:           cfg.RenewGrace,
		AnonymousIdleTimeout: cfg.AnonIdleTimeout,
		AllowCreate:          allow,
		ClientIP:             resolver.ClientIP,
		OnEvent: func(e tether.Event) {
			mets.Event(e.Type)
			mets.DBSC(e)
			events.OnEvent(e)
		},
	})
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{Manager: m, Users: app.users, Ready: app.Ping, Log: log, Production: cfg.Production(), Proxy: resolver,
		Metrics: mets, MetricsOnMain: cfg.MetricsAddr == "",
		Binding: cfg.Binding, ReauthWindow: cfg.ReauthWindow, TrustedOrigins: cfg.TrustedOrigins, ClientIP: resolver.ClientIP,
		Throttle: throttle.New(counter, throttle.Policy{
			AccountLimit: int64(cfg.LoginMaxFailures), IPLimit: int64(cfg.LoginMaxFailuresPerIP), Window: cfg.LoginWindow}), MaxPerUser: cfg.MaxPerUser,
		DeviceKeys: server.DeviceKeys(app.secrets), DBSCOff: !cfg.DBSC.Enabled, DBSCCookieTTL: cfg.DBSC.CookieTTL})
	if err != nil {
		return err
	}

	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %s; stop what listens there, or set PORT (or --port) to a free one (`tether doctor` checks it)", addr, cause(err))
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(jsonErrorListener{ln}) }() // net/http's own 400/431/501/505 as JSON too
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("cannot listen on METRICS_ADDR %s: %s; set METRICS_ADDR to a free host:port", cfg.MetricsAddr, cause(err))
		}
		mm := http.NewServeMux()
		mm.Handle("GET /metrics", mets.Handler())
		ms := &http.Server{Handler: mm, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- ms.Serve(mln) }()
		defer ms.Close()
		fmt.Fprintf(stderr, "Metrics on http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(stderr, "Listening on http://%s (APP_ENV=%s, data in %s)\n", ln.Addr(), cfg.Env, cfg.DataDir)

	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// ensureDemoUser creates the demo user in dir unless it exists already.
func ensureDemoUser(ctx context.Context, dir users.Directory) error {
	_, err := dir.Add(ctx, demoUser, demoPassword, "user")
	if err != nil && !errors.Is(err, users.ErrUserExists) {
		return fmt.Errorf("create demo user: %w", err)
	}
	return nil
}
