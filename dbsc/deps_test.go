package dbsc

import (
	"os/exec"
	"strings"
	"testing"
)

// The brief and issue 16: dbsc uses the standard library only, so the
// session wiring can import it from the root package's side without
// pulling anything in.
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/tetherhq/tether/dbsc" {
			t.Errorf("dbsc depends on %s; want the standard library only", p)
		}
	}
}
