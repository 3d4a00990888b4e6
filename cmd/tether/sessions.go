package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/audit"
	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/internal/users"
)

// sessionsCmd runs `tether sessions list --user NAME` (the account's live
// sessions, as a table), `tether sessions revoke --user NAME [--id ID]`
// (end them all, or only the one with that id; an id that names no live
// session of the user is an error, so a typo never looks like success) and
// `tether sessions revoke --all` (every session of every user, anonymous
// ones included: revokeAll).
func sessionsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "revoke") {
		return usageError{"sessions: expected list or revoke, with --user NAME"}
	}
	fs := flag.NewFlagSet("sessions "+args[0], flag.ContinueOnError)
	user := fs.String("user", "", "user name")
	id := fs.String("id", "", "revoke only this session (an id from sessions list)")
	all := fs.Bool("all", false, "revoke every session of every user, anonymous ones included")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if *all {
		if args[0] != "revoke" || *user != "" || *id != "" || len(pos) != 0 {
			return usageError{"sessions: --all goes with revoke alone: tether sessions revoke --all"}
		}
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return revokeAll(ctx, cfg, getenv, stdout, stderr)
	}
	if *user == "" || len(pos) != 0 {
		return usageError{"sessions " + args[0] + ": expected --user NAME (or revoke --all)"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	return withUser(ctx, cfg, getenv, stderr, *user, func(env *adminEnv, u users.User) error {
		if args[0] == "revoke" {
			var ids []string
			if *id != "" {
				ids = []string{*id}
			} else if err := env.app.users.RaiseGeneration(ctx, u.Username); err != nil {
				// All of them: raise the credential generation first, so
				// that a login in flight is refused too (issue 11 row 3).
				return userErr(*user, err)
			}
			n, err := env.endSessions(ctx, u, "admin", ids...)
			if err != nil {
				return err
			}
			if n == 0 && *id != "" {
				return fmt.Errorf("%s has no session with id %q (it ended already, or the id is mistyped); see the live ones with `tether sessions list --user %s`", *user, *id, *user)
			}
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
	})
}

// revokeAll runs `tether sessions revoke --all`: like DELETE /admin/sessions
// (ASVS 7.4.5), it raises every user's credential generation, so that logins
// in flight are refused at their next request too, then deletes every
// session from the store, anonymous ones included, without rotating the
// secrets. It prints the count and records session_revoked with reason
// revoke_all on stderr.
func revokeAll(ctx context.Context, cfg *config.Config, getenv func(string) string, stdout, stderr io.Writer) error {
	env, err := openAdmin(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer env.app.Close()
	if _, err := env.app.users.RaiseAllGenerations(ctx); err != nil {
		return fmt.Errorf("no session ended: %w", err)
	}
	n, err := env.m.EndAllSessions(ctx)
	if err != nil {
		return fmt.Errorf("every user's credential generation was raised (their sessions are refused at their next account check), but the sessions could not be deleted: %w", err)
	}
	env.events.Log(ctx, audit.Event{Type: tether.EventSessionRevoked, Attrs: []slog.Attr{
		slog.String("actor", "cli"), slog.Int("count", n), slog.String("reason", tether.ReasonRevokeAll)}})
	fmt.Fprintf(stdout, "%d session(s) ended: every user's, anonymous ones included\n", n)
	return nil
}
