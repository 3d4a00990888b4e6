package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tetherhq/tether/dbsc"
	"github.com/tetherhq/tether/internal/testenv/dbscclient"
)

// Issue 16 end to end through `tether serve` (its configuration, wiring,
// security log and metrics) over HTTPS: the server behind a TLS-terminating
// proxy that TRUST_PROXY believes, as in production, and a Go client with
// its own P-256 key. Sign in and get the offer, register, use the bound
// cookie, refresh (403, proof, 200); a thief with the session cookie alone
// is refused and logged as dbsc_required; the security log carries no
// proof, challenge or cookie; the DBSC metric counts by reason. The bound
// cookie's expiry is proven with a moved clock in internal/server (a real
// serve cannot wait out 10 minutes).
func TestServeDBSCOverHTTPS(t *testing.T) {
	in := start(t, tmp(t), env("TRUST_PROXY", "127.0.0.1"))
	target, err := url.Parse(in.base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded() // X-Forwarded-Proto: https, from the TLS it terminated
	}})
	t.Cleanup(proxy.Close)

	b := dbscclient.New(t, proxy.URL, proxy.Client().Transport, dbsc.AlgES256)
	ch := b.Login()
	if ch == "" {
		t.Fatal("login through the TLS proxy: no Secure-Session-Registration, want an offer")
	}
	b.RegisterOK(ch)
	if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("bound session with its cookie: got %d %s, want 200", resp.StatusCode, body)
	}
	b.Refresh()
	if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after refresh: got %d %s, want 200", resp.StatusCode, body)
	}
	time.Sleep(dbsc.RegistrationGrace) // a real clock: wait out the grace for requests sent during registration
	if resp, _ := b.Thief("sid").Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("thief with the session cookie alone: got %d, want 401", resp.StatusCode)
	}

	// The same server over plain HTTP (no proxy): no offer, sessions work.
	plain := in.client()
	r := plain.login("alice", "correct-horse")
	if r.status != http.StatusOK || r.header.Get(dbsc.HeaderRegistration) != "" {
		t.Errorf("login over plain HTTP: got %d with offer %q, want 200 and none", r.status, r.header.Get(dbsc.HeaderRegistration))
	}

	out := in.events.String()
	for _, ev := range []string{"dbsc_registered", "dbsc_refreshed", "dbsc_required"} {
		if !strings.Contains(out, `"event":"`+ev+`"`) {
			t.Errorf("security log: no %s line:\n%s", ev, out)
		}
	}
	checkEventLines(t, out, b.Cookie("sid"), plain.sid())
	for _, s := range append(*b.Secrets, b.Cookie("sid-dbsc")) {
		if strings.Contains(out, s) {
			t.Fatalf("security log carries a proof, challenge or bound cookie (%d bytes)", len(s))
		}
	}
	metrics := in.client().get("/metrics").body
	for _, want := range []string{
		`tether_dbsc_events_total{event="dbsc_registered",reason=""} 1`,
		`tether_dbsc_events_total{event="dbsc_required",reason="missing"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics: no line %s", want)
		}
	}
}
