package main

import (
	"net/http"
	"strings"
)

// freshPaths are the reference server's sensitive routes: their session is
// always read from Redis, never from the client-side cache
// (tether.Config.FreshRead), so that a password change, a revocation or a
// role change made on another instance is seen at once, whatever the
// method (the Manager reads every non-GET/HEAD request fresh anyway).
var freshPaths = []string{"/password", "/reauth", "/sessions", "/admin", "/dbsc", "/login", "/logout"}

// freshRead reports whether r is for one of freshPaths or below it.
func freshRead(r *http.Request) bool {
	p := r.URL.Path
	for _, f := range freshPaths {
		if rest, ok := strings.CutPrefix(p, f); ok && (rest == "" || rest[0] == '/') {
			return true
		}
	}
	return false
}
