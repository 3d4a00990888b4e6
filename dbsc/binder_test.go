package dbsc

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// Tests of the Binder on a bare tether Manager (memstore), without the
// reference server: configuration, the bound cookie, the cost of
// enforcement, and store outages. The protocol end to end, through the
// reference server with a Go client, is in internal/server/dbsc_*_test.go.

var (
	secretA = bytes.Repeat([]byte("a"), 32)
	secretB = bytes.Repeat([]byte("b"), 32)
)

// outageStore counts calls and fails them all while down, and only the
// Updates while updatesDown.
type outageStore struct {
	tether.Store
	loads, updates    atomic.Int64
	down, updatesDown atomic.Bool
}

var errRefused = errors.New("connection refused")

func (s *outageStore) Load(ctx context.Context, k string, now, idle time.Time) (*tether.Record, error) {
	s.loads.Add(1)
	if s.down.Load() {
		return nil, errRefused
	}
	return s.Store.Load(ctx, k, now, idle)
}

func (s *outageStore) Update(ctx context.Context, k string, now time.Time, p *tether.Patch) (*tether.Record, error) {
	s.updates.Add(1)
	if s.down.Load() || s.updatesDown.Load() {
		return nil, errRefused
	}
	return s.Store.Update(ctx, k, now, p)
}

// app is a Manager with a Binder and the routes a server mounts:
// /login (Login then Offer), /dbsc/register, /dbsc/refresh and
// /private (behind Enforce).
type app struct {
	m     *tether.Manager
	b     *Binder
	store *outageStore
	clock *fakeClock
	h     http.Handler
}

func newApp(t testing.TB, secrets ...[]byte) *app {
	t.Helper()
	if len(secrets) == 0 {
		secrets = [][]byte{secretA}
	}
	a := &app{store: &outageStore{Store: memstore.New()}, clock: &fakeClock{t: time.Now().Truncate(time.Second)}}
	m, err := tether.New(tether.Config{Store: a.store, Secrets: secrets, Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := m.FromContext(r.Context())
		if err := s.Login("u1", ""); err != nil {
			m.Error(w, r, err)
			return
		}
		if _, err := b.Offer(w, r); err != nil {
			m.Error(w, r, err)
		}
	})
	mux.HandleFunc("POST /dbsc/register", b.Register)
	mux.HandleFunc("POST /dbsc/refresh", b.Refresh)
	mux.HandleFunc("GET /private", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(m.FromContext(r.Context()).UserID()))
	})
	a.m, a.b, a.h = m, b, m.Handler(b.Enforce(mux))
	return a
}

// send serves one request over "https" with the given cookies.
func (a *app) send(method, path string, cookies []*http.Cookie, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://example.test"+path, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

var offerRE = regexp.MustCompile(`challenge="([^"]+)"`)

// bind signs in, registers with ecKey and returns the cookies (session
// and bound) and the DBSC session identifier.
func (a *app) bind(t testing.TB) (cookies []*http.Cookie, id string) {
	t.Helper()
	testKeys(t)
	w := a.send("POST", "/login", nil, nil)
	m := offerRE.FindStringSubmatch(w.Header().Get(HeaderRegistration))
	if w.Code != http.StatusOK || m == nil {
		t.Fatalf("login: got %d, offer %q", w.Code, w.Header().Get(HeaderRegistration))
	}
	sess := w.Result().Cookies()
	proof := sign(t, ecKey, regHeader(AlgES256, ecKey), map[string]any{"jti": m[1]})
	w = a.send("POST", "/dbsc/register", sess, map[string]string{HeaderResponse: proof})
	if w.Code != http.StatusOK {
		t.Fatalf("register: got %d %s, want 200", w.Code, w.Body)
	}
	id = regexp.MustCompile(`"session_identifier":"([^"]+)"`).FindStringSubmatch(w.Body.String())[1]
	return append(sess, w.Result().Cookies()...), id
}

func TestNewRefusesMisconfiguration(t *testing.T) {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secretA}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"defaults", Config{}, ""},
		{"ttl at the minimum", Config{CookieTTL: MinCookieTTL}, ""},
		{"ttl below the minimum", Config{CookieTTL: 9 * time.Second}, "Config.CookieTTL"},
		{"negative challenge ttl", Config{ChallengeTTL: -time.Second}, "Config.ChallengeTTL"},
		{"relative register path", Config{RegisterPath: "dbsc/register"}, "Config.RegisterPath"},
		{"refresh path with a quote", Config{RefreshPath: `/a"b`}, "Config.RefreshPath"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(m, tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			case tc.want == "" && b.CookieTTL() < MinCookieTTL:
				t.Fatalf("CookieTTL: got %v", b.CookieTTL())
			}
		})
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New(nil): got no error")
	}
}

// The bound cookie follows the session cookie: its name keeps the __Host-
// prefix, its Path and SameSite are the session cookie's, and it is always
// Secure and HttpOnly.
func TestBoundCookieAttributes(t *testing.T) {
	cases := []struct {
		cfg        tether.Config
		name, attr string
	}{
		{tether.Config{}, "sid-dbsc", "Path=/; Secure; HttpOnly; SameSite=Lax"},
		{tether.Config{CookieName: "__Host-sid", Secure: true}, "__Host-sid-dbsc", "Path=/; Secure; HttpOnly; SameSite=Lax"},
		{tether.Config{CookieName: "app", Path: "/app", SameSite: http.SameSiteStrictMode}, "app-dbsc", "Path=/app; Secure; HttpOnly; SameSite=Strict"},
		{tether.Config{Domain: "example.test"}, "sid-dbsc", "Path=/; Domain=example.test; Secure; HttpOnly; SameSite=Lax"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Store, tc.cfg.Secrets = memstore.New(), [][]byte{secretA}
			m, err := tether.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := New(m, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if b.CookieName() != tc.name || b.attrs != tc.attr {
				t.Errorf("got %q %q, want %q %q", b.CookieName(), b.attrs, tc.name, tc.attr)
			}
		})
	}
}

// The bound cookie verifies only for its binding, until its signed expiry
// (never the Max-Age the client keeps), under any configured secret.
func TestBoundCookieCheck(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newBoundCookie("sid-dbsc", [][]byte{deriveForTest(secretA)})
	good, err := c.issue("dA", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	rotated := newBoundCookie("sid-dbsc", [][]byte{deriveForTest(secretB), deriveForTest(secretA)})
	other := newBoundCookie("sid-dbsc", [][]byte{deriveForTest(secretB)})
	flip := []byte(good)
	flip[len(flip)-2] ^= 1
	cases := []struct {
		name    string
		c       *boundCookie
		cookies []string
		id      string
		at      time.Time
		want    cookieVerdict
	}{
		{"valid", c, []string{good}, "dA", now, cookieOK},
		{"a second before expiry", c, []string{good}, "dA", now.Add(59 * time.Second), cookieOK},
		{"at the signed expiry", c, []string{good}, "dA", now.Add(time.Minute), cookieExpired},
		{"another binding", c, []string{good}, "dB", now, cookieInvalid},
		{"missing", c, nil, "dA", now, cookieMissing},
		{"twice", c, []string{good, good}, "dA", now, cookieRepeated},
		{"tampered", c, []string{string(flip)}, "dA", now, cookieInvalid},
		{"truncated", c, []string{good[:len(good)-1]}, "dA", now, cookieInvalid},
		{"empty", c, []string{""}, "dA", now, cookieInvalid},
		{"signed by a previous secret", rotated, []string{good}, "dA", now, cookieOK},
		{"secret no longer configured", other, []string{good}, "dA", now, cookieInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "https://example.test/", nil)
			for _, v := range tc.cookies {
				r.AddCookie(&http.Cookie{Name: "sid-dbsc", Value: v})
			}
			if got := tc.c.check(r, tc.id, tc.at); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// Every refresh gives a new value.
	again, _ := c.issue("dA", now.Add(time.Minute))
	if again == good {
		t.Error("two cookies for one binding and expiry are equal; want a fresh nonce each")
	}
}

// deriveForTest derives the bound cookie key as Manager.DeriveKeys does.
func deriveForTest(secret []byte) []byte {
	m, err := tether.New(tether.Config{Store: memstore.New(), Secrets: [][]byte{secret}})
	if err != nil {
		panic(err)
	}
	return m.DeriveKeys(cookieKeyLabel)[0]
}

// A cookie signed before a secret rotation keeps a bound session working
// after it, as the session cookie does.
func TestBoundCookieSurvivesSecretRotation(t *testing.T) {
	a := newApp(t, secretA)
	cookies, _ := a.bind(t)
	b := newApp(t, secretB, secretA)
	b.store.Store = a.store.Store // the same sessions, the new secrets
	if w := b.send("GET", "/private", cookies, nil); w.Code != http.StatusOK || w.Body.String() != "u1" {
		t.Fatalf("after rotation: got %d %q, want 200 u1", w.Code, w.Body)
	}
	c := newApp(t, secretB)
	c.store.Store = a.store.Store
	// With the old secret gone neither cookie verifies: the request is not
	// signed in (the session cookie is refused first).
	if w := c.send("GET", "/private", cookies, nil); w.Body.String() == "u1" {
		t.Fatal("with the old secret removed: still signed in as u1")
	}
}

// Issue 16: "Verifying the bound cookie costs no extra store call". A bound
// request with its cookie costs the one load every session request makes.
func TestEnforceCostsNoStoreCall(t *testing.T) {
	a := newApp(t)
	cookies, _ := a.bind(t)
	a.store.loads.Store(0)
	a.store.updates.Store(0)
	if w := a.send("GET", "/private", cookies, nil); w.Code != http.StatusOK {
		t.Fatalf("got %d, want 200", w.Code)
	}
	if l, u := a.store.loads.Load(), a.store.updates.Load(); l != 1 || u != 0 {
		t.Errorf("store calls: got %d loads and %d updates, want 1 and 0", l, u)
	}
}

// A store outage is never answered 4xx by the DBSC endpoints (a 4xx ends
// the browser's DBSC session): 503, which the browser retries.
func TestStoreOutageAnswers503(t *testing.T) {
	a := newApp(t)
	cookies, id := a.bind(t)
	a.store.down.Store(true)
	for _, tc := range []struct {
		path string
		hdr  map[string]string
	}{
		{"/dbsc/refresh", map[string]string{HeaderSessionID: id}},
		{"/dbsc/register", map[string]string{HeaderResponse: "eyJ.eyJ.AA"}},
	} {
		if w := a.send("POST", tc.path, cookies, tc.hdr); w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s during an outage: got %d %s, want 503", tc.path, w.Code, w.Body)
		}
	}
	// The outage ends: the refresh works.
	a.store.down.Store(false)
	w := a.send("POST", "/dbsc/refresh", cookies, map[string]string{HeaderSessionID: id})
	if w.Code != http.StatusForbidden {
		t.Fatalf("after the outage: got %d, want 403 with a challenge", w.Code)
	}
}

// An outage while a valid proof's challenge is being taken (the session
// loaded, the store's atomic step refused) is a 503, never a 4xx that would
// end the browser's DBSC session, and the challenge survives it: the same
// proof works once the store is back.
func TestStoreOutageWhileTakingChallenge(t *testing.T) {
	t.Run("register", func(t *testing.T) {
		a := newApp(t)
		testKeys(t)
		w := a.send("POST", "/login", nil, nil)
		m := offerRE.FindStringSubmatch(w.Header().Get(HeaderRegistration))
		if m == nil {
			t.Fatalf("login: no offer in %q", w.Header().Get(HeaderRegistration))
		}
		sess := w.Result().Cookies()
		proof := sign(t, ecKey, regHeader(AlgES256, ecKey), map[string]any{"jti": m[1]})
		a.store.updatesDown.Store(true)
		if w := a.send("POST", "/dbsc/register", sess, map[string]string{HeaderResponse: proof}); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("register while updates fail: got %d %s, want 503", w.Code, w.Body)
		}
		a.store.updatesDown.Store(false)
		if w := a.send("POST", "/dbsc/register", sess, map[string]string{HeaderResponse: proof}); w.Code != http.StatusOK {
			t.Fatalf("register after the outage, same proof: got %d %s, want 200", w.Code, w.Body)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		a := newApp(t)
		cookies, id := a.bind(t)
		w := a.send("POST", "/dbsc/refresh", cookies, map[string]string{HeaderSessionID: id})
		m := regexp.MustCompile(`^"([^"]+)"`).FindStringSubmatch(w.Header().Get(HeaderChallenge))
		if w.Code != http.StatusForbidden || m == nil {
			t.Fatalf("refresh without a proof: got %d, challenge %q, want 403 with one", w.Code, w.Header().Get(HeaderChallenge))
		}
		proof := sign(t, ecKey, map[string]any{"alg": AlgES256, "typ": "dbsc+jwt"}, map[string]any{"jti": m[1]})
		hdr := map[string]string{HeaderSessionID: id, HeaderResponse: proof}
		a.store.updatesDown.Store(true)
		if w := a.send("POST", "/dbsc/refresh", cookies, hdr); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("refresh while updates fail: got %d %s, want 503", w.Code, w.Body)
		}
		a.store.updatesDown.Store(false)
		if w := a.send("POST", "/dbsc/refresh", cookies, hdr); w.Code != http.StatusOK {
			t.Fatalf("refresh after the outage, same proof: got %d %s, want 200", w.Code, w.Body)
		}
	})
}

// A client that asks for challenges in a loop gets 429 (which keeps the
// browser's session) once MaxChallenges are outstanding, and the session
// does not grow beyond them.
func TestChallengesBoundedPerSession(t *testing.T) {
	a := newApp(t)
	cookies, id := a.bind(t)
	for i := 0; i < MaxChallenges; i++ {
		if w := a.send("POST", "/dbsc/refresh", cookies, map[string]string{HeaderSessionID: id}); w.Code != http.StatusForbidden {
			t.Fatalf("challenge %d: got %d, want 403", i+1, w.Code)
		}
	}
	w := a.send("POST", "/dbsc/refresh", cookies, map[string]string{HeaderSessionID: id})
	if want := strconv.Itoa(int(DefaultChallengeTTL.Seconds())); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != want {
		t.Fatalf("challenge %d: got %d (Retry-After %q), want 429 with Retry-After %q", MaxChallenges+1, w.Code, w.Header().Get("Retry-After"), want)
	}
	// Once they expire, they are swept and challenges are issued again.
	a.clock.Add(DefaultChallengeTTL + time.Second)
	if w := a.send("POST", "/dbsc/refresh", cookies, map[string]string{HeaderSessionID: id}); w.Code != http.StatusForbidden {
		t.Fatalf("after expiry: got %d, want 403", w.Code)
	}
}

// The offer goes to signed-in HTTPS requests, once per session.
func TestOfferOncePerSessionOverHTTPS(t *testing.T) {
	a := newApp(t)
	w := a.send("POST", "/login", nil, nil)
	if w.Header().Get(HeaderRegistration) == "" {
		t.Fatal("login over https: no offer")
	}
	r := httptest.NewRequest("GET", "https://example.test/", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	var again bool
	a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		again, _ = a.b.Offer(w, r)
	})).ServeHTTP(httptest.NewRecorder(), r)
	if again {
		t.Error("second offer in one session: got true, want false")
	}
	// Over plain http and to anonymous sessions: nothing.
	plain := httptest.NewRequest("POST", "http://example.test/login", nil)
	pw := httptest.NewRecorder()
	a.h.ServeHTTP(pw, plain)
	if pw.Header().Get(HeaderRegistration) != "" {
		t.Error("login over http: got an offer, want none")
	}
	anon := httptest.NewRequest("GET", "https://example.test/", nil)
	var offered bool
	a.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offered, _ = a.b.Offer(w, r)
	})).ServeHTTP(httptest.NewRecorder(), anon)
	if offered {
		t.Error("anonymous session: got an offer, want none")
	}
}
