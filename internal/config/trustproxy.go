package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MaxTrustProxyHops bounds TRUST_PROXY's hop count.
const MaxTrustProxyHops = 16

// TrustProxy says whose X-Forwarded-* headers are believed (TRUST_PROXY).
// It is either a hop count (Hops > 0: believe that many proxies in front of
// the server, counting from the right of X-Forwarded-For) or a set of
// networks (believe the headers of a peer whose address is in Networks). The
// zero value, from an unset TRUST_PROXY or "0", trusts no proxy: the peer
// address is the client.
type TrustProxy struct {
	Hops     int
	Networks []netip.Prefix // masked; single addresses are /32 or /128
}

// Enabled reports whether any proxy is trusted.
func (tp TrustProxy) Enabled() bool { return tp.Hops > 0 || len(tp.Networks) > 0 }

// Trusts reports whether the peer address addr is in one of the trusted
// networks. It is false for a hop-count setting, which trusts by position,
// not by address. IPv4-mapped IPv6 addresses match their IPv4 networks.
func (tp TrustProxy) Trusts(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range tp.Networks {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseTrustProxy parses TRUST_PROXY: empty (trust none), a hop count from 0
// to MaxTrustProxyHops, or a comma list of IP addresses and CIDR networks
// (e.g. "10.0.0.0/8, 192.168.1.10, fd00::/8"). Its errors quote the part
// that is wrong; TRUST_PROXY holds no secret.
func ParseTrustProxy(s string) (TrustProxy, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return TrustProxy{}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > MaxTrustProxyHops {
			return TrustProxy{}, fmt.Errorf("hop count %d is out of range 0-%d", n, MaxTrustProxyHops)
		}
		return TrustProxy{Hops: n}, nil
	}
	var tp TrustProxy
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if strings.Contains(part, "%") {
			return TrustProxy{}, fmt.Errorf("%q: IPv6 zones are not supported", part)
		}
		if pfx, err := netip.ParsePrefix(part); err == nil {
			tp.Networks = append(tp.Networks, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(part)
		if err != nil {
			return TrustProxy{}, fmt.Errorf("%q is neither a hop count, an IP address nor a CIDR network (want e.g. 1 or 10.0.0.0/8,192.168.1.10)", part)
		}
		addr = addr.Unmap()
		tp.Networks = append(tp.Networks, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return tp, nil
}
