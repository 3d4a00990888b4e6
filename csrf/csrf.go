package csrf

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/tetherhq/tether"
)

// HeaderName and FormField carry the token on unsafe requests.
const (
	HeaderName = "X-CSRF-Token"
	FormField  = "csrf_token"
	// SessionKey is the session value that holds the token:
	// "tether.login.csrfToken". It lies under
	// [tether.LoginScopedKeyPrefix], so every login, re-authentication and
	// role change drops it and [Token] issues a new one afterwards: a token
	// known before the login (planted together with a session cookie, or
	// read from an anonymous page) does not pass the check after it.
	SessionKey = tether.LoginScopedKeyPrefix + "csrfToken"
)

// Options configure a Protector.
type Options struct {
	// Manager is the session middleware that runs before the Protector; it
	// receives csrf_failure events, and its [tether.Manager.Error] answers
	// store outages and wiring mistakes. Required.
	Manager *tether.Manager
	// Exempt lists exact paths that skip the token check (not the origin
	// check), e.g. "/login".
	Exempt []string
	// TrustedOrigins are origins ("https://app.example.com") allowed to make
	// cross-origin unsafe requests.
	TrustedOrigins []string
	// MaxBodyBytes bounds how much of a form body (urlencoded or multipart)
	// the check reads to find the csrf_token field when the X-CSRF-Token
	// header is absent. Default (0): [DefaultMaxBodyBytes], 1 MiB. A
	// urlencoded body longer than this, or a multipart body whose
	// csrf_token field does not end within it, is refused with
	// [ErrBodyTooLarge]. The bytes read are held in memory and replayed to
	// the handler, followed by the unread rest, so the handler reads the
	// body or the form as if the check had not run; a file part after the
	// token field is never read by the check.
	MaxBodyBytes int64
	// ErrorHandler answers a request the check refused, after the
	// csrf_failure event (none for ErrBodyRead). It receives [ErrCrossOrigin], [ErrNoToken],
	// [ErrMissingToken], [ErrBadToken], [ErrBodyTooLarge] or [ErrBodyRead]
	// (match with errors.Is; [StatusOf] gives the status and message that
	// suit each). Store outages and a missing session middleware are not
	// CSRF failures and do not come here: they go to Manager.Error like
	// every session error. Default: [DefaultErrorHandler], JSON
	// {"error":"…"} with 403 (413 for ErrBodyTooLarge, 400 for
	// ErrBodyRead). An HTML application renders its own page here, with the
	// status of [StatusOf].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Protector is the CSRF middleware. It is safe for concurrent use.
type Protector struct {
	m       *tether.Manager
	cop     *http.CrossOriginProtection
	exempt  map[string]bool
	maxBody int64
	onFail  func(http.ResponseWriter, *http.Request, error)
}

// New validates opts and returns a Protector.
func New(opts Options) (*Protector, error) {
	if opts.Manager == nil {
		return nil, errors.New("csrf: Options.Manager is required (the tether Manager whose Handler runs before the Protector's)")
	}
	if opts.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("csrf: Options.MaxBodyBytes is %d; use 0 for the default (1 MiB) or a positive size", opts.MaxBodyBytes)
	}
	p := &Protector{
		m:       opts.Manager,
		cop:     http.NewCrossOriginProtection(),
		exempt:  map[string]bool{},
		maxBody: opts.MaxBodyBytes,
		onFail:  opts.ErrorHandler,
	}
	if p.maxBody == 0 {
		p.maxBody = DefaultMaxBodyBytes
	}
	if p.onFail == nil {
		p.onFail = DefaultErrorHandler
	}
	for _, o := range opts.TrustedOrigins {
		if err := p.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("csrf: trusted origin %q: %w", o, err)
		}
	}
	for _, e := range opts.Exempt {
		p.exempt[e] = true
	}
	return p, nil
}

// Token returns the CSRF token of r's session, creating it (and so the
// session) if needed; the session is that of the innermost Manager.Handler
// r passed through ([tether.Lookup]). Without one Token returns
// [tether.ErrNoSession]. During a store outage it returns the session's
// load error (wrapping [tether.ErrStoreUnavailable]) rather than a token
// that could not be kept. With two Managers on one request, use
// [Protector.Token], which uses the session the Protector checks.
func Token(r *http.Request) (string, error) {
	s, ok := tether.Lookup(r.Context())
	if !ok {
		return "", tether.ErrNoSession
	}
	return token(s)
}

// Token is [Token] for the session of p's Manager ([Options.Manager]),
// whatever other Managers r passed through: the token that p's check
// expects.
func (p *Protector) Token(r *http.Request) (string, error) {
	s, err := p.session(r)
	if err != nil {
		return "", err
	}
	return token(s)
}

// session returns the session of p's Manager, or an error matching
// [tether.ErrNoSession] that says what is missing.
func (p *Protector) session(r *http.Request) (*tether.Session, error) {
	if s, ok := p.m.Lookup(r.Context()); ok {
		return s, nil
	}
	return nil, fmt.Errorf("%w: the csrf Protector runs outside the Handler of its Manager (cookie %s); wrap it: m.Handler(p.Handler(mux))", tether.ErrNoSession, p.m.CookieName())
}

func token(s *tether.Session) (string, error) {
	if err := s.Err(); err != nil {
		return "", err
	}
	if tok := s.GetString(SessionKey); tok != "" {
		return tok, nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	tok := hex.EncodeToString(b)
	return tok, s.Set(SessionKey, tok)
}

func safeMethod(m string) bool { return m == "GET" || m == "HEAD" || m == "OPTIONS" }

// Check reports whether r may proceed. Safe methods always may. It returns
// nil, one of the errors listed at [Options.ErrorHandler], or:
//   - an error matching [tether.ErrNoSession] when r did not pass through
//     the Handler of p's Manager;
//   - the session's load error (wrapping [tether.ErrStoreUnavailable]) when
//     the store is down: the session's token cannot be known, which is
//     neither a pass nor a forgery.
//
// When the header is absent Check reads the form body (see
// [Options.MaxBodyBytes]) and replaces r.Body with a reader that gives the
// handler the whole body again.
func (p *Protector) Check(r *http.Request) error {
	if safeMethod(r.Method) {
		return nil
	}
	if err := p.cop.Check(r); err != nil {
		return ErrCrossOrigin
	}
	if p.exempt[r.URL.Path] {
		return nil
	}
	s, err := p.session(r)
	if err != nil {
		return err
	}
	if err := s.Err(); err != nil {
		return err
	}
	want := s.GetString(SessionKey)
	if want == "" {
		return ErrNoToken
	}
	got := r.Header.Get(HeaderName)
	if got == "" {
		if got, err = formToken(r, p.maxBody); err != nil {
			return err
		}
	}
	if got == "" {
		return ErrMissingToken
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrBadToken
	}
	return nil
}

// Handler returns the middleware. It must run inside the Handler of
// [Options.Manager]. A refused request gets a csrf_failure event (with the
// reason, path and method, never the token) and [Options.ErrorHandler]'s
// answer; ErrBodyRead gets the answer without the event. A store outage
// and a missing Manager.Handler are answered by Manager.Error (503 and 500
// with the default [tether.Config.ErrorHandler]) with no csrf_failure
// event.
func (p *Protector) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := p.Check(r)
		switch {
		case err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(err, tether.ErrStoreUnavailable), errors.Is(err, tether.ErrNoSession):
			p.m.Error(w, r, err)
		case errors.Is(err, ErrBodyRead):
			p.onFail(w, r, err)
		default:
			p.m.Emit(r, tether.EventCSRFFailure, slog.String("reason", reason(err)), slog.String("path", r.URL.Path), slog.String("method", r.Method))
			p.onFail(w, r, err)
		}
	})
}
