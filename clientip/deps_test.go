package clientip_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The package imports only the standard library, so an application that
// uses it pulls in nothing else.
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); len(got) != 1 || got[0] != "github.com/tetherhq/tether/clientip" {
		t.Fatalf("non-standard dependencies: got %v, want only the package itself", got)
	}
}
