package main

import (
	"fmt"
	"io"

	"github.com/tetherhq/tether/internal/config"
)

// secretCmd runs `tether secret generate`: it prints a new random secret
// for SESSION_SECRET.
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
