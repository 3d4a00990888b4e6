package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/internal/server"
	"github.com/tetherhq/tether/internal/users"
)

// userCmd runs `tether user SUBCOMMAND …` (add, passwd, disable, enable,
// role or list) on the user directory the configuration names.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"user: expected a subcommand: add, passwd, disable, enable, role, list"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, cfg, args[1:], stdin, stdout)
	case "list":
		return userList(ctx, cfg, args[1:], stdout)
	case "passwd":
		return userPasswd(ctx, cfg, getenv, args[1:], stdin, stdout, stderr)
	case "disable", "enable":
		return userDisable(ctx, cfg, getenv, args[0] == "disable", args[1:], stdout, stderr)
	case "role":
		return userRole(ctx, cfg, getenv, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("user: unknown subcommand %q (want add, passwd, disable, enable, role or list)", args[0])}
}

// userAdd runs `tether user add NAME [--role user|admin] [--password-stdin]`:
// it creates the account with the password read from stdin, or with a
// generated one that it prints once.
func userAdd(ctx context.Context, cfg *config.Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	role := fs.String("role", "user", "role: user or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (one trailing newline is dropped)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"user add: expected exactly one user name"}
	}
	if *role != "user" && *role != "admin" {
		return usageError{fmt.Sprintf("user add: --role %q: want user or admin", *role)}
	}
	password, generated := "", false
	if *fromStdin {
		password, err = readPassword(stdin, "tether user add NAME --password-stdin")
		if err != nil {
			return err
		}
	} else {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		password, generated = base64.RawURLEncoding.EncodeToString(b), true
	}
	dir, err := openUsers(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer dir.Close()
	u, err := dir.Add(ctx, pos[0], password, *role)
	if err != nil {
		return passwordErr("user add", userErr(pos[0], err))
	}
	fmt.Fprintf(stdout, "created user %s (%s, role %s)\n", u.Username, u.ID, u.Role)
	if generated {
		fmt.Fprintf(stdout, "generated password (shown once): %s\n", password)
	}
	return nil
}

// readPassword reads one password from r: everything up to EOF, minus one
// trailing newline ("\n" or "\r\n"), bounded in size. usage is the
// command line to show when stdin is empty.
func readPassword(r io.Reader, usage string) (string, error) {
	const max = 1024
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), max+3))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if len(s) > max {
		return "", fmt.Errorf("the password on stdin is longer than %d bytes; choose a shorter one", max)
	}
	if s == "" {
		return "", fmt.Errorf("no password on stdin; pipe it in: printf '%%s' \"$PW\" | %s", usage)
	}
	return s, nil
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

// userPasswd runs `tether user passwd NAME --password-stdin`: it sets the
// password read from stdin and ends every session of the account.
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
	pw, err := readPassword(stdin, "tether user passwd NAME --password-stdin")
	if err != nil {
		return err
	}
	return withUser(ctx, cfg, getenv, stderr, name, func(env *adminEnv, u users.User) error {
		// SetPassword raises the credential generation with the new hash;
		// the sessions are ended only after it, so a login that verified
		// the old password meanwhile is refused at its next request too
		// (issue 11 row 3).
		if err := env.app.users.SetPassword(ctx, name, pw); err != nil {
			return passwordErr("user passwd", userErr(name, err))
		}
		env.event(ctx, tether.EventPasswordChanged, u)
		n, err := env.endSessions(ctx, u, tether.EventPasswordChanged)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; %d session(s) ended\n", name, n)
		return nil
	})
}

// userDisable runs `tether user disable NAME` (disable true) and `tether user
// enable NAME`. A disabled account cannot log in; disabling it also ends its
// sessions.
func userDisable(ctx context.Context, cfg *config.Config, getenv func(string) string, disable bool, args []string, stdout, stderr io.Writer) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	name, err := oneName(flag.NewFlagSet("user "+verb, flag.ContinueOnError), args, "user "+verb)
	if err != nil {
		return err
	}
	return withUser(ctx, cfg, getenv, stderr, name, func(env *adminEnv, u users.User) error {
		// Disabling raises the credential generation in the same statement,
		// before the sessions are ended (issue 11 row 3).
		if err := env.app.users.SetDisabled(ctx, name, disable); err != nil {
			return err
		}
		if !disable {
			env.event(ctx, tether.EventUserEnabled, u)
			fmt.Fprintf(stdout, "user %s enabled\n", name)
			return nil
		}
		env.event(ctx, tether.EventUserDisabled, u)
		// ASVS 7.4.2 / 7.4.5: disabling an account ends its sessions at once.
		n, err := env.endSessions(ctx, u, "account_disabled")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s disabled; %d session(s) ended\n", name, n)
		return nil
	})
}

// userRole runs `tether user role NAME user|admin`: it changes the role and
// flags the account's live sessions, so that each gets a new token and the
// new role's absolute timeout at its next request.
func userRole(ctx context.Context, cfg *config.Config, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	pos, err := parseFlags(flag.NewFlagSet("user role", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"user role: expected NAME ROLE (user or admin)"}
	}
	return withUser(ctx, cfg, getenv, stderr, pos[0], func(env *adminEnv, u users.User) error {
		if err := env.app.users.SetRole(ctx, pos[0], pos[1]); err != nil {
			return roleErr(pos[1], userErr(pos[0], err))
		}
		env.event(ctx, tether.EventRoleChanged, u, slog.String("from", u.Role), slog.String("to", pos[1]))
		// The server re-reads the account at each flagged session's next
		// request: new token, and the new role's absolute timeout.
		n, err := env.m.SetUserSessions(ctx, u.ID, server.AccountChangedKey, 1)
		if err != nil {
			return fmt.Errorf("role of %s changed, but its live sessions could not be flagged (they pick it up within a minute): %w", pos[0], err)
		}
		fmt.Fprintf(stdout, "role of %s is now %s; %d live session(s) get a new token at their next request\n", pos[0], pos[1], n)
		return nil
	})
}

// userList runs `tether user list`: every account, as a table.
func userList(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	if len(args) != 0 {
		return usageError{"user list takes no arguments"}
	}
	dir, err := openUsers(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer dir.Close()
	list, err := dir.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tROLE\tDISABLED\tCREATED")
	for _, u := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", u.ID, u.Username, u.Role, u.Disabled, u.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return tw.Flush()
}
