package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/audit"
	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/internal/server"
	"github.com/tetherhq/tether/internal/users"
)

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

func openAdmin(ctx context.Context, cfg *config.Config, getenv func(string) string, stderr io.Writer) (*adminEnv, error) {
	a, err := openApp(ctx, cfg, getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	m, err := tether.New(tether.Config{Store: a.sessions, Secrets: a.secrets, Production: cfg.Production()})
	if err != nil {
		a.Close()
		return nil, err
	}
	return &adminEnv{app: a, m: m, events: audit.New(stderr)}, nil
}

// event records an admin action on user u.
func (env *adminEnv) event(ctx context.Context, name string, u users.User, attrs ...slog.Attr) {
	env.events.Log(ctx, audit.Event{Name: name, UserID: u.ID,
		Attrs: append([]slog.Attr{slog.String("actor", "cli"), slog.String("username", u.Username)}, attrs...)})
}

// oneName parses NAME plus flags, in any order.
func oneName(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usageError{what + ": expected exactly one user name"}
	}
	return pos[0], nil
}

func userPasswd(ctx context.Context, cfg *config.Config, getenv func(string) string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user passwd", flag.ContinueOnError)
	fromStdin := fs.Bool("password-stdin", false, "read the new password from standard input")
	name, err := oneName(fs, args, "user passwd")
	if err != nil {
		return err
	}
	if !*fromStdin {
		return usageError{"user passwd: give the new password on stdin with --password-stdin"}
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return err
	}
	env, err := openAdmin(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer env.app.Close()
	u, err := env.app.users.Get(ctx, name)
	if err != nil {
		return userErr(name, err)
	}
	if err := env.app.users.SetPassword(ctx, name, pw); err != nil {
		return err
	}
	env.event(ctx, "password_changed", u)
	n, err := env.m.EndUserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	env.event(ctx, "session_revoked", u, slog.Int("count", n), slog.String("reason", "password_changed"))
	fmt.Fprintf(stdout, "password of %s changed; %d session(s) ended\n", name, n)
	return nil
}

func userDisable(ctx context.Context, cfg *config.Config, getenv func(string) string, disable bool, args []string, stdout, stderr io.Writer) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	name, err := oneName(flag.NewFlagSet("user "+verb, flag.ContinueOnError), args, "user "+verb)
	if err != nil {
		return err
	}
	env, err := openAdmin(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer env.app.Close()
	u, err := env.app.users.Get(ctx, name)
	if err != nil {
		return userErr(name, err)
	}
	if err := env.app.users.SetDisabled(ctx, name, disable); err != nil {
		return err
	}
	if !disable {
		env.event(ctx, "user_enabled", u)
		fmt.Fprintf(stdout, "user %s enabled\n", name)
		return nil
	}
	env.event(ctx, "user_disabled", u)
	// ASVS 7.4.2 / 7.4.5: disabling an account ends its sessions at once.
	n, err := env.m.EndUserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	env.event(ctx, "session_revoked", u, slog.Int("count", n), slog.String("reason", "account_disabled"))
	fmt.Fprintf(stdout, "user %s disabled; %d session(s) ended\n", name, n)
	return nil
}

func userRole(ctx context.Context, cfg *config.Config, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	pos, err := parseFlags(flag.NewFlagSet("user role", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"user role: expected NAME ROLE (user or admin)"}
	}
	env, err := openAdmin(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer env.app.Close()
	u, err := env.app.users.Get(ctx, pos[0])
	if err != nil {
		return userErr(pos[0], err)
	}
	if err := env.app.users.SetRole(ctx, pos[0], pos[1]); err != nil {
		return userErr(pos[0], err)
	}
	env.event(ctx, "role_changed", u, slog.String("from", u.Role), slog.String("to", pos[1]))
	// The server re-reads the account at each flagged session's next
	// request: new token, and the new role's absolute timeout.
	n, err := env.m.SetUserSessions(ctx, u.ID, server.AccountChangedKey, 1)
	if err != nil {
		return fmt.Errorf("role of %s changed, but its live sessions could not be flagged (they pick it up within a minute): %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "role of %s is now %s; %d live session(s) get a new token at their next request\n", pos[0], pos[1], n)
	return nil
}

func userErr(name string, err error) error {
	if errors.Is(err, users.ErrNotFound) {
		return fmt.Errorf("no user named %q", name)
	}
	return err
}

func sessionsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "revoke") {
		return usageError{"sessions: expected list or revoke, with --user NAME"}
	}
	fs := flag.NewFlagSet("sessions "+args[0], flag.ContinueOnError)
	user := fs.String("user", "", "user name")
	id := fs.String("id", "", "revoke only this session (an id from sessions list)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if *user == "" || len(pos) != 0 {
		return usageError{"sessions " + args[0] + ": expected --user NAME"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	env, err := openAdmin(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer env.app.Close()
	u, err := env.app.users.Get(ctx, *user)
	if err != nil {
		return userErr(*user, err)
	}
	if args[0] == "revoke" {
		var ids []string
		if *id != "" {
			ids = []string{*id}
		}
		n, err := env.m.EndUserSessions(ctx, u.ID, ids...)
		if err != nil {
			return err
		}
		env.event(ctx, "session_revoked", u, slog.Int("count", n), slog.String("reason", "admin"))
		fmt.Fprintf(stdout, "%d session(s) of %s ended\n", n, *user)
		return nil
	}
	list, err := env.m.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tIDLE DEADLINE\tABSOLUTE DEADLINE")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.CreatedAt.UTC().Format(time.RFC3339),
			s.IdleDeadline.UTC().Format(time.RFC3339), s.AbsoluteDeadline.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
