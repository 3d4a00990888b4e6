// Package clientip decides which client address and which scheme (http or
// https) to believe for a request that may have come through reverse
// proxies or load balancers.
//
// # What it defends against
//
// X-Forwarded-For and X-Forwarded-Proto are request headers: any client can
// send them. Believing them blindly lets an attacker pick the address that
// rate limits, audit logs and "new sign-in from" notices see, and claim
// https on a plain connection. A [Resolver] believes them only as far as a
// [Trust] says:
//
//   - the zero Trust (the default) trusts no proxy: [Resolver.ClientIP] is
//     the connection's peer address and the headers are ignored;
//   - a hop count N (behind N proxies that each append the address they saw)
//     takes the address N entries from the right of X-Forwarded-For, so
//     entries a client put in front of its own are never reached. The
//     peer is believed whoever it is, so a client that can reach the
//     server without passing the proxies picks its own address and
//     scheme: prefer the proxies' networks;
//   - a set of networks walks X-Forwarded-For from the right while the
//     addresses are in the trusted networks; the first untrusted one is the
//     client. The headers count only when the peer itself is trusted.
//
// Each entry is an IP address ("198.51.100.7", "2001:db8::7"), or, as some
// proxies write them, an address with a port ("198.51.100.7:5678",
// "[2001:db8::7]:443") or a bracketed IPv6 address ("[2001:db8::7]"); the
// port is dropped. An IPv6 address with a port must be bracketed, and an
// IPv4 address must not be (RFC 3986 host syntax), so "2001:db8::1:443" is
// the address it reads as. Any other entry stops the walk at the last
// address verified so far (fail closed), and at most 32 entries are
// examined, so a huge header costs no more than a short one. IPv4-mapped
// IPv6 addresses are reported in their IPv4 form, and IPv6 zones are
// dropped.
//
// Build a Trust from an operator's setting with [Parse] ("2", or
// "10.0.0.0/8,fd00::/8").
//
// # Concurrency
//
// A Resolver is an immutable value: copy it freely and use it from any
// number of goroutines.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxChain bounds how many X-Forwarded-For entries are examined.
const maxChain = 32

// Resolver applies a [Trust] to requests. The zero value trusts no proxy.
type Resolver struct {
	tp Trust
}

// New returns a Resolver that believes the proxies t trusts. The Resolver
// keeps its own copy of t.Networks.
func New(t Trust) Resolver {
	t.Networks = append([]netip.Prefix(nil), t.Networks...)
	return Resolver{tp: t}
}

func peer(r *http.Request) (netip.Addr, string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host
	}
	return a.Unmap().WithZone(""), a.Unmap().WithZone("").String()
}

// forwardedFor returns the X-Forwarded-For chain, nearest proxy last,
// bounded to its last maxChain entries.
func forwardedFor(r *http.Request) []string {
	var chain []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(v, ",") {
			chain = append(chain, strings.TrimSpace(part))
		}
	}
	if len(chain) > maxChain {
		chain = chain[len(chain)-maxChain:]
	}
	return chain
}

// parseEntry reads one X-Forwarded-For entry: an IP address, "ip:port",
// "[v6]:port" or "[v6]" (issue 11 row 8: some proxies write the port, and
// such entries used to stop the walk). It returns the address unmapped and
// without zone, and false for anything else.
func parseEntry(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		if ap, perr := netip.ParseAddrPort(s); perr == nil {
			a, err = ap.Addr(), nil
		} else if inner, ok := strings.CutPrefix(s, "["); ok {
			if inner, ok = strings.CutSuffix(inner, "]"); ok {
				if a, err = netip.ParseAddr(inner); err == nil && !a.Is6() {
					err = perr // brackets are for IPv6 only
				}
			}
		}
	}
	if err != nil || !a.IsValid() {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// peerTrusted reports whether the connection comes from a trusted proxy.
func (p Resolver) peerTrusted(r *http.Request) bool {
	addr, _ := peer(r)
	switch {
	case p.tp.Hops > 0:
		return true
	case len(p.tp.Networks) > 0:
		return addr.IsValid() && p.tp.Trusts(addr)
	}
	return false
}

// ClientIP returns the client address to believe, as a string in canonical
// form (e.g. "198.51.100.7" or "2001:db8::7"). When the peer address is not
// an IP address (a Unix socket, a test request), it returns the peer as
// given.
func (p Resolver) ClientIP(r *http.Request) string {
	_, peerStr := peer(r)
	if !p.peerTrusted(r) {
		return peerStr
	}
	chain := forwardedFor(r)
	last := peerStr // the last address verified
	if p.tp.Hops > 0 {
		// Walk back Hops entries from the peer; every step must be an IP.
		for i := 0; i < p.tp.Hops && i < len(chain); i++ {
			a, ok := parseEntry(chain[len(chain)-1-i])
			if !ok {
				return last
			}
			last = a.String()
		}
		return last
	}
	for i := len(chain) - 1; i >= 0; i-- {
		a, ok := parseEntry(chain[i])
		if !ok {
			return last
		}
		last = a.String()
		if !p.tp.Trusts(a) {
			return last
		}
	}
	return last
}

// Scheme returns "https" when the connection is TLS, or when a trusted proxy
// says so in X-Forwarded-Proto (the value the nearest proxy set); otherwise
// "http".
func (p Resolver) Scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if !p.peerTrusted(r) {
		return "http"
	}
	vals := r.Header.Values("X-Forwarded-Proto")
	if len(vals) == 0 {
		return "http"
	}
	parts := strings.Split(vals[len(vals)-1], ",")
	if strings.EqualFold(strings.TrimSpace(parts[len(parts)-1]), "https") {
		return "https"
	}
	return "http"
}

// Trusted reports whether the request came through a trusted proxy, that is
// whether its forwarding headers are believed at all.
func (p Resolver) Trusted(r *http.Request) bool { return p.peerTrusted(r) }
