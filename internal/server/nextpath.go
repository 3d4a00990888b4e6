package server

import (
	"net/url"
	"strings"
)

// maxNextBytes bounds the ?next= return path.
const maxNextBytes = 512

// safeNext returns next when it is a path on this origin that a browser
// will resolve to this origin, else def. It guards the sign-in page's return
// path (/login?next=…) against open redirects (issue 15): the value comes
// from the URL, so anyone can make a link with it.
//
// Accepted: an absolute path ("/account", "/admin?x=1") that starts with
// exactly one "/". Refused: a scheme ("https://evil", "javascript:…"), a
// scheme-relative or backslash form that browsers read as another host
// ("//evil", "/\evil", "\\evil"), control characters and spaces (browsers
// strip tabs and newlines from URLs, so "/\t/evil" is "//evil"), a
// fragment, anything url.Parse does not read as a bare path, and the same
// forms percent-encoded once more ("/%2F%2Fevil", "/%5Cevil"), so that no
// later decoding step can turn an accepted value into another host. The
// sign-in page itself is refused too (no loop).
func safeNext(next, def string) string {
	if next == "" || len(next) > maxNextBytes || !plainPath(next) {
		return def
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" || u.RawFragment != "" {
		return def
	}
	if !plainPath(u.Path) {
		return def // the decoded path hides a second slash or a backslash
	}
	if u.Path == "/login" || strings.HasPrefix(u.Path, "/login/") {
		return def
	}
	return next
}

// plainPath reports whether p starts with one "/" followed by something
// other than "/" or "\", and holds no backslash, control character, space
// or "#".
func plainPath(p string) bool {
	if len(p) == 0 || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c == 0x7f || c == '\\' || c == '#' {
			return false
		}
	}
	return true
}
