package tether

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults applied by New to a zero Config field.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 8 * time.Hour
	DefaultMaxCookieBytes  = 4096
	DefaultMaxValueBytes   = 64 << 10
	DefaultStoreTimeout    = 3 * time.Second
	// MinSecretBytes is the shortest signing secret New accepts in production.
	MinSecretBytes = 32
)

// Config configures a Manager. Only Store and Secrets are required; every other
// field has a safe default. New validates the whole Config and refuses
// impossible or unsafe combinations with an error that names the field.
type Config struct {
	// Store keeps the session records. Required. A store that wraps another
	// (to time or trace it) should expose it with an Unwrap() Store method,
	// so that New can see what is underneath (a development-only store is
	// refused in production even when wrapped).
	Store Store

	// Secrets sign session cookies with HMAC-SHA256. The first secret signs;
	// every secret verifies, so a secret can be rotated without logging anyone
	// out: put the new one first and keep the old one until every cookie it
	// signed has expired (longer than AbsoluteTimeout). A cookie verified by an
	// older secret is re-signed with the first one on that response.
	// Required; in production each must be at least [MinSecretBytes] long.
	Secrets [][]byte

	// EncryptionKeys, when set, make the Manager keep every session value
	// AES-256-GCM encrypted in the Store, and no user ID in the clear (see
	// [EncryptStore], which wraps the Store; the associated data is the store
	// key, so a record moved to another key does not decrypt). Each key is
	// exactly [EncryptionKeyBytes] random bytes. The first encrypts; every
	// one decrypts, so a key is rotated by putting the new one first and
	// dropping the old one once every session it encrypted has ended (after
	// AbsoluteTimeout). Default: none (values stored as the application
	// wrote them).
	EncryptionKeys [][]byte

	// Production turns on Secure cookies and the __Host- cookie-name prefix,
	// and refuses stores that mark themselves development-only (memstore).
	Production bool

	// CookieName defaults to "__Host-sid" in production and "sid" otherwise.
	// A name starting with __Host- requires Secure and no Domain; one starting
	// with __Secure- requires Secure.
	CookieName string
	// Secure sets the cookie's Secure attribute. It is forced on in production.
	Secure bool
	// SameSite defaults to http.SameSiteLaxMode. SameSiteNoneMode requires Secure.
	SameSite http.SameSite
	// Domain is empty by default (a host-only cookie, the safest choice).
	Domain string
	// Path is the cookie's Path attribute. Default "/". A __Host- cookie
	// must have Path "/" (browsers refuse it otherwise). A narrower path
	// keeps the cookie away from other applications on the same host, but
	// it is not a security boundary between them.
	Path string
	// Partitioned adds the Partitioned attribute (CHIPS): in a cross-site
	// embed (an iframe on another site), the browser keeps a separate cookie
	// jar per top-level site. It requires Secure, and SameSite None: a Lax or
	// Strict cookie is never sent to a cross-site embed, the only place where
	// partitioning matters, so New refuses that combination rather than
	// leave an embedded app without a session.
	Partitioned bool
	// CookieMode chooses how long the browser keeps the cookie and when
	// responses re-send it: [CookieRolling] (the default), [CookieSession]
	// or [CookiePersistent]. [Session.SetPersistent] overrides it for one
	// session.
	CookieMode CookieMode

	// IdleTimeout ends a session that has seen no request for this long
	// (one that never logged in: AnonymousIdleTimeout, below).
	// Default 30 minutes. The server enforces it from its stored deadline;
	// with [CookieRolling] the cookie's Max-Age follows it.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created (after
	// login, for an authenticated one), however active. Default 8 hours.
	AbsoluteTimeout time.Duration
	// RenewInterval is how often a live session's cookie is renewed: the
	// first request after this long since the last renewal (or the login)
	// gets a cookie with a new secret, in the same store call it makes
	// anyway or one more. The replaced cookie works for RenewGrace more,
	// for requests already in flight; presented later it ends the session
	// and emits [EventTokenReuse] (theft detection: see renew.go). A copied
	// cookie is thus caught once both copies are used, and one that is
	// never used alongside the original stops working after at most
	// RenewInterval + RenewGrace of use by the owner. Default
	// [DefaultRenewInterval] (15 minutes); [RenewOff] turns renewal off.
	RenewInterval time.Duration
	// RenewGrace is how long a replaced renewal secret still works.
	// Default [DefaultRenewGrace] (30 seconds); it must be shorter than
	// RenewInterval. A login, Regenerate, ChangeRole or logout gives no
	// grace: the old token stops at once.
	RenewGrace time.Duration
	// RoleAbsoluteTimeouts overrides AbsoluteTimeout for sessions logged in
	// with a given role, e.g. {"admin": time.Hour}. Each must be > 0.
	RoleAbsoluteTimeouts map[string]time.Duration
	// AnonymousIdleTimeout ends a session that never logged in (no user)
	// after this long without requests, instead of IdleTimeout: any client
	// can make the server store one with a single request, so they are
	// short-lived. Default [DefaultAnonymousIdleTimeout] (5 minutes), or
	// IdleTimeout if that is shorter; it must be at least 1s and no longer
	// than IdleTimeout. [Session.Login] stores the signed-in session under
	// a new token with the full IdleTimeout. With [CookieRolling] the
	// cookie's Max-Age follows it.
	AnonymousIdleTimeout time.Duration
	// AllowCreate, when set, is asked just before a request stores a new
	// anonymous session (the first change of a request that arrived without
	// a live session), so that a client cannot fill the store. It returns
	// 0 and nil to allow. A positive retryAfter refuses: nothing is stored,
	// an [EventRateLimited] event with limit "session_create" is emitted,
	// and the request is answered through ErrorHandler with a
	// [*CreateLimitedError] (429 with Retry-After by default), whatever the
	// handler wrote. An error refuses as a store outage does (503). Logins
	// are never asked (they have their own throttling), nor are requests
	// that store nothing (a read of an empty session). It runs on the
	// request's goroutine while the session is being saved: it must not use
	// the request's Session, and must be safe for concurrent use. Default
	// nil: no limit. The reference server allows SESSION_CREATE_PER_IP per
	// client IP (IPv6: per /64) and minute ([throttle.Rate]).
	//
	// [throttle.Rate]: https://pkg.go.dev/github.com/tetherhq/tether/throttle#Rate
	AllowCreate func(r *http.Request) (retryAfter time.Duration, err error)

	// MaxCookieBytes bounds the session cookie's value; a longer one is
	// refused with 431 before any work is done. Default 4096.
	MaxCookieBytes int
	// MaxValueBytes bounds the JSON size of a session's values. Default 64 KiB.
	MaxValueBytes int
	// StoreTimeout bounds every store call made for a request. Default 3s.
	StoreTimeout time.Duration
	// FreshRead reports whether the session of r must be read from the
	// shared store, never from a store's local cache (see [WithFreshRead]):
	// return true for sensitive routes (password change, re-authentication,
	// session and admin pages, logins, logouts). Requests with a method
	// other than GET and HEAD are always read fresh, whatever it says.
	// Default nil: only those. It runs on the request's goroutine and must
	// be safe for concurrent use.
	FreshRead func(r *http.Request) bool

	// OnEvent receives security events. It is called synchronously on the
	// request's goroutine and must be safe for concurrent use. Default: none.
	OnEvent func(Event)
	// PublicIDKey is the key of sessions' public IDs (see
	// [Manager.PublicID]). Default: derived from the first secret, so every
	// instance sharing the secret gives a session the same public ID.
	PublicIDKey []byte
	// ClientIP returns the client address recorded in events. Default [RemoteIP].
	ClientIP func(*http.Request) string
	// ErrorHandler writes the response when the middleware cannot serve a
	// request (duplicate cookie, store unavailable…). Default
	// DefaultErrorHandler, which writes {"error":"…"}.
	ErrorHandler func(http.ResponseWriter, *http.Request, error)
	// Now returns the current time. Default time.Now; tests may replace it.
	Now func() time.Time
}

// developmentOnly is implemented by stores unfit for production (memstore).
type developmentOnly interface{ DevelopmentOnly() }

// maxUnwrap bounds the walk through store wrappers.
const maxUnwrap = 16

// developmentStore returns the development-only store behind s, looking
// through wrappers (a wrapper that times or traces a store exposes the one
// it wraps with an Unwrap() Store method), or nil if there is none. Without
// the walk, wrapping memstore would hide it from the production check.
func developmentStore(s Store) Store {
	if d, ok := storeBehind[interface {
		Store
		developmentOnly
	}](s); ok {
		return d
	}
	return nil
}

// storeBehind returns the first store, s itself or one it wraps (through
// Unwrap() Store methods, at most maxUnwrap deep), that implements T.
func storeBehind[T any](s Store) (T, bool) {
	for range maxUnwrap {
		if t, ok := s.(T); ok {
			return t, true
		}
		u, ok := s.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		if s = u.Unwrap(); s == nil {
			break
		}
	}
	var zero T
	return zero, false
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("tether: "+format, a...)) }

	if c.Store == nil {
		bad("Config.Store is required")
	} else if dev := developmentStore(c.Store); dev != nil && c.Production {
		bad("Config.Store %T is for development only and cannot be used in production; use a persistent store such as sqlitestore or redisstore", dev)
	}
	if len(c.Secrets) == 0 {
		bad("Config.Secrets is required: at least one signing secret")
	}
	for i, s := range c.Secrets {
		switch {
		case len(s) == 0:
			bad("Config.Secrets[%d] is empty", i)
		case c.Production && len(s) < MinSecretBytes:
			bad("Config.Secrets[%d] is %d bytes; production needs at least %d random bytes", i, len(s), MinSecretBytes)
		}
	}
	if len(c.EncryptionKeys) > 0 {
		ring, kerrs := newKeyring(c.EncryptionKeys)
		for _, err := range kerrs {
			bad("Config.%w", err)
		}
		if ring != nil && c.Store != nil {
			c.Store = newEncStore(c.Store, ring)
		}
	}
	if c.Production {
		c.Secure = true
	}
	if c.CookieName == "" {
		c.CookieName = "sid"
		if c.Production {
			c.CookieName = "__Host-sid"
		}
	}
	if !validCookieName(c.CookieName) {
		bad("Config.CookieName %q is not a valid cookie name", c.CookieName)
	}
	if strings.HasPrefix(c.CookieName, "__Host-") {
		if !c.Secure {
			bad("Config.CookieName %q has the __Host- prefix, which browsers accept only with Secure; set Secure (or Production)", c.CookieName)
		}
		if c.Domain != "" {
			bad("Config.CookieName %q has the __Host- prefix, which forbids a Domain; leave Domain empty", c.CookieName)
		}
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if !validCookiePath(c.Path) {
		bad("Config.Path %q is not a cookie path: it must start with / and be printable ASCII without ;", c.Path)
	} else if strings.HasPrefix(c.CookieName, "__Host-") && c.Path != "/" {
		bad("Config.CookieName %q has the __Host- prefix, which browsers accept only with Path /; leave Path empty or use another name", c.CookieName)
	}
	if c.Partitioned {
		if !c.Secure {
			bad("Config.Partitioned requires Secure (browsers drop a partitioned cookie without it); set Secure (or Production)")
		}
		if c.SameSite != http.SameSiteNoneMode {
			bad("Config.Partitioned needs SameSite None: a partitioned cookie is for cross-site embeds, and a Lax or Strict cookie is never sent to one")
		}
	}
	switch c.CookieMode {
	case CookieRolling, CookieSession, CookiePersistent:
	default:
		bad("Config.CookieMode %v is not CookieRolling, CookieSession or CookiePersistent", c.CookieMode)
	}
	if strings.HasPrefix(c.CookieName, "__Secure-") && !c.Secure {
		bad("Config.CookieName %q has the __Secure- prefix, which browsers accept only with Secure", c.CookieName)
	}
	if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteLaxMode
	}
	if c.SameSite == http.SameSiteNoneMode && !c.Secure {
		bad("Config.SameSite None requires Secure")
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if c.IdleTimeout < time.Second {
		bad("Config.IdleTimeout %v must be at least 1s", c.IdleTimeout)
	}
	if c.AbsoluteTimeout < c.IdleTimeout {
		bad("Config.AbsoluteTimeout %v must not be shorter than IdleTimeout %v", c.AbsoluteTimeout, c.IdleTimeout)
	}
	c.anonDefaults(bad)
	for role, d := range c.RoleAbsoluteTimeouts {
		if d <= 0 {
			bad("Config.RoleAbsoluteTimeouts[%q] %v must be > 0", role, d)
		}
	}
	if c.MaxCookieBytes == 0 {
		c.MaxCookieBytes = DefaultMaxCookieBytes
	}
	if c.MaxCookieBytes < encodedLen2 {
		bad("Config.MaxCookieBytes %d is below the %d bytes of a session cookie", c.MaxCookieBytes, encodedLen2)
	}
	switch {
	case c.RenewInterval == 0:
		c.RenewInterval = DefaultRenewInterval
	case c.RenewInterval < 0 && c.RenewInterval != RenewOff:
		bad("Config.RenewInterval %v must be > 0, or RenewOff to turn renewal off", c.RenewInterval)
	}
	if c.RenewGrace == 0 {
		c.RenewGrace = DefaultRenewGrace
	}
	if c.RenewGrace < 0 {
		bad("Config.RenewGrace %v must be > 0", c.RenewGrace)
	} else if c.RenewInterval > 0 && c.RenewGrace >= c.RenewInterval {
		bad("Config.RenewGrace %v must be shorter than RenewInterval %v", c.RenewGrace, c.RenewInterval)
	}
	if c.MaxValueBytes == 0 {
		c.MaxValueBytes = DefaultMaxValueBytes
	}
	if c.MaxValueBytes < 0 {
		bad("Config.MaxValueBytes %d must be > 0", c.MaxValueBytes)
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	if c.StoreTimeout < 0 {
		bad("Config.StoreTimeout %v must be > 0", c.StoreTimeout)
	}
	if c.ClientIP == nil {
		c.ClientIP = RemoteIP
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = DefaultErrorHandler
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.PublicIDKey) == 0 && len(c.Secrets) > 0 {
		// The label predates the name "public ID"; it stays, so that IDs
		// do not change on upgrade.
		c.PublicIDKey = deriveKey(c.Secrets[0], "tether/handle/v1")
	}
	return c, errors.Join(errs...)
}

// absoluteTimeout returns the absolute lifetime of a session logged in with role.
func (c *Config) absoluteTimeout(role string) time.Duration {
	if d, ok := c.RoleAbsoluteTimeouts[role]; ok {
		return d
	}
	return c.AbsoluteTimeout
}

// storeCtx bounds a store call made for a request.
func (c *Config) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.StoreTimeout)
}

// validCookiePath reports whether p can be a cookie's Path attribute: an
// absolute path of printable ASCII without ";" (RFC 6265 path-value).
func validCookiePath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for _, c := range []byte(p) {
		if c < ' ' || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
