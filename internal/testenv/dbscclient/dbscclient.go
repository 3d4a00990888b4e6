// Package dbscclient is a Go client in a browser's place for the DBSC
// protocol tests (issue 16): its own P-256 or RSA key, a cookie jar, and the
// requests Chromium makes to a tether reference server (checked on the wire
// with Debian's Chromium 156, ../shared/notes/dbsc-in-chromium.md): sign
// in, read the offer, register with a proof that carries the public key,
// refresh with a 403 round trip and a proof by the registered key. It also
// forges what an attacker would send, and copies cookies to a thief.
//
// Test code only: it fails the test (t.Fatal) on transport errors, so call
// its methods from the test's goroutine; Client is safe for concurrent
// requests sent through HTTP.
package dbscclient

import (
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
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tetherhq/tether/dbsc"
)

// Browser is one browser: a cookie jar and a DBSC key.
type Browser struct {
	T    testing.TB
	Base *url.URL
	// HC sends the requests: the jar's cookies, no redirects followed.
	HC  *http.Client
	Alg string // dbsc.AlgES256 or dbsc.AlgRS256
	// SID is the DBSC session identifier from the registration answer.
	SID string
	// BoundCookie is the bound cookie's expected name (default
	// "sid-dbsc", the development server's).
	BoundCookie string
	// BoundAttributes, when set, are the bound cookie's exact attributes
	// in the registration answer; otherwise they must include
	// "Secure; HttpOnly".
	BoundAttributes string
	// Check, when set, is called on every DBSC answer the helpers expect
	// to succeed (the register 200, the refresh 403 and 200).
	Check func(what string, resp *http.Response)
	// Secrets records every proof and challenge the browser handled, for
	// checks that no log carries one.
	Secrets *[]string

	transport http.RoundTripper
	ec        *ecdsa.PrivateKey
	rsa       *rsa.PrivateKey
}

// rsaKey is one RSA key per test binary: generating one costs hundreds of
// milliseconds under -race.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// New returns a browser for the server at base, sending through transport
// (an httptest TLS server's client transport, say), with a key for alg: a
// new P-256 key for ES256; for RS256 the test binary's one RSA key (rsaKey),
// shared by every RS256 browser, so a test of one key against another uses
// ES256.
func New(t testing.TB, base string, transport http.RoundTripper, alg string) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{T: t, Base: u, Alg: alg, BoundCookie: "sid-dbsc", Secrets: new([]string), transport: transport,
		HC: &http.Client{Transport: transport, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.newKey()
	return b
}

func (b *Browser) newKey() {
	switch b.Alg {
	case dbsc.AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.T.Fatal(err)
		}
		b.ec, b.rsa = k, nil
	case dbsc.AlgRS256:
		b.ec, b.rsa = nil, rsaKey()
	default:
		b.T.Fatalf("dbscclient: alg %q", b.Alg)
	}
}

// WithNewKey returns the browser (same jar) with another key of the same
// algorithm: a thief's, or a forger's.
func (b *Browser) WithNewKey() *Browser {
	c := *b
	if b.Alg == dbsc.AlgRS256 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.T.Fatal(err)
		}
		c.rsa = k
		return &c
	}
	c.newKey()
	return &c
}

var b64u = base64.RawURLEncoding.EncodeToString

// JWK returns the browser's public key as a JWK.
func (b *Browser) JWK() map[string]string {
	if b.ec != nil {
		pt, err := b.ec.PublicKey.Bytes()
		if err != nil {
			b.T.Fatal(err)
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64u(pt[1:33]), "y": b64u(pt[33:])}
	}
	return map[string]string{"kty": "RSA", "n": b64u(b.rsa.N.Bytes()), "e": b64u(big.NewInt(int64(b.rsa.E)).Bytes())}
}

// SignJWT signs header and payload with the browser's key (raw r||s for
// ES256, as JWS requires; PKCS #1 v1.5 for RS256), whatever they say.
func (b *Browser) SignJWT(header, payload map[string]any) string {
	hj, _ := json.Marshal(header)
	pj, _ := json.Marshal(payload)
	in := b64u(hj) + "." + b64u(pj)
	sum := sha256.Sum256([]byte(in))
	var sig []byte
	if b.ec != nil {
		r, s, err := ecdsa.Sign(rand.Reader, b.ec, sum[:])
		if err != nil {
			b.T.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	} else {
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, b.rsa, crypto.SHA256, sum[:]); err != nil {
			b.T.Fatal(err)
		}
	}
	return in + "." + b64u(sig)
}

// Proof is the proof Chromium sends: with the jwk for a registration,
// without for a refresh.
func (b *Browser) Proof(withJWK bool, jti string) string {
	h := map[string]any{"alg": b.Alg, "typ": "dbsc+jwt"}
	if withJWK {
		h["jwk"] = b.JWK()
	}
	p := b.SignJWT(h, map[string]any{"jti": jti})
	*b.Secrets = append(*b.Secrets, p, jti)
	return p
}

// Do sends a request with the jar's cookies and the headers, a JSON body
// when body is not empty, and returns the response with its body read.
func (b *Browser) Do(method, path, body string, hdr map[string]string) (*http.Response, string) {
	b.T.Helper()
	req, err := http.NewRequest(method, b.Base.String()+path, strings.NewReader(body))
	if err != nil {
		b.T.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.HC.Do(req)
	if err != nil {
		b.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

var (
	offerRE = regexp.MustCompile(`^\(ES256 RS256\);path="/dbsc/register";challenge="([A-Za-z0-9_-]{43})"$`)
	// ChallengeRE matches a Secure-Session-Challenge value; group 1 is the
	// challenge, group 2 the session identifier.
	ChallengeRE = regexp.MustCompile(`^"([A-Za-z0-9_-]{43})";id="([A-Za-z0-9_-]+)"$`)
)

// Login signs in with the demo credentials (alice / correct-horse) and
// returns the offered challenge ("" for none).
func (b *Browser) Login() string {
	b.T.Helper()
	resp, body := b.Do("POST", "/login", `{"username":"alice","password":"correct-horse"}`, nil)
	if resp.StatusCode != http.StatusOK {
		b.T.Fatalf("login: got %d %s, want 200", resp.StatusCode, body)
	}
	h := resp.Header.Values(dbsc.HeaderRegistration)
	if len(h) == 0 {
		return ""
	}
	m := offerRE.FindStringSubmatch(h[0])
	if len(h) != 1 || m == nil {
		b.T.Fatalf("offer: got %q, want one (ES256 RS256);path=\"/dbsc/register\";challenge=\"…\"", h)
	}
	return m[1]
}

// Register posts jwt as the registration proof.
func (b *Browser) Register(jwt string) (*http.Response, string) {
	return b.Do("POST", "/dbsc/register", "", map[string]string{dbsc.HeaderResponse: jwt})
}

// RegisterOK registers with the offered challenge, checks the answer (the
// instructions, the bound cookie, no challenge header) and keeps the
// session identifier.
func (b *Browser) RegisterOK(challenge string) {
	b.T.Helper()
	resp, body := b.Register(b.Proof(true, challenge))
	if resp.StatusCode != http.StatusOK {
		b.T.Fatalf("register: got %d %s, want 200", resp.StatusCode, body)
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
		b.T.Fatalf("register answer %q: %v", body, err)
	}
	if in.SessionIdentifier == "" || in.RefreshURL != "/dbsc/refresh" || in.Scope.IncludeSite == nil || *in.Scope.IncludeSite ||
		len(in.Credentials) != 1 || in.Credentials[0].Type != "cookie" || in.Credentials[0].Name != b.BoundCookie ||
		!b.attributesOK(in.Credentials[0].Attributes) {
		b.T.Fatalf("register answer: got %s, want the instructions for %s", body, b.BoundCookie)
	}
	if got := resp.Header.Values(dbsc.HeaderChallenge); len(got) != 0 {
		b.T.Errorf("register answer carries %s %q; want none", dbsc.HeaderChallenge, got)
	}
	if !SetsCookie(resp, b.BoundCookie) {
		b.T.Fatalf("register answer: no Set-Cookie for %s (got %q)", b.BoundCookie, resp.Header.Values("Set-Cookie"))
	}
	b.check("register answer", resp)
	b.SID = in.SessionIdentifier
}

func (b *Browser) attributesOK(a string) bool {
	if b.BoundAttributes != "" {
		return a == b.BoundAttributes
	}
	return strings.Contains(a, "Secure; HttpOnly")
}

func (b *Browser) check(what string, resp *http.Response) {
	if b.Check != nil {
		b.Check(what, resp)
	}
}

// SetsCookie reports whether resp sets a non-empty cookie called name.
func SetsCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

// RefreshAsk sends a refresh without a proof and returns the challenge of
// the 403.
func (b *Browser) RefreshAsk() string {
	b.T.Helper()
	resp, body := b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: b.SID})
	if resp.StatusCode != http.StatusForbidden {
		b.T.Fatalf("refresh without proof: got %d %s, want 403", resp.StatusCode, body)
	}
	m := ChallengeRE.FindStringSubmatch(resp.Header.Get(dbsc.HeaderChallenge))
	if m == nil || m[2] != b.SID {
		b.T.Fatalf("refresh 403: %s %q, want \"<challenge>\";id=\"%s\"", dbsc.HeaderChallenge, resp.Header.Get(dbsc.HeaderChallenge), b.SID)
	}
	b.check("refresh 403", resp)
	return m[1]
}

// RefreshWith sends a refresh carrying jwt.
func (b *Browser) RefreshWith(jwt string) (*http.Response, string) {
	return b.Do("POST", "/dbsc/refresh", "", map[string]string{dbsc.HeaderSessionID: b.SID, dbsc.HeaderResponse: jwt})
}

// Refresh does the whole refresh: 403, proof, 200 with a new bound cookie.
func (b *Browser) Refresh() {
	b.T.Helper()
	ch := b.RefreshAsk()
	resp, body := b.RefreshWith(b.Proof(false, ch))
	if resp.StatusCode != http.StatusOK || !SetsCookie(resp, b.BoundCookie) {
		b.T.Fatalf("refresh with proof: got %d %s (Set-Cookie %q), want 200 with a new %s", resp.StatusCode, body, resp.Header.Values("Set-Cookie"), b.BoundCookie)
	}
	b.check("refresh 200", resp)
}

// Cookie returns the jar's cookie called name ("" for none).
func (b *Browser) Cookie(name string) string {
	for _, c := range b.HC.Jar.Cookies(b.Base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Thief returns a fresh browser (its own jar, and its own key for ES256; see
// New) holding copies of the named cookies, and knowing the session
// identifier.
func (b *Browser) Thief(names ...string) *Browser {
	th := New(b.T, b.Base.String(), b.transport, b.Alg)
	th.BoundCookie, th.BoundAttributes, th.Check, th.SID = b.BoundCookie, b.BoundAttributes, b.Check, b.SID
	var cs []*http.Cookie
	for _, n := range names {
		if v := b.Cookie(n); v != "" {
			cs = append(cs, &http.Cookie{Name: n, Value: v, Path: "/"})
		}
	}
	th.HC.Jar.SetCookies(b.Base, cs)
	return th
}

// CSRFToken returns the session's CSRF token (GET /csrf-token).
func (b *Browser) CSRFToken() string {
	b.T.Helper()
	resp, body := b.Do("GET", "/csrf-token", "", nil)
	var v struct {
		CSRFToken string `json:"csrfToken"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || v.CSRFToken == "" {
		b.T.Fatalf("GET /csrf-token: got %d %s", resp.StatusCode, body)
	}
	return v.CSRFToken
}
