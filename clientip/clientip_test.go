package clientip

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
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

// FuzzClientIP: whatever the headers, the answer is the peer or a valid IP
// from the header, and without trust it is always the peer.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.2:80", "198.51.100.7, 10.0.0.1", "https", 1)
	f.Add("[::1]:1", "x,,y", "", 0)
	f.Add("garbage", strings.Repeat("1.1.1.1,", 100), "HTTPS", 3)
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
		got := New(tp).ClientIP(r)
		if got == peerStr {
			return
		}
		for _, part := range strings.Split(xff, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil && a.Unmap().WithZone("").String() == got {
				return
			}
		}
		t.Fatalf("hops %d: got %q, neither the peer nor an address from the header", tp.Hops, got)
	})
}
