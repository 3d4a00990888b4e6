package clientip

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in       string
		hops     int
		networks string
		err      string // a part of the error, "" for none
	}{
		{in: ""},
		{in: " 0 "},
		{in: "2", hops: 2},
		{in: "16", hops: 16},
		{in: "10.1.2.3/8, 192.168.1.10 ,fd00::/8", networks: "10.0.0.0/8 192.168.1.10/32 fd00::/8"},
		{in: "::ffff:10.0.0.1", networks: "10.0.0.1/32"},
		{in: "17", err: "hop count 17 is out of range 0-16"},
		{in: "-1", err: "hop count -1 is out of range 0-16"},
		{in: "fe80::1%eth0", err: `"fe80::1%eth0": IPv6 zones are not supported`},
		{in: "10.0.0.0/8,,", err: `"" is neither a hop count, an IP address nor a CIDR network`},
		{in: "proxy.local", err: `"proxy.local" is neither a hop count, an IP address nor a CIDR network (want e.g. 1 or 10.0.0.0/8,192.168.1.10)`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q): got error %v, want one containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): got error %v, want none", tc.in, err)
			}
			var nets []string
			for _, p := range got.Networks {
				nets = append(nets, p.String())
			}
			if got.Hops != tc.hops || strings.Join(nets, " ") != tc.networks {
				t.Errorf("Parse(%q): got hops %d networks %q, want %d %q", tc.in, got.Hops, strings.Join(nets, " "), tc.hops, tc.networks)
			}
		})
	}
}

// TestNewCopiesNetworks: a caller that reuses its slice after New does not
// change what the Resolver trusts.
func TestNewCopiesNetworks(t *testing.T) {
	nets := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	res := New(Trust{Networks: nets})
	nets[0] = netip.MustParsePrefix("192.0.2.0/24")
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:4000"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	if got := res.ClientIP(r); got != "192.0.2.1" {
		t.Errorf("ClientIP after the caller changed its slice: got %s, want the peer 192.0.2.1", got)
	}
	if res.Trusted(r) {
		t.Errorf("Trusted: got true, want false")
	}
}

// FuzzParse: Parse never panics, and what it accepts is canonical: hop
// counts in range, masked networks without zones, and parsing the networks'
// own text gives them back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "0", "2", "17", "10.0.0.0/8, 192.168.1.10", "::ffff:10.0.0.1", "fe80::1%eth0", "a,b", "1.2.3.4/33"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := Parse(s)
		if err != nil {
			return
		}
		if tr.Hops < 0 || tr.Hops > MaxHops {
			t.Fatalf("Parse(%q): hops %d out of range", s, tr.Hops)
		}
		var parts []string
		for _, p := range tr.Networks {
			if p != p.Masked() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
				t.Fatalf("Parse(%q): network %v is not canonical", s, p)
			}
			parts = append(parts, p.String())
		}
		if len(parts) == 0 {
			return
		}
		again, err := Parse(strings.Join(parts, ","))
		if err != nil || len(again.Networks) != len(tr.Networks) {
			t.Fatalf("Parse(%q) round trip: got %v, %v", s, again, err)
		}
		for i := range again.Networks {
			if again.Networks[i] != tr.Networks[i] {
				t.Fatalf("Parse(%q) round trip: got %v, want %v", s, again.Networks[i], tr.Networks[i])
			}
		}
	})
}
