package server

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/audit"
	"github.com/tetherhq/tether/dbsc"
)

// A Go client in the browser's place for the DBSC protocol tests: its own
// P-256 or RSA key, a cookie jar, and the requests Chromium makes (checked
// on the wire with Debian's Chromium 156, ../shared/notes/dbsc-in-chromium.md).

// dbscBrowser is one browser: a cookie jar and a DBSC key.
type dbscBrowser struct {
	t    *testing.T
	ts   *httptest.Server
	base *url.URL
	hc   *http.Client
	alg  string
	ec   *ecdsa.PrivateKey
	rsa  *rsa.PrivateKey
	sid  string // the DBSC session identifier from the registration answer
	// secrets records every proof and challenge the browser handled, for
	// the check that no event carries one.
	secrets *[]string
}

// rsaKeys caches one RSA key per test binary: generating one costs
// hundreds of milliseconds under -race.
var rsaKeys = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newDBSCBrowser(t *testing.T, ts *httptest.Server, alg string) *dbscBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := ts.Client()
	hc = &http.Client{Transport: hc.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u, _ := url.Parse(ts.URL)
	b := &dbscBrowser{t: t, ts: ts, base: u, hc: hc, alg: alg, secrets: new([]string)}
	switch alg {
	case dbsc.AlgES256:
		b.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
	case dbsc.AlgRS256:
		b.rsa = rsaKeys()
	default:
		t.Fatalf("alg %q", alg)
	}
	return b
}

// withNewKey returns the browser with a fresh key of the same algorithm (a thief's).
func (b *dbscBrowser) withNewKey() *dbscBrowser {
	c := *b
	if b.alg == dbsc.AlgES256 {
		c.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.t.Fatal(err)
		}
		c.rsa = k
	}
	return &c
}

var b64u = base64.RawURLEncoding.EncodeToString

// jwk returns the browser's public key as a JWK.
func (b *dbscBrowser) jwk() map[string]string {
	if b.ec != nil {
		pt, err := b.ec.PublicKey.Bytes()
		if err != nil {
			b.t.Fatal(err)
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64u(pt[1:33]), "y": b64u(pt[33:])}
	}
	return map[string]string{"kty": "RSA", "n": b64u(b.rsa.N.Bytes()), "e": b64u(big.NewInt(int64(b.rsa.E)).Bytes())}
}

// signJWT signs header and payload with the browser's key (raw r||s for
// ES256, as JWS requires).
func (b *dbscBrowser) signJWT(header, payload map[string]any) string {
	hj, _ := json.Marshal(header)
	pj, _ := json.Marshal(payload)
	in := b64u(hj) + "." + b64u(pj)
	sum := sha256.Sum256([]byte(in))
	var sig []byte
	if b.ec != nil {
		r, s, err := ecdsa.Sign(rand.Reader, b.ec, sum[:])
		if err != nil {
			b.t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	} else {
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, b.rsa, crypto.SHA256, sum[:]); err != nil {
			b.t.Fatal(err)
		}
	}
	return in + "." + b64u(sig)
}

// proof is the proof Chromium sends: with the jwk for a registration,
// without for a refresh.
func (b *dbscBrowser) proof(withJWK bool, jti string) string {
	h := map[string]any{"alg": b.alg, "typ": "dbsc+jwt"}
	if withJWK {
		h["jwk"] = b.jwk()
	}
	p := b.signJWT(h, map[string]any{"jti": jti})
	*b.secrets = append(*b.secrets, p, jti)
	return p
}

// do sends a request with the jar's cookies and headers, and returns the
// response with its body read.
func (b *dbscBrowser) do(method, path string, body string, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base.String()+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

var (
	offerChallenge = regexp.MustCompile(`^\(ES256 RS256\);path="/dbsc/register";challenge="([A-Za-z0-9_-]{43})"$`)
	refreshChal    = regexp.MustCompile(`^"([A-Za-z0-9_-]{43})";id="([A-Za-z0-9_-]+)"$`)
)

// login signs alice in and returns the offered challenge ("" for none).
func (b *dbscBrowser) login() string {
	b.t.Helper()
	resp, body := b.do("POST", "/login", `{"username":"alice","password":"correct-horse"}`, nil)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("login: got %d %s, want 200", resp.StatusCode, body)
	}
	h := resp.Header.Values(dbsc.HeaderRegistration)
	if len(h) == 0 {
		return ""
	}
	m := offerChallenge.FindStringSubmatch(h[0])
	if len(h) != 1 || m == nil {
		b.t.Fatalf("offer: got %q, want one (ES256 RS256);path=\"/dbsc/register\";challenge=\"…\"", h)
	}
	return m[1]
}

// register posts a registration proof (or the given raw JWT) and returns
// the response.
func (b *dbscBrowser) register(jwt string) (*http.Response, string) {
	return b.do("POST", "/dbsc/register", "", map[string]string{dbsc.HeaderResponse: jwt})
}

// registerOK registers with the offered challenge and checks the answer.
func (b *dbscBrowser) registerOK(challenge string) {
	b.t.Helper()
	resp, body := b.register(b.proof(true, challenge))
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("register: got %d %s, want 200", resp.StatusCode, body)
	}
	var in struct {
		SessionIdentifier string `json:"session_identifier"`
		RefreshURL        string `json:"refresh_url"`
		Scope             struct {
			IncludeSite *bool `json:"include_site"`
		} `json:"scope"`
		Credentials []struct{ Type, Name, Attributes string } `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		b.t.Fatalf("register answer %q: %v", body, err)
	}
	if in.SessionIdentifier == "" || in.RefreshURL != "/dbsc/refresh" || in.Scope.IncludeSite == nil || *in.Scope.IncludeSite ||
		len(in.Credentials) != 1 || in.Credentials[0].Type != "cookie" || in.Credentials[0].Name != "sid-dbsc" ||
		in.Credentials[0].Attributes != "Path=/; Secure; HttpOnly; SameSite=Lax" {
		b.t.Fatalf("register answer: got %s, want the instructions for sid-dbsc", body)
	}
	if got := resp.Header.Values(dbsc.HeaderChallenge); len(got) != 0 {
		b.t.Errorf("register answer carries %s %q; want none", dbsc.HeaderChallenge, got)
	}
	if !setsCookie(resp, "sid-dbsc") {
		b.t.Fatalf("register answer: no Set-Cookie for sid-dbsc (got %q)", resp.Header.Values("Set-Cookie"))
	}
	b.sid = in.SessionIdentifier
}

// setsCookie reports whether resp sets a non-empty cookie called name.
func setsCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

// refreshAsk sends a refresh without a proof and returns the challenge of
// the 403.
func (b *dbscBrowser) refreshAsk() string {
	b.t.Helper()
	resp, body := b.do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: b.sid})
	if resp.StatusCode != http.StatusForbidden {
		b.t.Fatalf("refresh without proof: got %d %s, want 403", resp.StatusCode, body)
	}
	m := refreshChal.FindStringSubmatch(resp.Header.Get(dbsc.HeaderChallenge))
	if m == nil || m[2] != b.sid {
		b.t.Fatalf("refresh 403: %s %q, want \"<challenge>\";id=\"%s\"", dbsc.HeaderChallenge, resp.Header.Get(dbsc.HeaderChallenge), b.sid)
	}
	return m[1]
}

// refreshWith sends a refresh carrying jwt.
func (b *dbscBrowser) refreshWith(jwt string) (*http.Response, string) {
	return b.do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: b.sid, dbsc.HeaderResponse: jwt})
}

// refresh does the whole refresh: 403, proof, 200 with a new bound cookie.
func (b *dbscBrowser) refresh() {
	b.t.Helper()
	ch := b.refreshAsk()
	resp, body := b.refreshWith(b.proof(false, ch))
	if resp.StatusCode != http.StatusOK || !setsCookie(resp, "sid-dbsc") {
		b.t.Fatalf("refresh with proof: got %d %s (Set-Cookie %q), want 200 with a new sid-dbsc", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
}

// cookie returns the jar's cookie called name ("" for none).
func (b *dbscBrowser) cookie(name string) string {
	for _, c := range b.hc.Jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// thief returns a fresh browser holding copies of the named cookies.
func (b *dbscBrowser) thief(names ...string) *dbscBrowser {
	th := newDBSCBrowser(b.t, b.ts, b.alg)
	var cs []*http.Cookie
	for _, n := range names {
		if v := b.cookie(n); v != "" {
			cs = append(cs, &http.Cookie{Name: n, Value: v, Path: "/"})
		}
	}
	th.hc.Jar.SetCookies(b.base, cs)
	th.sid = b.sid
	return th
}

// dbscClock is a Manager clock the tests move.
type dbscClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *dbscClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *dbscClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eventLog records the Manager's events, and writes them through package
// audit (the security log) into text.
type eventLog struct {
	mu   sync.Mutex
	ev   []tether.Event
	text bytes.Buffer
}

func (l *eventLog) on(e tether.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, e)
	audit.New(&l.text).OnEvent(e)
}

// logged returns the security log written so far.
func (l *eventLog) logged() string { l.mu.Lock(); defer l.mu.Unlock(); return l.text.String() }

// count returns how many events of typ carry attribute reason = want
// (any reason when want is "").
func (l *eventLog) count(typ, want string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.ev {
		if e.Type != typ {
			continue
		}
		if want == "" {
			n++
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == "reason" && a.Value.String() == want {
				n++
			}
		}
	}
	return n
}

// dbscServer is the reference server over TLS on store (memstore when
// nil), with a movable clock and an event log.
func dbscServer(t *testing.T, store tether.Store, o Options) (*httptest.Server, *dbscClock, *eventLog) {
	t.Helper()
	return dbscServerCfg(t, tether.Config{Store: store}, o)
}

// dbscServerCfg is dbscServer with more of the Manager's configuration.
func dbscServerCfg(t *testing.T, cfg tether.Config, o Options) (*httptest.Server, *dbscClock, *eventLog) {
	t.Helper()
	clock := &dbscClock{now: time.Now().Truncate(time.Second)}
	log := &eventLog{}
	cfg.Now, cfg.OnEvent = clock.Now, log.on
	s := testServer(t, cfg, o)
	ts := httptest.NewTLSServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, clock, log
}

// csrfToken returns the session's CSRF token (GET /csrf-token).
func (b *dbscBrowser) csrfToken() string {
	b.t.Helper()
	resp, body := b.do("GET", "/csrf-token", "", nil)
	var v struct {
		CSRFToken string `json:"csrfToken"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || v.CSRFToken == "" {
		b.t.Fatalf("GET /csrf-token: got %d %s", resp.StatusCode, body)
	}
	return v.CSRFToken
}
