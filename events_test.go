package tether_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tetherhq/tether"
)

// Events never carry a token, cookie value or store key.
func TestEventsCarryNoSecrets(t *testing.T) {
	f := newFixture(t, nil)
	_, c := f.do(t, "/login", "")
	f.do(t, "/incr", c)
	f.do(t, "/get", c+"x")
	f.do(t, "/logout", c)
	var buf bytes.Buffer
	for _, e := range f.events.events {
		fmt.Fprintf(&buf, "%+v\n", e)
	}
	tok := c[:strings.IndexByte(c, '.')]
	mac := c[strings.IndexByte(c, '.')+1:]
	for _, secret := range []string{c, tok, mac, string(secretA)} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("events contain a secret %q:\n%s", secret, buf.String())
		}
	}
	for _, e := range f.events.events {
		if e.Type == tether.EventLogout && (e.UserID != "user-1" || e.Session == "") {
			t.Fatalf("logout event: got %+v, want userId and session handle", e)
		}
	}
}
