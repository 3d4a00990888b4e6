package dbsc

import (
	"os/exec"
	"strings"
	"testing"
)

// The brief and issue 16: dbsc uses the standard library only, and the
// root package tether (itself standard library only, see the root's
// TestPackagesImportOnlyWhatTheyMay) for the session wiring.
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/tetherhq/tether/dbsc" && p != "github.com/tetherhq/tether" {
			t.Errorf("dbsc depends on %s; want the standard library and tether only", p)
		}
	}
}
