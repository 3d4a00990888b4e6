package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tetherhq/tether/internal/config"
	"github.com/tetherhq/tether/internal/passwords"
	"github.com/tetherhq/tether/internal/users"
)

// loadConfig reads the environment and ./.env.
func loadConfig(getenv func(string) string) (*config.Config, error) {
	return config.Load(getenv, ".env")
}

// openUsers opens the user directory named by the configuration: in
// PostgreSQL when DATABASE_URL is set (shared by every instance), else in
// the embedded SQLite file in DATA_DIR.
// Passwords are hashed with h (nil: a new passwords.NewHasher()).
func openUsers(ctx context.Context, cfg *config.Config, h *passwords.Hasher) (users.Directory, error) {
	if h == nil {
		h = passwords.NewHasher()
	}
	if cfg.DatabaseURL != "" {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return users.OpenPostgres(ctx, cfg.DatabaseURL, h)
	}
	u, err := users.Open(dbPath(cfg), h)
	if err != nil {
		return nil, fmt.Errorf("open user directory in %s: %w", cfg.DataDir, err)
	}
	return u, nil
}

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
		password, err = readPassword(stdin)
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
		if errors.Is(err, users.ErrUserExists) {
			return fmt.Errorf("user %q already exists", pos[0])
		}
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s, role %s)\n", u.Username, u.ID, u.Role)
	if generated {
		fmt.Fprintf(stdout, "generated password (shown once): %s\n", password)
	}
	return nil
}

// readPassword reads one password from r: everything up to EOF, minus one
// trailing newline ("\n" or "\r\n"), bounded in size.
func readPassword(r io.Reader) (string, error) {
	const max = 1024
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), max+3))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if len(s) > max {
		return "", fmt.Errorf("password from stdin is longer than %d bytes", max)
	}
	if s == "" {
		return "", errors.New("no password on stdin (pipe it in: printf '%s' \"$PW\" | tether user add NAME --password-stdin)")
	}
	return s, nil
}

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

func secretCmd(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "generate" {
		return usageError{"secret: expected: tether secret generate"}
	}
	s, err := config.GenerateSecret()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, s)
	return nil
}
