package config

import "github.com/tetherhq/tether/clientip"

// MaxTrustProxyHops bounds TRUST_PROXY's hop count ([clientip.MaxHops]).
const MaxTrustProxyHops = clientip.MaxHops

// TrustProxy says whose X-Forwarded-* headers are believed (TRUST_PROXY);
// see [clientip.Trust]. The zero value, from an unset TRUST_PROXY or "0",
// trusts no proxy: the peer address is the client.
type TrustProxy = clientip.Trust

// ParseTrustProxy parses TRUST_PROXY with [clientip.Parse]: empty (trust
// none), a hop count from 0 to MaxTrustProxyHops, or a comma list of IP
// addresses and CIDR networks (e.g. "10.0.0.0/8, 192.168.1.10, fd00::/8").
func ParseTrustProxy(s string) (TrustProxy, error) { return clientip.Parse(s) }
