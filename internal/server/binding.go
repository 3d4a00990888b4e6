package server

import (
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/tetherhq/tether"
)

// Session keys of the context binding recorded at login.
const (
	bindUAKey       = "bindUA"
	bindNetKey      = "bindNet"
	bindMismatchKey = "bindMismatch"
	maxBoundUA      = 256
)

// coarseNetwork is the client's /24 (IPv4) or /48 (IPv6): mobile clients
// move within it often; a jump outside it is worth noticing.
func coarseNetwork(ip string) string {
	p, ok := coarsePrefix(ip)
	if !ok {
		return ""
	}
	return p.String()
}

func coarsePrefix(ip string) (netip.Prefix, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// inNetwork reports whether coarseNetwork(ip) == want, without allocating:
// it runs on every authenticated request.
func inNetwork(ip, want string) bool {
	p, ok := coarsePrefix(ip)
	if !ok {
		return want == ""
	}
	var buf [64]byte // an IPv6 prefix is at most 43 bytes
	return string(p.AppendTo(buf[:0])) == want
}

func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > maxBoundUA {
		ua = ua[:maxBoundUA]
	}
	return ua
}

// bind records the request's context in the session (at login and after a
// re-authentication).
func (s *Server) bind(sess *tether.Session, r *http.Request) error {
	sess.Remove(bindMismatchKey)
	if err := sess.Set(bindUAKey, userAgent(r)); err != nil {
		return err
	}
	return sess.Set(bindNetKey, coarseNetwork(s.clientIP(r)))
}

// checkBinding compares the request's context with the one recorded at
// login. A change is logged once as binding_mismatch and flags the session,
// so sensitive actions need a re-authentication; with SESSION_BINDING=strict
// the session is ended instead and checkBinding answers 401 and reports
// false.
func (s *Server) checkBinding(w http.ResponseWriter, r *http.Request, sess *tether.Session) bool {
	if s.binding == "off" {
		return true
	}
	wantUA, wantNet := sess.GetString(bindUAKey), sess.GetString(bindNetKey)
	if wantUA == "" && wantNet == "" {
		return true
	}
	var changed string
	uaChanged := wantUA != userAgent(r)
	netChanged := !inNetwork(s.clientIP(r), wantNet)
	switch {
	case uaChanged && netChanged:
		changed = "user_agent,network"
	case uaChanged:
		changed = "user_agent"
	case netChanged:
		changed = "network"
	default:
		return true
	}
	flagged := sess.GetBool(bindMismatchKey)
	if s.binding == "strict" {
		s.m.Emit(r, tether.EventBindingMismatch, slog.String("changed", changed), slog.String("action", "session_ended"))
		sess.Destroy()
		noteEnded(r, reasonBinding)
		tether.WriteJSONError(w, http.StatusUnauthorized, "Session ended: its context changed; log in again")
		return false
	}
	if !flagged {
		s.m.Emit(r, tether.EventBindingMismatch, slog.String("changed", changed), slog.String("action", "reauth_required"))
		_ = sess.Set(bindMismatchKey, true)
	}
	return true
}
