package tether_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The root package imports only the standard library, so a user who imports
// tether and one store pulls in that store's driver and nothing else.
func TestRootImportsOnlyStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var nonStd []string
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/tetherhq/tether" {
			nonStd = append(nonStd, p)
		}
	}
	if len(nonStd) > 0 {
		t.Fatalf("package tether depends on non-standard packages %v; want only the standard library", nonStd)
	}
}
