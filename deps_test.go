package tether_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The root package imports only the standard library, so a user who imports
// tether and one store pulls in that store's driver and nothing else. The
// small companion packages stay as light: audit and csrf add only tether
// itself; secheaders, clientip and throttle nothing (the Redis throttle
// counter, on go-redis, is the redisthrottle subpackage).
func TestPackagesImportOnlyWhatTheyMay(t *testing.T) {
	const root = "github.com/tetherhq/tether"
	cases := []struct {
		pkg     string
		allowed []string // non-standard packages besides pkg itself
	}{
		{".", nil},
		{"./audit", []string{root}},
		{"./csrf", []string{root}},
		{"./secheaders", nil},
		{"./clientip", nil},
		{"./throttle", nil},
	}
	for _, tc := range cases {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			self := root + strings.TrimPrefix(tc.pkg, ".")
			var extra []string
			for _, p := range strings.Fields(string(out)) {
				if p != self && !slices.Contains(tc.allowed, p) {
					extra = append(extra, p)
				}
			}
			if len(extra) > 0 {
				t.Fatalf("package %s depends on %v; want only the standard library and %v", tc.pkg, extra, tc.allowed)
			}
		})
	}
}
