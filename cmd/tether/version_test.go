package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	vcs := func(mod string, kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/tetherhq/tether", Version: mod}}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	const rev = "94e661e1a2b3c4d5e6f708192a3b4c5d6e7f8091"
	cases := []struct {
		name string
		x    string // -X main.version
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"-X wins over build info", "v1.4.0", vcs("v1.3.0", "vcs.revision", rev), true, "v1.4.0"},
		{"-X without build info", "v1.4.0", nil, false, "v1.4.0"},
		{"no build info", "dev", nil, false, "dev"},
		{"go install @version", "dev", vcs("v1.3.0"), true, "v1.3.0"},
		{"checkout build, clean", "dev", vcs("v0.0.0-20261201203000-94e661e1a2b3", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-01T20:30:00Z", "vcs.modified", "false"),
			true, "v0.0.0-20261201203000-94e661e1a2b3 (revision 94e661e1a2b3, 2026-12-01T20:30:00Z)"},
		{"checkout build, modified", "dev", vcs("v0.0.0-20261201203000-94e661e1a2b3+dirty", "vcs.revision", rev, "vcs.time", "2026-12-01T20:30:00Z", "vcs.modified", "true"),
			true, "v0.0.0-20261201203000-94e661e1a2b3+dirty (revision 94e661e1a2b3, 2026-12-01T20:30:00Z, modified)"},
		{"devel with a revision", "dev", vcs("(devel)", "vcs.revision", rev), true, "dev (revision 94e661e1a2b3)"},
		{"devel without vcs", "dev", vcs("(devel)"), true, "dev"},
		{"short revision kept whole", "", vcs("", "vcs.revision", "abc"), true, "dev (revision abc)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionString(tc.x, tc.bi, tc.ok); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// versionRE is the shape of every version string without -X.
var versionRE = regexp.MustCompile(`^(dev|v\S+)( \(revision [0-9a-f]{1,12}(, \S+)?(, modified)?\))?$`)

// `tether version` prints this binary's own build information.
func TestVersionCommand(t *testing.T) {
	out, err := runCLI(t, t.TempDir(), "", "version")
	if err != nil {
		t.Fatal(err)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build information")
	}
	want := "tether " + versionString(version, bi, ok) + "\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if v := strings.TrimSuffix(strings.TrimPrefix(out, "tether "), "\n"); version == "dev" && !versionRE.MatchString(v) {
		t.Fatalf("got %q, want a version of the form %s", v, versionRE)
	}
}

// A binary built in the git checkout (as `go build` and `go install` do by
// default) names its commit instead of the bare "dev" (that -X wins is in
// TestVersionString: a second build costs a minute on a busy machine).
func TestVersionBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git command")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil || len(rev) < 12 {
		t.Skipf("not in a git checkout: %v", err)
	}
	dir := t.TempDir()
	build := func(name string, flags ...string) string {
		t.Helper()
		bin := filepath.Join(dir, name)
		cmd := exec.Command(gobin, append(append([]string{"build", "-buildvcs=true", "-o", bin}, flags...), ".")...)
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", flags, err, out)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatalf("%s version: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	got := build("tether")
	v := strings.TrimPrefix(got, "tether ")
	if !versionRE.MatchString(v) || !strings.Contains(v, "(revision "+string(rev[:12])) {
		t.Errorf("built in the checkout: got %q, want a version naming revision %s", got, rev[:12])
	}
}
