// Package proxy decides, from TRUST_PROXY, which client address and scheme
// the server believes. Without TRUST_PROXY, X-Forwarded-For and
// X-Forwarded-Proto are ignored: any client can set them. With a hop count N,
// the client is the address N hops before the connection's peer in the
// X-Forwarded-For chain; with networks, the chain is walked from the peer
// backwards while addresses are trusted, and the first untrusted one is the
// client. An entry that is not an IP address stops the walk at the last
// address verified so far (fail closed).
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/tetherhq/tether/internal/config"
)

// maxChain bounds how many X-Forwarded-For entries are examined.
const maxChain = 32

// Resolver applies a TRUST_PROXY setting. The zero value trusts nobody.
type Resolver struct {
	tp config.TrustProxy
}

// New returns a Resolver for tp.
func New(tp config.TrustProxy) Resolver { return Resolver{tp: tp} }

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

// ClientIP returns the client address the server believes.
func (p Resolver) ClientIP(r *http.Request) string {
	addr, peerStr := peer(r)
	if !p.peerTrusted(r) {
		return peerStr
	}
	chain := forwardedFor(r)
	last := peerStr // the last address verified
	if p.tp.Hops > 0 {
		// Walk back Hops entries from the peer; every step must be an IP.
		for i := 0; i < p.tp.Hops && i < len(chain); i++ {
			a, err := netip.ParseAddr(chain[len(chain)-1-i])
			if err != nil {
				return last
			}
			last = a.Unmap().WithZone("").String()
		}
		return last
	}
	_ = addr
	for i := len(chain) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(chain[i])
		if err != nil {
			return last
		}
		a = a.Unmap().WithZone("")
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

// Trusted reports whether the request came through a trusted proxy.
func (p Resolver) Trusted(r *http.Request) bool { return p.peerTrusted(r) }
