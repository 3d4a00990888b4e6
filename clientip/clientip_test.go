package clientip

import (
	"crypto/tls"
	"net"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func TestClientIPAndScheme(t *testing.T) {
	nets := func(s string) Trust {
		tp, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	cases := []struct {
		name   string
		tp     Trust
		remote string
		xff    []string
		proto  string
		tls    bool
		ip     string
		scheme string
	}{
		{"no proxy trusted: headers ignored", Trust{}, "203.0.113.9:5000", []string{"1.2.3.4"}, "https", false, "203.0.113.9", "http"},
		{"TLS connection", Trust{}, "203.0.113.9:5000", nil, "", true, "203.0.113.9", "https"},
		{"one hop", Trust{Hops: 1}, "10.0.0.2:80", []string{"198.51.100.7"}, "https", false, "198.51.100.7", "https"},
		{"one hop, client spoofs an earlier entry", Trust{Hops: 1}, "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.7"}, "https", false, "198.51.100.7", "https"},
		{"two hops", Trust{Hops: 2}, "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.7", "10.0.0.1"}, "http", false, "198.51.100.7", "http"},
		{"hops but no header", Trust{Hops: 1}, "10.0.0.2:80", nil, "", false, "10.0.0.2", "http"},
		{"garbage entry stops the walk", Trust{Hops: 2}, "10.0.0.2:80", []string{"198.51.100.7", "not-an-ip"}, "", false, "10.0.0.2", "http"},
		{"trusted network", nets("10.0.0.0/8"), "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.7", "10.1.1.1"}, "https", false, "198.51.100.7", "https"},
		{"peer outside the trusted networks", nets("10.0.0.0/8"), "192.0.2.1:80", []string{"198.51.100.7"}, "https", false, "192.0.2.1", "http"},
		{"all entries trusted", nets("10.0.0.0/8"), "10.0.0.2:80", []string{"10.9.9.9"}, "", false, "10.9.9.9", "http"},
		{"IPv6 peer and client", nets("::1/128"), "[::1]:80", []string{"2001:db8::7"}, "https", false, "2001:db8::7", "https"},
		{"IPv4-mapped peer", nets("10.0.0.0/8"), "[::ffff:10.0.0.2]:80", []string{"198.51.100.7"}, "", false, "198.51.100.7", "http"},
		// issue 11 row 8: entries with a port, or a bracketed IPv6 address,
		// as some proxies write them, are their addresses and do not stop
		// the walk.
		{"ip:port entry, hop count", Trust{Hops: 1}, "10.0.0.2:80", []string{"198.51.100.7:5678"}, "", false, "198.51.100.7", "http"},
		{"[v6]:port entry, hop count", Trust{Hops: 2}, "10.0.0.2:80", []string{"2001:db8::1", "[2001:db8::2]:443"}, "", false, "2001:db8::1", "http"},
		{"ip:port entries through trusted networks", nets("10.0.0.0/8"), "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.7:5678", "10.1.1.1:3456"}, "https", false, "198.51.100.7", "https"},
		{"[v6]:port and [v6] through trusted networks", nets("10.0.0.0/8, fd00::/8"), "10.0.0.2:80", []string{"[2001:db8::1]", "[fd00::5]:443"}, "", false, "2001:db8::1", "http"},
		{"[v6]:port client", nets("10.0.0.0/8"), "10.0.0.2:80", []string{"[2001:db8::1]:443"}, "", false, "2001:db8::1", "http"},
		{"bracketed IPv4 still stops the walk", nets("10.0.0.0/8"), "10.0.0.2:80", []string{"198.51.100.7", "[10.1.1.1]:80"}, "", false, "10.0.0.2", "http"},
		{"empty port still stops the walk", Trust{Hops: 1}, "10.0.0.2:80", []string{"198.51.100.7:"}, "", false, "10.0.0.2", "http"},
		{"several header lines", Trust{Hops: 1}, "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.7, 203.0.113.5"}, "http, https", false, "203.0.113.5", "https"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			p := New(tc.tp)
			if got := p.ClientIP(r); got != tc.ip {
				t.Errorf("ClientIP: got %s, want %s", got, tc.ip)
			}
			if got := p.Scheme(r); got != tc.scheme {
				t.Errorf("Scheme: got %s, want %s", got, tc.scheme)
			}
		})
	}
}

// TestParseEntry: issue 11 row 8. The forms proxies write are read as their
// addresses; garbage is still refused.
func TestParseEntry(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" when refused
	}{
		{"1.2.3.4", "1.2.3.4"},
		{"1.2.3.4:5678", "1.2.3.4"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:db8::1:443", "2001:db8::1:443"}, // unbracketed: an address, not a port
		{"[::ffff:10.0.0.1]:80", "10.0.0.1"},
		{"[fe80::1%eth0]:80", "fe80::1"},
		{"fe80::1%eth0", "fe80::1"},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"", ""},
		{"not-an-ip", ""},
		{"unknown", ""},
		{"1.2.3.4:", ""},
		{"1.2.3.4:99999", ""},
		{"1.2.3.4:-1", ""},
		{"1.2.3.4:http", ""},
		{"[1.2.3.4]", ""},
		{"[1.2.3.4]:80", ""},
		{"[2001:db8::1", ""},
		{"2001:db8::1]", ""},
		{"[2001:db8::1]:", ""},
		{"[2001:db8::1]x", ""},
		{"[]", ""},
		{"[]:80", ""},
		{"host.example:80", ""},
		{"1.2.3.4:80:80", ""},
		{" 1.2.3.4", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			a, ok := parseEntry(tc.in)
			got := ""
			if ok {
				got = a.String()
			}
			if got != tc.want {
				t.Errorf("parseEntry(%q): got %q (ok %v), want %q", tc.in, got, ok, tc.want)
			}
		})
	}
}

// FuzzParseEntry: an accepted entry is a plain address, or a bracketed IPv6
// address, or one of those followed by a decimal port in range, and the
// result is that address, unmapped and without zone (issue 11 row 8).
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:443", "[2001:db8::1]", "[1.2.3.4]", "1.2.3.4:", "[fe80::1%a]:1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := parseEntry(s)
		if !ok {
			if a.IsValid() {
				t.Fatalf("parseEntry(%q): refused but returned %v", s, a)
			}
			if b, err := netip.ParseAddr(s); err == nil {
				t.Fatalf("parseEntry(%q): refused a plain address %v", s, b)
			}
			return
		}
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("parseEntry(%q): got %v, want a valid address without zone, unmapped", s, a)
		}
		host := s
		if b, err := netip.ParseAddr(s); err != nil {
			if h, port, found := strings.Cut(s, "]:"); found {
				host = h + "]"
				n, err := strconv.Atoi(port)
				if err != nil || n < 0 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
					t.Fatalf("parseEntry(%q): accepted port %q", s, port)
				}
			} else if i := strings.LastIndexByte(s, ':'); !strings.HasPrefix(s, "[") && i >= 0 {
				host = s[:i]
				if strings.Contains(host, ":") {
					t.Fatalf("parseEntry(%q): accepted an unbracketed IPv6 address with a port", s)
				}
			}
			inner, ok1 := strings.CutPrefix(host, "[")
			inner, ok2 := strings.CutSuffix(inner, "]")
			if ok1 != ok2 {
				t.Fatalf("parseEntry(%q): accepted unbalanced brackets", s)
			}
			b, err = netip.ParseAddr(inner)
			if err != nil {
				t.Fatalf("parseEntry(%q): accepted host %q that is not an address", s, inner)
			}
			if ok1 && !b.Is6() {
				t.Fatalf("parseEntry(%q): accepted a bracketed IPv4 address", s)
			}
			if b.Unmap().WithZone("") != a {
				t.Fatalf("parseEntry(%q): got %v, want %v", s, a, b.Unmap().WithZone(""))
			}
		} else if b.Unmap().WithZone("") != a {
			t.Fatalf("parseEntry(%q): got %v, want %v", s, a, b.Unmap().WithZone(""))
		}
	})
}

// entryAddrs lists the addresses in an X-Forwarded-For value, read with the
// standard library's host:port splitting rather than parseEntry.
func entryAddrs(xff string) map[string]bool {
	out := map[string]bool{}
	for _, part := range strings.Split(xff, ",") {
		part = strings.TrimSpace(part)
		host := part
		if h, _, err := net.SplitHostPort(part); err == nil {
			host = h
		} else if len(part) > 1 && part[0] == '[' && part[len(part)-1] == ']' {
			host = part[1 : len(part)-1]
		}
		if a, err := netip.ParseAddr(host); err == nil {
			out[a.Unmap().WithZone("").String()] = true
		}
	}
	return out
}

// FuzzClientIP: whatever the headers, the answer is the peer or a valid IP
// from the header, and without trust it is always the peer.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.2:80", "198.51.100.7, 10.0.0.1", "https", 1)
	f.Add("[::1]:1", "x,,y", "", 0)
	f.Add("garbage", strings.Repeat("1.1.1.1,", 100), "HTTPS", 3)
	f.Add("10.0.0.2:80", "[2001:db8::1]:443, 198.51.100.7:5678, [2001:db8::2]", "", 3) // issue 11 row 8
	f.Fuzz(func(t *testing.T, remote, xff, proto string, hops int) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("X-Forwarded-Proto", proto)
		_, peerStr := peer(r)
		if got := New(Trust{}).ClientIP(r); got != peerStr {
			t.Fatalf("untrusted: got %q, want the peer %q", got, peerStr)
		}
		if s := New(Trust{}).Scheme(r); s != "http" {
			t.Fatalf("untrusted scheme: got %q, want http", s)
		}
		tp := Trust{Hops: hops % 17}
		if tp.Hops < 0 {
			tp.Hops = -tp.Hops
		}
		addrs := entryAddrs(xff)
		for _, res := range []Resolver{New(tp), New(Trust{Networks: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/1"), netip.MustParsePrefix("::/1")}})} {
			got := res.ClientIP(r)
			if got != peerStr && !addrs[got] {
				t.Fatalf("trust %+v: got %q, neither the peer nor an address from the header", res.tp, got)
			}
		}
	})
}
