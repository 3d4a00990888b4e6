package main

import (
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…"; when it is
// left at "dev", versionString reads the version from the build information
// the go command embeds in the binary.
var version = "dev"

// versionString is what `tether version` prints after "tether ": v when it
// was set with -X (anything but "dev"); otherwise what the build
// information bi holds (ok is ReadBuildInfo's second result): the module
// version ("v1.2.0" from `go install …@v1.2.0`, a pseudo-version such as
// "v0.0.0-20261201203000-94e661e1a2b3+dirty" from a build in a checkout),
// then, when the build recorded its version control state, the revision
// (12 hex digits), the commit time and "modified" for uncommitted changes:
//
//	v0.0.0-20261201203000-94e661e1a2b3+dirty (revision 94e661e1a2b3, 2026-12-01T20:30:00Z, modified)
//
// A build with neither (go run, or -buildvcs=false outside a module
// version) is "dev".
func versionString(v string, bi *debug.BuildInfo, ok bool) string {
	if v != "" && v != "dev" {
		return v
	}
	if !ok || bi == nil {
		return "dev"
	}
	out := "dev"
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		out = mv
	}
	var vcs []string
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		vcs = append(vcs, "revision "+rev[:min(len(rev), 12)])
	}
	if at != "" {
		vcs = append(vcs, at)
	}
	if modified == "true" {
		vcs = append(vcs, "modified")
	}
	if len(vcs) > 0 {
		out += " (" + strings.Join(vcs, ", ") + ")"
	}
	return out
}

// buildVersion is the running binary's version string.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	return versionString(version, bi, ok)
}
