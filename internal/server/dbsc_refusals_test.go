package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/dbsc"
	"github.com/tetherhq/tether/internal/testenv/dbscclient"
)

// Every refusal of issue 16's "Deliver 1" at registration, through the
// reference server: alg none, a missing jwk, a wrong typ (the older Chrome
// form too), an unknown or expired challenge, a bad signature (which must
// not burn the browser's challenge), no session.
func TestDBSCRegistrationRefusals(t *testing.T) {
	cases := []struct {
		name   string
		proof  func(b *dbscclient.Browser, ch string) string
		before func(clock *dbscClock)
		status int
		reason string
	}{
		{"alg none", func(b *dbscclient.Browser, ch string) string {
			j := b.SignJWT(map[string]any{"alg": "none", "typ": "dbsc+jwt", "jwk": b.JWK()}, map[string]any{"jti": ch})
			return j[:lastDot(j)+1] // no signature, as alg none has
		}, nil, http.StatusBadRequest, "bad_alg"},
		{"missing jwk", func(b *dbscclient.Browser, ch string) string { return b.Proof(false, ch) }, nil, http.StatusBadRequest, "bad_key"},
		{"private jwk", func(b *dbscclient.Browser, ch string) string {
			k := map[string]any{}
			for n, v := range b.JWK() {
				k[n] = v
			}
			k["d"] = "AAAA"
			return b.SignJWT(map[string]any{"alg": b.Alg, "typ": "dbsc+jwt", "jwk": k}, map[string]any{"jti": ch})
		}, nil, http.StatusBadRequest, "bad_key"},
		{"typ jwt", func(b *dbscclient.Browser, ch string) string {
			return b.SignJWT(map[string]any{"alg": b.Alg, "typ": "jwt", "jwk": b.JWK()}, map[string]any{"jti": ch})
		}, nil, http.StatusBadRequest, "bad_type"},
		{"older Chrome form (typ jwt, key claim, aud, iat)", func(b *dbscclient.Browser, ch string) string {
			return b.SignJWT(map[string]any{"alg": b.Alg, "typ": "jwt"},
				map[string]any{"jti": ch, "aud": "https://127.0.0.1/dbsc/register", "iat": time.Now().Unix(), "key": b.JWK()})
		}, nil, http.StatusBadRequest, "bad_type"},
		{"unknown challenge", func(b *dbscclient.Browser, ch string) string { return b.Proof(true, otherChallenge(ch)) },
			nil, http.StatusForbidden, "challenge"},
		{"expired challenge", func(b *dbscclient.Browser, ch string) string { return b.Proof(true, ch) },
			func(c *dbscClock) { c.Add(dbsc.DefaultChallengeTTL + time.Second) }, http.StatusForbidden, "challenge"},
		{"signature by another key", func(b *dbscclient.Browser, ch string) string {
			other := b.WithNewKey()
			return other.SignJWT(map[string]any{"alg": b.Alg, "typ": "dbsc+jwt", "jwk": b.JWK()}, map[string]any{"jti": ch})
		}, nil, http.StatusBadRequest, "bad_signature"},
		{"no proof header", func(*dbscclient.Browser, string) string { return "" }, nil, http.StatusBadRequest, "no_proof"},
	}
	for _, alg := range []string{dbsc.AlgES256, dbsc.AlgRS256} {
		for _, tc := range cases {
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				ts, clock, log := dbscServer(t, Options{})
				b := newDBSCBrowser(t, ts, alg)
				ch := b.Login()
				if tc.before != nil {
					tc.before(clock)
				}
				var resp *http.Response
				var body string
				if jwt := tc.proof(b, ch); jwt != "" {
					resp, body = b.Register(jwt)
				} else {
					resp, body = b.Do("POST", "/dbsc/register", "", nil)
				}
				if resp.StatusCode != tc.status {
					t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
				}
				if dbscclient.SetsCookie(resp, "sid-dbsc") {
					t.Error("a refused registration set the bound cookie")
				}
				if got := log.count(tether.EventDBSCRefreshFailed, tc.reason); got != 1 {
					t.Errorf("dbsc_refresh_failed with reason %s: got %d, want 1", tc.reason, got)
				}
				// The session stays unbound and works.
				if resp, body := b.Do("GET", "/profile", "", nil); resp.StatusCode != http.StatusOK {
					t.Errorf("after a refused registration: got %d %s, want 200", resp.StatusCode, body)
				}
				if tc.status == http.StatusBadRequest && tc.before == nil {
					// A refused proof did not consume the challenge: the real
					// browser still registers with it.
					b.RegisterOK(ch)
				}
			})
		}
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// Registration needs a signed-in session that is not bound yet, and each
// challenge registers once.
func TestDBSCRegistrationNeedsSignedInUnboundSession(t *testing.T) {
	ts, _, log := dbscServer(t, Options{})
	b := newDBSCBrowser(t, ts, dbsc.AlgES256)

	resp, body := b.Register(b.Proof(true, "c"))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no session: got %d %s, want 401", resp.StatusCode, body)
	}
	ch := b.Login()
	b.RegisterOK(ch)
	resp, body = b.Register(b.Proof(true, ch))
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("second registration with the used challenge: got %d %s, want 409", resp.StatusCode, body)
	}
	if got := log.count(tether.EventDBSCRefreshFailed, "already_bound"); got != 1 {
		t.Errorf("already_bound failures: got %d, want 1", got)
	}
}

// Refresh refusals against a bound session (issue 16): a proof carrying a
// jwk, alg none, a wrong typ, another key than the registered one, an
// unknown, expired or replayed challenge, another session identifier. A
// forged proof never burns the browser's challenge; a refused refresh
// never sets a bound cookie.
func TestDBSCRefreshRefusals(t *testing.T) {
	cases := []struct {
		name   string
		send   func(b *dbscclient.Browser, ch string, clock *dbscClock) (*http.Response, string)
		status int
		reason string // of dbsc_refresh_failed; "" for none
		burnt  bool   // the challenge is used up afterwards
	}{
		{"proof with a jwk", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			return b.RefreshWith(b.Proof(true, ch))
		}, http.StatusBadRequest, "bad_key", false},
		{"alg none", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			j := b.SignJWT(map[string]any{"alg": "none", "typ": "dbsc+jwt"}, map[string]any{"jti": ch})
			return b.RefreshWith(j[:lastDot(j)+1])
		}, http.StatusBadRequest, "bad_alg", false},
		{"typ jwt", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			return b.RefreshWith(b.SignJWT(map[string]any{"alg": b.Alg, "typ": "jwt"}, map[string]any{"jti": ch}))
		}, http.StatusBadRequest, "bad_type", false},
		{"a key that is not the registered one", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			return b.RefreshWith(b.WithNewKey().Proof(false, ch))
		}, http.StatusBadRequest, "bad_signature", false},
		{"garbage proof", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			return b.RefreshWith("eyJ.eyJ.AAAA")
		}, http.StatusBadRequest, "bad_proof", false},
		{"unknown challenge", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			return b.RefreshWith(b.Proof(false, otherChallenge(ch)))
		}, http.StatusForbidden, "challenge", false},
		{"expired challenge", func(b *dbscclient.Browser, ch string, c *dbscClock) (*http.Response, string) {
			c.Add(dbsc.DefaultChallengeTTL + time.Second)
			return b.RefreshWith(b.Proof(false, ch))
		}, http.StatusForbidden, "challenge", true},
		{"another session identifier", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			return b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: "dOther", dbsc.HeaderResponse: b.Proof(false, ch)})
		}, http.StatusUnauthorized, "unknown_session", false},
		{"no session identifier", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			return b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderResponse: b.Proof(false, ch)})
		}, http.StatusBadRequest, "no_session_id", false},
		{"no session cookie", func(b *dbscclient.Browser, ch string, _ *dbscClock) (*http.Response, string) {
			th := b.Thief()
			return th.RefreshWith(b.Proof(false, ch))
		}, http.StatusUnauthorized, "unknown_session", false},
	}
	for _, alg := range []string{dbsc.AlgES256, dbsc.AlgRS256} {
		for _, tc := range cases {
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				ts, clock, log := dbscServer(t, Options{})
				b := newDBSCBrowser(t, ts, alg)
				b.RegisterOK(b.Login())
				ch := b.RefreshAsk()
				resp, body := tc.send(b, ch, clock)
				if resp.StatusCode != tc.status {
					t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
				}
				if dbscclient.SetsCookie(resp, "sid-dbsc") {
					t.Error("a refused refresh set a bound cookie")
				}
				if tc.status == http.StatusForbidden && !dbscclient.ChallengeRE.MatchString(resp.Header.Get(dbsc.HeaderChallenge)) {
					t.Errorf("403: got %s %q, want a fresh challenge", dbsc.HeaderChallenge, resp.Header.Get(dbsc.HeaderChallenge))
				}
				if got := log.count(tether.EventDBSCRefreshFailed, tc.reason); got != 1 {
					t.Errorf("dbsc_refresh_failed with reason %s: got %d, want 1", tc.reason, got)
				}
				if got := log.count(tether.EventDBSCRefreshed, ""); got != 0 {
					t.Errorf("dbsc_refreshed: got %d, want 0", got)
				}
				// The real browser's proof over the same challenge.
				resp, body = b.RefreshWith(b.Proof(false, ch))
				want := http.StatusOK
				if tc.burnt {
					want = http.StatusForbidden
				}
				if resp.StatusCode != want {
					t.Fatalf("the browser's own proof afterwards: got %d %s, want %d", resp.StatusCode, body, want)
				}
			})
		}
	}
}

// otherChallenge returns a challenge that differs from ch in its first byte.
func otherChallenge(ch string) string {
	if ch[0] == 'A' {
		return "B" + ch[1:]
	}
	return "A" + ch[1:]
}

// Replays (issue 16): a refresh proof that already succeeded gets a 403
// and a fresh challenge, never a cookie; a registration proof works once,
// and never in another session (its challenge belongs to the session it
// was offered to).
func TestDBSCReplay(t *testing.T) {
	for _, alg := range []string{dbsc.AlgES256, dbsc.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			ts, _, log := dbscServer(t, Options{})
			b := newDBSCBrowser(t, ts, alg)
			ch := b.Login()
			regProof := b.Proof(true, ch)

			other := b.Thief() // another browser, its own session
			other.Login()
			if resp, body := other.Register(regProof); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("registration proof replayed in another session: got %d %s, want 403", resp.StatusCode, body)
			}
			b.RegisterOK(ch) // the replay did not burn it

			proof := b.Proof(false, b.RefreshAsk())
			if resp, body := b.RefreshWith(proof); resp.StatusCode != http.StatusOK {
				t.Fatalf("refresh: got %d %s, want 200", resp.StatusCode, body)
			}
			for i := 0; i < 2; i++ {
				resp, body := b.RefreshWith(proof)
				if resp.StatusCode != http.StatusForbidden || dbscclient.SetsCookie(resp, "sid-dbsc") || !dbscclient.ChallengeRE.MatchString(resp.Header.Get(dbsc.HeaderChallenge)) {
					t.Fatalf("replay %d of a used refresh proof: got %d %s, want 403 with a new challenge and no cookie", i+1, resp.StatusCode, body)
				}
			}
			if got := log.count(tether.EventDBSCRefreshed, ""); got != 1 {
				t.Errorf("dbsc_refreshed: got %d, want 1", got)
			}
			if got := log.count(tether.EventDBSCRefreshFailed, "challenge"); got != 3 {
				t.Errorf("challenge failures: got %d, want 3 (one registration, two refresh replays)", got)
			}
		})
	}
}
