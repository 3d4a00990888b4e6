// Command tether is the reference server and admin CLI for tether sessions.
//
//	tether serve [--demo] [--port N] [--host H] [--data-dir DIR]
//	tether user add NAME [--role admin] [--password-stdin]
//	tether user passwd|disable|enable|role|list …
//	tether sessions list|revoke --user NAME
//	tether sessions revoke --all
//	tether secret generate
//	tether doctor
//	tether version
//
// Every command reads the same configuration (environment, then .env in the
// working directory; the real environment wins), so it acts on the same
// stores as a running server.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tether:", stripPrefixes(err.Error()))
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `usage:
  tether serve [--demo] [--port N] [--host ADDR] [--data-dir DIR]
  tether user add NAME [--role user|admin] [--password-stdin]
  tether user passwd NAME --password-stdin
  tether user disable|enable NAME
  tether user role NAME user|admin
  tether user list
  tether sessions list|revoke --user NAME [--id ID]
  tether sessions revoke --all
  tether secret generate
  tether doctor
  tether version

Configuration comes from the environment and ./.env (see README).
`

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is the whole program, with its world passed in so tests can run it
// in-process: security events go to stdout as JSON lines, everything else to
// stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		return userCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "sessions":
		return sessionsCmd(ctx, args[1:], getenv, stdout, stderr)
	case "secret":
		return secretCmd(args[1:], stdout)
	case "doctor":
		return doctor(ctx, args[1:], getenv, stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "tether", buildVersion())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
