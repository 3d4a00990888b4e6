package server

import "testing"

// inNetwork must agree with comparing coarseNetwork's string, which it
// replaces on the hot path.
func TestInNetworkMatchesCoarseNetwork(t *testing.T) {
	ips := []string{"127.0.0.1", "10.1.2.3", "10.1.3.3", "::ffff:10.1.2.3", "2001:db8:1:2::1", "2001:db8:1:3::1", "fe80::1%eth0", "", "not-an-ip", "300.1.1.1"}
	for _, ip := range ips {
		for _, want := range ips {
			wantNet := coarseNetwork(want)
			t.Run(ip+"_in_"+wantNet, func(t *testing.T) {
				if got, exp := inNetwork(ip, wantNet), coarseNetwork(ip) == wantNet; got != exp {
					t.Fatalf("inNetwork(%q, %q): got %v, want %v", ip, wantNet, got, exp)
				}
			})
		}
	}
}
