package clientip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MaxHops bounds the hop count that [Parse] accepts: no real deployment has
// more proxies than this in front of it, and a larger number is a typo.
const MaxHops = 16

// Trust says whose X-Forwarded-For and X-Forwarded-Proto headers are
// believed. It is either a hop count (Hops > 0: believe that many proxies in
// front of the server, counting from the right of X-Forwarded-For) or a set
// of networks (believe the headers of a peer whose address is in Networks).
// Set at most one of the two; when Hops > 0, Networks is ignored.
//
// The zero value trusts no proxy: the connection's peer address is the
// client, and the headers are ignored. Build a Trust with [Parse], or fill
// the fields directly; Networks must then be masked ([netip.Prefix.Masked])
// and free of IPv6 zones, as Parse makes them.
type Trust struct {
	Hops     int
	Networks []netip.Prefix // masked; single addresses are /32 or /128
}

// Enabled reports whether any proxy is trusted.
func (t Trust) Enabled() bool { return t.Hops > 0 || len(t.Networks) > 0 }

// Trusts reports whether the peer address addr is in one of the trusted
// networks. It is false for a hop-count setting, which trusts by position,
// not by address. IPv4-mapped IPv6 addresses match their IPv4 networks.
func (t Trust) Trusts(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range t.Networks {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Parse reads a trust setting as an operator writes it (the reference
// server's TRUST_PROXY): empty or "0" (trust no proxy), a hop count from 1
// to [MaxHops] (e.g. "1" behind one load balancer), or a comma-separated
// list of IP addresses and CIDR networks (e.g. "10.0.0.0/8, 192.168.1.10,
// fd00::/8"). Spaces around items are ignored. Its errors quote the part
// that is wrong and say what is expected; the setting holds no secret.
func Parse(s string) (Trust, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Trust{}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > MaxHops {
			return Trust{}, fmt.Errorf("hop count %d is out of range 0-%d", n, MaxHops)
		}
		return Trust{Hops: n}, nil
	}
	var t Trust
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if strings.Contains(part, "%") {
			return Trust{}, fmt.Errorf("%q: IPv6 zones are not supported", part)
		}
		if pfx, err := netip.ParsePrefix(part); err == nil {
			t.Networks = append(t.Networks, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(part)
		if err != nil {
			return Trust{}, fmt.Errorf("%q is neither a hop count, an IP address nor a CIDR network (want e.g. 1 or 10.0.0.0/8,192.168.1.10)", part)
		}
		addr = addr.Unmap()
		t.Networks = append(t.Networks, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return t, nil
}
