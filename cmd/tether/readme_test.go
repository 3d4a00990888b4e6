package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's set-up section agrees with go.mod on the Go version, and a
// newcomer meets the `go install` line (with the warning that the first
// build is slow) before any `tether …` command.
func TestReadmeSetUp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("no README beside the module: %v", err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (1\.\d+)(\.\d+)?$`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	want := string(m[1])
	text := string(readme)
	for _, v := range regexp.MustCompile(`Go (1\.\d+) or newer`).FindAllStringSubmatch(text, -1) {
		if v[1] != want {
			t.Errorf("README says %q, go.mod says go %s", v[0], want)
		}
	}
	if !strings.Contains(text, "Go "+want+" or newer") {
		t.Errorf("README does not say \"Go %s or newer\" (go.mod's go line)", want)
	}
	install := strings.Index(text, "\ngo install github.com/tetherhq/tether/cmd/tether@latest\n")
	first := regexp.MustCompile("(?m)^(\\$ )?tether [a-z]").FindStringIndex(text)
	if install < 0 || first == nil || install > first[0] {
		t.Errorf("README: the go install line (at %d) must come before the first tether command (at %v)", install, first)
	}
	if slow := strings.Index(text, "the first build takes a minute or two"); slow < 0 || slow > install {
		t.Errorf("README: say that the first build takes a minute or two, before the go install line")
	}
}
